/**
 * How V8 sizes the heaps of the processes holding agents (runner.heap). By
 * default V8 lets a heap grow well past its live size between major
 * collections; with thousands of agents in a process that slack is most of
 * their memory. Measured with bench/density-cli.ts, 15,000 clients in one
 * worker, 0.1 calls/s each (30,000 due in 20 s): on RabbitMQ 46–47 KiB of
 * RSS per agent with V8's defaults and 19,000–22,000 calls answered, 28–29
 * KiB optimised for size and 15,000–16,000; through qdrouterd 87 KiB and
 * 30,000, 51 KiB and 15,800. The collector's extra work holds the worker
 * back, so size is asked for, not taken by default.
 *
 * V8's flags are the process's: set before the worker isolates are created
 * (each reads them as it starts), and never unset.
 *
 * For speed, a worker's young generation is also larger than Node's 48 MiB
 * for a worker (SPEED_YOUNG_GENERATION_MB): under load, a worker's calls in
 * flight and their promises outlive a small nursery, get promoted, and
 * make V8 mark the old generation every second or so. Measured with
 * bench/as-users-run.ts's loops side by side (16 clients through qdrouterd,
 * 5-6 alternating rounds, busbench's CPU per call against the lean loop's):
 * 1.22x with Node's 48, 1.20x with 32, 1.09-1.14x with 64, 1.06x with 128.
 */
import { setFlagsFromString } from 'node:v8';
import type { ResourceLimits } from 'node:worker_threads';
import type { WorkerInit } from '../model/index.js';

let sizeApplied = false;

/** Applies the heap the workers about to start with `inits` in this process asked for, and says which. */
export function applyHeap(inits: readonly WorkerInit[]): 'speed' | 'size' {
  const size = inits.some((i) => i.heap === 'size');
  if (size && !sizeApplied) {
    setFlagsFromString('--optimize-for-size');
    sizeApplied = true;
  }
  return size ? 'size' : 'speed';
}

/** The young generation of a worker holding agents with heap speed, MiB (V8 grows it up to this as the load asks). */
export const SPEED_YOUNG_GENERATION_MB = 128;

/** What a worker thread holding agents is started with: speed's larger young generation; size's V8 defaults. */
export function workerResourceLimits(init: WorkerInit): ResourceLimits | undefined {
  return init.heap === 'size' ? undefined : { maxYoungGenerationSizeMb: SPEED_YOUNG_GENERATION_MB };
}

/** The summary's words for it. */
export function describeHeap(heap: 'speed' | 'size', agents: number): string {
  return heap === 'size'
    ? `optimised for size (runner.heap: size; ${agents.toLocaleString('en-US')} agents)`
    : `V8's defaults with a ${SPEED_YOUNG_GENERATION_MB} MiB young generation per worker (runner.heap: speed; size takes less memory per agent at thousands of agents)`;
}
