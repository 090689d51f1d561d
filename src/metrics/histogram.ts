/**
 * Latency histograms: HDR (hdr-histogram-js), microseconds, 3 significant
 * digits, 1 µs to 1 h. Agents create theirs on first use (an idle agent has
 * none), as 32-bit counts that grow with the largest value seen: about
 * 25 KiB for latencies up to tens of milliseconds, and four times cheaper
 * to record into than packed counts, which cost per message on a hot path
 * that records twice per call. Merged histograms kept in results are packed;
 * decoded and live ones have 64-bit counts (see decodeHistogram).
 */
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { LatencySummary } from '../model/index.js';

export type { Histogram };

export const HIGHEST_TRACKABLE_US = 3_600_000_000;

export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 'packed',
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
  });
}

/** An agent's own histogram: fast to record into, sized by what it records. */
export function newRecordingHistogram(): Histogram {
  return growing(32);
}

/** 1 µs and up at 3 significant digits, with counts of `bits` bits, sized by the largest value seen. */
function growing(bits: 32 | 64): Histogram {
  return hdr.build({
    bitBucketSize: bits,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    autoResize: true,
    numberOfSignificantValueDigits: 3,
  });
}

/**
 * A histogram that others are added into often (the live view, every
 * second): 64-bit counts (exact to 2^53), sized by the largest value added.
 * Adding into packed counts costs ten times as much, and its percentiles
 * twenty.
 */
export function newMergingHistogram(): Histogram {
  return growing(64);
}

/** Record a latency given in milliseconds (performance.now() differences) as whole microseconds. */
export function recordMs(histogram: Histogram, ms: number): void {
  let us = Math.round(ms * 1000);
  if (us < 1) us = 1;
  else if (us > HIGHEST_TRACKABLE_US) us = HIGHEST_TRACKABLE_US;
  histogram.recordValue(us);
}

/** HDR's standard compressed base64 form: the one other HDR tools read, and mergeable later. */
export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/**
 * Decoded into 64-bit counts (exact to 2^53, as the encoding's are): about
 * eight times faster than into packed ones, which matters where every
 * worker's second is decoded as it comes in. Decoded histograms are added
 * into others and dropped, so their size is short-lived.
 */
export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 64);
}

/** Merge encoded histograms into one (undefined when there is none). */
export function mergeEncoded(encoded: Iterable<string | undefined>): Histogram | undefined {
  let merged: Histogram | undefined;
  for (const item of encoded) {
    if (!item) continue;
    const histogram = decodeHistogram(item);
    if (!merged) merged = newHistogram();
    merged.add(histogram);
  }
  return merged;
}

/**
 * A percentile, µs. HDR answers with the highest value its bucket stands for,
 * which near the top can be above the largest value recorded (p99.9 144.0 ms
 * beside a max of 143.9 ms): no latency was that high, so the max caps it.
 */
export function percentileUs(histogram: Histogram, percentile: number): number {
  return Math.min(histogram.getValueAtPercentile(percentile), histogram.maxValue);
}

export function summarize(histogram: Histogram | undefined): LatencySummary | undefined {
  if (!histogram || histogram.totalCount === 0) return undefined;
  return {
    count: histogram.totalCount,
    minUs: histogram.minNonZeroValue,
    meanUs: Math.round(histogram.mean),
    p50Us: percentileUs(histogram, 50),
    p90Us: percentileUs(histogram, 90),
    p99Us: percentileUs(histogram, 99),
    p999Us: percentileUs(histogram, 99.9),
    maxUs: histogram.maxValue,
  };
}

/** Each named histogram's summary with its encoded form, for those that recorded anything (per-leg latencies in results). */
export function summarizeEach<Name extends string>(
  names: readonly Name[],
  histograms: Partial<Record<Name, Histogram>>,
): Partial<Record<Name, LatencySummary & { histogram: string }>> {
  const out: Partial<Record<Name, LatencySummary & { histogram: string }>> = {};
  for (const name of names) {
    const histogram = histograms[name];
    const summary = summarize(histogram);
    if (histogram && summary) out[name] = { ...summary, histogram: encodeHistogram(histogram) };
  }
  return out;
}
