/**
 * The control protocol between the main thread and its agent workers. It
 * travels over the workers' MessagePorts, never over the bus under test.
 */
import type { DriverConfig } from '../src/drivers/index.js';
import type { Counters, GroupSnapshot, PatternName } from '../src/metrics/stats.js';

export interface ClientSpec {
  name: string;
  pattern: PatternName;
  /** unicast target server */
  server?: string;
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
  load: {
    concurrency: number;
    pauseMs: number;
    rate?: number;
    timeoutMs: number;
    payloadBytes: number;
  };
}

export interface AgentFailure {
  agent: string;
  error: string;
}

export type MainToWorker =
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
  | { type: 'tick'; totals: Record<string, Counters> }
  | { type: 'load-done' }
  | { type: 'counts'; received: number }
  | {
      type: 'stats';
      groups: GroupSnapshot[];
      /** measured messages each server / listener received, by agent name */
      receivedByAgent: Record<string, number>;
      lateReplies: number;
    }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'closed' };
