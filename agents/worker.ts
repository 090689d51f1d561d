/**
 * Entry of an agent worker thread: hosts many agents, each with its own bus
 * connection (or a share of one), driven by control messages from the main
 * thread (see control.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BusConnection } from '../src/drivers/driver.js';
import { createDriver } from '../src/drivers/index.js';
import { mergeRecorders, totalCounters, type AgentRecorder } from '../src/metrics/stats.js';
import type { AgentFailure, MainToWorker, WorkerInit, WorkerToMain } from './control.js';
import { ListenerAgent } from './listener.js';
import { NotifierAgent } from './notifier.js';
import { LoadPhase } from './phase.js';
import { RpcClientAgent } from './rpc-client.js';
import { RpcServerAgent } from './rpc-server.js';

if (!parentPort) throw new Error('agents/worker.js runs as a worker thread; start it through busbench');
const port = parentPort;
// A stray rejection in one agent must not take the other agents of the worker down with it.
process.on('unhandledRejection', (reason) => {
  port.postMessage({ type: 'log', level: 'warn', message: `unhandled rejection in an agent: ${reason instanceof Error ? reason.message : String(reason)}` } satisfies WorkerToMain);
});
const init = workerData as WorkerInit;
const driver = createDriver(init.driver);
const phase = new LoadPhase();
const payload = 'x'.repeat(init.load.payloadBytes);

const connections: BusConnection[] = [];
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

function recorders(): AgentRecorder[] {
  return [...servers, ...listeners, ...clients, ...notifiers].map((agent) => agent.recorder);
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
  return connection;
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
      ...init.servers.map((name) =>
        startTask(name, async (connection) => {
          const agent = new RpcServerAgent(connection, name, init.topic);
          await agent.start();
          servers.push(agent);
        }),
      ),
      ...init.listeners.map((name) =>
        startTask(name, async (connection) => {
          const agent = new ListenerAgent(connection, name, init.notificationTopic, init.notificationPriority);
          await agent.start();
          listeners.push(agent);
        }),
      ),
    ],
    init.connectConcurrency,
  );
  const load = init.load;
  await boundedAll(
    [
      ...init.clients.map((spec) =>
        startTask(spec.name, async (connection) => {
          clients.push(
            new RpcClientAgent(
              connection,
              {
                name: spec.name,
                pattern: spec.pattern,
                target: spec.server ? { topic: init.topic, server: spec.server } : { topic: init.topic },
                quota: spec.quota,
                concurrency: load.concurrency,
                pauseMs: load.pauseMs,
                rate: load.rate,
                timeoutMs: load.timeoutMs,
                method: 'bench',
                payload,
              },
              phase,
            ),
          );
        }),
      ),
      ...init.notifiers.map((spec) =>
        startTask(spec.name, async (connection) => {
          notifiers.push(
            new NotifierAgent(
              connection,
              {
                name: spec.name,
                topic: init.notificationTopic,
                priority: init.notificationPriority,
                eventType: 'busbench.bench',
                quota: spec.quota,
                pauseMs: load.pauseMs,
                rate: load.rate,
                payload,
              },
              phase,
            ),
          );
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

async function runLoad(): Promise<void> {
  tickTimer = setInterval(() => send({ type: 'tick', totals: totalCounters(recorders()) }), 1000);
  await Promise.all([...clients.map((c) => c.run()), ...notifiers.map((n) => n.run())]);
  send({ type: 'tick', totals: totalCounters(recorders()) });
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
    case 'measure-start':
      phase.measuring = true;
      break;
    case 'stop':
      phase.stopping = true;
      break;
    case 'counts': {
      let received = 0;
      for (const agent of servers) received += agent.received;
      for (const agent of listeners) received += agent.received;
      send({ type: 'counts', received });
      break;
    }
    case 'collect': {
      const receivedByAgent: Record<string, number> = {};
      for (const agent of servers) receivedByAgent[agent.name] = agent.received;
      for (const agent of listeners) receivedByAgent[agent.name] = agent.received;
      let lateReplies = 0;
      for (const connection of connections) lateReplies += connection.lateReplies;
      send({ type: 'stats', groups: mergeRecorders(recorders()), receivedByAgent, lateReplies });
      break;
    }
    case 'shutdown':
      void shutdown();
      break;
  }
});
