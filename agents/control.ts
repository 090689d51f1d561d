/**
 * The control protocol between the main thread and its agent workers. It
 * travels over the workers' MessagePorts, never over the bus under test.
 */
import type { DriverConfig } from '../src/drivers/index.js';
import type { Counters, GroupSnapshot, PatternName } from '../src/metrics/stats.js';
import type { Faults, PayloadSizes } from '../src/scenario/types.js';
import type { SentRange } from './rpc-client.js';
import type { ServerReceipts } from './rpc-server.js';

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
  load: {
    concurrency: number;
    pauseMs: number;
    arrival: 'closed' | 'fixed' | 'poisson';
    rate?: number;
    timeoutMs: number;
    payload: PayloadSizes;
  };
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
  /** event-loop delay (perf_hooks.monitorEventLoopDelay), ms */
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
}

/** One worker's second of the measured phase: counters and an encoded latency histogram per group. */
export interface IntervalSnapshot {
  groups: Record<string, { ok: number; errors: number; timeouts: number; histogram?: string }>;
}

export type MainToWorker =
  | { type: 'clock-probe'; t0: number }
  | { type: 'clock-set'; offsetMs: number }
  | { type: 'start-agents' }
  | { type: 'load-start' }
  | { type: 'measure-start' }
  | { type: 'stop' }
  | { type: 'counts' }
  | { type: 'collect' }
  | { type: 'shutdown' };

export type WorkerToMain =
  | { type: 'agents-progress'; started: number; failed: number }
  | { type: 'agents-ready'; started: Record<string, number>; failed: number; failures: AgentFailure[]; busInfo?: { product: string; version: string; protocol: string } }
  | { type: 'clock-sample'; t0: number; t1: number }
  | { type: 'tick'; totals: Record<string, Counters>; interval?: IntervalSnapshot }
  | { type: 'load-done' }
  | { type: 'counts'; received: number; delayedReplies: number }
  | {
      type: 'stats';
      groups: GroupSnapshot[];
      /** measured messages each server / listener received, by agent name */
      receivedByAgent: Record<string, number>;
      lateReplies: number;
      unmatchedReplies: number;
      sent: SentRange[];
      receipts: ServerReceipts[];
      generator: GeneratorLoad;
    }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'closed' };
