/**
 * Entry of an agent worker thread: hosts many agents, each with its own bus
 * connection (or a share of one), driven by control messages from the main
 * thread (see control.ts).
 */
import { performance as perf, type EventLoopUtilization } from 'node:perf_hooks';
import { GeneratorMonitor } from '../metrics/generator-verdict.js';
import { parentPort, workerData } from 'node:worker_threads';
import type { BusConnection } from '../buses/driver.js';
import { createDriver } from '../buses/registry.js';
import { IntervalRecorder } from '../metrics/interval.js';
import { SitePairRecorder } from '../metrics/site-pairs.js';
import { AgentRecorder, mergeRecorders, totalCounters, WorkerHistograms } from '../metrics/stats.js';
import {
  PATTERNS,
  type QueueBacklog,
  type AgentFailure,
  type GeneratorLoad,
  type IncidentTotals,
  type MainToWorker,
  type WorkerInit,
  type WorkerToMain,
} from '../model/index.js';
import { addIncidents } from '../../agents/control.js';
import { ListenerAgent } from '../../agents/listener.js';
import { NotifierAgent } from '../../agents/notifier.js';
import { LoadPhase, clock, epochMs, sleep } from '../../agents/phase.js';
import { seededRandom } from '../util/draw.js';
import { PayloadSource } from '../../agents/payload.js';
import { RpcClientAgent } from '../../agents/rpc-client.js';
import { RpcServerAgent } from '../../agents/rpc-server.js';

if (!parentPort) throw new Error('src/entries/agent-worker.js runs as a worker thread; start it through busbench');
const port = parentPort;
// A stray rejection in one agent must not take the other agents of the worker down with it.
process.on('unhandledRejection', (reason) => {
  port.postMessage({
    type: 'log',
    level: 'warn',
    message: `unhandled rejection in an agent: ${reason instanceof Error ? reason.message : String(reason)}`,
  } satisfies WorkerToMain);
});
const init = workerData as WorkerInit;
// Fault injection: a skewed clock, which the coordinator's offset estimate must find and correct.
clock.skewMs = init.faults.clockSkewMs?.[init.workerIndex] ?? 0;
const driver = createDriver(init.driver);
const phase = new LoadPhase();
// The agents of this worker record latencies into one set of histograms per role (see WorkerHistograms).
AgentRecorder.sharing = new WorkerHistograms();
const interval = new IntervalRecorder();
/** where agents record their per-second series: nowhere without bookkeeping */
const intervalSink = init.bookkeeping ? interval : undefined;
/** per host pair, in a run with sites: where this worker's agents' messages went (part of the bookkeeping) */
const pairSink = init.bookkeeping && init.host !== undefined ? new SitePairRecorder(init.host) : undefined;
// The generator's own load over the measured phase: event-loop delay (its excess over the 10 ms sampling
// interval: enough to tell a saturated generator, cheap enough to leave on), CPU time and waits for a CPU,
// open-loop schedule lag (see generator-verdict.ts).
const generatorMonitor = new GeneratorMonitor();
let utilizationAtMeasure: EventLoopUtilization | undefined;
/** Seeds per agent: runs of one scenario draw the same sizes and patterns; agents differ from one another. */
function agentRandom(role: number, id: number): () => number {
  return seededRandom(Math.imul(id + 1, 0x9e3779b1) ^ role);
}

const connections: BusConnection[] = [];
const incidentKindsSaid = new Set<string>();
const servers: RpcServerAgent[] = [];
const listeners: ListenerAgent[] = [];
const clients: RpcClientAgent[] = [];
const notifiers: NotifierAgent[] = [];
const failures: AgentFailure[] = [];
let failed = 0;
let started = 0;
let busInfo: BusConnection['info'] | undefined;
let tickTimer: NodeJS.Timeout | undefined;

function send(message: WorkerToMain): void {
  port.postMessage(message);
}

/** Every agent's recorder, listed again only when agents were added (the per-second ticks run over it). */
let recorderList: AgentRecorder[] = [];
function recorders(): AgentRecorder[] {
  const agents = servers.length + listeners.length + clients.length + notifiers.length;
  if (recorderList.length !== agents) recorderList = [...servers, ...listeners, ...clients, ...notifiers].map((agent) => agent.recorder);
  return recorderList;
}

let generatorAtEnd: GeneratorLoad | undefined;

/** Taken when this worker's senders are done, so the idle settle phase does not dilute it. */
function generatorLoad(): GeneratorLoad {
  if (generatorAtEnd) return generatorAtEnd;
  const utilization = utilizationAtMeasure ? perf.eventLoopUtilization(utilizationAtMeasure).utilization : 0;
  generatorAtEnd = generatorMonitor.take(init.workerIndex, utilization);
  return generatorAtEnd;
}

/** Run `tasks` with at most `limit` in flight: bounded connection start-up, so the broker is not stormed. */
async function boundedAll(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
}

function describe(error: unknown): string {
  const err = error as { message?: string; code?: string };
  return [err.code, err.message ?? String(error)].filter(Boolean).join(': ');
}

async function connectAgent(name: string, endpoint: number): Promise<BusConnection> {
  const connection = await driver.connect({ name, shared: init.sharedConnections, endpoint });
  connections.push(connection);
  busInfo ??= connection.info;
  // Said at once, so the coordinator can tell the console and the results when the bus went away.
  connection.onLost((error) => send({ type: 'connection-lost', agent: name, atMs: epochMs(), error: describe(error) }));
  // The first of each kind of bus error in this worker goes to the console; all are counted in the results.
  connection.incidents.onFirst = (kind, message) => {
    if (incidentKindsSaid.has(kind)) return;
    incidentKindsSaid.add(kind);
    send({ type: 'log', level: 'warn', message: `${name}: ${kind}: ${message} (further ones are counted in the results)` });
  };
  return connection;
}

/** oslo.messaging's reconnect schedule: 1 s, doubling, at most 30 s (REFERENCE §6). */
const RECONNECT_FIRST_MS = 1000;
const RECONNECT_MAX_MS = 30_000;

/**
 * A standalone consumer (rpc-server, listener) whose connection was lost
 * keeps trying with a backoff, saying so, instead of sitting silent.
 */
function keepConsuming(name: string, connection: BusConnection, start: (connection: BusConnection) => Promise<void>): void {
  if (!init.reconnect) return;
  connection.onLost(() => {
    void (async () => {
      for (let attempt = 1, waitMs = RECONNECT_FIRST_MS; !phase.stopping; attempt++, waitMs = Math.min(RECONNECT_MAX_MS, waitMs * 2)) {
        send({ type: 'log', level: 'warn', message: `${name}: reconnecting in ${waitMs / 1000} s (attempt ${attempt})` });
        await sleep(waitMs);
        if (phase.stopping) return;
        try {
          const fresh = await connectAgent(name, ordinal(name));
          await start(fresh);
          keepConsuming(name, fresh, start);
          send({ type: 'log', level: 'warn', message: `${name}: reconnected after ${attempt} attempt(s)` });
          return;
        } catch (error) {
          send({ type: 'log', level: 'warn', message: `${name}: reconnect failed: ${describe(error)}` });
        }
      }
    })();
  });
}

/** Agent names end in their ordinal within their role (server-3): it picks the endpoint, round-robin. */
function ordinal(name: string): number {
  return Number(/(\d+)$/.exec(name)?.[1] ?? 0);
}

function startTask(name: string, start: (connection: BusConnection) => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await start(await connectAgent(name, ordinal(name)));
      started++;
    } catch (error) {
      failed++;
      if (failures.length < 20) failures.push({ agent: name, error: describe(error) });
    }
  };
}

async function startAgents(): Promise<void> {
  const progress = setInterval(() => send({ type: 'agents-progress', started, failed }), 250);
  // Consumers first: the queues they declare must exist before the first message is sent.
  await boundedAll(
    [
      ...init.servers.map((name) => {
        const start = async (connection: BusConnection): Promise<void> => {
          const agent = new RpcServerAgent(connection, name, init.topic, init.faults, init.bookkeeping);
          agent.recorder.interval = intervalSink;
          agent.recorder.pairs = pairSink;
          if (phase.measuring) agent.measureStartedAt = performance.now();
          await agent.start();
          servers.push(agent);
        };
        return startTask(name, async (connection) => {
          await start(connection);
          keepConsuming(name, connection, start);
        });
      }),
      ...init.listeners.map((name) => {
        const start = async (connection: BusConnection): Promise<void> => {
          const agent = new ListenerAgent(connection, name, init.notificationTopic, init.notificationPriority, init.bookkeeping);
          agent.recorder.interval = intervalSink;
          agent.recorder.pairs = pairSink;
          await agent.start();
          listeners.push(agent);
        };
        return startTask(name, async (connection) => {
          await start(connection);
          keepConsuming(name, connection, start);
        });
      }),
    ],
    init.connectConcurrency,
  );
  const load = init.load;
  await boundedAll(
    [
      ...init.clients.map((spec) =>
        startTask(spec.name, async (connection) => {
          const client = new RpcClientAgent(
            connection,
            {
              name: spec.name,
              id: ordinal(spec.name),
              routes: spec.routes.map((route) => ({
                pattern: route.pattern,
                target: route.server ? { topic: init.topic, server: route.server } : { topic: init.topic },
                weight: route.weight,
              })),
              random: agentRandom(1, ordinal(spec.name)),
              arrivals: agentRandom(4, ordinal(spec.name)),
              scheduleLag: generatorMonitor.recordScheduleLag,
              quota: spec.quota,
              concurrency: load.concurrency,
              pauseMs: load.pauseMs,
              arrival: load.arrival,
              rate: load.rate,
              timeoutMs: load.timeoutMs,
              method: load.method,
              ...(load.args ? { args: load.args } : {}),
              payload: new PayloadSource(load.payload, agentRandom(2, ordinal(spec.name))),
              bookkeeping: init.bookkeeping,
              ...(init.faults.duplicateSendEvery ? { duplicateSendEvery: init.faults.duplicateSendEvery } : {}),
              ...(init.faults.clientBurnMs ? { burnMs: init.faults.clientBurnMs } : {}),
            },
            phase,
          );
          client.recorder.interval = intervalSink;
          client.recorder.pairs = pairSink;
          clients.push(client);
        }),
      ),
      ...init.notifiers.map((spec) =>
        startTask(spec.name, async (connection) => {
          const notifier = new NotifierAgent(
            connection,
            {
              name: spec.name,
              id: ordinal(spec.name),
              topic: init.notificationTopic,
              priority: init.notificationPriority,
              eventType: 'busbench.bench',
              quota: spec.quota,
              pauseMs: load.pauseMs,
              rate: load.rate,
              payload: new PayloadSource(load.payload, agentRandom(3, ordinal(spec.name))),
              bookkeeping: init.bookkeeping,
            },
            phase,
          );
          notifier.recorder.interval = intervalSink;
          notifier.recorder.pairs = pairSink;
          notifiers.push(notifier);
        }),
      ),
    ],
    init.connectConcurrency,
  );
  clearInterval(progress);
  send({
    type: 'agents-ready',
    started: { server: servers.length, listener: listeners.length, client: clients.length, notifier: notifiers.length },
    failed,
    failures,
    ...(busInfo ? { busInfo: { ...busInfo } } : {}),
  });
}

function backlogUnsupported(): boolean {
  return [...servers, ...listeners].some((agent) => agent.subscription && !agent.subscription.backlog);
}

/**
 * End of a run: consumers stop taking (what the bus already handed over is
 * handled first), then the bus says what it still holds per queue — the
 * messages undelivered at stop. Queues shared by several servers (anycast)
 * are reported once.
 */
async function stopReceiving(): Promise<QueueBacklog[] | undefined> {
  const consumers = [...servers, ...listeners];
  await boundedAll(
    consumers.map((agent) => () => agent.subscription?.pause?.().catch(() => undefined) ?? Promise.resolve()),
    init.connectConcurrency,
  );
  if (consumers.length === 0 || backlogUnsupported()) return undefined;
  const read = async (): Promise<QueueBacklog[] | undefined> => {
    const byQueue = new Map<string, QueueBacklog>();
    for (const agent of consumers) {
      try {
        for (const q of (await agent.subscription?.backlog?.()) ?? []) byQueue.set(q.queue, q);
      } catch {
        // A connection gone by now cannot say: then the backlog is unknown, not empty.
        return undefined;
      }
    }
    return [...byQueue.values()];
  };
  // Messages the senders pushed are still landing in the queues (publisher buffers, the broker's own): read until the depths hold still.
  let queues = await read();
  for (let i = 0; queues && i < BACKLOG_SETTLE_READS; i++) {
    await sleep(BACKLOG_SETTLE_MS);
    const again = await read();
    const total = (qs: QueueBacklog[] | undefined): number => (qs ?? []).reduce((sum, q) => sum + q.messages, 0);
    const still = total(again) === total(queues);
    queues = again;
    if (still) break;
  }
  return queues;
}

/** how often, and how many times at most, the queue depths are read until they hold still */
const BACKLOG_SETTLE_MS = 250;
const BACKLOG_SETTLE_READS = 20;

async function runLoad(): Promise<void> {
  tickTimer = setInterval(() => {
    const totals = totalCounters(recorders());
    send({ type: 'tick', totals, ...(phase.measuring ? { interval: interval.take(totals) } : {}) });
  }, 1000);
  await Promise.all([...clients.map((c) => c.run()), ...notifiers.map((n) => n.run())]);
  // A worker of servers only has no senders to wait for: its load is taken at collect.
  if (clients.length + notifiers.length > 0 && utilizationAtMeasure) generatorLoad();
  const totals = totalCounters(recorders());
  // The last partial second too, so the series adds up to the totals.
  send({ type: 'tick', totals, ...(phase.measuring ? { interval: interval.take(totals) } : {}) });
  send({ type: 'load-done' });
}

async function shutdown(): Promise<void> {
  phase.stopping = true;
  if (tickTimer) clearInterval(tickTimer);
  await boundedAll(
    [...servers, ...listeners].map((agent) => () => agent.stop().catch(() => undefined)),
    init.connectConcurrency,
  );
  await boundedAll(
    connections.map((connection) => () => connection.close().catch(() => undefined)),
    init.connectConcurrency,
  );
  await driver.close();
  send({ type: 'closed' });
  port.close();
}

port.on('message', (message: MainToWorker) => {
  switch (message.type) {
    case 'start-agents':
      void startAgents();
      break;
    case 'load-start':
      void runLoad();
      break;
    case 'clock-probe':
      send({ type: 'clock-sample', t0: message.t0, t1: clock.raw() });
      break;
    case 'clock-set':
      clock.offsetMs = message.offsetMs;
      break;
    case 'measure-start': {
      phase.measuring = true;
      const now = performance.now();
      for (const server of servers) server.measureStartedAt = now;
      // No baseline is taken here: agents count measured messages only, and a receiver may already have counted
      // some a sender in another worker sent after its own measure-start; they belong in the series' first second.
      generatorMonitor.start();
      utilizationAtMeasure = perf.eventLoopUtilization();
      break;
    }
    case 'stop':
      phase.stopping = true;
      break;
    case 'counts': {
      // Measured receipts per pattern, and every delivery (warm-up too) so a draining backlog shows as progress.
      const received: Record<string, number> = {};
      let deliveries = 0;
      let delayedReplies = 0;
      for (const agent of [...servers, ...listeners]) {
        deliveries += agent.deliveries;
        agent.recorder.counters.forEach((c, p) => {
          if (c && c.ok > 0) received[PATTERNS[p]!] = (received[PATTERNS[p]!] ?? 0) + c.ok;
        });
      }
      for (const agent of servers) delayedReplies += agent.delayedReplies;
      send({ type: 'counts', received, deliveries, delayedReplies });
      break;
    }
    case 'stop-receiving':
      void stopReceiving().then((queues) => send({ type: 'receiving-stopped', ...(queues ? { queues } : {}) }));
      break;
    case 'collect': {
      const receivedByAgent: Record<string, number> = {};
      // A reconnected consumer is a new agent of the same name: its receipts add up.
      for (const agent of [...servers, ...listeners]) receivedByAgent[agent.name] = (receivedByAgent[agent.name] ?? 0) + agent.received;
      let lateReplies = 0;
      let unmatchedReplies = 0;
      const incidents: IncidentTotals = { malformedMessages: 0, returnedMessages: 0, errors: {} };
      for (const connection of connections) {
        lateReplies += connection.lateReplies;
        unmatchedReplies += connection.unmatchedReplies;
        addIncidents(incidents, connection.incidents);
      }
      send({
        type: 'stats',
        groups: mergeRecorders(recorders()),
        receivedByAgent,
        lateReplies,
        unmatchedReplies,
        incidents,
        sent: [...clients, ...notifiers].flatMap((sender) => sender.sent).filter((range) => range.count > 0),
        receipts: [...servers, ...listeners].flatMap((receiver) => receiver.exportReceipts()),
        pairs: pairSink?.export() ?? [],
        firstErrors: Object.assign({}, ...[...clients].reverse().map((client) => client.firstErrors)),
        generator: generatorLoad(),
        ...(phase.measuring ? { interval: interval.take(totalCounters(recorders())) } : {}),
      });
      break;
    }
    case 'shutdown':
      void shutdown();
      break;
  }
});
