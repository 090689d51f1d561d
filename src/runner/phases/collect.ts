/**
 * Phase: collect. Every worker hands over its statistics and the bus what
 * it counted; then the agents are shut down, the bus left as it is.
 */
import type { WorkerToMain } from '../../model/index.js';
import type { Deployment } from '../../../deploy/deploy.js';
import type { AgentsUp } from './start-agents.js';
import type { RunContext } from './context.js';

export interface Collected {
  stats: Extract<WorkerToMain, { type: 'stats' }>[];
  busStatistics: unknown;
}

export async function collect(run: RunContext, deployment: Deployment, agents: AgentsUp): Promise<Collected> {
  run.emit({ type: 'phase', phase: 'collect' });
  const stats = await agents.pool.gather('stats', { type: 'collect' });
  const bus = deployment.bus;
  const busStatistics = bus.statistics ? await bus.statistics().catch((error: Error) => ({ error: error.message })) : undefined;
  run.emit({ type: 'phase', phase: 'teardown' });
  await agents.pool.shutdown();
  await Promise.all(agents.agentHosts.map((h) => h.stop()));
  return { stats, busStatistics };
}
