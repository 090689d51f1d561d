/**
 * How V8 sizes the heaps of the processes holding agents (runner.heap).
 *
 * - speed: a worker's young generation is larger than Node's 48 MiB for a
 *   worker (SPEED_YOUNG_GENERATION_MB), and the old generation grows as V8
 *   likes. Under load, a worker's calls in flight and their promises
 *   outlive a small nursery, get promoted, and make V8 mark the old
 *   generation every second or so. Measured with bench/as-users-run.ts's
 *   loops side by side (16 clients through qdrouterd, 5-6 alternating
 *   rounds, busbench's CPU per call against the lean loop's): 1.22x with
 *   Node's 48, 1.20x with 32, 1.09-1.14x with 64, 1.06x with 128.
 * - size: a 16 MiB young generation, and an old generation that grows by
 *   10 % past what the last major collection left instead of V8's 1.1-4x
 *   (--heap-growing-percent). With thousands of agents in a worker, V8's
 *   slack and a full nursery are most of their memory. Measured
 *   2026-12-06 with `busbench run --clients 15000 --servers 1 --rate 0.1
 *   --duration 20s` on RabbitMQ, one worker: peak RSS 724-765 MiB with
 *   speed, 668 with only the 10 % growth, 574 with it and a 48 MiB young
 *   generation, 543 with it and 16 MiB; 19,154-21,042 calls answered in
 *   each (the broker holds the host's CPU). The worker uses half as much CPU
 *   again, in the collector: the price of the memory.
 * - auto (the default): size for a process with a worker of
 *   DENSE_WORKER_AGENTS agents or more, where memory per agent is what a run
 *   is about, else speed.
 *
 * V8's growth flag is the process's, read each time a heap's limit is set:
 * it is set for every run before its workers start, and put back to V8's
 * own (0) when no worker of the process asks for size.
 */
import { setFlagsFromString } from 'node:v8';
import type { ResourceLimits } from 'node:worker_threads';
import type { RunnerConfig, WorkerInit } from '../model/index.js';

/** The young generation of a worker holding agents with heap speed, MiB (V8 grows it up to this as the load asks). */
export const SPEED_YOUNG_GENERATION_MB = 128;
/** The young generation of a worker with heap size, MiB. */
export const SIZE_YOUNG_GENERATION_MB = 16;
/** With heap size, the old generation's limit after a major collection: this much above what it kept. */
export const SIZE_HEAP_GROWING_PERCENT = 10;
/** With heap auto, a worker holding this many agents or more is sized for memory. */
export const DENSE_WORKER_AGENTS = 2000;

/**
 * Sets the heap of the workers of one process for the mode asked: auto
 * decides by its largest worker, and the process's workers all get the same,
 * since V8's growth flag is the process's.
 */
export function resolveHeap(asked: RunnerConfig['heap'], inits: WorkerInit[], agentsIn: (init: WorkerInit) => number): void {
  const heap = asked !== 'auto' ? asked : Math.max(0, ...inits.map(agentsIn)) >= DENSE_WORKER_AGENTS ? 'size' : 'speed';
  for (const init of inits) init.heap = heap;
}

/** The heap of a set of workers: size when any of them is. */
export function heapOf(inits: readonly WorkerInit[]): 'speed' | 'size' {
  return inits.some((i) => i.heap === 'size') ? 'size' : 'speed';
}

/** Applies the heap the workers about to start with `inits` in this process asked for, and says which. */
export function applyHeap(inits: readonly WorkerInit[]): 'speed' | 'size' {
  const heap = heapOf(inits);
  setFlagsFromString(`--heap-growing-percent=${heap === 'size' ? SIZE_HEAP_GROWING_PERCENT : 0}`);
  return heap;
}

/** What a worker thread holding agents is started with. */
export function workerResourceLimits(init: WorkerInit): ResourceLimits {
  return { maxYoungGenerationSizeMb: init.heap === 'size' ? SIZE_YOUNG_GENERATION_MB : SPEED_YOUNG_GENERATION_MB };
}

/** The summary's words for it: what was picked, and why when it was picked for the user. */
export function describeHeap(asked: RunnerConfig['heap'], chosen: 'speed' | 'size', agentsPerWorker: number): string {
  const what =
    chosen === 'size'
      ? `sized for memory: ${SIZE_YOUNG_GENERATION_MB} MiB young generation per worker, old generation ${SIZE_HEAP_GROWING_PERCENT} % above its live size`
      : `sized for speed: ${SPEED_YOUNG_GENERATION_MB} MiB young generation per worker, V8's old generation`;
  if (asked !== 'auto') return `${what}, as asked (runner.heap: ${asked})`;
  const most = agentsPerWorker.toLocaleString('en-US');
  const threshold = DENSE_WORKER_AGENTS.toLocaleString('en-US');
  return chosen === 'size'
    ? `${what} (auto: ${most} agents in a worker, ${threshold} or more: memory per agent matters more than CPU; --heap speed to choose)`
    : `${what} (auto: at most ${most} agents in a worker, under ${threshold}; --heap size to choose)`;
}
