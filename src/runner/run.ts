/**
 * One benchmark run, as a short list of named phases (like OpenMessaging
 * Benchmark's WorkloadGenerator.run()): deploy (unless the caller did),
 * start agents, sync clocks, warm up / measure / drain, settle, collect,
 * assemble, write. Each phase is a function of its own in phases/; this
 * file only orders them and owns the teardown. The CLI is a thin shell
 * over this; progress is reported through events.
 */
import { join } from 'node:path';
import { deploy, type Deployment } from '../../deploy/deploy.js';
import { createRunDirectory, RunLog, writeResult } from '../results/write.js';
import type { Scenario, RunResult } from '../model/index.js';
import { synchronizeWorkerClocks } from './clock-sync.js';
import type { RunOptions } from './events.js';
import { ensureFileLimit } from './fd-limit.js';
import { assemble } from './phases/assemble.js';
import { collect } from './phases/collect.js';
import { runId, type RunContext } from './phases/context.js';
import { runLoad } from './phases/load.js';
import { settle } from './phases/settle.js';
import { startAgents } from './phases/start-agents.js';
import { requestedAgents } from './plan.js';

export type { RunEvent, RunOptions } from './events.js';
export { explainConnectError } from './phases/start-agents.js';

export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<RunResult> {
  const run = await openRun(scenario, options);
  let deployment: Deployment | undefined = options.deployment;
  try {
    deployment ??= await deploy(scenario, {
      ...(run.directory ? { logsDir: join(run.directory.path, 'logs') } : {}),
      onLog: (level, message) => run.say(level, message),
    });
    const agents = await startAgents(run, deployment);
    const clocks = await synchronizeWorkerClocks(agents.pool);
    run.emit({ type: 'clocks', clocks });
    for (const c of clocks) {
      if (Math.abs(c.offsetMs) > c.uncertaintyMs)
        run.say('info', `worker ${c.worker}: clock offset ${c.offsetMs.toFixed(3)} ms ± ${c.uncertaintyMs.toFixed(3)} ms, corrected`);
    }
    const load = await runLoad(run, deployment, agents);
    const settled = await settle(run, agents, load);
    load.stopFollowing();
    const collected = await collect(run, deployment, agents);
    const result = await assemble(run, deployment, agents, clocks, load, settled, collected);
    // The deployment goes before the result is written: a bus that would not stop is an error of this run.
    if (!options.deployment) await deployment.destroy();
    if (run.directory) {
      result.directory = run.directory.path;
      await writeResult(run.directory.path, result);
      run.say('info', `results written to ${run.directory.path}`);
    }
    run.emit({ type: 'run-ended', result });
    return result;
  } catch (error) {
    // Into the run log only: the caller reports the error it gets thrown.
    void run.log?.write(`error: ${(error as Error).message}`);
    throw error;
  } finally {
    for (const step of run.atEnd.reverse()) await step().catch(() => undefined);
    if (deployment && !options.deployment) await deployment.destroy().catch(() => undefined);
    for (const unregister of run.cleanups) unregister();
  }
}

/** The run's context: its results directory and log, what it asks for, and the file limit its connections need. */
async function openRun(scenario: Scenario, options: RunOptions): Promise<RunContext> {
  const emit = options.onEvent ?? (() => undefined);
  const startedAt = new Date();
  const resultsRoot = options.resultsRoot === undefined ? 'results' : options.resultsRoot;
  const directory = resultsRoot === null ? undefined : await createRunDirectory(resultsRoot, scenario.name, startedAt);
  const log = directory ? new RunLog(join(directory.path, 'busbench.log')) : undefined;
  const say = (level: 'info' | 'warn' | 'error', message: string): void => {
    emit({ type: 'log', level, message });
    void log?.write(`${level}: ${message}`);
  };
  const requested = requestedAgents(scenario);
  const totalAgents = requested.server + requested.client + requested.notifier + requested.listener;
  if (totalAgents === 0) throw new Error(`${scenario.source}: the scenario has no agents`);
  if (!scenario.agents.sharedConnections) say('info', ensureFileLimit(totalAgents));
  emit({ type: 'run-started', id: runId(scenario, directory, startedAt), scenario: scenario.name, bus: scenario.bus.kind, startedAt: startedAt.toISOString() });
  return { scenario, options, emit, say, startedAt, directory, log, requested, totalAgents, cleanups: [], atEnd: [] };
}
