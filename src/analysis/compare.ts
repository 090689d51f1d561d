/**
 * A baseline against a candidate: which runs face which, their figures side
 * by side with the differences and the noise around them, and each
 * threshold's verdict.
 *
 * Matching: two runs face each other; two campaigns face each other grid
 * point by grid point (runs of equal parameters; the repeats of a point are
 * one side together); a run against a campaign faces each of its points.
 *
 * A verdict weighs the threshold against the noise interval of what it
 * compares (the candidate's value for an absolute bound, the relative
 * difference for a relative one, see noise.ts): pass when the whole
 * interval satisfies it, fail when none of it does, inconclusive when it
 * straddles the bound. The comparison fails if any threshold fails, else is
 * inconclusive if any is, else passes.
 */
import { UsageError } from '../errors.js';
import type { Parameters, RunResult } from '../model/index.js';
import type { LoadedInputs, LoadedRun } from '../results/read.js';
import { canonicalJson, describeParameters, gridPoint } from '../util/parameters.js';
import { formatDifference, formatPercent, formatValue, metricByName, metricLabel, type MetricRef, type Unit } from './metrics.js';
import { differenceInterval, noiseOf, relativeDifference, type Noise } from './noise.js';
import { formatBound, holds, parseThresholds, type Operator, type Threshold } from './thresholds.js';

/**
 * When no threshold is given. p99 and throughput relative to the baseline,
 * with the tolerance a regression worth stopping for exceeds; the failures
 * that should never appear, absolute. The noise decides what can be
 * concluded: a short single run often cannot show a 10 % p99 regression,
 * and says so (inconclusive) rather than guess.
 */
export const DEFAULT_THRESHOLDS: readonly string[] = ['p99<+10%', 'throughput>-5%', 'errors==0', 'timeouts==0', 'lost==0'];

/** The rows every comparison shows, before those of the thresholds' own metrics. */
export const TABLE_METRICS: readonly string[] = ['throughput', 'p50', 'p90', 'p99', 'p99.9', 'max', 'errors', 'timeouts', 'lost', 'duplicated', 'late'];

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface SideSummary {
  /** what the side is: a run id, or a campaign and its point */
  label: string;
  /** the runs' directories */
  runs: string[];
  /** problems of the runs: failed outcomes, partial runs */
  warnings: string[];
}

export interface ComparedRow {
  metric: string;
  unit: Unit;
  baseline: number | undefined;
  candidate: number | undefined;
  /** candidate − baseline */
  difference: number | undefined;
  /** (candidate − baseline) / baseline, % */
  relative: number | undefined;
  /** the noise interval of the relative difference, % */
  relativeInterval: { low: number; high: number } | undefined;
  /** how each side's noise was measured, and how the two combine */
  noise: string;
  /** why a figure is missing */
  missing?: string;
}

export interface ThresholdVerdict {
  threshold: string;
  verdict: Verdict;
  /** what was compared with the bound: the candidate's value, or the relative difference in % */
  compared: 'candidate' | 'relative';
  value: number | undefined;
  interval: { low: number; high: number } | undefined;
  /** the value and its interval with units: "+3.2 % (-8.1 % … +14.0 %)" */
  figures: string;
  /** one line: what was measured, against what, and why this verdict */
  explanation: string;
}

export interface ComparedPair {
  name: string;
  /** the grid point, for campaigns */
  parameters?: Parameters;
  baseline: SideSummary;
  candidate: SideSummary;
  rows: ComparedRow[];
  thresholds: ThresholdVerdict[];
  verdict: Verdict;
}

export interface Comparison {
  baseline: string;
  candidate: string;
  /** the thresholds as given, or the defaults */
  thresholds: string[];
  defaultThresholds: boolean;
  pairs: ComparedPair[];
  /** grid points only one side has, and planned runs not finished */
  notes: string[];
  verdict: Verdict;
}

// ---------- sides and matching ----------

interface Side {
  label: string;
  parameters?: Parameters;
  runs: LoadedRun[];
}

/** One input's sides: a run is one; a campaign is one per grid point, its repeats together. */
function sidesOf(inputs: LoadedInputs, path: string): { sides: Side[]; campaign: boolean; notes: string[] } {
  if (inputs.campaigns.length === 0) {
    const run = inputs.runs[0];
    if (!run) throw new UsageError(`${path}: no run in it`);
    return { sides: [{ label: run.result.id, runs: [run] }], campaign: false, notes: [] };
  }
  const campaign = inputs.campaigns[0]!;
  const byPoint = new Map<string, Side>();
  for (const run of campaign.runs) {
    const point = gridPoint(run.campaign?.parameters ?? {});
    const key = canonicalJson(point);
    let side = byPoint.get(key);
    if (!side) byPoint.set(key, (side = { label: `${campaign.name} ${describeParameters(point) || '(base scenario)'}`, parameters: point, runs: [] }));
    side.runs.push(run);
  }
  const notes = campaign.missing.length > 0 ? [`${path}: ${campaign.missing.length} of ${campaign.total} planned runs not finished, left out`] : [];
  if (byPoint.size === 0) throw new UsageError(`${path}: campaign ${campaign.name} has no finished run to compare (rerun busbench campaign to finish it)`);
  return { sides: [...byPoint.values()], campaign: true, notes };
}

export interface MatchedPair {
  name: string;
  parameters?: Parameters;
  baseline: Side;
  candidate: Side;
}

/** Which runs face which (see the file's header). */
export function matchInputs(
  baseline: LoadedInputs,
  candidate: LoadedInputs,
  paths: { baseline: string; candidate: string },
): { pairs: MatchedPair[]; notes: string[] } {
  const b = sidesOf(baseline, paths.baseline);
  const c = sidesOf(candidate, paths.candidate);
  const notes = [...b.notes, ...c.notes];
  if (b.campaign && c.campaign) {
    const candidates = new Map(c.sides.map((side) => [canonicalJson(side.parameters), side]));
    const pairs: MatchedPair[] = [];
    for (const side of b.sides) {
      const other = candidates.get(canonicalJson(side.parameters));
      if (!other) {
        notes.push(`only in the baseline: ${describeParameters(side.parameters ?? {}) || '(base scenario)'}`);
        continue;
      }
      candidates.delete(canonicalJson(side.parameters));
      pairs.push({ name: describeParameters(side.parameters ?? {}) || '(base scenario)', parameters: side.parameters!, baseline: side, candidate: other });
    }
    for (const side of candidates.values()) notes.push(`only in the candidate: ${describeParameters(side.parameters ?? {}) || '(base scenario)'}`);
    if (pairs.length === 0) {
      throw new UsageError(
        `${paths.baseline} and ${paths.candidate} have no grid point in common, so nothing to compare: ` +
          `baseline points: ${b.sides.map((s) => describeParameters(s.parameters ?? {}) || '(base scenario)').join('; ')}; ` +
          `candidate points: ${c.sides.map((s) => describeParameters(s.parameters ?? {}) || '(base scenario)').join('; ')}`,
      );
    }
    return { pairs, notes };
  }
  if (b.campaign || c.campaign) {
    const [points, run] = b.campaign ? [b.sides, c.sides[0]!] : [c.sides, b.sides[0]!];
    return {
      pairs: points.map((point) => ({
        name: describeParameters(point.parameters ?? {}) || '(base scenario)',
        parameters: point.parameters!,
        baseline: b.campaign ? point : run,
        candidate: b.campaign ? run : point,
      })),
      notes,
    };
  }
  const [only, other] = [b.sides[0]!, c.sides[0]!];
  return { pairs: [{ name: `${only.label} vs ${other.label}`, baseline: only, candidate: other }], notes };
}

// ---------- figures ----------

function runKey(result: RunResult): string {
  return `${result.id} ${result.provenance?.startedAt ?? ''}`;
}

function sameRuns(a: readonly RunResult[], b: readonly RunResult[]): boolean {
  const keys = new Set(a.map(runKey));
  return a.length === b.length && b.every((r) => keys.has(runKey(r)));
}

function summary(side: Side): SideSummary {
  const warnings: string[] = [];
  for (const run of side.runs) {
    const r = run.result;
    if (r.outcome && !r.outcome.ok) warnings.push(`${r.id} failed: ${r.outcome.problems.join('; ')}`);
    if (r.stoppedEarly) warnings.push(`${r.id} stopped early (${r.stoppedEarly.reason}): its figures cover what ran`);
    if (r.generator?.saturated) warnings.push(`${r.id}: the load generator saturated (${r.generator.reasons.join('; ')}): its figures are partly busbench's`);
  }
  return { label: side.runs.length > 1 ? `${side.label} (${side.runs.length} repeats)` : side.label, runs: side.runs.map((r) => r.directory), warnings };
}

function refOf(name: string): MetricRef {
  const found = metricByName(name)!;
  return { ...found, scope: {} };
}

interface Figures {
  baseline: Noise;
  candidate: Noise;
  same: boolean;
}

function figures(ref: MetricRef, pair: MatchedPair, resamples: number | undefined): Figures {
  const b = pair.baseline.runs.map((r) => r.result);
  const c = pair.candidate.runs.map((r) => r.result);
  return { baseline: noiseOf(ref, b, resamples), candidate: noiseOf(ref, c, resamples), same: sameRuns(b, c) };
}

function row(ref: MetricRef, f: Figures): ComparedRow {
  const { baseline: b, candidate: c } = f;
  const both = b.value !== undefined && c.value !== undefined;
  const interval = differenceInterval(b, c, 'relative', f.same);
  const missing = b.value === undefined ? `baseline: ${b.note}` : c.value === undefined ? `candidate: ${c.note}` : undefined;
  return {
    metric: metricLabel(ref),
    unit: ref.definition.unit,
    baseline: b.value,
    candidate: c.value,
    difference: both ? c.value! - b.value! : undefined,
    relative: both ? relativeDifference(c.value!, b.value!) : undefined,
    relativeInterval: interval ? { low: interval.low, high: interval.high } : undefined,
    noise: interval ? interval.note : '',
    ...(missing ? { missing } : {}),
  };
}

/** pass: every value of the interval satisfies op bound; fail: none does; inconclusive: some do. */
export function intervalVerdict(op: Operator, bound: number, low: number, high: number): Verdict {
  if (op === '==' || op === '!=') {
    const exactly = low === bound && high === bound;
    const outside = bound < low || bound > high;
    if (op === '==') return exactly ? 'pass' : outside ? 'fail' : 'inconclusive';
    return outside ? 'pass' : exactly ? 'fail' : 'inconclusive';
  }
  const atLow = holds(low, op, bound);
  const atHigh = holds(high, op, bound);
  return atLow && atHigh ? 'pass' : !atLow && !atHigh ? 'fail' : 'inconclusive';
}

function judge(threshold: Threshold, f: Figures): ThresholdVerdict {
  const label = metricLabel(threshold.metric);
  const unit = threshold.metric.definition.unit;
  const bound = formatBound(threshold);
  const inconclusive = (why: string): ThresholdVerdict => ({
    threshold: threshold.text,
    verdict: 'inconclusive',
    compared: threshold.value.kind === 'relative' ? 'relative' : 'candidate',
    value: undefined,
    interval: undefined,
    figures: 'not measured',
    explanation: `${label}: ${why}`,
  });
  if (threshold.value.kind === 'relative') {
    if (f.baseline.value === undefined) return inconclusive(`not measured in the baseline: ${f.baseline.note}`);
    if (f.candidate.value === undefined) return inconclusive(`not measured in the candidate: ${f.candidate.note}`);
    const interval = differenceInterval(f.baseline, f.candidate, 'relative', f.same)!;
    const value = relativeDifference(f.candidate.value, f.baseline.value);
    const verdict = intervalVerdict(threshold.op, threshold.value.percent, interval.low, interval.high);
    const range = interval.low === interval.high ? '' : ` (noise ${formatPercent(interval.low)} … ${formatPercent(interval.high)})`;
    return {
      threshold: threshold.text,
      verdict,
      compared: 'relative',
      value,
      interval: { low: interval.low, high: interval.high },
      figures: `${formatPercent(value)}${range}`,
      explanation:
        `${label} ${formatValue(unit, f.baseline.value)} → ${formatValue(unit, f.candidate.value)}, ${formatPercent(value)}${range}: ` +
        `${verdictWords(verdict, threshold.op, bound, interval.low === interval.high)}; noise: ${interval.note}`,
    };
  }
  const c = f.candidate;
  if (c.value === undefined) return inconclusive(`not measured in the candidate: ${c.note}`);
  const low = c.low ?? c.value;
  const high = c.high ?? c.value;
  const verdict = intervalVerdict(threshold.op, threshold.value.value, low, high);
  const range = low === high ? '' : ` (noise ${formatValue(unit, low)} … ${formatValue(unit, high)})`;
  return {
    threshold: threshold.text,
    verdict,
    compared: 'candidate',
    value: c.value,
    interval: { low, high },
    figures: `${formatValue(unit, c.value)}${range}`,
    explanation: `${label} ${formatValue(unit, c.value)}${range} in the candidate: ${verdictWords(verdict, threshold.op, bound, low === high)}; ${c.note}`,
  };
}

const OP_TEXT: Record<Operator, string> = { '<': 'below', '<=': 'at most', '>': 'above', '>=': 'at least', '==': 'equal to', '!=': 'other than' };

function verdictWords(verdict: Verdict, op: Operator, bound: string, exact: boolean): string {
  const want = `${OP_TEXT[op]} ${bound}`;
  if (verdict === 'pass') return exact ? `${want}` : `${want} over its whole noise interval`;
  if (verdict === 'fail') return exact ? `not ${want}` : `not ${want} anywhere in its noise interval`;
  return `the noise interval straddles the bound (${want}): within the run-to-run noise, neither pass nor fail`;
}

function overall(verdicts: readonly Verdict[]): Verdict {
  return verdicts.includes('fail') ? 'fail' : verdicts.includes('inconclusive') ? 'inconclusive' : 'pass';
}

export interface CompareOptions {
  /** threshold texts; empty: DEFAULT_THRESHOLDS */
  thresholds: readonly Threshold[];
  /** bootstrap resamples (noise.ts's default when absent) */
  resamples?: number;
}

/** The whole comparison: matched pairs, their rows and verdicts, and the overall verdict. */
export function compareInputs(
  baseline: LoadedInputs,
  candidate: LoadedInputs,
  paths: { baseline: string; candidate: string },
  options: CompareOptions,
): Comparison {
  const defaults = options.thresholds.length === 0;
  const thresholds = defaults ? DEFAULT_THRESHOLDS.flatMap((text) => parseThresholds(text, { relative: true })) : [...options.thresholds];
  const { pairs: matched, notes } = matchInputs(baseline, candidate, paths);
  const pairs = matched.map((pair): ComparedPair => {
    const refs = new Map<string, MetricRef>(TABLE_METRICS.map((name) => [name, refOf(name)]));
    for (const threshold of thresholds) if (!refs.has(metricLabel(threshold.metric))) refs.set(metricLabel(threshold.metric), threshold.metric);
    const computed = new Map<string, Figures>([...refs].map(([label, ref]) => [label, figures(ref, pair, options.resamples)]));
    const verdicts = thresholds.map((threshold) => judge(threshold, computed.get(metricLabel(threshold.metric))!));
    return {
      name: pair.name,
      ...(pair.parameters ? { parameters: pair.parameters } : {}),
      baseline: summary(pair.baseline),
      candidate: summary(pair.candidate),
      rows: [...refs].map(([label, ref]) => row(ref, computed.get(label)!)),
      thresholds: verdicts,
      verdict: overall(verdicts.map((v) => v.verdict)),
    };
  });
  return {
    baseline: paths.baseline,
    candidate: paths.candidate,
    thresholds: thresholds.map((t) => t.text),
    defaultThresholds: defaults,
    pairs,
    notes,
    verdict: overall(pairs.map((p) => p.verdict)),
  };
}

/** A row's figures as text, for tables: baseline, candidate, difference, relative difference, its noise interval. */
export function rowTexts(r: ComparedRow): [string, string, string, string, string] {
  const interval = r.relativeInterval;
  return [
    formatValue(r.unit, r.baseline),
    formatValue(r.unit, r.candidate),
    formatDifference(r.unit, r.difference),
    formatPercent(r.relative),
    !interval
      ? '-'
      : interval.low !== interval.high
        ? `${formatPercent(interval.low)} … ${formatPercent(interval.high)}`
        : r.noise.startsWith('the same runs')
          ? 'none: same runs'
          : 'exact',
  ];
}
