/**
 * A campaign read as a sweep: which swept parameter is the x axis (a
 * numeric one when there is one), which make up the bus configuration (the
 * other swept parameters: one line or box per configuration), and per run the
 * figures a sweep is read for — throughput, headline latency, errors, and
 * the peaks of the bus processes (the seed's Table II).
 */
import type { Histogram } from '../../metrics/histogram.js';
import { newHistogram } from '../../metrics/histogram.js';
import type { Parameters, RunResult } from '../../model/index.js';
import type { LoadedCampaign, LoadedRun } from '../../results/read.js';
import { histogramOf } from './latency-points.js';

/** A parameter's value as the report prints it. */
export function showValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** What the bus processes (brokers, routers) used at their peak, summed over them per sampling tick. */
export interface BusPeaks {
  processes: number;
  kinds: string[];
  rssMiB: number;
  cpuCores: number;
  tcpConnections: number;
}

export interface RunFigures {
  run: LoadedRun;
  ok: boolean;
  /** messages per second, summed over the sending groups: calls answered, casts and notifications sent */
  throughputPerSec: number;
  /** the run's headline latency: round trip at the clients when calls were made, else one-way at the receivers */
  latency?: Histogram;
  latencyKind?: 'round trip at clients' | 'one-way at receivers';
  errors: number;
  timeouts: number;
  bus?: BusPeaks;
}

export interface SeriesOfRuns {
  key: string;
  label: string;
  color: number;
  /** per x value (the index into SweepAxes.x.values): the runs there, usually one */
  byX: Map<number, RunFigures[]>;
}

export interface SweepAxes {
  /** absent when nothing varies between the runs */
  x?: { field: string; numeric: boolean; values: unknown[] };
  /** the other swept parameters: together, one bus configuration */
  seriesFields: string[];
  series: SeriesOfRuns[];
  figures: RunFigures[];
}

export function busPeaks(result: RunResult): BusPeaks | undefined {
  const processes = (result.resources?.processes ?? []).filter((p) => p.kind === 'broker' || p.kind === 'router');
  if (processes.length === 0) return undefined;
  // Summed per tick, then the peak: what the bus held at once, not the sum of peaks reached at different times.
  const ticks = new Map<number, { rss: number; cpu: number; tcp: number }>();
  for (const p of processes) {
    for (const s of p.samples) {
      const tick = ticks.get(s.t) ?? { rss: 0, cpu: 0, tcp: 0 };
      tick.rss += s.rssBytes;
      tick.cpu += s.cpuCores;
      tick.tcp += s.tcpConnections;
      ticks.set(s.t, tick);
    }
  }
  const values = [...ticks.values()];
  const peak = (pick: (t: { rss: number; cpu: number; tcp: number }) => number, fallback: number): number =>
    values.length > 0 ? Math.max(...values.map(pick)) : fallback;
  return {
    processes: processes.length,
    kinds: [...new Set(processes.map((p) => p.kind))],
    rssMiB:
      peak(
        (t) => t.rss,
        processes.reduce((s, p) => s + p.peak.rssBytes, 0),
      ) / 1048576,
    cpuCores: peak(
      (t) => t.cpu,
      processes.reduce((s, p) => s + p.peak.cpuCores, 0),
    ),
    tcpConnections: peak(
      (t) => t.tcp,
      processes.reduce((s, p) => s + p.peak.tcpConnections, 0),
    ),
  };
}

export function runFigures(run: LoadedRun): RunFigures {
  const result = run.result;
  const senders = result.groups.filter((g) => g.role === 'client' || g.role === 'notifier');
  const clients = result.groups.filter((g) => g.role === 'client' && g.histogram);
  const receivers = result.groups.filter((g) => (g.role === 'server' || g.role === 'listener') && g.histogram);
  const latency = clients.length > 0 ? histogramOf(clients.map((g) => g.histogram)) : histogramOf(receivers.map((g) => g.histogram));
  const bus = busPeaks(result);
  return {
    run,
    ok: result.outcome?.ok !== false,
    throughputPerSec: senders.reduce((sum, g) => sum + g.throughputPerSec, 0),
    ...(latency ? { latency, latencyKind: clients.length > 0 ? ('round trip at clients' as const) : ('one-way at receivers' as const) } : {}),
    errors: senders.reduce((sum, g) => sum + g.counters.errors, 0),
    timeouts: senders.reduce((sum, g) => sum + g.counters.timeouts, 0),
    ...(bus ? { bus } : {}),
  };
}

function sweptFields(runs: readonly LoadedRun[]): string[] {
  const fields = [...new Set(runs.flatMap((r) => Object.keys(r.campaign?.parameters ?? {})))];
  return fields.filter((field) => new Set(runs.map((r) => showValue(r.campaign?.parameters[field]))).size > 1);
}

function isNumeric(runs: readonly LoadedRun[], field: string): boolean {
  return runs.every((r) => typeof r.campaign?.parameters[field] === 'number');
}

/** The x axis: agents.clients when swept (the seed's axis), else the first numeric swept field, else the first swept field. */
function pickX(runs: readonly LoadedRun[], swept: string[]): string | undefined {
  const numeric = swept.filter((f) => isNumeric(runs, f));
  return numeric.includes('agents.clients') ? 'agents.clients' : (numeric[0] ?? swept[0]);
}

function seriesLabel(parameters: Parameters, fields: string[]): string {
  return fields.length === 0 ? 'all runs' : fields.map((f) => `${f}=${showValue(parameters[f])}`).join(' · ');
}

export function sweepAxes(campaign: LoadedCampaign): SweepAxes {
  const runs = campaign.runs;
  const figures = runs.map(runFigures);
  const swept = sweptFields(runs);
  const xField = pickX(runs, swept);
  if (!xField) return { seriesFields: [], series: [], figures };
  const numeric = isNumeric(runs, xField);
  const distinct = new Map<string, unknown>();
  for (const r of runs) distinct.set(showValue(r.campaign!.parameters[xField]), r.campaign!.parameters[xField]);
  const values = [...distinct.values()];
  if (numeric) values.sort((a, b) => (a as number) - (b as number));
  const position = new Map(values.map((v, i) => [showValue(v), i]));
  const seriesFields = swept.filter((f) => f !== xField);
  const series = new Map<string, SeriesOfRuns>();
  for (const figure of figures) {
    const parameters = figure.run.campaign!.parameters;
    const key = seriesFields.map((f) => showValue(parameters[f])).join('\u0000');
    let entry = series.get(key);
    if (!entry) series.set(key, (entry = { key, label: seriesLabel(parameters, seriesFields), color: series.size, byX: new Map() }));
    const x = position.get(showValue(parameters[xField]))!;
    entry.byX.set(x, [...(entry.byX.get(x) ?? []), figure]);
  }
  return { x: { field: xField, numeric, values }, seriesFields, series: [...series.values()], figures };
}

/** The latency of several runs at one point, merged; one run's as it is. */
export function mergedLatency(figures: readonly RunFigures[]): Histogram | undefined {
  const recorded = figures.filter((f) => f.latency);
  if (recorded.length <= 1) return recorded[0]?.latency;
  const merged = newHistogram();
  for (const f of recorded) merged.add(f.latency!);
  return merged;
}
