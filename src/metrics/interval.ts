/**
 * Per-second time series: each worker records every latency a second time
 * into one histogram per group for the current interval, and hands the
 * interval over with its once-a-second tick; the coordinator merges the
 * workers' intervals by second. A fault or a ramp then shows over time
 * instead of disappearing into the run's percentiles.
 */
import { encodeHistogram, newRecordingHistogram, recordMs, type Histogram } from './histogram.js';
import { groupKey } from './stats.js';
import { PATTERNS, type Counters, type Role, type IntervalSnapshot } from '../model/index.js';

export class IntervalRecorder {
  private histograms = new Map<string, Histogram>();
  private readonly keys: Record<string, string[]> = {};
  /** the running totals at the last take, of the four counters the series reports */
  private previous = new Map<string, { ok: number; errors: number; timeouts: number; bytes: number }>();

  record(role: Role, pattern: number, ms: number): void {
    const key = (this.keys[role] ??= PATTERNS.map((p) => groupKey(role, p)))[pattern]!;
    let histogram = this.histograms.get(key);
    if (!histogram) this.histograms.set(key, (histogram = newRecordingHistogram()));
    recordMs(histogram, ms);
  }

  /** The interval since the last call: counter deltas from the running totals, and the interval's histograms. */
  take(totals: Record<string, Counters>): IntervalSnapshot {
    const groups: IntervalSnapshot['groups'] = {};
    for (const [key, counters] of Object.entries(totals)) {
      const before = this.previous.get(key);
      const ok = counters.ok - (before?.ok ?? 0);
      const errors = counters.errors - (before?.errors ?? 0);
      const timeouts = counters.timeouts - (before?.timeouts ?? 0);
      const bytes = counters.bytes - (before?.bytes ?? 0);
      const histogram = this.histograms.get(key);
      if (ok === 0 && errors === 0 && timeouts === 0 && bytes === 0 && !histogram) continue;
      groups[key] = { ok, errors, timeouts, bytes, ...(histogram && histogram.totalCount > 0 ? { histogram: encodeHistogram(histogram) } : {}) };
    }
    // Kept in place, four numbers per group, instead of a structured clone of every counter each second.
    for (const [key, c] of Object.entries(totals)) {
      const kept = this.previous.get(key);
      if (kept) {
        kept.ok = c.ok;
        kept.errors = c.errors;
        kept.timeouts = c.timeouts;
        kept.bytes = c.bytes;
      } else this.previous.set(key, { ok: c.ok, errors: c.errors, timeouts: c.timeouts, bytes: c.bytes });
    }
    this.histograms = new Map();
    return { groups };
  }
}
