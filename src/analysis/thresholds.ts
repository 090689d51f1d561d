/**
 * Thresholds, k6-style, over busbench's metric names (metrics.ts):
 *
 *   metric{scope} op value        p99<50ms   timeouts==0   throughput>=2000
 *                                 p99{pattern=call-anycast}<=20ms   error_rate<0.1%
 *   metric{scope} op ±N%          p99<+10%   throughput>-5%   (relative to a baseline: compare only)
 *
 * op is one of < <= > >= == != (= is read as ==). Values: latency with a
 * unit (800us, 50ms, 1.5s), throughput in msg/s (2000, 2000/s), counts as
 * numbers, error_rate in % (0.5%, or 0), bus_rss with a unit (512MiB, 2GiB),
 * bus_cpu in cores (1.5), bus_tcp in connections. A relative value has a
 * sign: +10% means "at most 10 % above the baseline" with <, the relative
 * difference (candidate − baseline) / baseline being what is compared. One
 * text may hold several thresholds separated by commas.
 *
 * On one run (evaluateRun) a threshold passes or fails on the value
 * measured. During a run (evaluateLive) only what can be judged from the
 * counters and latency so far is evaluated, and a failure is reported as
 * final only when the rest of the run cannot undo it.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { UsageError } from '../errors.js';
import type { Counters, Role, PatternName, RunResult } from '../model/index.js';
import type { Histogram } from '../metrics/histogram.js';
import {
  METRIC_NAMES,
  formatValue,
  latencyStat,
  measure,
  metricByName,
  metricLabel,
  scopeChoices,
  scopeValue,
  type MetricRef,
  type Scope,
  type ScopeKey,
  type Unit,
} from './metrics.js';
import { closestName } from '../util/text.js';

export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';
export const OPERATORS: readonly Operator[] = ['<', '<=', '>', '>=', '==', '!='];

export type ThresholdValue = { kind: 'absolute'; value: number } | { kind: 'relative'; percent: number };

export interface Threshold {
  /** as written (trimmed) */
  text: string;
  metric: MetricRef;
  op: Operator;
  value: ThresholdValue;
}

export interface ParseOptions {
  /** whether relative values (+10%) are allowed: only when there is a baseline (compare) */
  relative: boolean;
  /** where the text came from, for errors: "--threshold", "thresholds.yaml:3" */
  source?: string;
}

// ---------- parsing ----------

function didYouMean(got: string, known: readonly string[]): string {
  const name = closestName(got, known);
  return name ? ` (did you mean ${name}?)` : '';
}

/** Splits at the commas outside a scope's braces: "p99{role=server,pattern=notify}<5ms, lost==0" is two. */
export function splitThresholds(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') depth++;
    else if (c === '}') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter(Boolean);
}

const LATENCY_UNITS: Record<string, number> = { us: 1, µs: 1, μs: 1, ms: 1000, s: 1_000_000 };
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };

const VALUE_HELP: Record<Unit, string> = {
  us: 'a latency with its unit: 800us, 50ms, 1.5s',
  'msg/s': 'messages per second: 2000 or 2000/s',
  count: 'a count: 0, 10',
  percent: 'a percentage: 0.5% (or 0)',
  cores: 'CPU cores: 1.5',
  bytes: 'a size with its unit: 512MiB, 2GiB',
  connections: 'a number of connections: 200',
};

/** An absolute value in the metric's internal unit (µs, msg/s, bytes, %, …), or why it is not one. */
function absoluteValue(unit: Unit, text: string): number | string {
  const number = /^(\d+(?:\.\d+)?|\.\d+)\s*(.*)$/.exec(text);
  if (!number) return `"${text}" is not a value: write ${VALUE_HELP[unit]}`;
  const n = Number(number[1]);
  const suffix = number[2]!.trim();
  switch (unit) {
    case 'us':
      if (suffix === '' && n === 0) return 0;
      if (suffix === '') return `a latency needs its unit: write ${text}ms or ${text}us`;
      return suffix in LATENCY_UNITS ? n * LATENCY_UNITS[suffix]! : `"${suffix}" is not a latency unit: write ${VALUE_HELP.us}`;
    case 'msg/s':
      return suffix === '' || suffix === '/s' || suffix === 'msg/s' ? n : `"${suffix}": throughput is in messages per second, write 2000 or 2000/s`;
    case 'percent':
      if (suffix === '%') return n;
      if (suffix === '' && n === 0) return 0;
      return `error_rate is a percentage of the messages sent: write ${n}% (or 0), not a fraction`;
    case 'bytes': {
      if (suffix === '' && n === 0) return 0;
      const factor = BYTE_UNITS[suffix.toLowerCase()];
      return factor !== undefined ? n * factor : `a size needs its unit (B, KB, KiB, MB, MiB, GB, GiB): 512MiB, 2GiB`;
    }
    case 'count':
    case 'cores':
    case 'connections':
      return suffix === '' ? n : `"${suffix}": write ${VALUE_HELP[unit]}, a bare number`;
  }
}

function parseScope(body: string, allowed: readonly ScopeKey[], fail: (message: string) => never, metric: string): Scope {
  const scope: Scope = {};
  for (const item of body
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const pair = /^([a-z_]+)\s*=\s*(\S+)$/.exec(item);
    if (!pair) fail(`"${item}" in the scope is not key=value: write e.g. {pattern=call-anycast}`);
    const key = pair[1] as ScopeKey;
    if (!(allowed as readonly string[]).includes(key)) {
      fail(
        allowed.length === 0
          ? `${metric} takes no scope ({${item}}): it is one figure for the whole run`
          : `${metric} takes the scope keys ${allowed.join(', ')}; "${pair[1]}" is not one${didYouMean(pair[1]!, allowed)}`,
      );
    }
    const value = scopeValue(key, pair[2]!);
    if (value === undefined) fail(`${key}=${pair[2]} is not a ${key}: one of ${scopeChoices(key).join(', ')}${didYouMean(pair[2]!, scopeChoices(key))}`);
    (scope as Record<string, string>)[key] = value;
  }
  if (scope.leg && scope.role && scope.role !== 'client') fail(`the ${scope.leg} leg is measured at clients, not ${scope.role}s: drop role=${scope.role}`);
  return scope;
}

/** One threshold. Throws a UsageError naming the text, what is wrong and what is allowed. */
export function parseThreshold(text: string, options: ParseOptions): Threshold {
  const trimmed = text.trim();
  const where = options.source ? `${options.source}: ` : '';
  const fail = (message: string): never => {
    throw new UsageError(`${where}threshold "${trimmed}": ${message}`);
  };
  const head = /^([A-Za-z_][A-Za-z0-9_.]*)\s*(\{[^}]*\})?\s*(<=|>=|==|!=|<|>|=)?\s*(.*)$/.exec(trimmed);
  if (!head) fail(`write metric op value, e.g. p99<50ms, timeouts==0, throughput>-5%; metrics: ${METRIC_NAMES.join(' ')}`);
  const [, name, braces, opText, valueText] = head!;
  let found: ReturnType<typeof metricByName>;
  try {
    found = metricByName(name!.toLowerCase());
  } catch (error) {
    fail((error as Error).message);
  }
  if (!found) fail(`unknown metric "${name}"${didYouMean(name!, METRIC_NAMES)}; metrics: ${METRIC_NAMES.join(' ')} (and any pNN)`);
  if (!opText) fail(`no comparison after ${name}: write ${name}${braces ?? ''} op value, op one of ${OPERATORS.join(' ')}`);
  const op: Operator = opText === '=' ? '==' : (opText as Operator);
  const scope = braces ? parseScope(braces.slice(1, -1), found!.definition.scopes, fail, found!.name) : {};
  const metric: MetricRef = { ...found!, scope };
  const raw = valueText!.trim();
  if (raw === '') fail(`no value after ${opText}: ${VALUE_HELP[metric.definition.unit]}`);
  const relative = /^([+-])\s*(\d+(?:\.\d+)?)\s*%$/.exec(raw);
  if (relative) {
    if (!options.relative) {
      fail(`${raw} is relative to a baseline, which only busbench compare has; on a run give an absolute value: ${VALUE_HELP[metric.definition.unit]}`);
    }
    return { text: trimmed, metric, op, value: { kind: 'relative', percent: Number(relative[2]) * (relative[1] === '-' ? -1 : 1) } };
  }
  if (/%$/.test(raw) && metric.definition.unit !== 'percent') {
    fail(`${raw}: a relative value has a sign (+10% or -5%, compared with the baseline); an absolute ${metric.name} is ${VALUE_HELP[metric.definition.unit]}`);
  }
  const value = absoluteValue(metric.definition.unit, raw);
  if (typeof value === 'string') fail(value);
  return { text: trimmed, metric, op, value: { kind: 'absolute', value: value as number } };
}

/** Thresholds from one text: one, or several separated by commas. */
export function parseThresholds(text: string, options: ParseOptions): Threshold[] {
  const items = splitThresholds(text);
  if (items.length === 0) {
    throw new UsageError(`${options.source ? `${options.source}: ` : ''}an empty threshold: write e.g. "p99<50ms" or "p99<50ms,timeouts==0"`);
  }
  return items.map((item) => parseThreshold(item, options));
}

// ---------- judging ----------

/** Whether x op bound. */
export function holds(x: number, op: Operator, bound: number): boolean {
  switch (op) {
    case '<':
      return x < bound;
    case '<=':
      return x <= bound;
    case '>':
      return x > bound;
    case '>=':
      return x >= bound;
    case '==':
      return x === bound;
    case '!=':
      return x !== bound;
  }
}

const OP_WORDS: Record<Operator, [string, string]> = {
  '<': ['below', 'not below'],
  '<=': ['at most', 'above'],
  '>': ['above', 'not above'],
  '>=': ['at least', 'below'],
  '==': ['equal to', 'not equal to'],
  '!=': ['not equal to', 'equal to'],
};

/** "below 50 ms", "not below 50 ms": how a value stands against a threshold, in words. */
export function standing(op: Operator, passed: boolean, bound: string): string {
  return `${OP_WORDS[op][passed ? 0 : 1]} ${bound}`;
}

/** The threshold's bound, as written but in busbench's formatting: 50 ms, 2,000.0 msg/s, +10 %. */
export function formatBound(threshold: Threshold): string {
  return threshold.value.kind === 'relative'
    ? `${threshold.value.percent >= 0 ? '+' : ''}${threshold.value.percent} % of the baseline`
    : formatValue(threshold.metric.definition.unit, threshold.value.value);
}

export interface RunEvaluation {
  threshold: Threshold;
  passed: boolean;
  /** the value measured, undefined when it could not be */
  value: number | undefined;
  /** the value with its unit, or "not measured" */
  actual: string;
  /** one line: what was measured where, and how it stands against the bound */
  explanation: string;
}

/** Thresholds on one run: each passes or fails on its measured value; one that cannot be measured fails, saying why. */
export function evaluateRun(result: RunResult, thresholds: readonly Threshold[]): RunEvaluation[] {
  return thresholds.map((threshold) => {
    if (threshold.value.kind === 'relative') {
      throw new UsageError(`threshold "${threshold.text}": a relative value needs a baseline; use busbench compare, or an absolute value`);
    }
    const label = metricLabel(threshold.metric);
    const measured = measure(threshold.metric, [result]);
    if (measured.value === undefined) {
      return { threshold, passed: false, value: undefined, actual: 'not measured', explanation: `${label} not measured: ${measured.missing}` };
    }
    const passed = holds(measured.value, threshold.op, threshold.value.value);
    const actual = formatValue(threshold.metric.definition.unit, measured.value);
    return {
      threshold,
      passed,
      value: measured.value,
      actual,
      explanation: `${label} ${actual} is ${standing(threshold.op, passed, formatBound(threshold))} (${measured.detail})`,
    };
  });
}

// ---------- live ----------

/** What a run has measured so far, per (role, pattern): what evaluateLive judges. Built from LiveRun (src/live/aggregate.ts). */
export interface LiveSnapshot {
  groups: { role: Role; pattern: PatternName; counters: Counters; latency?: Histogram }[];
}

export interface LiveEvaluation {
  threshold: Threshold;
  /** judged: passed or failed so far; not-judged: a metric only the end of the run has, or too little recorded yet */
  status: 'passed' | 'failed' | 'not-judged';
  /** a failure the rest of the run cannot undo: a count already past its bound, a latency failing over enough values */
  final: boolean;
  value: number | undefined;
  explanation: string;
}

/** Latency thresholds are judged live only over at least this many values: fewer say little about a percentile. */
export const LIVE_MIN_LATENCY_VALUES = 100;

const LIVE_COUNTERS = new Set(['sent', 'ok', 'errors', 'timeouts', 'unsent']);

/**
 * Thresholds against a run under way. Counters only grow, so a count past
 * `<`, `<=` or `==` fails for good; the latency of the measured phase so
 * far (worst over its patterns, in the threshold's scope) is judged once it
 * holds LIVE_MIN_LATENCY_VALUES values, and its failure counts as final
 * (that is what --threshold-abort asks for, as k6's abortOnFail). Other
 * metrics (throughput, delivery, resources, relative values) wait for the end.
 */
export function evaluateLive(snapshot: LiveSnapshot, thresholds: readonly Threshold[]): LiveEvaluation[] {
  return thresholds.map((threshold): LiveEvaluation => {
    const { metric, op } = threshold;
    const label = metricLabel(metric);
    const notJudged = (why: string): LiveEvaluation => ({ threshold, status: 'not-judged', final: false, value: undefined, explanation: `${label}: ${why}` });
    if (threshold.value.kind === 'relative') return notJudged('relative to a baseline: judged by busbench compare');
    const bound = threshold.value.value;
    const scope = metric.scope;
    const inScope = (g: LiveSnapshot['groups'][number]): boolean =>
      (scope.pattern === undefined || g.pattern === scope.pattern) && (scope.role ? g.role === scope.role : true);
    if (metric.source.family === 'counter' && LIVE_COUNTERS.has(metric.name)) {
      const counter = metric.source.counter;
      const groups = snapshot.groups.filter((g) => inScope(g) && (scope.role !== undefined || g.role === 'client' || g.role === 'notifier'));
      const value = groups.reduce((s, g) => s + g.counters[counter], 0);
      const passed = holds(value, op, bound);
      // A count only grows: past a bound from below it cannot come back.
      const final = !passed && (op === '<' || op === '<=' || (op === '==' && value > bound));
      return {
        threshold,
        status: passed ? 'passed' : 'failed',
        final,
        value,
        explanation: `${label} ${formatValue('count', value)} so far is ${standing(op, passed, formatBound(threshold))}`,
      };
    }
    if (metric.source.family === 'latency') {
      if (scope.leg) return notJudged(`the ${scope.leg} leg is only in the results`);
      // Live, each group's latency is its primary one: the round trip at clients, one-way at receivers.
      const groups = snapshot.groups.filter(
        (g) =>
          g.latency &&
          g.latency.totalCount > 0 &&
          (scope.pattern === undefined || g.pattern === scope.pattern) &&
          (scope.role
            ? g.role === scope.role
            : (g.role === 'client' && g.pattern.startsWith('call')) || ((g.role === 'server' || g.role === 'listener') && !g.pattern.startsWith('call'))),
      );
      const count = groups.reduce((s, g) => s + g.latency!.totalCount, 0);
      if (groups.length === 0 || count < LIVE_MIN_LATENCY_VALUES) return notJudged(`${count} latency values so far, judged from ${LIVE_MIN_LATENCY_VALUES}`);
      let worst = groups[0]!;
      let value = latencyStat(worst.latency!, metric.source.stat);
      for (const g of groups.slice(1)) {
        const v = latencyStat(g.latency!, metric.source.stat);
        if (v > value) {
          value = v;
          worst = g;
        }
      }
      const passed = holds(value, op, bound);
      return {
        threshold,
        status: passed ? 'passed' : 'failed',
        final: !passed,
        value,
        explanation: `${label} ${formatValue('us', value)} so far (${worst.role}/${worst.pattern}) is ${standing(op, passed, formatBound(threshold))}`,
      };
    }
    return notJudged('judged at the end of the run');
  });
}

/** Whether any of these thresholds can be judged during a run (counters, latency): what --threshold-abort needs. */
export function judgedLive(threshold: Threshold): boolean {
  const { source, scope } = threshold.metric;
  if (threshold.value.kind === 'relative') return false;
  return (source.family === 'counter' && LIVE_COUNTERS.has(threshold.metric.name)) || (source.family === 'latency' && !scope.leg);
}

// ---------- files ----------

/**
 * A thresholds file: a YAML list of threshold texts, or a mapping with one
 * (`thresholds: [...]`). Each problem names the file and line.
 *
 *   thresholds:
 *     - p99<+10%
 *     - throughput>-5%
 *     - p99{pattern=cast-multicast}<20ms, lost==0
 */
export async function readThresholdsFile(file: string, options: Omit<ParseOptions, 'source'>): Promise<Threshold[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `${file}: cannot read the thresholds file (${code ?? (error as Error).message}); give a YAML list such as ["p99<+10%", "timeouts==0"]`,
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new UsageError(`${file}:${lines.linePos(e.pos[0]).line}: YAML: ${e.message.split('\n')[0]}`);
  }
  let list: unknown = doc.contents;
  if (isMap(list)) {
    const keys = list.items.map((item) => (isScalar(item.key) ? String(item.key.value) : '?'));
    if (keys.length !== 1 || keys[0] !== 'thresholds') {
      throw new UsageError(`${file}: a thresholds file is a list of thresholds, or a mapping with only "thresholds:"; found ${keys.join(', ')}`);
    }
    list = list.get('thresholds', true);
  }
  if (!isSeq(list)) throw new UsageError(`${file}: a thresholds file is a YAML list of thresholds, e.g.\n- p99<+10%\n- timeouts==0`);
  const out: Threshold[] = [];
  for (const item of list.items) {
    const line = isNode(item) && item.range ? lines.linePos(item.range[0]).line : undefined;
    const source = line !== undefined ? `${file}:${line}` : file;
    if (!isScalar(item) || typeof item.value !== 'string') {
      throw new UsageError(
        `${source}: each item is a threshold text such as "p99<50ms", got ${isScalar(item) ? JSON.stringify(item.value) : 'a list or mapping'}`,
      );
    }
    out.push(...parseThresholds(item.value, { ...options, source }));
  }
  if (out.length === 0) throw new UsageError(`${file}: no thresholds in it`);
  return out;
}
