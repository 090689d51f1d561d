/**
 * busbench's metric names, and how each is read from a run or from several
 * runs of the same settings (repeats): the one vocabulary of thresholds
 * (`run --threshold`), `compare` and its tables.
 *
 *   latency   p50 p90 p95 p99 p99.9 (any pNN), max, mean, min    µs
 *   rate      throughput                                           msg/s
 *   counts    sent ok errors timeouts unsent                        at the senders
 *             lost duplicated reordered unexpected undelivered      delivery accounts
 *             late                                                  replies after their call's timeout
 *   ratio     error_rate = (errors + timeouts) / sent               %
 *   bus       bus_cpu (cores), bus_rss (bytes), bus_tcp (connections): peaks of the bus's processes
 *
 * A scope narrows a metric k6-style: `p99{pattern=call-anycast}`,
 * `p99{role=server,pattern=call-anycast}`, `p99{leg=reply}`,
 * `throughput{pattern=cast-multicast}`. Without one, latency is what a
 * sender sees, worst over patterns: for calls the clients' round trip
 * (counted from the intended send time in an open-loop run), for casts and
 * notifications the receivers' one-way latency; counts and throughput are
 * the senders' (clients and notifiers), delivery counts summed over patterns.
 *
 * Percentiles always come from histograms merged from their encoded form
 * (over workers in each run, and over the repeats of a side), never from
 * averaged percentiles.
 */
import { decodeHistogram, newHistogram, percentileUs, type Histogram } from '../metrics/histogram.js';
import { LEGS, PATTERNS, type DeliveryAccount, type GroupResult, type LegName, type PatternName, type Role, type RunResult } from '../model/index.js';

export type Unit = 'us' | 'msg/s' | 'count' | 'percent' | 'cores' | 'bytes' | 'connections';

export type LatencyStat = { kind: 'percentile'; percentile: number } | { kind: 'max' } | { kind: 'mean' } | { kind: 'min' };

export type CounterName = 'sent' | 'ok' | 'errors' | 'timeouts' | 'unsent';
export type DeliveryName = 'lost' | 'duplicated' | 'reordered' | 'unexpected' | 'undeliveredAtStop';
export type ResourceName = 'cpu' | 'rss' | 'tcp';

/** What a metric is read from: it decides its scopes, how repeats combine and what noise it has. */
export type MetricSource =
  | { family: 'latency'; stat: LatencyStat }
  | { family: 'throughput' }
  | { family: 'counter'; counter: CounterName }
  | { family: 'error_rate' }
  | { family: 'delivery'; field: DeliveryName }
  | { family: 'late' }
  | { family: 'resource'; resource: ResourceName };

export type ScopeKey = 'role' | 'pattern' | 'leg';

export interface Scope {
  role?: Role;
  pattern?: PatternName;
  leg?: LegName;
}

export interface MetricDefinition {
  /** as written in a threshold; `pNN` stands for every percentile */
  name: string;
  unit: Unit;
  /** the scope keys it takes */
  scopes: readonly ScopeKey[];
  /** what it is, for help texts and errors */
  description: string;
  /** higher is better (throughput, sent, ok), or lower is (latency, errors, …) */
  higherIsBetter: boolean;
}

const LATENCY_SCOPES = ['role', 'pattern', 'leg'] as const;
const GROUP_SCOPES = ['role', 'pattern'] as const;

/** Every metric, in the order help texts list them. */
export const METRICS: readonly MetricDefinition[] = [
  { name: 'pNN', unit: 'us', scopes: LATENCY_SCOPES, higherIsBetter: false, description: 'latency percentile: p50, p90, p95, p99, p99.9, any pNN' },
  { name: 'max', unit: 'us', scopes: LATENCY_SCOPES, higherIsBetter: false, description: 'highest latency' },
  { name: 'mean', unit: 'us', scopes: LATENCY_SCOPES, higherIsBetter: false, description: 'mean latency' },
  { name: 'min', unit: 'us', scopes: LATENCY_SCOPES, higherIsBetter: false, description: 'lowest latency' },
  {
    name: 'throughput',
    unit: 'msg/s',
    scopes: GROUP_SCOPES,
    higherIsBetter: true,
    description: 'messages completed per second (calls answered, casts and notifications sent; at receivers: received)',
  },
  { name: 'sent', unit: 'count', scopes: GROUP_SCOPES, higherIsBetter: true, description: 'messages sent' },
  { name: 'ok', unit: 'count', scopes: GROUP_SCOPES, higherIsBetter: true, description: 'calls answered, casts sent; at receivers: messages received' },
  { name: 'errors', unit: 'count', scopes: GROUP_SCOPES, higherIsBetter: false, description: 'calls answered with a failure or lost in flight, casts refused' },
  { name: 'timeouts', unit: 'count', scopes: GROUP_SCOPES, higherIsBetter: false, description: 'calls without a reply within their timeout' },
  { name: 'error_rate', unit: 'percent', scopes: GROUP_SCOPES, higherIsBetter: false, description: '(errors + timeouts) / sent, in %' },
  {
    name: 'unsent',
    unit: 'count',
    scopes: GROUP_SCOPES,
    higherIsBetter: false,
    description: 'messages the bus never took (connection closed before the send)',
  },
  { name: 'lost', unit: 'count', scopes: ['pattern'], higherIsBetter: false, description: 'deliveries missing with nothing left in the bus to explain them' },
  { name: 'duplicated', unit: 'count', scopes: ['pattern'], higherIsBetter: false, description: 'extra copies received' },
  { name: 'reordered', unit: 'count', scopes: ['pattern'], higherIsBetter: false, description: 'arrivals behind a later message of the same sender' },
  { name: 'unexpected', unit: 'count', scopes: ['pattern'], higherIsBetter: false, description: 'receipts outside every sent range' },
  { name: 'undelivered', unit: 'count', scopes: ['pattern'], higherIsBetter: false, description: 'deliveries the bus still held when the run stopped' },
  { name: 'late', unit: 'count', scopes: [], higherIsBetter: false, description: "replies that came after their call's timeout" },
  { name: 'bus_cpu', unit: 'cores', scopes: [], higherIsBetter: false, description: "peak CPU of the bus's processes, in cores, summed over its nodes" },
  { name: 'bus_rss', unit: 'bytes', scopes: [], higherIsBetter: false, description: "peak resident memory of the bus's processes, summed over its nodes" },
  {
    name: 'bus_tcp',
    unit: 'connections',
    scopes: [],
    higherIsBetter: false,
    description: "peak TCP connections of the bus's processes, summed over its nodes",
  },
];

/** The names a threshold can use, for error messages and did-you-mean (pNN shown as p50 … p99.9). */
export const METRIC_NAMES: readonly string[] = ['p50', 'p90', 'p95', 'p99', 'p99.9', ...METRICS.filter((m) => m.name !== 'pNN').map((m) => m.name)];

const COUNTERS: readonly CounterName[] = ['sent', 'ok', 'errors', 'timeouts', 'unsent'];
const DELIVERY: Record<string, DeliveryName> = {
  lost: 'lost',
  duplicated: 'duplicated',
  reordered: 'reordered',
  unexpected: 'unexpected',
  undelivered: 'undeliveredAtStop',
};
const RESOURCES: Record<string, ResourceName> = { bus_cpu: 'cpu', bus_rss: 'rss', bus_tcp: 'tcp' };

/** A metric as a threshold names it: the definition, where to read it, and its scope. */
export interface MetricRef {
  /** normalized: p99, p99.9, throughput */
  name: string;
  definition: MetricDefinition;
  source: MetricSource;
  scope: Scope;
}

/** A metric's source and definition by name; undefined for a name busbench does not know. A percentile outside 0–100 throws. */
export function metricByName(name: string): { name: string; definition: MetricDefinition; source: MetricSource } | undefined {
  const percentile = /^p(\d+(?:\.\d+)?)$/.exec(name);
  if (percentile) {
    const p = Number(percentile[1]);
    if (!(p > 0 && p <= 100)) {
      const hint = /^99\d+$/.test(percentile[1]!) ? `; did you mean p99.${percentile[1]!.slice(2)}?` : '';
      throw new RangeError(`a percentile is above 0 and at most 100 (p50, p99, p99.9), got ${name}${hint}`);
    }
    return { name: `p${p}`, definition: METRICS[0]!, source: { family: 'latency', stat: { kind: 'percentile', percentile: p } } };
  }
  const definition = METRICS.find((m) => m.name === name);
  if (!definition) return undefined;
  if (name === 'max' || name === 'mean' || name === 'min') return { name, definition, source: { family: 'latency', stat: { kind: name } } };
  if (name === 'throughput') return { name, definition, source: { family: 'throughput' } };
  if (name === 'error_rate') return { name, definition, source: { family: 'error_rate' } };
  if (name === 'late') return { name, definition, source: { family: 'late' } };
  if ((COUNTERS as readonly string[]).includes(name)) return { name, definition, source: { family: 'counter', counter: name as CounterName } };
  if (name in DELIVERY) return { name, definition, source: { family: 'delivery', field: DELIVERY[name]! } };
  return { name, definition, source: { family: 'resource', resource: RESOURCES[name]! } };
}

export const ROLES: readonly Role[] = ['client', 'server', 'notifier', 'listener'];

/** A scope value as a threshold may write it: patterns also as in scenarios (call/anycast). */
export function scopeValue(key: ScopeKey, text: string): Role | PatternName | LegName | undefined {
  if (key === 'role') return ROLES.find((r) => r === text);
  if (key === 'leg') return LEGS.find((l) => l === text);
  const pattern = text.replace('/', '-');
  return PATTERNS.find((p) => p === pattern || (p === 'notify' && pattern === 'notification'));
}

export function scopeChoices(key: ScopeKey): readonly string[] {
  return key === 'role' ? ROLES : key === 'leg' ? LEGS : PATTERNS;
}

/** The metric as written back: p99{role=server,pattern=call-anycast}. */
export function metricLabel(ref: Pick<MetricRef, 'name' | 'scope'>): string {
  const parts = (['role', 'pattern', 'leg'] as const).filter((k) => ref.scope[k] !== undefined).map((k) => `${k}=${ref.scope[k]}`);
  return parts.length > 0 ? `${ref.name}{${parts.join(',')}}` : ref.name;
}

/** A metric's value on one side. */
export interface Measurement {
  /** undefined: it could not be measured, and `missing` says why */
  value: number | undefined;
  missing?: string;
  /** what decided the value: the worst pattern and which latency, the groups summed, how repeats were combined */
  detail: string;
}

// ---------- latency ----------

/** One latency histogram of a run: a pattern's, as one role measured it. */
export interface LatencyPart {
  /** "call-anycast", and with the latency's kind: "call-anycast (clients' round trip from the intended send)" */
  pattern: PatternName;
  what: string;
  /** HDR compressed base64, µs */
  encoded: string;
  /** the group ("role/pattern") whose per-second histograms (timeSeries) hold these values, when they do: not for the other legs */
  seriesKey?: string;
}

/**
 * The latency a message's sender sees: for calls, the clients' round trip
 * from each intended send time in an open-loop run (the `corrected` leg),
 * else the round trip; for casts and notifications, the one-way latency
 * at the receivers. busbench limit judges steps by this too.
 */
export function latencySeenBySenders(result: RunResult): LatencyPart[] {
  const out: LatencyPart[] = [];
  const callPatterns = new Set<string>();
  for (const group of result.groups) {
    if (group.role === 'client' && group.pattern !== 'all' && group.pattern.startsWith('call')) {
      callPatterns.add(group.pattern);
      const corrected = group.legs?.corrected?.histogram;
      const encoded = corrected ?? group.histogram;
      if (corrected) out.push({ pattern: group.pattern, what: "clients' round trip from the intended send", encoded: corrected });
      else if (encoded) out.push({ pattern: group.pattern, what: "clients' round trip", encoded, seriesKey: `client/${group.pattern}` });
    }
  }
  for (const group of result.groups) {
    if ((group.role === 'server' || group.role === 'listener') && group.pattern !== 'all' && !callPatterns.has(group.pattern) && group.histogram) {
      out.push({ pattern: group.pattern, what: `one-way to the ${group.role}s`, encoded: group.histogram, seriesKey: `${group.role}/${group.pattern}` });
    }
  }
  return out;
}

const LEG_WORDS: Record<LegName, string> = {
  corrected: "clients' round trip from the intended send",
  processing: "servers' processing",
  reply: "replies' one-way trip",
};

/** A run's latency histograms within a scope (see the file's header for the default). */
export function latencyParts(result: RunResult, scope: Scope): LatencyPart[] {
  const inPattern = (group: GroupResult): group is GroupResult & { pattern: PatternName } =>
    group.pattern !== 'all' && (scope.pattern === undefined || group.pattern === scope.pattern);
  if (scope.leg) {
    const leg = scope.leg;
    return result.groups
      .filter((g) => g.role === 'client' && inPattern(g) && g.legs?.[leg]?.histogram)
      .map((g) => ({ pattern: g.pattern as PatternName, what: LEG_WORDS[leg], encoded: g.legs![leg]!.histogram }));
  }
  if (scope.role) {
    const role = scope.role;
    return result.groups
      .filter((g) => g.role === role && inPattern(g) && g.histogram)
      .map((g) => ({
        pattern: g.pattern as PatternName,
        what: role === 'client' ? "clients' round trip" : `one-way to the ${role}s`,
        encoded: g.histogram!,
        seriesKey: `${role}/${g.pattern}`,
      }));
  }
  return latencySeenBySenders(result).filter((part) => scope.pattern === undefined || part.pattern === scope.pattern);
}

/** A latency statistic of a histogram, µs, as run summaries show it (percentiles capped by the max, see percentileUs). */
export function latencyStat(histogram: Histogram, stat: LatencyStat): number {
  switch (stat.kind) {
    case 'percentile':
      return percentileUs(histogram, stat.percentile);
    case 'max':
      return histogram.maxValue;
    case 'mean':
      return histogram.mean;
    case 'min':
      return histogram.minNonZeroValue;
  }
}

/** Each pattern's histogram merged over the runs (the workers are merged in each run already). */
export function mergedLatencyParts(runs: readonly RunResult[], scope: Scope): { pattern: PatternName; what: string; histogram: Histogram }[] {
  const byPattern = new Map<string, { pattern: PatternName; what: string; histogram: Histogram }>();
  for (const run of runs) {
    for (const part of latencyParts(run, scope)) {
      const key = `${part.pattern} ${part.what}`;
      let into = byPattern.get(key);
      if (!into) byPattern.set(key, (into = { pattern: part.pattern, what: part.what, histogram: newHistogram() }));
      into.histogram.add(decodeHistogram(part.encoded));
    }
  }
  return [...byPattern.values()].filter((p) => p.histogram.totalCount > 0);
}

function scopeWords(scope: Scope): string {
  const parts = [scope.role ? `${scope.role}s` : undefined, scope.pattern, scope.leg ? `the ${scope.leg} leg` : undefined].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'any pattern';
}

function measureLatency(runs: readonly RunResult[], stat: LatencyStat, scope: Scope): Measurement {
  const parts = mergedLatencyParts(runs, scope);
  if (parts.length === 0) {
    const recorded = [...new Set(runs.flatMap((r) => r.groups.filter((g) => g.histogram).map((g) => `${g.role}/${g.pattern}`)))];
    return {
      value: undefined,
      missing: `no latency recorded for ${scopeWords(scope)}${recorded.length > 0 ? ` (recorded: ${recorded.join(', ')})` : ''}`,
      detail: '',
    };
  }
  // The worst pattern decides: a threshold holds only if it holds for every pattern.
  let worst = parts[0]!;
  let value = latencyStat(worst.histogram, stat);
  for (const part of parts.slice(1)) {
    const v = latencyStat(part.histogram, stat);
    if (v > value) {
      value = v;
      worst = part;
    }
  }
  const count = worst.histogram.totalCount;
  return {
    value,
    detail: `${worst.pattern}, ${worst.what}${parts.length > 1 ? `, worst of ${parts.length} patterns` : ''}; ${count.toLocaleString('en-US')} values${runs.length > 1 ? ` merged over ${runs.length} runs` : ''}`,
  };
}

// ---------- counts, throughput, ratios ----------

/** The groups a count or throughput is read from: the senders' by default. */
export function scopedGroups(result: RunResult, scope: Scope): GroupResult[] {
  return result.groups.filter(
    (g) =>
      g.pattern !== 'all' &&
      (scope.role ? g.role === scope.role : g.role === 'client' || g.role === 'notifier') &&
      (scope.pattern === undefined || g.pattern === scope.pattern),
  );
}

function groupWords(groups: GroupResult[]): string {
  return groups.map((g) => `${g.role}/${g.pattern}`).join(' + ');
}

function noGroup(result: RunResult, scope: Scope): string {
  return `the run has no ${scope.role ?? 'client or notifier'} group${scope.pattern ? ` for ${scope.pattern}` : ''} (groups: ${groupWords(result.groups) || 'none'})`;
}

function accounts(result: RunResult, scope: Scope): [string, DeliveryAccount][] {
  return Object.entries(result.delivery ?? {}).filter(([pattern]) => scope.pattern === undefined || pattern === scope.pattern) as [string, DeliveryAccount][];
}

function busRows(result: RunResult): NonNullable<RunResult['resources']>['rows'] {
  return (result.resources?.rows ?? []).filter((row) => row.kind === 'broker' || row.kind === 'router');
}

/** One run's value of a metric that is not a latency. */
function measureOne(result: RunResult, source: Exclude<MetricSource, { family: 'latency' }>, scope: Scope): Measurement {
  switch (source.family) {
    case 'throughput':
    case 'counter':
    case 'error_rate': {
      const groups = scopedGroups(result, scope);
      if (groups.length === 0) return { value: undefined, missing: noGroup(result, scope), detail: '' };
      const detail = groupWords(groups);
      if (source.family === 'throughput') return { value: groups.reduce((s, g) => s + g.throughputPerSec, 0), detail };
      if (source.family === 'counter') return { value: groups.reduce((s, g) => s + g.counters[source.counter], 0), detail };
      const sent = groups.reduce((s, g) => s + g.counters.sent, 0);
      const failed = groups.reduce((s, g) => s + g.counters.errors + g.counters.timeouts, 0);
      if (sent === 0) return { value: undefined, missing: `nothing was sent by ${detail}`, detail };
      return { value: (failed / sent) * 100, detail: `${failed.toLocaleString('en-US')} of ${sent.toLocaleString('en-US')} sent by ${detail}` };
    }
    case 'delivery': {
      const found = accounts(result, scope);
      if (found.length === 0) {
        return { value: undefined, missing: `no delivery account${scope.pattern ? ` for ${scope.pattern}` : ''} in the run`, detail: '' };
      }
      const value = found.reduce((s, [, d]) => s + d[source.field], 0);
      const unreported = source.field === 'lost' && found.some(([, d]) => !d.backlogReported);
      return {
        value,
        detail: `${found.map(([p]) => p).join(' + ')}${unreported ? ' (the bus did not report its backlog: lost includes what it still held)' : ''}`,
      };
    }
    case 'late':
      return { value: result.lateReplies, detail: 'replies after their timeout, all patterns' };
    case 'resource': {
      const rows = busRows(result);
      if (rows.length === 0) {
        return {
          value: undefined,
          missing: result.resources
            ? 'no bus process was sampled (a bus busbench did not start, or one on hosts it cannot watch)'
            : 'resources were not sampled (runner.resource_interval: 0, or an older result)',
          detail: '',
        };
      }
      const pick = {
        cpu: (r: (typeof rows)[number]) => r.peakCpuCores,
        rss: (r: (typeof rows)[number]) => r.peakRssMiB * 1024 * 1024,
        tcp: (r: (typeof rows)[number]) => r.peakTcpConnections,
      }[source.resource];
      return { value: rows.reduce((s, r) => s + pick(r), 0), detail: rows.map((r) => r.name).join(' + ') };
    }
  }
}

/** How a side's runs combine into one value: latency from the merged histograms, error_rate pooled, the rest the mean per run. */
export function measure(ref: Pick<MetricRef, 'source' | 'scope'>, runs: readonly RunResult[]): Measurement {
  if (runs.length === 0) return { value: undefined, missing: 'no run', detail: '' };
  const { source, scope } = ref;
  if (source.family === 'latency') return measureLatency(runs, source.stat, scope);
  if (runs.length === 1) return measureOne(runs[0]!, source, scope);
  if (source.family === 'error_rate') {
    let sent = 0;
    let failed = 0;
    for (const run of runs) {
      const groups = scopedGroups(run, scope);
      sent += groups.reduce((s, g) => s + g.counters.sent, 0);
      failed += groups.reduce((s, g) => s + g.counters.errors + g.counters.timeouts, 0);
    }
    if (sent === 0) return { value: undefined, missing: 'nothing was sent', detail: '' };
    return { value: (failed / sent) * 100, detail: `${failed} of ${sent} sent, over ${runs.length} runs` };
  }
  const each = runs.map((run) => measureOne(run, source, scope));
  const missing = each.find((m) => m.value === undefined);
  if (missing) return { value: undefined, missing: `${missing.missing} (in one of ${runs.length} runs)`, detail: '' };
  const values = each.map((m) => m.value!);
  return { value: values.reduce((a, b) => a + b, 0) / values.length, detail: `mean of ${runs.length} runs; ${each[0]!.detail}` };
}

/** The value of each run alone: what the repeats of a side spread over. */
export function measureEach(ref: Pick<MetricRef, 'source' | 'scope'>, runs: readonly RunResult[]): (number | undefined)[] {
  return runs.map((run) => measure(ref, [run]).value);
}

/** Per second of the measured phase, the messages completed by the scope's groups: what throughput's noise is drawn from. */
export function completedPerSecond(result: RunResult, scope: Scope): number[] {
  const keys = new Set(scopedGroups(result, scope).map((g) => `${g.role}/${g.pattern}`));
  return result.timeSeries.map((point) => Object.entries(point.groups).reduce((sum, [key, g]) => sum + (keys.has(key) ? g.ok : 0), 0));
}

// ---------- values as people read them ----------

function trim(n: number, digits: number): string {
  return n.toFixed(digits).replace(/\.?0+$/, '') || '0';
}

/** A value with its unit: 5.119 ms, 2,140.7 msg/s, 12, 0.31 %, 1.42 cores, 149.3 MiB. */
export function formatValue(unit: Unit, value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  switch (unit) {
    case 'us': {
      if (value < 1000) return `${trim(value, 1)} µs`;
      const ms = value / 1000;
      if (ms < 10) return `${ms.toFixed(3)} ms`;
      if (ms < 1000) return `${ms.toFixed(1)} ms`;
      return `${trim(ms / 1000, 3)} s`;
    }
    case 'msg/s':
      return `${value.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 })} msg/s`;
    case 'count':
      return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 1 });
    case 'percent':
      return `${trim(value, value < 1 ? 3 : 2)} %`;
    case 'cores':
      return `${trim(value, 2)} cores`;
    case 'bytes':
      return value >= 1024 * 1024 * 1024 ? `${trim(value / 1024 ** 3, 2)} GiB` : `${trim(value / 1024 ** 2, 1)} MiB`;
    case 'connections':
      return `${trim(value, 0)} connections`;
  }
}

/** A difference with its unit and sign: +1.204 ms, -350.0 msg/s. */
export function formatDifference(unit: Unit, value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  const text = formatValue(unit, Math.abs(value));
  return value > 0 ? `+${text}` : value < 0 ? `-${text}` : text;
}

/** A relative difference in percent: +3.2 %, -12 %, from 0 to more: +∞. */
export function formatPercent(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  if (!Number.isFinite(value)) return value > 0 ? '+∞' : '-∞';
  const digits = Math.abs(value) < 10 ? 1 : 0;
  const magnitude = Math.abs(value).toFixed(digits);
  if (Number(magnitude) === 0) return '0 %';
  return `${value > 0 ? '+' : '-'}${magnitude} %`;
}
