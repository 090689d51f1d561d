/**
 * Phase: the agents up. Workers are planned (threads in this process, or
 * on the provider's hosts near their sites' bus nodes), started, and told
 * to start their agents; the phase ends when every agent has connected or
 * failed, and fails the run when none could.
 */
import { availableParallelism } from 'node:os';
import { chooseWorkers, urlsOnThisMachine } from '../workers.js';
import type { Deployment } from '../../../deploy/deploy.js';
import { BusUnavailableError, InterruptedError } from '../../errors.js';
import type { Role, WatchedProcess, DriverConfig, AgentFailure, WorkerInit } from '../../model/index.js';
import { redactUrl } from '../../util/url.js';
import { startAgentHost, type AgentHost } from '../agent-hosts.js';
import { planHosts } from '../geo-plan.js';
import { agentsIn, planWorkers } from '../plan.js';
import { applyHeap, describeHeap, heapOf } from '../heap-mode.js';
import { AgentWorkerPool } from '../worker-pool.js';
import type { RunContext } from './context.js';
import { onCleanup } from '../../cleanup.js';

export interface AgentsUp {
  inits: WorkerInit[];
  pool: AgentWorkerPool;
  /** the agent host processes (sited deployments); none when the workers are this process's threads */
  agentHosts: AgentHost[];
  workersChosen: string;
  /** how the workers' V8 heaps are sized, and why (heap-mode.ts) */
  heapChosen: string;
  /** about the placement: what the network cannot do for these agents */
  topologyWarnings: string[];
  startedByRole: Record<Role, number>;
  failures: AgentFailure[];
  failed: number;
  started: number;
  startupMs: number;
  /** what the first connected agent learnt of the bus */
  busInfo: { product: string; version: string; protocol: string };
  /** every endpoint, as one string for the console and provenance */
  url: string;
  /** the processes the resource sampler reads: the bus's, the agent hosts', this one */
  watchedProcesses(): WatchedProcess[];
}

/**
 * A connection error in words a user can act on: amqplib reports a refused
 * vhost or login as the frame it got instead of the one it expected.
 */
export function explainConnectError(error: string): string {
  if (/ConnectionOpenOk; got <ConnectionClose/.test(error) || /NOT_ALLOWED|vhost/i.test(error)) {
    return `${error} — the broker refused the virtual host: check the URL's path (rabbit://user:pass@host:5672/<vhost>, "/" is the default vhost)`;
  }
  if (/ACCESS_REFUSED|ConnectionTuneOk|403/.test(error)) return `${error} — the broker refused the user name or password in the URL`;
  if (/ECONNREFUSED/.test(error)) return `${error} — nothing listens there: is the broker running, and is the port right?`;
  return error;
}

function driverFor(run: RunContext, urls: string[]): DriverConfig {
  const bus = run.scenario.bus;
  return {
    kind: bus.kind,
    url: urls,
    exchange: bus.exchange,
    addressing: bus.addressing,
    serverCredit: bus.credit,
    ...(bus.queues === 'quorum' ? { quorumQueues: true } : {}),
    ...(bus.queueLocator ? { queueLocator: bus.queueLocator } : {}),
    ...(bus.prefetch ? { prefetch: bus.prefetch } : {}),
  };
}

/** Workers on the provider's hosts: each host's agents in an agent host process there, near its site's bus node. */
async function startOnHosts(
  run: RunContext,
  deployment: Deployment,
): Promise<Pick<AgentsUp, 'inits' | 'pool' | 'agentHosts' | 'workersChosen' | 'heapChosen' | 'topologyWarnings'>> {
  const { scenario, say } = run;
  const topology = scenario.topology!;
  const network = deployment.network!;
  const workersPerHost = scenario.runner.workers > 0 ? scenario.runner.workers : 1;
  const workersChosen =
    scenario.runner.workers > 0 ? `${workersPerHost} per host, as asked` : '1 per host (auto: agent hosts share their machine with the bus)';
  const assignments = planHosts(scenario, topology, deployment.provider.hosts, deployment.bus.endpoints, driverFor(run, []), workersPerHost, network.plan);
  const inits = assignments.flatMap((a) => a.inits);
  // Each agent host applies the heap its inits ask for (entries/agent-host.ts).
  const heapChosen = describeHeap(scenario.runner.heap, heapOf(inits), Math.max(...inits.map(agentsIn)));
  say('info', `starting ${run.totalAgents} agents on ${assignments.length} host(s), ${inits.length} worker thread(s)`);
  const hostOf = new Map(deployment.provider.hosts.map((h) => [h.name, h]));
  const started = await Promise.allSettled(
    assignments.map((a) => {
      const host = hostOf.get(a.host)!;
      return startAgentHost(a.host, host.spawn, host.agentHostArgv, a.inits, a.relays);
    }),
  );
  const agentHosts = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const refused = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (refused) {
    await Promise.all(agentHosts.map((h) => h.stop().catch(() => undefined)));
    throw refused.reason as Error;
  }
  for (const h of agentHosts)
    for (const relay of h.relays) say('info', `host ${h.host}: ${redactUrl(relay.url)} through a delay relay at ${redactUrl(relay.via)}`);
  // A delay the kernel cannot carry reaches only the connections relayed across it (agents' to a far bus node, the bus's own between sites): say when none is.
  const topologyWarnings: string[] = [];
  const crosses = (r: { from: string; to: string }, a: string, b: string): boolean => (a === r.from && b === r.to) || (a === r.to && b === r.from);
  const uncarried = network.plan.relayed.filter(
    (r) => !assignments.some((a) => a.relays.length > 0 && crosses(r, a.site, a.busSite)) && !deployment.busLinks.some((l) => crosses(r, l.from, l.to)),
  );
  if (uncarried.length > 0) {
    topologyWarnings.push(
      `this kernel has no netem, so delay is added in user space on the connections that cross a delayed link (agents' to another site's bus node, and the bus's own between its sites where busbench deployed it), and none crosses ${uncarried.map((r) => `${r.from} → ${r.to}`).join(', ')}: ` +
        'those delays act on nothing here',
    );
  }
  for (const warning of topologyWarnings) say('warn', warning);
  return { inits, pool: new AgentWorkerPool(agentHosts.flatMap((h) => h.workers)), agentHosts, workersChosen, heapChosen, topologyWarnings };
}

/** Workers as threads of this process, against every endpoint of the bus. */
function startInThreads(
  run: RunContext,
  deployment: Deployment,
): Pick<AgentsUp, 'inits' | 'pool' | 'agentHosts' | 'workersChosen' | 'heapChosen' | 'topologyWarnings'> {
  const { scenario, options } = run;
  const urls = deployment.bus.urls;
  const auto = chooseWorkers(availableParallelism(), deployment.bus.embedded || urlsOnThisMachine(urls));
  const workers = scenario.runner.workers > 0 ? scenario.runner.workers : auto.workers;
  const inits = planWorkers(scenario, { workers, driver: driverFor(run, urls), ...(options.serverNames ? { serverNames: options.serverNames } : {}) });
  if (options.reconnect) for (const init of inits) init.reconnect = true;
  const capped = inits.length < workers ? ', at most one per agent' : '';
  const workersChosen =
    scenario.runner.workers > 0 ? `${inits.length}, as asked${capped}` : `${inits.length} (auto: ${auto.why}${capped}; --workers to choose)`;
  const heap = describeHeap(scenario.runner.heap, applyHeap(inits), Math.max(...inits.map(agentsIn)));
  run.say('info', `starting ${run.totalAgents} agents in ${inits.length} worker thread(s) against ${redactUrl(urls.join(','))}; heap: ${heap}`);
  return { inits, pool: AgentWorkerPool.inThreads(inits), agentHosts: [], workersChosen, heapChosen: heap, topologyWarnings: [] };
}

/** Starts the workers and their agents; the run's end stops them, however it ends. */
export async function startAgents(run: RunContext, deployment: Deployment): Promise<AgentsUp> {
  const { emit, say, requested, totalAgents } = run;
  const placed = deployment.sited ? await startOnHosts(run, deployment) : startInThreads(run, deployment);
  const { pool, inits, agentHosts } = placed;
  run.atEnd.push(async () => {
    await pool.shutdown(3000).catch(() => undefined);
    await Promise.all(agentHosts.map((h) => h.stop().catch(() => undefined)));
  });
  run.cleanups.push(onCleanup('agent workers', () => pool.shutdown(3000)));
  const bus = deployment.bus;
  const url = bus.urls.join(',');
  const provider = deployment.provider;
  // Agents in this process (threads) count as the agents' cost; with agent hosts, each host's process does, and this one coordinates.
  // A host with a reader of its own (ssh) is read by the pid there; one without is this machine, read by the local pid.
  const agentsPid = (h: AgentHost): number | undefined => (provider.processReader?.(h.host) ? h.hostPid : h.pid);
  const watchedProcesses = (): WatchedProcess[] => [
    ...bus.nodes.flatMap((node) => {
      const pid = node.pid();
      return pid ? [{ name: node.name, kind: node.kind, host: node.host, pid }] : [];
    }),
    ...agentHosts.flatMap((h) => {
      const pid = agentsPid(h);
      return pid ? [{ name: `agents on ${h.host}`, kind: 'agents' as const, host: h.host, pid }] : [];
    }),
    { name: 'busbench', kind: agentHosts.length > 0 ? ('coordinator' as const) : ('agents' as const), host: 'local', pid: process.pid },
  ];

  // Start-up: progress from every worker, summed.
  const progress = inits.map(() => ({ started: 0, failed: 0 }));
  const stopProgress = pool.on((message, index) => {
    if (message.type !== 'agents-progress') return;
    progress[index] = { started: message.started, failed: message.failed };
    const started = progress.reduce((sum, p) => sum + p.started, 0);
    const failed = progress.reduce((sum, p) => sum + p.failed, 0);
    emit({ type: 'agents-progress', started, failed, total: totalAgents });
  });
  const startupBegan = performance.now();
  const ready = await pool.gather('agents-ready', { type: 'start-agents' });
  stopProgress();
  const startupMs = performance.now() - startupBegan;
  const startedByRole: Record<Role, number> = { server: 0, client: 0, notifier: 0, listener: 0 };
  const failures: AgentFailure[] = [];
  let failed = 0;
  for (const answer of ready) {
    for (const role of Object.keys(startedByRole) as Role[]) startedByRole[role] += answer.started[role] ?? 0;
    failed += answer.failed;
    failures.push(...answer.failures);
  }
  const started = totalAgents - failed;
  const connectedInfo = ready.find((answer) => answer.busInfo)?.busInfo;
  // Only a bus that answered is named: with no connection there is nothing to say about it but the error.
  if (connectedInfo) emit({ type: 'bus-ready', url: redactUrl(url), product: connectedInfo.product, version: connectedInfo.version, embedded: bus.embedded });
  emit({ type: 'agents-ready', started, failed, failures: failures.slice(0, 20), elapsedMs: startupMs });
  say('info', `${started} agents started in ${(startupMs / 1000).toFixed(2)} s (${((started / startupMs) * 1000).toFixed(0)}/s), ${failed} failed`);
  for (const failure of failures.slice(0, 20)) say('warn', `agent ${failure.agent} failed to start: ${failure.error}`);
  if (started === 0)
    throw new BusUnavailableError(`no agent could connect to ${redactUrl(url)}: ${explainConnectError(failures[0]?.error ?? 'unknown error')}`);
  if (requested.client + requested.notifier > 0 && startedByRole.client + startedByRole.notifier === 0) {
    throw new BusUnavailableError(`no client or notifier could start: ${explainConnectError(failures[0]?.error ?? 'unknown error')}`);
  }
  if (run.options.abort?.aborted)
    throw new InterruptedError(`interrupted (${String(run.options.abort.reason ?? 'signal')}) during start-up: nothing was measured`);
  return {
    ...placed,
    startedByRole,
    failures,
    failed,
    started,
    startupMs,
    busInfo: connectedInfo ?? { product: 'unknown', version: 'unknown', protocol: 'unknown' },
    url,
    watchedProcesses,
  };
}
