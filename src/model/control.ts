/**
 * The control protocol between the main thread and its agent workers. It
 * travels over the workers' MessagePorts, never over the bus under test.
 * Below it, the protocol between the coordinator and an agent host, which
 * carries the same messages over the host's stdio. The code speaking them
 * is in agents/, src/runner/ and src/entries/.
 */
import type { DriverConfig, QueueBacklog } from './bus.js';
import type { Counters, ExportedReceipts, GroupSnapshot, PairSnapshot, PatternName } from './metrics.js';
import type { Faults, PayloadSizes } from './scenario.js';

/** One pattern a client sends, where to, and its share of the client's messages. */
export interface ClientRoute {
  pattern: PatternName;
  /** unicast target server */
  server?: string;
  weight: number;
}

export interface ClientSpec {
  name: string;
  /** one route, or several drawn per message by weight */
  routes: ClientRoute[];
  quota?: number;
}

export interface WorkerInit {
  workerIndex: number;
  /** the host this worker runs on, in a run with sites: its agents stamp it into what they send, and record per host pair */
  host?: string;
  driver: DriverConfig;
  sharedConnections: boolean;
  connectConcurrency: number;
  topic: string;
  notificationTopic: string;
  notificationPriority: string;
  servers: string[];
  listeners: string[];
  clients: ClientSpec[];
  notifiers: { name: string; quota?: number }[];
  faults: Faults;
  /** per-message accounting, reply timestamps, time series (see RunnerConfig.bookkeeping) */
  bookkeeping: boolean;
  /** how this worker's V8 heap is sized (RunnerConfig.heap, auto resolved by the worker's agents) */
  heap: 'speed' | 'size';
  /** standalone servers and listeners: a lost connection is retried with a backoff instead of ending the agent */
  reconnect?: boolean;
  load: {
    concurrency: number;
    pauseMs: number;
    arrival: 'closed' | 'fixed' | 'poisson';
    rate?: number;
    timeoutMs: number;
    payload: PayloadSizes;
    /** the RPC method clients call, and its arguments as given (undefined: the method's default shape) */
    method: string;
    args?: Record<string, unknown>;
  };
}

/** BusIncidents summed over connections, workers and hosts (see src/buses/driver.ts). */
export interface IncidentTotals {
  malformedMessages: number;
  returnedMessages: number;
  errors: Record<string, { count: number; first: string }>;
}

export interface AgentFailure {
  agent: string;
  error: string;
}

/** How busy a worker's event loop was over the measured phase: is the generator itself the bottleneck? */
export interface GeneratorLoad {
  worker: number;
  /** event-loop utilization 0..1 (performance.eventLoopUtilization) */
  utilization: number;
  /**
   * event-loop delay (perf_hooks.monitorEventLoopDelay), ms: how late its
   * sampling timer fired, i.e. the time between ticks minus the sampling
   * interval (an idle loop reads about 0, not the interval)
   */
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** wall time the figures cover: the measured phase until this worker's senders were done, ms */
  measuredMs?: number;
  /** share of that time the worker's thread ran on a CPU (Linux /proc/thread-self/schedstat; absent elsewhere) */
  cpuFraction?: number;
  /** share of that time the thread was ready to run but waited for a CPU: contention from other processes, not the generator's own load */
  cpuWaitFraction?: number;
  /** open-loop senders (load.rate): how far behind its schedule each measured send started for the generator's own reasons (not waits on load.concurrency), ms; absent without open-loop senders */
  scheduleLagP50Ms?: number;
  scheduleLagP99Ms?: number;
  scheduleLagMaxMs?: number;
  /** measured open-loop sends the schedule lag figures are from */
  scheduleLagSends?: number;
}

/** One worker's second of the measured phase: counters and an encoded latency histogram per group. */
export interface IntervalSnapshot {
  groups: Record<string, { ok: number; errors: number; timeouts: number; bytes: number; histogram?: string }>;
}

export type MainToWorker =
  | { type: 'clock-probe'; t0: number }
  | { type: 'clock-set'; offsetMs: number }
  | { type: 'start-agents' }
  | { type: 'load-start' }
  | { type: 'measure-start' }
  | { type: 'stop' }
  | { type: 'counts' }
  | { type: 'stop-receiving' }
  | { type: 'collect' }
  | { type: 'shutdown' };

export type WorkerToMain =
  | { type: 'agents-progress'; started: number; failed: number }
  | {
      type: 'agents-ready';
      started: Record<string, number>;
      failed: number;
      failures: AgentFailure[];
      busInfo?: { product: string; version: string; protocol: string };
    }
  /** an agent's connection was lost (not closed by busbench): when, in the coordinator's epoch ms, and why */
  | { type: 'connection-lost'; agent: string; atMs: number; error: string }
  /** consumers stopped; what the bus still held per queue (absent: the bus cannot say) */
  | { type: 'receiving-stopped'; queues?: QueueBacklog[] }
  | { type: 'clock-sample'; t0: number; t1: number }
  | { type: 'tick'; totals: Record<string, Counters>; interval?: IntervalSnapshot }
  | { type: 'load-done' }
  | { type: 'counts'; received: Record<string, number>; deliveries: number; delayedReplies: number }
  | {
      type: 'stats';
      groups: GroupSnapshot[];
      /** measured messages each server / listener received, by agent name */
      receivedByAgent: Record<string, number>;
      lateReplies: number;
      unmatchedReplies: number;
      incidents: IncidentTotals;
      sent: SentRange[];
      receipts: ServerReceipts[];
      /** per host pair, in a run with sites (see PairSnapshot) */
      pairs: PairSnapshot[];
      generator: GeneratorLoad;
      /** the first error message per pattern at this worker's clients */
      firstErrors: Partial<Record<PatternName, string>>;
      /** what arrived since the last tick the coordinator followed (the settle's end): the time series' last part */
      interval?: IntervalSnapshot;
    }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'closed' };

/** What the client sent in the measured phase, for the loss / duplicate accounting. */
export interface SentRange {
  client: number;
  pattern: PatternName;
  /** sequence number of the first measured message */
  firstSeq: number;
  count: number;
}

/** What one server received per pattern, by (client, sequence). */
export interface ServerReceipts {
  server: string;
  pattern: PatternName;
  receipts: ExportedReceipts;
}

// The protocol between the coordinator and an agent host (src/entries/
// agent-host.ts): frames (src/util/frames.ts) on the host's stdin and
// stdout, carrying the workers' control messages unchanged.

/** The bus endpoint `url` reached through a user-space delay (see network/plan.ts: relayed). */
export interface RelaySpec {
  url: string;
  forwardDelayMs: number;
  backwardDelayMs: number;
  jitterMs: number;
}

export type CoordinatorToHost = { kind: 'init'; inits: WorkerInit[]; relays: RelaySpec[] } | { kind: 'to'; worker: number; message: MainToWorker };

export type HostToCoordinator =
  | { kind: 'ready'; pid: number; relays: { url: string; via: string }[] }
  | { kind: 'from'; worker: number; message: WorkerToMain }
  | { kind: 'error'; worker: number; message: string }
  | { kind: 'exit'; worker: number; code: number }
  | { kind: 'fatal'; message: string };
