import type { ClockOffset } from '../model/index.js';

/**
 * NTP-style clock offset: the coordinator sends a probe at its time t0, the
 * other process answers with its own reading t1, the answer arrives at t2.
 * If the two legs took equally long, offset = t1 − (t0 + t2) / 2; however
 * unequal they were, the truth lies within ± (t2 − t0) / 2 of that. Probes
 * that waited behind other work have long delays and loose bounds, so only
 * the quickest are kept.
 */
export interface ClockSample {
  /** coordinator's clock when the probe left, ms */
  t0: number;
  /** the other process's clock when it answered, ms */
  t1: number;
  /** coordinator's clock when the answer arrived, ms */
  t2: number;
}

function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Throws on no samples, a non-finite reading, or an answer that arrived before its probe left (t2 < t0). */
export function estimateClockOffset(samples: ClockSample[]): ClockOffset {
  if (samples.length === 0) throw new Error('clock offset: no samples');
  for (const s of samples) {
    if (!Number.isFinite(s.t0) || !Number.isFinite(s.t1) || !Number.isFinite(s.t2)) {
      throw new Error(`clock offset: a sample has a non-finite time (t0 ${s.t0}, t1 ${s.t1}, t2 ${s.t2})`);
    }
    if (s.t2 < s.t0) throw new Error(`clock offset: a sample answered before it was asked (t0 ${s.t0}, t2 ${s.t2})`);
  }
  const byDelay = samples.map((s) => ({ delay: s.t2 - s.t0, estimate: s.t1 - (s.t0 + s.t2) / 2 })).sort((a, b) => a.delay - b.delay);
  const kept = byDelay.slice(0, Math.max(1, Math.floor(samples.length / 4)));
  // Each kept estimate is within ± its delay / 2 of the truth, so all of them
  // lie within ± (largest kept delay) / 2 of it, and so does their median.
  // The median, not the mean, so one lopsided route cannot drag the estimate.
  const offsetMs = median(kept.map((k) => k.estimate).sort((a, b) => a - b));
  return { offsetMs, uncertaintyMs: kept[kept.length - 1]!.delay / 2, samples: samples.length, used: kept.length, minDelayMs: byDelay[0]!.delay };
}
