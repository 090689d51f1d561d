/**
 * The run-to-run noise of a metric: how far its value could move if the
 * same thing were run again, so that `compare` does not call noise a
 * regression.
 *
 * - Repeats (a side with ≥ 2 runs of the same parameters): the min–max of
 *   the runs' own values. Real run-to-run spread, everything included
 *   (the machine, the bus's state, the scheduler).
 * - One run: a bootstrap, 200 resamples, the statistic taken on each and
 *   the 2.5–97.5 % interval of those. Latency: whole seconds of the run
 *   resampled (its per-second histograms in timeSeries, drawn with
 *   replacement and summed), so a slow patch within the run — a noisy
 *   neighbour, a GC pause, a queue that filled — moves the resamples as it
 *   would move a rerun; where the run kept no per-second histograms (the
 *   other legs, runner.bookkeeping off, runs under 5 s), the values
 *   themselves (multinomial over the histogram's buckets), which sees only
 *   the sampling noise. Throughput: the per-second completions resampled.
 *   Either way this is the noise within one run, narrower than the noise
 *   between runs (the bus's state, the machine's other load): repeats are
 *   the better measure when the time can be spent.
 * - Counts (timeouts, lost, duplicated, …) have none: they are exact.
 * - Bus resources of one run: no model of their noise; the value alone,
 *   said as "noise unknown".
 *
 * Every draw comes from a PRNG seeded by what is resampled (the histogram's
 * encoded form, the series), so a comparison gives the same figures every
 * time, and the same run on both sides of a comparison draws the same
 * resamples: a run compared with itself differs by exactly nothing.
 */
import { decodeHistogram, type Histogram } from '../metrics/histogram.js';
import type { RunResult } from '../model/index.js';
import { completedPerSecond, latencyParts, measure, measureEach, type LatencyStat, type MetricRef } from './metrics.js';

export const BOOTSTRAP_RESAMPLES = 200;
/** the bootstrap interval's bounds, as fractions */
export const BOOTSTRAP_INTERVAL = [0.025, 0.975] as const;

export type NoiseMethod = 'exact' | 'bootstrap' | 'repeats' | 'unknown';

/** What a metric's value on one side may be, given its noise. */
export interface Noise {
  method: NoiseMethod;
  value: number | undefined;
  /** the interval of the value: the bootstrap's 2.5–97.5 %, the repeats' min–max, or the value itself (exact, unknown) */
  low: number | undefined;
  high: number | undefined;
  /** the bootstrap's resampled values (BOOTSTRAP_RESAMPLES of them), for differences drawn pairwise */
  replicates?: Float64Array;
  /** the repeats' values, run by run */
  runs?: number[];
  /** how it was measured, in words */
  note: string;
}

// ---------- a seeded PRNG and the draws the bootstrap needs ----------

/** FNV-1a: a 32-bit seed from a text. */
export function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: small, fast, and good enough for resampling. Uniform in [0, 1). */
export function prng(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(random: () => number): number {
  let u = 0;
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * Binomial(n, p): counting waiting times when few successes are expected
 * (exact), the normal approximation otherwise (n·p ≥ 20: good to well
 * under the noise it estimates). Either way, cost independent of n.
 */
export function binomial(n: number, p: number, random: () => number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(n, 1 - p, random);
  const mean = n * p;
  if (mean < 20) {
    const q = Math.log(1 - p);
    let successes = 0;
    let trials = 0;
    for (;;) {
      trials += Math.ceil(Math.log(1 - random()) / q);
      if (trials > n) return successes;
      successes++;
    }
  }
  const x = Math.round(mean + Math.sqrt(mean * (1 - p)) * normal(random));
  return Math.min(n, Math.max(0, x));
}

/** A multinomial draw of `total` values over buckets weighted by `counts`: conditional binomials, bucket by bucket. */
export function multinomial(counts: ArrayLike<number>, total: number, random: () => number): Float64Array {
  const out = new Float64Array(counts.length);
  let left = total;
  let weight = 0;
  for (let i = 0; i < counts.length; i++) weight += counts[i]!;
  for (let i = 0; i < counts.length && left > 0; i++) {
    const c = counts[i]!;
    const x = i === counts.length - 1 || c >= weight ? left : binomial(left, c / weight, random);
    out[i] = x;
    left -= x;
    weight -= c;
  }
  return out;
}

// ---------- histograms as buckets ----------

/** A histogram's recorded buckets: their values as HDR reports them, and their counts. */
export interface Buckets {
  /** highest equivalent value of each bucket: what percentiles and max report */
  high: Float64Array;
  /** median equivalent value: what the mean sums */
  median: Float64Array;
  /** lowest equivalent value: what min reports */
  low: Float64Array;
  counts: Float64Array;
  total: number;
}

interface Iterable {
  recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } };
  lowestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
}

export function bucketsOf(histogram: Histogram): Buckets {
  // Decoded histograms are hdr-histogram-js's JsHistogram, which iterates its buckets; its public type does not say so.
  const h = histogram as unknown as Iterable;
  const high: number[] = [];
  const counts: number[] = [];
  const iterator = h.recordedValuesIterator;
  iterator.reset();
  while (iterator.hasNext()) {
    const v = iterator.next();
    high.push(v.valueIteratedTo);
    counts.push(v.countAtValueIteratedTo);
  }
  return {
    high: Float64Array.from(high),
    median: Float64Array.from(high, (v) => h.medianEquivalentValue(v)),
    low: Float64Array.from(high, (v) => h.lowestEquivalentValue(v)),
    counts: Float64Array.from(counts),
    total: counts.reduce((a, b) => a + b, 0),
  };
}

/** HDR's Math.ulp, for its rounding of the count at a percentile. */
function ulp(x: number): number {
  return x > 0 ? Math.pow(2, Math.floor(Math.log2(x)) - 52) : 0;
}

/** A latency statistic of buckets with these counts, computed as latencyStat computes it on a histogram. */
export function bucketStat(buckets: Buckets, counts: ArrayLike<number>, stat: LatencyStat): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return 0;
  switch (stat.kind) {
    case 'percentile': {
      const fp = (Math.min(stat.percentile, 100) / 100) * total;
      const rank = Math.max(Math.ceil(fp - ulp(fp)), 1);
      let seen = 0;
      for (let i = 0; i < counts.length; i++) {
        seen += counts[i]!;
        // Capped by the max, as the run's own summaries are (percentileUs).
        if (seen >= rank) return Math.min(buckets.high[i]!, bucketStat(buckets, counts, { kind: 'max' }));
      }
      return bucketStat(buckets, counts, { kind: 'max' });
    }
    case 'max':
      for (let i = counts.length - 1; i >= 0; i--) if (counts[i]! > 0) return buckets.high[i]!;
      return 0;
    case 'min':
      for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) return buckets.low[i]!;
      return 0;
    case 'mean': {
      let sum = 0;
      for (let i = 0; i < counts.length; i++) sum += buckets.median[i]! * counts[i]!;
      return sum / total;
    }
  }
}

/** A histogram's resamples, drawn once and shared by every statistic asked of it. */
interface Resampled {
  buckets: Buckets;
  resamples: Float64Array[];
}

const resampledCache = new Map<string, Resampled>();
const CACHE_LIMIT = 64;

function resampled(encoded: string, resamples: number): Resampled {
  const key = `${resamples}:${encoded}`;
  let found = resampledCache.get(key);
  if (!found) {
    const buckets = bucketsOf(decodeHistogram(encoded));
    const random = prng(seedOf(encoded));
    found = { buckets, resamples: Array.from({ length: resamples }, () => multinomial(buckets.counts, buckets.total, random)) };
    if (resampledCache.size >= CACHE_LIMIT) resampledCache.delete(resampledCache.keys().next().value!);
    resampledCache.set(key, found);
  }
  return found;
}

/** Fewer seconds than this with histograms, and whole seconds are too few to resample: the values are. */
export const MIN_BLOCK_SECONDS = 5;

/**
 * Resamples of whole seconds: each draws as many of the run's seconds as it
 * has, with replacement, and sums their histograms' counts over the buckets
 * of the whole-run histogram (the same HDR precision everywhere, so each
 * second's values fall on those buckets).
 */
function resampledSeconds(encoded: string, seconds: readonly string[], resamples: number): Resampled | undefined {
  const key = `${resamples}:seconds:${encoded}`;
  const cached = resampledCache.get(key);
  if (cached) return cached;
  const buckets = bucketsOf(decodeHistogram(encoded));
  const index = new Map<number, number>();
  buckets.high.forEach((value, i) => index.set(value, i));
  const sparse: { at: Int32Array; counts: Float64Array }[] = [];
  for (const second of seconds) {
    const b = bucketsOf(decodeHistogram(second));
    const at = Int32Array.from(b.high, (value) => index.get(value) ?? -1);
    // A value off the run's buckets means the two disagree (another precision): no block bootstrap then.
    if (at.some((i) => i < 0)) return undefined;
    sparse.push({ at, counts: b.counts });
  }
  const random = prng(seedOf(`seconds:${encoded}`));
  const draws = Array.from({ length: resamples }, () => {
    const counts = new Float64Array(buckets.counts.length);
    for (let n = 0; n < sparse.length; n++) {
      const second = sparse[Math.floor(random() * sparse.length)]!;
      for (let j = 0; j < second.at.length; j++) counts[second.at[j]!]! += second.counts[j]!;
    }
    return counts;
  });
  const found = { buckets, resamples: draws };
  if (resampledCache.size >= CACHE_LIMIT) resampledCache.delete(resampledCache.keys().next().value!);
  resampledCache.set(key, found);
  return found;
}

/** The per-second histograms of a group, in order, from a run's time series. */
function secondsOf(run: RunResult | undefined, seriesKey: string | undefined): string[] {
  if (!run || !seriesKey) return [];
  return run.timeSeries.flatMap((point) => point.groups[seriesKey]?.histogram ?? []);
}

/**
 * The bootstrap's replicates of a latency statistic, worst over the parts
 * (patterns) as the value itself is; whole seconds resampled where `run`
 * has them for a part, its values otherwise. Returns how each part was
 * resampled, for the note.
 */
export function latencyReplicates(
  parts: readonly { encoded: string; seriesKey?: string }[],
  stat: LatencyStat,
  resamples = BOOTSTRAP_RESAMPLES,
  run?: RunResult,
): Float64Array & { bySeconds?: number } {
  const out: Float64Array & { bySeconds?: number } = new Float64Array(resamples).fill(-Infinity);
  for (const part of parts) {
    const seconds = secondsOf(run, part.seriesKey);
    const blocks = seconds.length >= MIN_BLOCK_SECONDS ? resampledSeconds(part.encoded, seconds, resamples) : undefined;
    if (blocks) out.bySeconds = Math.max(out.bySeconds ?? 0, seconds.length);
    const { buckets, resamples: draws } = blocks ?? resampled(part.encoded, resamples);
    for (let i = 0; i < resamples; i++) out[i] = Math.max(out[i]!, bucketStat(buckets, draws[i]!, stat));
  }
  return out;
}

/** The bootstrap's replicates of a rate: the value scaled by the mean of resampled seconds over the mean of the seconds. */
export function seriesReplicates(value: number, perSecond: readonly number[], resamples = BOOTSTRAP_RESAMPLES): Float64Array | undefined {
  const n = perSecond.length;
  const mean = perSecond.reduce((a, b) => a + b, 0) / n;
  if (n < 2 || !(mean > 0)) return undefined;
  const random = prng(seedOf(`series:${perSecond.join(',')}`));
  const out = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += perSecond[Math.floor(random() * n)]!;
    out[r] = (value * (sum / n)) / mean;
  }
  return out;
}

/** The q-quantile (0..1) of values, by the nearest rank. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function bootstrapNoise(value: number, replicates: Float64Array, what: string): Noise {
  // The interval always holds the value itself: a verdict never contradicts the figure it is about.
  return {
    method: 'bootstrap',
    value,
    low: Math.min(value, quantile(replicates, BOOTSTRAP_INTERVAL[0])),
    high: Math.max(value, quantile(replicates, BOOTSTRAP_INTERVAL[1])),
    replicates,
    note: `bootstrap, ${replicates.length} resamples of ${what}, 2.5–97.5 %`,
  };
}

/** A metric's value on one side (its runs all of the same settings) and the noise around it. */
export function noiseOf(ref: Pick<MetricRef, 'source' | 'scope'>, runs: readonly RunResult[], resamples = BOOTSTRAP_RESAMPLES): Noise {
  const { value, missing } = measure(ref, runs);
  if (value === undefined) return { method: 'unknown', value, low: undefined, high: undefined, note: missing ?? 'not measured' };
  const family = ref.source.family;
  if (family === 'counter' || family === 'delivery' || family === 'late' || family === 'error_rate') {
    return { method: 'exact', value, low: value, high: value, note: 'exact: counted, not sampled' };
  }
  if (runs.length >= 2) {
    const each = measureEach(ref, runs).filter((v): v is number => v !== undefined);
    if (each.length >= 2) {
      return {
        method: 'repeats',
        value,
        low: Math.min(value, ...each),
        high: Math.max(value, ...each),
        runs: each,
        note: `min–max of ${each.length} repeats`,
      };
    }
  }
  const run = runs[0]!;
  if (ref.source.family === 'latency') {
    const parts = latencyParts(run, ref.scope);
    const replicates = latencyReplicates(parts, ref.source.stat, resamples, run);
    const what =
      replicates.bySeconds !== undefined
        ? `the run's ${replicates.bySeconds} seconds (whole seconds drawn, so slow patches count)`
        : parts.length > 1
          ? 'each pattern’s values (no per-second histograms: sampling noise only)'
          : 'the values (no per-second histograms: sampling noise only)';
    return bootstrapNoise(value, replicates, what);
  }
  if (family === 'throughput') {
    const seconds = completedPerSecond(run, ref.scope);
    const replicates = seriesReplicates(value, seconds, resamples);
    if (replicates) return bootstrapNoise(value, replicates, `${seconds.length} seconds`);
    return { method: 'unknown', value, low: value, high: value, note: `noise unknown: ${seconds.length} second(s) of series, too few to resample` };
  }
  return { method: 'unknown', value, low: value, high: value, note: 'noise unknown: one run, and no model of this figure’s noise (repeat the run)' };
}

// ---------- differences ----------

/** The relative difference, %: 0 → 0 is no change, 0 → more is +∞. */
export function relativeDifference(candidate: number, baseline: number): number {
  if (baseline === 0) return candidate === 0 ? 0 : candidate > 0 ? Infinity : -Infinity;
  return ((candidate - baseline) / Math.abs(baseline)) * 100;
}

export interface DifferenceInterval {
  low: number;
  high: number;
  /** how it was found */
  note: string;
}

/**
 * The interval of the candidate's difference from the baseline (relative
 * in %, or absolute). The same runs on both sides: none. Two bootstraps:
 * the 2.5–97.5 % of the differences drawn pairwise (independent draws on
 * each side). Otherwise (repeats, an exact or unknown side): the extremes,
 * each side anywhere in its interval.
 */
export function differenceInterval(baseline: Noise, candidate: Noise, kind: 'relative' | 'absolute', sameRuns: boolean): DifferenceInterval | undefined {
  if (baseline.value === undefined || candidate.value === undefined) return undefined;
  const diff = (c: number, b: number): number => (kind === 'relative' ? relativeDifference(c, b) : c - b);
  const point = diff(candidate.value, baseline.value);
  if (sameRuns) return { low: point, high: point, note: 'the same runs on both sides: no noise between them' };
  if (baseline.replicates && candidate.replicates && baseline.replicates.length === candidate.replicates.length) {
    const diffs = candidate.replicates.map((c, i) => diff(c, baseline.replicates![i]!));
    return {
      low: Math.min(point, quantile(diffs, BOOTSTRAP_INTERVAL[0])),
      high: Math.max(point, quantile(diffs, BOOTSTRAP_INTERVAL[1])),
      note: `bootstrap on both sides, differences of ${diffs.length} resample pairs, 2.5–97.5 %`,
    };
  }
  const b = [baseline.low ?? baseline.value, baseline.high ?? baseline.value];
  const c = [candidate.low ?? candidate.value, candidate.high ?? candidate.value];
  const corners = [diff(c[0]!, b[1]!), diff(c[1]!, b[0]!), diff(c[0]!, b[0]!), diff(c[1]!, b[1]!)].filter((x) => !Number.isNaN(x));
  const both = baseline.method === 'exact' && candidate.method === 'exact';
  return {
    low: Math.min(point, ...corners),
    high: Math.max(point, ...corners),
    note: both ? 'exact' : `baseline ${baseline.note}; candidate ${candidate.note}; each anywhere in its interval`,
  };
}
