/**
 * The load phase of one worker, flipped by control messages from the main
 * thread. Agents read it on every send, so it is a plain object of booleans.
 */
export class LoadPhase {
  /** sends from now on count in the results (warm-up is over) */
  measuring = false;
  private stopped = false;
  private readonly sleepers = new Set<() => void>();

  /** no new sends: the measured phase is over (duration reached, or the run is aborted) */
  get stopping(): boolean {
    return this.stopped;
  }

  /** Setting it wakes every sender sleeping in sleep(): a slow open loop must not hold the drain until its next due time. */
  set stopping(value: boolean) {
    this.stopped = value;
    if (!value) return;
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  /** Waits `ms`, or less when the phase stops meanwhile. */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.sleepers.delete(wake);
        resolve();
      }, ms);
      this.sleepers.add(wake);
    });
  }
}

/**
 * This thread's clock for timestamps that travel in messages: wall-clock
 * milliseconds with sub-ms resolution, plus an injected skew (tests), minus
 * the offset the coordinator estimated against its own clock — so every
 * process stamps in the coordinator's time and one-way latencies between
 * processes need no further correction.
 */
export const clock = {
  skewMs: 0,
  offsetMs: 0,
  /** the uncorrected reading, for the offset probes */
  raw(): number {
    return performance.timeOrigin + performance.now() + this.skewMs;
  },
};

/** Milliseconds in the coordinator's time (see clock). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now() + clock.skewMs - clock.offsetMs;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Busy CPU for `ms` on this thread (the client_burn and server_burn faults). */
export function burnCpu(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // burning CPU on purpose (fault injection)
  }
}

/** Let I/O run between sends that would otherwise resolve synchronously (casts). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Context keys busbench adds to every message; oslo peers carry unknown context keys along untouched. */
export const SENT_AT_KEY = 'busbench_sent';
export const WARMUP_KEY = 'busbench_warmup';
/** the sending client's number, for per-sender sequence accounting (the sequence is args.seq) */
export const CLIENT_KEY = 'busbench_client';
/**
 * the message's sequence number per (client, pattern): in the context, not in the arguments, so the
 * arguments stay free for the method's own (an oslo or ombt endpoint rejects unknown keyword arguments)
 */
export const SEQ_KEY = 'busbench_seq';
/** fields a busbench server adds to its reply: when the request arrived and when the reply left */
export const RECEIVED_AT_FIELD = 'busbench_received';
export const REPLIED_AT_FIELD = 'busbench_replied';
/**
 * In a run with sites: the host a message was sent from (a context key) and the host a reply came
 * from (a reply field), so that each side can count its messages per host pair (src/metrics/site-pairs.ts)
 */
export const HOST_KEY = 'busbench_host';
export const HOST_FIELD = 'busbench_host';
