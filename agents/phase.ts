/**
 * The load phase of one worker, flipped by control messages from the main
 * thread. Agents read it on every send, so it is a plain object of booleans.
 */
export class LoadPhase {
  /** sends from now on count in the results (warm-up is over) */
  measuring = false;
  /** no new sends: the measured phase is over (duration reached, or the run is aborted) */
  stopping = false;
}

/** Wall-clock milliseconds with sub-ms resolution, comparable across the threads of a host. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Let I/O run between sends that would otherwise resolve synchronously (casts). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Context keys busbench adds to every message; oslo peers carry unknown context keys along untouched. */
export const SENT_AT_KEY = 'busbench_sent';
export const WARMUP_KEY = 'busbench_warmup';
