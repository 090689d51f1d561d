/**
 * The protocol between the coordinator and an agent host (src/entries/
 * agent-host.ts): frames (src/util/frames.ts) on the host's stdin and
 * stdout, carrying the workers' control messages unchanged.
 */
import type { MainToWorker, WorkerInit, WorkerToMain } from './control.js';

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
