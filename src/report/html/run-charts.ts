/**
 * A run's charts as chart-ready JSON: per pattern the latency spectrum and
 * CDF of every latency recorded for it, the legs of its calls side by side,
 * the per-second series (throughput, p50/p99, errors) with the outages as
 * bands, and each watched process's resources over time.
 */
import type { GroupResult, LatencySummary, LegName, RunResult, TimeSeriesPoint } from '../../model/index.js';
import type { Histogram } from '../../metrics/histogram.js';
import type { BoxStats, ChartBand, ChartSeries, LineChart } from './chart-spec.js';
import { boxStats, cdfValues, cdfXs, histogramOf, spectrumValues, spectrumXs } from './latency-points.js';

/** One leg of a call, as the legs table shows it. */
export interface LegRow {
  leg: string;
  /** where it was measured and what it spans */
  meaning: string;
  summary?: LatencySummary;
}

export interface PatternLatency {
  pattern: string;
  spectrum: LineChart;
  cdf: LineChart;
  /** calls only: request one-way, server work, reply one-way, round trip, from intended send */
  legs?: { rows: LegRow[]; boxes: BoxStats[] };
}

export interface RunCharts {
  latency: PatternLatency[];
  overTime: LineChart[];
  /** why a per-second chart is missing (an older result, no series at all) */
  overTimeNotes: string[];
  resources: LineChart[];
  resourcesNote?: string;
}

/** How a group's primary latency is called: what it spans. */
function latencyName(group: GroupResult): string {
  return group.role === 'client' ? 'round trip at clients' : `one-way at ${group.role}s`;
}

const LEG_NAMES: Record<LegName, string> = {
  corrected: 'from intended send at clients (corrected)',
  processing: 'server work',
  reply: 'reply one-way',
};

/** Colours per line, the same for the same thing in every chart of a run. */
class Palette {
  private readonly assigned = new Map<string, number>();
  of(key: string): number {
    let index = this.assigned.get(key);
    if (index === undefined) this.assigned.set(key, (index = this.assigned.size));
    return index;
  }
}

interface Line {
  key: string;
  label: string;
  histogram: Histogram;
}

function patternLines(result: RunResult, pattern: string): Line[] {
  const lines: Line[] = [];
  for (const group of result.groups.filter((g) => g.pattern === pattern)) {
    const histogram = histogramOf(group.histogram);
    if (histogram) lines.push({ key: `${group.role}/${group.pattern}`, label: latencyName(group), histogram });
    for (const leg of ['processing', 'reply', 'corrected'] as const) {
      const recorded = histogramOf(group.legs?.[leg]?.histogram);
      if (recorded) lines.push({ key: `${group.role}/${group.pattern}/${leg}`, label: LEG_NAMES[leg], histogram: recorded });
    }
  }
  return lines;
}

function callLegs(result: RunResult, pattern: string, palette: Palette): PatternLatency['legs'] {
  const client = result.groups.find((g) => g.role === 'client' && g.pattern === pattern);
  if (!client || !pattern.startsWith('call')) return undefined;
  const server = result.groups.find((g) => g.role === 'server' && g.pattern === pattern);
  const legs: { key: string; leg: string; meaning: string; summary?: LatencySummary; histogram?: string }[] = [
    {
      key: `server/${pattern}`,
      leg: 'request one-way',
      meaning: 'client send → server receipt, at the servers (clock offsets corrected)',
      ...(server?.latency ? { summary: server.latency } : {}),
      ...(server?.histogram ? { histogram: server.histogram } : {}),
    },
    { key: `client/${pattern}/processing`, leg: 'server work', meaning: 'request in → reply out, at the server', ...legOf(client, 'processing') },
    { key: `client/${pattern}/reply`, leg: 'reply one-way', meaning: 'server reply → client receipt, from the reply’s stamps', ...legOf(client, 'reply') },
    {
      key: `client/${pattern}`,
      leg: 'round trip',
      meaning: 'send → reply, at the clients: the service time',
      ...(client.latency ? { summary: client.latency } : {}),
      ...(client.histogram ? { histogram: client.histogram } : {}),
    },
    {
      key: `client/${pattern}/corrected`,
      leg: 'corrected',
      meaning: 'intended send → reply (open loop): stalls count in full',
      ...legOf(client, 'corrected'),
    },
  ];
  const boxes: BoxStats[] = [];
  for (const leg of legs) {
    const histogram = histogramOf(leg.histogram);
    const box = histogram && boxStats(leg.leg, palette.of(leg.key), histogram);
    if (box) boxes.push(box);
  }
  return { rows: legs.map(({ leg, meaning, summary }) => ({ leg, meaning, ...(summary ? { summary } : {}) })), boxes };
}

function legOf(group: GroupResult, leg: LegName): { summary?: LatencySummary; histogram?: string } {
  const recorded = group.legs?.[leg];
  return recorded ? { summary: recorded, histogram: recorded.histogram } : {};
}

function latencyCharts(result: RunResult, id: string, palette: Palette): PatternLatency[] {
  const patterns = [...new Set(result.groups.map((g) => g.pattern))];
  const out: PatternLatency[] = [];
  const xs = spectrumXs();
  for (const pattern of patterns) {
    const lines = patternLines(result, pattern);
    if (lines.length === 0) continue;
    const spectrum: LineChart = {
      id: `${id}-spectrum-${pattern}`,
      title: `${pattern}: latency by percentile`,
      x: {
        label: 'percentile',
        scale: 'percentile',
        range: [2, Math.min(1e5, 10 ** Math.ceil(Math.log10(Math.max(10, ...lines.map((l) => l.histogram.totalCount)))))],
      },
      y: { label: 'latency ms', scale: 'linear', fromZero: true, decimals: 3, unit: ' ms' },
      xs,
      series: lines.map((line) => ({ label: line.label, values: spectrumValues(line.histogram, xs), color: palette.of(line.key) })),
    };
    const grid = cdfXs(lines.map((l) => l.histogram));
    const cdf: LineChart = {
      id: `${id}-cdf-${pattern}`,
      title: `${pattern}: share of messages at or below a latency (CDF)`,
      x: { label: 'latency ms (log)', scale: 'log', decimals: 3, unit: ' ms' },
      y: { label: 'fraction', scale: 'linear', range: [0, 1], decimals: 3 },
      xs: grid,
      series: lines.map((line) => ({ label: line.label, values: cdfValues(line.histogram, grid), color: palette.of(line.key) })),
    };
    const legs = callLegs(result, pattern, palette);
    out.push({ pattern, spectrum, cdf, ...(legs ? { legs } : {}) });
  }
  return out;
}

/** Outages and link cuts as they happened, in seconds into the measured phase. */
export function disruptionBands(result: RunResult): ChartBand[] {
  return (result.topology?.disruptions ?? [])
    .filter((cut) => cut.startedAtMs !== undefined)
    .map((cut) => ({
      from: cut.startedAtMs! / 1000,
      // A cut still in place when the run ended lasted at least to the end of the measured phase.
      to: Math.max(cut.startedAtMs!, cut.endedAtMs ?? result.phases.measuredMs) / 1000,
      label: `${cut.kind} ${cut.label}${cut.endedAtMs === undefined ? ' (not lifted by the end)' : ''}`,
    }));
}

function seriesKeys(points: readonly TimeSeriesPoint[], result: RunResult): string[] {
  const order = result.groups.map((g) => `${g.role}/${g.pattern}`);
  const keys = new Set<string>();
  for (const point of points) for (const key of Object.keys(point.groups)) keys.add(key);
  const rank = (key: string): number => (order.includes(key) ? order.indexOf(key) : order.length);
  return [...keys].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function overTimeCharts(result: RunResult, id: string, palette: Palette): { charts: LineChart[]; notes: string[] } {
  const points = result.timeSeries ?? [];
  if (points.length === 0)
    return { charts: [], notes: ['no per-second series in this result (the measured phase was shorter than a second, or nothing was recorded)'] };
  const xs = points.map((p) => p.second);
  const keys = seriesKeys(points, result);
  const bands = disruptionBands(result);
  const x = { label: 'seconds into the measured phase', scale: 'linear' as const, whole: true };
  const column = (key: string, field: 'ok' | 'errors' | 'timeouts' | 'p50Us' | 'p99Us', scale = 1): (number | null)[] =>
    points.map((p) => {
      const value = p.groups[key]?.[field];
      return value === undefined ? null : value / scale;
    });
  const charts: LineChart[] = [
    {
      id: `${id}-throughput`,
      title: 'Throughput per second: calls answered, messages sent (casts, notifications) or received',
      x,
      y: { label: 'messages per second', scale: 'linear', fromZero: true, decimals: 0, unit: '/s' },
      xs,
      series: keys.map((key) => ({ label: key, values: column(key, 'ok'), color: palette.of(key) })),
      bands,
    },
  ];
  const notes: string[] = [];
  const timed = keys.filter((key) => points.some((p) => p.groups[key]?.p50Us !== undefined));
  if (timed.length > 0) {
    charts.push({
      id: `${id}-latency-over-time`,
      title: 'Latency per second: p50 (solid) and p99 (dashed) of the messages completed in each second',
      x,
      y: { label: 'latency ms', scale: 'linear', fromZero: true, decimals: 3, unit: ' ms' },
      xs,
      series: timed.flatMap((key): ChartSeries[] => [
        { label: `${key} p50`, values: column(key, 'p50Us', 1000), color: palette.of(key) },
        { label: `${key} p99`, values: column(key, 'p99Us', 1000), color: palette.of(key), dashed: true },
      ]),
      bands,
    });
  } else {
    notes.push('no latency per second: this result was written by a busbench that did not record per-second percentiles');
  }
  const senders = keys.filter((key) => key.startsWith('client/') || key.startsWith('notifier/'));
  if (senders.length > 0) {
    const total = senders.reduce((sum, key) => sum + points.reduce((s, p) => s + (p.groups[key]?.errors ?? 0) + (p.groups[key]?.timeouts ?? 0), 0), 0);
    charts.push({
      id: `${id}-errors`,
      title: `Errors (solid) and timeouts (dashed) per second${total === 0 ? ': none in this run' : ''}`,
      x,
      y: { label: 'per second', scale: 'linear', fromZero: true, decimals: 0, unit: '/s' },
      xs,
      series: senders.flatMap((key): ChartSeries[] => [
        { label: `${key} errors`, values: column(key, 'errors'), color: palette.of(key) },
        { label: `${key} timeouts`, values: column(key, 'timeouts'), color: palette.of(key), dashed: true },
      ]),
      bands,
    });
  }
  return { charts, notes };
}

const RESOURCE_FIGURES = [
  { field: 'cpuCores', title: 'CPU per process (1 = one core busy)', label: 'CPU cores', scale: 1, decimals: 2, unit: ' cores' },
  { field: 'rssBytes', title: 'Memory per process (resident set)', label: 'RSS MiB', scale: 1024 * 1024, decimals: 1, unit: ' MiB' },
  { field: 'tcpConnections', title: 'TCP connections per process', label: 'TCP connections', scale: 1, decimals: 0, unit: '' },
] as const;

function resourceCharts(result: RunResult, id: string, palette: Palette): { charts: LineChart[]; note?: string } {
  const processes = result.resources?.processes ?? [];
  if (processes.length === 0) return { charts: [], note: 'resources were not sampled in this run' };
  const points = (result.timeSeries ?? []).filter((p) => p.resources && Object.keys(p.resources).length > 0);
  const names = processes.map((p) => p.name);
  const label = (name: string): string => {
    const p = processes.find((q) => q.name === name);
    return p ? `${p.name} (${p.kind}, ${p.host})` : name;
  };
  if (points.length > 0) {
    const xs = points.map((p) => p.second);
    const bands = disruptionBands(result);
    return {
      charts: RESOURCE_FIGURES.map((figure) => ({
        id: `${id}-resources-${figure.field}`,
        title: figure.title,
        x: { label: 'seconds into the measured phase', scale: 'linear', whole: true },
        y: { label: figure.label, scale: 'linear', fromZero: true, decimals: figure.decimals, unit: figure.unit },
        xs,
        series: names.map((name) => ({
          label: label(name),
          values: points.map((p) => {
            const sample = p.resources?.[name];
            return sample ? sample[figure.field] / figure.scale : null;
          }),
          color: palette.of(`process/${name}`),
        })),
        bands,
      })),
    };
  }
  // Results written before the per-second series carried resources: the sampler's own clock.
  const ticks = [...new Set(processes.flatMap((p) => p.samples.map((s) => s.t)))].sort((a, b) => a - b);
  if (ticks.length === 0) return { charts: [], note: 'no resource samples were taken' };
  return {
    charts: RESOURCE_FIGURES.map((figure) => ({
      id: `${id}-resources-${figure.field}`,
      title: figure.title,
      x: { label: 'seconds since the sampler started', scale: 'linear' },
      y: { label: figure.label, scale: 'linear', fromZero: true, decimals: figure.decimals, unit: figure.unit },
      xs: ticks.map((t) => t / 1000),
      series: processes.map((p) => {
        const byTick = new Map(p.samples.map((s) => [s.t, s[figure.field] / figure.scale]));
        return { label: label(p.name), values: ticks.map((t) => byTick.get(t) ?? null), color: palette.of(`process/${p.name}`) };
      }),
    })),
    note: 'this result predates per-second resources in the time series: time is counted from when the sampler started, a little before the measured phase',
  };
}

/** Every chart of one run; `id` prefixes the chart ids so several runs share a page. */
export function runCharts(result: RunResult, id: string): RunCharts {
  const palette = new Palette();
  const latency = latencyCharts(result, id, palette);
  const overTime = overTimeCharts(result, id, palette);
  const resources = resourceCharts(result, id, palette);
  return {
    latency,
    overTime: overTime.charts,
    overTimeNotes: overTime.notes,
    resources: resources.charts,
    ...(resources.note ? { resourcesNote: resources.note } : {}),
  };
}
