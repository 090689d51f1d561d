/**
 * Points of the latency charts, read off decoded HDR histograms (µs in, ms
 * out): the percentile spectrum on a log axis of 1/(1−p), the CDF on a log
 * latency axis, and the five figures of a boxplot.
 */
import { decodeHistogram, mergeEncoded, percentileUs, type Histogram } from '../../metrics/histogram.js';
import type { BoxStats } from './chart-spec.js';

/** 1/(1−p) at 99.999 %: the spectrum's right end, as HdrHistogram's plotter and OpenMessaging Benchmark draw it. */
const SPECTRUM_END = 1e5;
const POINTS_PER_DECADE = 24;

/** The shared x values of a spectrum: 1/(1−p) from 2 (50 %) to 1e5 (99.999 %), log-spaced, every decade exactly on a point. */
export function spectrumXs(): number[] {
  const xs: number[] = [];
  const start = Math.log10(2);
  const end = Math.log10(SPECTRUM_END);
  const steps = Math.ceil((end - start) * POINTS_PER_DECADE);
  for (let i = 0; i <= steps; i++) {
    const exponent = start + ((end - start) * i) / steps;
    // Snap to the decades so 90, 99, 99.9 … % are points of every line.
    const nearest = Math.round(exponent);
    xs.push(Math.abs(exponent - nearest) < 0.5 / POINTS_PER_DECADE ? 10 ** nearest : 10 ** exponent);
  }
  return [...new Set(xs)];
}

/** x = 1/(1−p) as the percentile p, in %. */
export function percentileOf(x: number): number {
  return 100 * (1 - 1 / x);
}

/**
 * Latency (ms) at each point of the spectrum. A line ends where its samples
 * do: beyond 1/(1−p) = count, a percentile would only repeat the maximum.
 */
export function spectrumValues(histogram: Histogram, xs: readonly number[]): (number | null)[] {
  const count = histogram.totalCount;
  return xs.map((x) => (x <= Math.max(2, count) ? percentileUs(histogram, percentileOf(x)) / 1000 : null));
}

/** Fine percentiles where a CDF bends least, finer in the tail: the steps the CDF is interpolated between. */
const CDF_PERCENTILES: number[] = (() => {
  const ps: number[] = [];
  for (let p = 0; p < 99; p += 0.5) ps.push(p);
  for (let p = 99; p < 99.99; p += 0.05) ps.push(p);
  ps.push(99.99, 99.999, 100);
  return ps;
})();

/** A shared log-spaced latency axis (ms) covering every histogram given, for the CDF. */
export function cdfXs(histograms: readonly Histogram[], points = 160): number[] {
  const recorded = histograms.filter((h) => h.totalCount > 0);
  if (recorded.length === 0) return [];
  // A little room either side, so each curve is seen to start at 0 and reach 1.
  const lowest = Math.max(0.001, Math.min(...recorded.map((h) => h.minNonZeroValue)) / 1000) / 1.25;
  const highest = (Math.max(...recorded.map((h) => h.maxValue)) / 1000) * 1.25;
  const a = Math.log10(lowest);
  const b = Math.log10(highest);
  return Array.from({ length: points }, (_, i) => 10 ** (a + ((b - a) * i) / (points - 1)));
}

/** Fraction of the samples at or below each x (ms), to the step of CDF_PERCENTILES. */
export function cdfValues(histogram: Histogram, xs: readonly number[]): (number | null)[] {
  if (histogram.totalCount === 0) return xs.map(() => null);
  const steps = CDF_PERCENTILES.map((p) => ({ p, ms: percentileUs(histogram, p) / 1000 }));
  const lowest = histogram.minNonZeroValue / 1000;
  return xs.map((x) => {
    if (x < lowest) return 0;
    let fraction = 0;
    for (const step of steps) {
      if (step.ms <= x) fraction = step.p / 100;
      else break;
    }
    return fraction;
  });
}

export function boxStats(label: string, color: number, histogram: Histogram): BoxStats | undefined {
  if (histogram.totalCount === 0) return undefined;
  const at = (p: number): number => percentileUs(histogram, p) / 1000;
  return { label, color, count: histogram.totalCount, p1: at(1), p25: at(25), p50: at(50), p75: at(75), p99: at(99), max: histogram.maxValue / 1000 };
}

/** Decodes one encoded histogram, or merges several; undefined when none recorded anything. */
export function histogramOf(encoded: string | readonly (string | undefined)[] | undefined): Histogram | undefined {
  if (encoded === undefined) return undefined;
  const histogram = typeof encoded === 'string' ? decodeHistogram(encoded) : mergeEncoded(encoded);
  return histogram && histogram.totalCount > 0 ? histogram : undefined;
}
