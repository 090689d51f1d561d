/**
 * One benchmark run: bus up (embedded or given), agents up in worker
 * threads, warm-up, measured phase, settle, collect, tear down, results.
 * The CLI is a thin shell over this; progress is reported through events.
 */
import { availableParallelism, cpus, hostname, release, platform, arch, totalmem } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from '../cleanup.js';
import type { DriverConfig } from '../buses/registry.js';
import { addCounters, emptyCounters, PATTERNS, type Counters, type GroupSnapshot, type Role } from '../metrics/stats.js';
import { accountDeliveries, attributeBacklog, type DeliveryAccount } from '../metrics/accounting.js';
import { decodeHistogram, newHistogram, type Histogram } from '../metrics/histogram.js';
import { synchronizeWorkerClocks, type WorkerClock } from './clock-sync.js';
import { addIncidents, type IncidentTotals, type IntervalSnapshot } from '../../agents/control.js';
import type { SentRange } from '../../agents/rpc-client.js';
import type { ServerReceipts } from '../../agents/rpc-server.js';
import type { PatternName } from '../metrics/stats.js';
import type { TimeSeriesPoint } from '../results/model.js';
import { mergeByRole, mergeGroups } from '../results/aggregate.js';
import { RESULT_SCHEMA_VERSION, type ConnectionLoss, type RunResult } from '../results/model.js';
import { createRunDirectory, RunLog, writeResult } from '../results/write.js';
import type { PayloadSizes, Scenario } from '../scenario/types.js';
import { meanPayloadBytes } from '../scenario/size.js';
import { BUSBENCH_VERSION } from '../version.js';
import { deployBus, type DeployedBus } from '../buses/deployed.js';
import { ensureFileLimit } from './fd-limit.js';
import { planWorkers, requestedAgents } from './plan.js';
import { AgentWorkerPool } from './worker-pool.js';
import { startAgentHost, type AgentHost } from './agent-hosts.js';
import { planHosts } from './geo-plan.js';
import { startProvider } from '../../deploy/providers/start.js';
import type { AppliedNetwork, Provider } from '../../deploy/providers/provider.js';
import type { WorkerInit } from '../../agents/control.js';
import { cutWindows } from '../network/cuts.js';
import { startResourceSampler, summarizeResources, type WatchedProcess } from '../metrics/resources.js';
import { startCutSchedule, type CutSchedule } from '../network/cut-schedule.js';
import type { AgentFailure, WorkerToMain } from '../../agents/control.js';
import type { QueueBacklog } from '../buses/driver.js';
import { InterruptedError, BusUnavailableError } from '../errors.js';
import { judgeOutcome } from '../results/outcome.js';
import { judgeGenerator } from '../metrics/generator-verdict.js';

export type RunEvent =
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'bus-ready'; url: string; product: string; version: string; embedded: boolean }
  | { type: 'agents-progress'; started: number; failed: number; total: number }
  | { type: 'agents-ready'; started: number; failed: number; failures: AgentFailure[]; elapsedMs: number }
  | { type: 'phase'; phase: 'warmup' | 'measure' | 'drain' | 'settle' | 'collect' | 'teardown' }
  /** while settling: deliveries still expected at the receivers, and every delivery taken so far (warm-up ones too) */
  | { type: 'settle'; elapsedMs: number; outstanding: number; deliveries: number }
  | { type: 'tick'; elapsedMs: number; measuring: boolean; draining?: boolean; totals: Record<string, Counters> }
  | { type: 'clocks'; clocks: WorkerClock[] }
  | { type: 'generator'; saturated: boolean; reasons: string[] };

export interface RunOptions {
  /** where run directories go; default ./results; null: write nothing */
  resultsRoot?: string | null;
  onEvent?: (event: RunEvent) => void;
  /** unicast clients address these servers (standalone clients against servers elsewhere) */
  serverNames?: string[];
  /** run until this signal aborts (standalone servers), instead of until the load is done */
  untilAborted?: AbortSignal;
  /** the most in-flight messages may take to arrive after the senders are done */
  settleTimeoutMs?: number;
  /** a bus already deployed (by a limit search or a campaign): the run uses it and leaves it running */
  bus?: DeployedBus;
  /**
   * Stop early (Ctrl-C, SIGTERM): sending stops, what is in flight settles
   * briefly, and the run returns its result so far marked partial. Before
   * the measured phase it throws InterruptedError instead.
   */
  abort?: AbortSignal;
  /** standalone servers and listeners: retry a lost connection with oslo's backoff instead of ending */
  reconnect?: boolean;
}


const SETTLE_POLL_MS = 200;
/** settling ends when nothing at all has arrived for this long (a backlog that drains keeps it going) */
const SETTLE_STALL_MS = 2000;
/** after Ctrl-C, what is in flight gets this long to arrive */
const INTERRUPTED_SETTLE_MS = 1000;
/** how far ahead outages are scheduled in a run bounded by a message count (its length is not known) */
const MAX_CUT_HORIZON_MS = 24 * 3_600_000;

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

/** Redact the password of a transport URL before it goes to results or the console. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@,]+:)[^@/]*@/g, '$1***@');
}

function waitAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sleeps `ms`, or less if `signal` aborts first. */
function sleepUnless(ms: number, signal: AbortSignal): Promise<void> {
  return Promise.race([sleep(ms), waitAbort(signal)]);
}

/** The workers' latest counters, summed per role/pattern key. */
function sumTotals(totals: Record<string, Counters>[]): Record<string, Counters> {
  const sum: Record<string, Counters> = {};
  for (const worker of totals) for (const [key, c] of Object.entries(worker)) addCounters((sum[key] ??= emptyCounters()), c);
  return sum;
}

/** Measured deliveries the receivers should get per pattern: casts once per receiver (every server for multicast), notifications once. */
function expectedDeliveries(sent: Record<string, Counters>, servers: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pattern of PATTERNS) {
    if (pattern.startsWith('call')) continue; // a call's reply is its receipt: the drain waited for those
    const c = sent[`${pattern === 'notify' ? 'notifier' : 'client'}/${pattern}`];
    if (c && c.ok > 0) out[pattern] = c.ok * (pattern === 'cast-multicast' ? servers : 1);
  }
  return out;
}

function hasConsumers(init: WorkerInit): boolean {
  return init.servers.length + init.listeners.length > 0;
}

/** Queues reported by several workers (an anycast queue every server consumes) count once. */
function dedupeQueues(queues: QueueBacklog[]): QueueBacklog[] {
  return [...new Map(queues.map((q) => [q.queue, q])).values()];
}

export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<RunResult> {
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

  let bus: DeployedBus | undefined;
  const cleanups: (() => void)[] = [];
  let pool: AgentWorkerPool | undefined;
  let provider: Provider | undefined;
  let agentHosts: AgentHost[] = [];
  let network: AppliedNetwork | undefined;
  let cuts: CutSchedule | undefined;
  const topologyWarnings: string[] = [];
  const topology = scenario.topology;
  const logsDir = directory ? join(directory.path, 'logs') : undefined;
  try {
    const driverFor = (urls: string[]): DriverConfig => ({
      kind: scenario.bus.kind,
      url: urls,
      exchange: scenario.bus.exchange,
      addressing: scenario.bus.addressing,
      serverCredit: scenario.bus.credit,
      ...(scenario.bus.queues === 'quorum' ? { quorumQueues: true } : {}),
    });
    let inits: WorkerInit[];
    let activePool: AgentWorkerPool;
    let workersChosen: string;
    if (topology && topology.provider !== 'local') {
      // Hosts of their own: the provider makes them, constrains the links between sites, and the bus and agents run on them.
      say('info', `provider ${topology.provider}: ${topology.sites.map((s) => `${s.name} (${s.hosts} host${s.hosts > 1 ? 's' : ''})`).join(', ')}`);
      const activeProvider = (provider = await startProvider(topology, { scenarioFile: scenario.source }));
      cleanups.push(onCleanup(`${topology.provider} hosts`, () => activeProvider.destroy()));
      network = await activeProvider.constrain(topology);
      for (const m of network.mechanisms) say('info', `link ${m.from} → ${m.to}: ${m.property} ${m.value} by ${m.mechanism}`);
      for (const m of network.measured) {
        say('info', `measured ${m.from} → ${m.to}: rtt ${m.measured.rttAvgMs?.toFixed(2) ?? '-'} ms, loss ${m.measured.lossPercent} %${m.relayedDelayMs ? ` (+${m.relayedDelayMs} ms round trip in user space on bus connections)` : ''}`);
      }
      const siteBus = await activeProvider.deployBus(scenario.bus, topology.busSites, logsDir).catch((error: Error) => {
        throw new BusUnavailableError(`could not deploy the bus on the sites: ${error.message}`);
      });
      bus = siteBus;
      say('info', `bus: ${siteBus.description} at ${siteBus.urls.map(redactUrl).join(', ')}`);
      const workersPerHost = scenario.runner.workers > 0 ? scenario.runner.workers : 1;
      workersChosen = scenario.runner.workers > 0 ? `${workersPerHost} per host, as asked` : '1 per host (auto: agent hosts share their machine with the bus)';
      const assignments = planHosts(scenario, topology, activeProvider.hosts, siteBus.endpoints, driverFor([]), workersPerHost, network.plan);
      inits = assignments.flatMap((a) => a.inits);
      say('info', `starting ${totalAgents} agents on ${assignments.length} host(s), ${inits.length} worker thread(s)`);
      const hostOf = new Map(activeProvider.hosts.map((h) => [h.name, h]));
      const started = await Promise.allSettled(
        assignments.map((a) => {
          const host = hostOf.get(a.host)!;
          return startAgentHost(a.host, host.spawn, host.agentHostArgv, a.inits, a.relays);
        }),
      );
      agentHosts = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      const refused = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (refused) throw refused.reason as Error;
      for (const h of agentHosts) for (const relay of h.relays) say('info', `host ${h.host}: ${redactUrl(relay.url)} through a delay relay at ${redactUrl(relay.via)}`);
      activePool = pool = new AgentWorkerPool(agentHosts.flatMap((h) => h.workers));
      // A delay the kernel cannot carry reaches only bus connections that cross it: say when none does.
      const uncarried = network.plan.relayed.filter((r) => !assignments.some((a) => a.relays.length > 0 && ((a.site === r.from && a.busSite === r.to) || (a.site === r.to && a.busSite === r.from))));
      if (uncarried.length > 0) {
        topologyWarnings.push(
          `this kernel has no netem, so delay is added in user space on agents' bus connections, and none crosses ${uncarried.map((r) => `${r.from} → ${r.to}`).join(', ')}: ` +
            'those delays act on nothing here (traffic between bus nodes is not delayed)',
        );
      }
      for (const warning of topologyWarnings) say('warn', warning);
    } else {
      if (options.bus) bus = options.bus;
      else {
        if (!scenario.bus.url) say('info', 'no bus URL given: deploying one for this run');
        bus = await deployBus(scenario.bus, logsDir).catch((error: Error) => {
          throw new BusUnavailableError(`could not deploy the bus: ${error.message}`);
        });
      }
      say('info', `bus: ${bus.description} at ${bus.urls.map(redactUrl).join(', ')}`);
      const workers = scenario.runner.workers > 0 ? scenario.runner.workers : availableParallelism();
      inits = planWorkers(scenario, { workers, driver: driverFor(bus.urls), ...(options.serverNames ? { serverNames: options.serverNames } : {}) });
      if (options.reconnect) for (const init of inits) init.reconnect = true;
      const capped = inits.length < workers ? ', at most one per agent' : '';
      workersChosen = scenario.runner.workers > 0 ? `${inits.length}, as asked${capped}` : `${inits.length} (auto: one per core${capped})`;
      say('info', `starting ${totalAgents} agents in ${inits.length} worker thread(s) against ${redactUrl(bus.urls.join(','))}`);
      activePool = pool = AgentWorkerPool.inThreads(inits);
    }
    const url = bus.urls.join(',');
    cleanups.push(onCleanup('agent workers', () => activePool.shutdown(3000)));
    const deployed = bus;
    const hostOfSite = (site: string | undefined): string => (site && provider ? (provider.hosts.find((h) => h.site === site)?.name ?? site) : 'local');
    // Agents in this process (threads) count as the agents' cost; with agent hosts, each host's process does, and this one coordinates.
    // A host with a reader of its own (ssh) is read by the pid there; one without is this machine, read by the local pid.
    const agentsPid = (h: AgentHost): number | undefined => (provider?.processReader?.(h.host) ? h.hostPid : h.pid);
    const watchedProcesses = (): WatchedProcess[] => [
      ...(deployed.processes?.() ?? []).flatMap((p) => (p.pid ? [{ name: p.name, kind: p.kind, host: hostOfSite(p.site), pid: p.pid }] : [])),
      ...agentHosts.flatMap((h) => {
        const pid = agentsPid(h);
        return pid ? [{ name: `agents on ${h.host}`, kind: 'agents' as const, host: h.host, pid }] : [];
      }),
      { name: 'busbench', kind: agentHosts.length > 0 ? ('coordinator' as const) : ('agents' as const), host: 'local', pid: process.pid },
    ];

    // Start-up: progress from every worker, summed.
    const progress = inits.map(() => ({ started: 0, failed: 0 }));
    const stopProgress = activePool.on((message, index) => {
      if (message.type !== 'agents-progress') return;
      progress[index] = { started: message.started, failed: message.failed };
      const started = progress.reduce((sum, p) => sum + p.started, 0);
      const failed = progress.reduce((sum, p) => sum + p.failed, 0);
      emit({ type: 'agents-progress', started, failed, total: totalAgents });
    });
    const startupBegan = performance.now();
    const ready = await activePool.gather('agents-ready', { type: 'start-agents' });
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
    const busInfo = connectedInfo ?? { product: 'unknown', version: 'unknown', protocol: 'unknown' };
    emit({ type: 'agents-ready', started, failed, failures: failures.slice(0, 20), elapsedMs: startupMs });
    say('info', `${started} agents started in ${(startupMs / 1000).toFixed(2)} s (${((started / startupMs) * 1000).toFixed(0)}/s), ${failed} failed`);
    for (const failure of failures.slice(0, 20)) say('warn', `agent ${failure.agent} failed to start: ${failure.error}`);
    if (started === 0) throw new BusUnavailableError(`no agent could connect to ${redactUrl(url)}: ${explainConnectError(failures[0]?.error ?? 'unknown error')}`);
    if (requested.client + requested.notifier > 0 && startedByRole.client + startedByRole.notifier === 0) {
      throw new BusUnavailableError(`no client or notifier could start: ${explainConnectError(failures[0]?.error ?? 'unknown error')}`);
    }
    if (options.abort?.aborted) throw new InterruptedError(`interrupted (${String(options.abort.reason ?? 'signal')}) during start-up: nothing was measured`);

    // Clocks: each worker learns its offset from this thread's clock and stamps in this thread's time.
    const clocks = await synchronizeWorkerClocks(activePool);
    emit({ type: 'clocks', clocks });
    for (const c of clocks) {
      if (Math.abs(c.offsetMs) > c.uncertaintyMs) say('info', `worker ${c.worker}: clock offset ${c.offsetMs.toFixed(3)} ms ± ${c.uncertaintyMs.toFixed(3)} ms, corrected`);
    }

    // Load: warm-up, then the measured phase.
    const totals = inits.map(() => ({}) as Record<string, Counters>);
    const series: Series = new Map();
    let measureBeganAt = 0;
    let measuring = false;
    const loadBegan = performance.now();
    const stopLoad = new AbortController();
    let stopReason: string | undefined;
    /** stop sending, once: the duration is up, the user interrupted, or the bus went away */
    const stopSending = (reason: string | undefined): void => {
      if (stopLoad.signal.aborted) return;
      stopReason = reason;
      stopLoad.abort();
      activePool.broadcast({ type: 'stop' });
    };
    const losses: ConnectionLoss[] = [];
    let lossesSaid = 0;
    const lossReport = setInterval(() => {
      // One line a second while connections go, not one per agent.
      if (losses.length > lossesSaid) say('error', `${losses.length} agent connection(s) lost so far`);
      lossesSaid = losses.length;
    }, 1000);
    cleanups.push(() => clearInterval(lossReport));
    const stopTicks = activePool.on((message: WorkerToMain, index) => {
      if (message.type === 'tick') {
        totals[index] = message.totals;
        if (message.interval && measureBeganAt > 0) addInterval(series, Math.max(1, Math.round((performance.now() - measureBeganAt) / 1000)), message.interval);
        emit({ type: 'tick', elapsedMs: performance.now() - loadBegan, measuring: measuring && !stopLoad.signal.aborted, draining: measuring && stopLoad.signal.aborted, totals: sumTotals(totals) });
      } else if (message.type === 'log') {
        say(message.level, `worker ${index}: ${message.message}`);
      } else if (message.type === 'connection-lost') {
        const atMs = measureBeganAt > 0 ? message.atMs - (performance.timeOrigin + measureBeganAt) : message.atMs - (performance.timeOrigin + loadBegan);
        losses.push({ agent: message.agent, atMs: Math.round(atMs), phase: measureBeganAt > 0 ? 'measure' : 'warmup', error: message.error });
        if (losses.length === 1) {
          say('error', `connection lost: ${message.agent} at ${(atMs / 1000).toFixed(1)} s into the ${measureBeganAt > 0 ? 'measured phase' : 'warm-up'}: ${message.error}`);
          lossesSaid = 1;
        }
        // The bus went away under a run that measures it: stop now rather than measure the wreck.
        if (!options.untilAborted) stopSending(`the bus connection of ${message.agent} was lost: ${message.error}`);
      }
    });
    const loadDone = activePool.gather('load-done');
    // Awaited after the warm-up; a worker failing before then must not count as an unhandled rejection.
    loadDone.catch(() => undefined);
    const interrupted = options.abort;
    const onInterrupt = (): void => stopSending(`interrupted (${String(interrupted?.reason ?? 'signal')})`);
    interrupted?.addEventListener('abort', onInterrupt, { once: true });
    cleanups.push(() => interrupted?.removeEventListener('abort', onInterrupt));
    activePool.broadcast({ type: 'load-start' });
    let { warmupMs } = scenario.load;
    if (bus.minWarmupMs !== undefined && warmupMs < bus.minWarmupMs) {
      say('warn', `warm-up raised from ${warmupMs / 1000} s to ${bus.minWarmupMs / 1000} s: the routers of a mesh learn of each other's subscribers about a second after they attach, and multicast sent before would miss them`);
      warmupMs = bus.minWarmupMs;
    }
    if (warmupMs > 0) {
      emit({ type: 'phase', phase: 'warmup' });
      await sleepUnless(warmupMs, stopLoad.signal);
    }
    if (interrupted?.aborted && stopReason?.startsWith('interrupted')) throw new InterruptedError(`${stopReason} during the warm-up: nothing was measured`);
    activePool.broadcast({ type: 'measure-start' });
    measuring = true;
    const measureBegan = performance.now();
    measureBeganAt = measureBegan;
    const cpuAtMeasure = process.cpuUsage();
    emit({ type: 'phase', phase: 'measure' });
    // What the bus and the agents cost, over the measured phase.
    const sampler = scenario.runner.resourceIntervalMs > 0 ? startResourceSampler({ processes: watchedProcesses, readers: (host) => provider?.processReader?.(host), intervalMs: scenario.runner.resourceIntervalMs, ...(bus.management ? { management: bus.management } : {}) }) : undefined;
    // Scheduled outages, timed from the start of the measured phase.
    const windows = topology && provider ? cutWindows(topology.dropouts, topology.partitions, topology.sites.map((s) => s.name), scenario.load.durationMs ?? MAX_CUT_HORIZON_MS) : [];
    if (windows.length > 0 && provider) {
      cuts = startCutSchedule(windows, provider.hosts, provider.run, (record, what) =>
        say(record.error ? 'warn' : 'info', `${record.kind} ${record.label}: ${what === 'down' ? 'down' : 'restored'} at ${((what === 'down' ? record.startedAtMs! : record.endedAtMs!) / 1000).toFixed(1)} s${record.error ? ` (${record.error})` : ''}`),
      );
    }
    let stopTimer: NodeJS.Timeout | undefined;
    if (options.untilAborted) {
      void waitAbort(options.untilAborted).then(() => stopSending(undefined));
    } else if (scenario.load.durationMs !== undefined) {
      stopTimer = setTimeout(() => stopSending(undefined), scenario.load.durationMs);
    }
    if (options.untilAborted && requested.client + requested.notifier === 0) {
      // Servers and listeners only: nothing ends by itself; wait for the signal.
      await waitAbort(options.untilAborted);
    }
    // The measured phase ends when sending stops: the duration is up (or the run was stopped), or the senders sent their share.
    await Promise.race([loadDone, waitAbort(stopLoad.signal)]);
    const measuredMs = performance.now() - measureBegan;
    if (stopTimer) clearTimeout(stopTimer);
    // Drain: what was in flight when sending stopped (calls waiting for replies) completes or times out.
    if (stopLoad.signal.aborted) emit({ type: 'phase', phase: 'drain' });
    await loadDone;
    const drainMs = performance.now() - measureBegan - measuredMs;
    const disruptions = cuts ? await cuts.stop() : [];
    cuts = undefined;
    const resources = await sampler?.stop();
    const cpuMeasured = process.cpuUsage(cpuAtMeasure);

    // Settle: wait for what is still on its way to the receivers, as long as it keeps arriving.
    emit({ type: 'phase', phase: 'settle' });
    const settleBegan = performance.now();
    const settleLimit = options.settleTimeoutMs ?? 10_000;
    const sentTotals = sumTotals(totals);
    const expected = expectedDeliveries(sentTotals, startedByRole.server);
    let lastDeliveries = -1;
    let lastProgressAt = performance.now();
    let heldBefore = -1;
    let outstanding = 0;
    for (;;) {
      const counts = await activePool.gather('counts', { type: 'counts' });
      const received: Record<string, number> = {};
      for (const c of counts) for (const [pattern, n] of Object.entries(c.received)) received[pattern] = (received[pattern] ?? 0) + n;
      const deliveries = counts.reduce((sum, c) => sum + c.deliveries, 0);
      // Replies a fault holds back are still in flight: their late arrival is what is measured.
      const held = counts.reduce((sum, c) => sum + c.delayedReplies, 0);
      outstanding = Object.entries(expected).reduce((sum, [pattern, n]) => sum + Math.max(0, n - (received[pattern] ?? 0)), 0);
      const now = performance.now();
      if (deliveries !== lastDeliveries) lastProgressAt = now;
      emit({ type: 'settle', elapsedMs: now - settleBegan, outstanding, deliveries });
      // Done when every expected delivery is in (held replies just released need a poll's time to reach their callers),
      // when nothing has arrived for a while, when the connections are gone, or at the limit.
      const complete = outstanding === 0 && held === 0 && heldBefore === 0;
      const stalled = held === 0 && now - lastProgressAt > SETTLE_STALL_MS;
      if (complete || stalled || losses.length > 0 || now - settleBegan > settleLimit || (interrupted?.aborted && now - settleBegan > INTERRUPTED_SETTLE_MS)) break;
      lastDeliveries = deliveries;
      heldBefore = held;
      await sleep(SETTLE_POLL_MS);
    }
    const settleMs = performance.now() - settleBegan;
    // Consumers stop; what the bus still holds is undelivered at stop, not lost.
    const stopped = await activePool.gather('receiving-stopped', { type: 'stop-receiving' });
    const backlogKnown = stopped.every((s) => s.queues !== undefined || !hasConsumers(inits[stopped.indexOf(s)]!));
    const backlog = dedupeQueues(stopped.flatMap((s) => s.queues ?? []));
    stopTicks();
    clearInterval(lossReport);

    emit({ type: 'phase', phase: 'collect' });
    const stats = await activePool.gather('stats', { type: 'collect' });
    const busStatistics = bus.statistics ? await bus.statistics().catch((error: Error) => ({ error: error.message })) : undefined;
    emit({ type: 'phase', phase: 'teardown' });
    await activePool.shutdown();
    pool = undefined;
    await Promise.all(agentHosts.map((h) => h.stop()));

    const allGroups: GroupSnapshot[] = stats.flatMap((s) => s.groups);
    // Per-message accounting needs the receivers' receipts: only for patterns whose receivers run here.
    const receiversHere = (s: SentRange): boolean => (s.pattern === 'notify' ? startedByRole.listener : startedByRole.server) > 0;
    // Without senders here (standalone servers and listeners) there is nothing to lay the receipts over.
    const sendersHere = startedByRole.client + startedByRole.notifier > 0;
    const delivery = sendersHere ? accountByPattern(stats.flatMap((s) => s.sent).filter(receiversHere), stats.flatMap((s) => s.receipts), startedByRole.server, backlogKnown ? backlog : undefined) : {};
    const generator = judgeGenerator(stats.map((s) => s.generator), scenario);
    if (generator.saturated) say('warn', `generator saturated: ${generator.reasons.join('; ')} — these figures are the generator's limits, not the bus's`);
    emit({ type: 'generator', saturated: generator.saturated, reasons: generator.reasons });
    const oneWayUncertaintyUs = Math.round(2 * Math.max(0, ...clocks.map((c) => c.uncertaintyMs)) * 1000);
    const receivedByAgent: Record<string, number> = {};
    for (const s of stats) for (const [name, n] of Object.entries(s.receivedByAgent)) receivedByAgent[name] = (receivedByAgent[name] ?? 0) + n;
    const endedAt = new Date();
    const result: RunResult = {
      schemaVersion: RESULT_SCHEMA_VERSION,
      id: directory?.id ?? `${scenario.name}-${startedAt.toISOString()}`,
      // As run: the worker count chosen, not "auto".
      scenario: { ...scenario, runner: { ...scenario.runner, workers: inits.length } },
      provenance: {
        busbench: BUSBENCH_VERSION,
        node: process.version,
        argv: process.argv.slice(2),
        host: {
          hostname: hostname(),
          platform: platform(),
          release: release(),
          arch: arch(),
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model ?? 'unknown',
          memoryBytes: totalmem(),
        },
        bus: { kind: scenario.bus.kind, ...busInfo, url: redactUrl(url), embedded: bus.embedded, ...bus.facts },
        startedAt: startedAt.toISOString(),
        endedAt: endedAt.toISOString(),
      },
      workers: inits.length,
      workersChosen: workersChosen,
      agents: {
        requested,
        started: startedByRole,
        failed,
        failures: failures.slice(0, 100),
        startupMs: Math.round(startupMs),
        startedPerSec: startupMs > 0 ? Math.round((started / startupMs) * 1000) : 0,
      },
      phases: { warmupMs, measuredMs: Math.round(measuredMs), drainMs: Math.round(drainMs), settleMs: Math.round(settleMs) },
      groups: mergeGroups(allGroups, measuredMs),
      overall: mergeByRole(allGroups, measuredMs, startedByRole),
      perWorker: stats.map((s, worker) => ({ worker, groups: mergeGroups(s.groups, measuredMs) })),
      receivedByAgent,
      lateReplies: stats.reduce((sum, s) => sum + s.lateReplies, 0),
      unmatchedReplies: stats.reduce((sum, s) => sum + s.unmatchedReplies, 0),
      busIncidents: stats.reduce((sum, s) => (addIncidents(sum, s.incidents), sum), { malformedMessages: 0, returnedMessages: 0, errors: {} } as IncidentTotals),
      loadModel: describeLoadModel(scenario, startedByRole),
      delivery,
      ...(backlogKnown ? { backlogAtStop: backlog } : {}),
      connectionLosses: losses.slice(0, 1000),
      firstErrors: Object.assign({}, ...[...stats].reverse().map((s) => s.firstErrors)),
      connectionsLost: losses.length,
      ...(stopReason ? { stoppedEarly: { reason: stopReason, partial: true } } : {}),
      clocks: {
        workers: clocks,
        oneWayUncertaintyUs,
        note: `one-way latencies are corrected by each process's estimated clock offset; between two processes they are good to ±${oneWayUncertaintyUs} µs (the sum of both offsets' uncertainties, at worst)`,
      },
      generator,
      timeSeries: finishSeries(series),
      harness: {
        cpuUserUs: cpuMeasured.user,
        cpuSystemUs: cpuMeasured.system,
        cpuCores: measuredMs > 0 ? (cpuMeasured.user + cpuMeasured.system) / 1000 / measuredMs : 0,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
      },
    };
    result.outcome = judgeOutcome(result);
    for (const problem of result.outcome.problems) say('error', problem);
    if (busStatistics !== undefined) result.busStatistics = busStatistics;
    if (resources) result.resources = { ...resources, rows: summarizeResources(resources) };
    if (topology) {
      result.topology = {
        provider: topology.provider,
        sites: topology.sites,
        busSites: topology.busSites,
        agentsBySite: topology.agentsBySite,
        hosts: await Promise.all(
          (provider?.hosts ?? []).map(async (h) => {
            // Provenance only: a host that cannot say what it is does not cost the run its results.
            const facts = await h.facts?.().catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));
            return { name: h.name, site: h.site, address: h.address, ...(facts ? { facts } : {}) };
          }),
        ),
        ...(network ? { network: { mechanisms: network.mechanisms, measured: network.measured, relays: agentHosts.flatMap((h) => h.relays.map((r) => ({ host: h.host, url: redactUrl(r.url), via: r.via }))) } } : {}),
        disruptions,
        ...(topologyWarnings.length > 0 ? { warnings: topologyWarnings } : {}),
      };
    }
    if (!options.bus) await bus.stop();
    bus = undefined;
    await provider?.destroy();
    provider = undefined;
    if (directory) {
      result.directory = directory.path;
      await writeResult(directory.path, result);
      say('info', `results written to ${directory.path}`);
    }
    return result;
  } catch (error) {
    // Into the run log only: the caller reports the error it gets thrown.
    void log?.write(`error: ${(error as Error).message}`);
    throw error;
  } finally {
    await cuts?.stop().catch(() => undefined);
    if (pool) await pool.shutdown(3000).catch(() => undefined);
    await Promise.all(agentHosts.map((h) => h.stop().catch(() => undefined)));
    if (bus && !options.bus) await bus.stop().catch(() => undefined);
    await provider?.destroy().catch(() => undefined);
    for (const unregister of cleanups) unregister();
  }
}

function describeLoadModel(scenario: Scenario, started: Record<Role, number>): RunResult['loadModel'] {
  const { arrival, ratePerClient, concurrency } = scenario.load;
  // Say what ran: RPC clients, notifiers, or only consumers of senders elsewhere.
  const senders = [
    started.client > 0 ? `${started.client} RPC client(s), ${describeMix(scenario.load)}${scenario.load.method !== 'bench' ? `, method ${scenario.load.method}` : ''}` : '',
    started.notifier > 0 ? `${started.notifier} notifier(s) on ${scenario.agents.notificationTopic}.${scenario.agents.notificationPriority}` : '',
  ].filter(Boolean);
  if (senders.length === 0) {
    return { arrival, description: 'no senders in this run: servers and listeners measure what senders elsewhere send (one-way latency needs their clocks in step with this host\'s)' };
  }
  const offered = `; ${senders.join('; ')}; ${describePayload(scenario.load.payload)}`;
  const hasCasts = started.notifier > 0 || (started.client > 0 && scenario.load.patterns.some((p) => p.method === 'cast'));
  if (arrival === 'closed') {
    return {
      arrival,
      description:
        `closed loop (ombt-style): each sender keeps ${concurrency} message(s) outstanding, so the send rate adapts to the bus and a stall lowers throughput instead of raising latency; latency is the service time` +
        (hasCasts ? '. A cast or notification is done once the client has handed it to the connection, so closed-loop casts measure how fast the clients push into the bus\'s buffers, not how fast the receivers take them: compare the receivers\' rate, or pace them with --rate' : '') +
        offered,
    };
  }
  return {
    arrival,
    description: `open loop, ${arrival === 'poisson' ? 'Poisson arrivals' : 'evenly spaced'} at ${ratePerClient}/s per sender, at most ${concurrency} outstanding: \`latency\` is the service time (from the actual send), \`legs.corrected\` counts from each intended send time and shows stalls${offered}`,
  };
}

function describeMix(load: Scenario['load']): string {
  const weighted = load.patterns.map((p) => `${p.method}/${p.target}${p.weight !== undefined ? ` ×${p.weight}` : ''}`).join(', ');
  if (load.patterns.length === 1) return `pattern ${weighted}`;
  return load.mix === 'messages' ? `every client draws each message's pattern from ${weighted}` : `clients split over ${weighted}`;
}

function describePayload(payload: PayloadSizes): string {
  if (payload.kind === 'fixed') return `payload ${payload.bytes} B`;
  if (payload.kind === 'uniform') return `payload uniform ${payload.min}–${payload.max} B`;
  return `payload ${payload.choices.map((c) => `${c.bytes} B ×${c.weight}`).join(', ')} (mean ${Math.round(meanPayloadBytes(payload))} B)`;
}

/** Which of a server's subscriptions (or a listener pool) each pattern's messages wait in. */
const QUEUE_OF: Record<PatternName, QueueBacklog['via']> = {
  'cast-unicast': 'unicast',
  'call-unicast': 'unicast',
  'cast-anycast': 'anycast',
  'call-anycast': 'anycast',
  'cast-multicast': 'multicast',
  notify: 'notify',
};

/**
 * Every measured message per pattern, by (sender, sequence): delivered,
 * lost, duplicated, reordered. With the bus's backlog at stop, missing
 * deliveries it still held are undelivered at stop, not lost; a queue two
 * patterns share (call and cast anycast) is spent once, casts first (a
 * call still queued has timed out at its client already).
 */
function accountByPattern(sent: SentRange[], receipts: ServerReceipts[], servers: number, backlog: QueueBacklog[] | undefined): Partial<Record<PatternName, DeliveryAccount>> {
  const out: Partial<Record<PatternName, DeliveryAccount>> = {};
  const patterns = new Set<PatternName>([...sent.map((s) => s.pattern), ...receipts.map((r) => r.pattern)]);
  for (const pattern of PATTERNS) {
    if (!patterns.has(pattern)) continue;
    const expectedReceivers = pattern === 'cast-multicast' ? servers : 1;
    out[pattern] = accountDeliveries(
      sent.filter((s) => s.pattern === pattern).map((s) => ({ sender: s.client, firstSeq: s.firstSeq, count: s.count, expectedReceivers })),
      receipts.filter((r) => r.pattern === pattern).map((r) => r.receipts),
    );
  }
  if (backlog) {
    const held = new Map<QueueBacklog['via'], number>();
    for (const q of backlog) held.set(q.via, (held.get(q.via) ?? 0) + q.messages);
    const castsFirst = (Object.keys(out) as PatternName[]).sort((a, b) => Number(a.startsWith('call')) - Number(b.startsWith('call')));
    for (const pattern of castsFirst) {
      const account = out[pattern]!;
      account.backlogReported = true;
      const via = QUEUE_OF[pattern];
      held.set(via, (held.get(via) ?? 0) - attributeBacklog(account, held.get(via) ?? 0));
    }
  }
  return out;
}

/** Per second of the measured phase: per role/pattern, the workers' intervals merged. */
type Series = Map<number, { groups: Map<string, { ok: number; errors: number; timeouts: number; histogram?: Histogram }> }>;

function addInterval(series: Series, second: number, interval: IntervalSnapshot): void {
  let point = series.get(second);
  if (!point) series.set(second, (point = { groups: new Map() }));
  for (const [key, g] of Object.entries(interval.groups)) {
    let into = point.groups.get(key);
    if (!into) point.groups.set(key, (into = { ok: 0, errors: 0, timeouts: 0 }));
    into.ok += g.ok;
    into.errors += g.errors;
    into.timeouts += g.timeouts;
    if (g.histogram) (into.histogram ??= newHistogram()).add(decodeHistogram(g.histogram));
  }
}

function finishSeries(series: Series): TimeSeriesPoint[] {
  return [...series.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([second, point]) => ({
      second,
      groups: Object.fromEntries(
        [...point.groups.entries()].map(([key, g]) => [
          key,
          {
            ok: g.ok,
            errors: g.errors,
            timeouts: g.timeouts,
            ...(g.histogram && g.histogram.totalCount > 0 ? { p50Us: g.histogram.getValueAtPercentile(50), p99Us: g.histogram.getValueAtPercentile(99) } : {}),
          },
        ]),
      ),
    }));
}
