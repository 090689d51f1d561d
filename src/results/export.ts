/**
 * Results as other tools read them: CSV tables (a spreadsheet, pandas, R)
 * and HdrHistogram's interval log. Three tables, one row per fact:
 *
 * - summary: per run and (role, pattern) group, the figures of the console
 *   summary table, in plain units (counts, msg/s, bytes/s, ms), with its
 *   per-role totals (pattern "all") and one row per latency leg like the
 *   table's leg rows, plus the run's delivery account;
 * - series: per run, second of the measured phase and group;
 * - resources: per run, sample and watched process.
 *
 * Campaign runs carry their swept parameters as columns of their own.
 */
import type { LatencySummary, LegName, Parameters, RunResult } from '../model/index.js';
import { LEG_LABELS, latencyKind } from './labels.js';

/** One CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvTable(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}

/** A run to export: its result, and in a campaign its parameters. */
export interface ExportedRun {
  result: RunResult;
  parameters?: Parameters;
}

/** Every swept field that any run has, in first-seen order: the parameter columns. */
function parameterFields(runs: readonly ExportedRun[]): string[] {
  const fields: string[] = [];
  for (const run of runs) for (const field of Object.keys(run.parameters ?? {})) if (!fields.includes(field)) fields.push(field);
  return fields;
}

const ms = (us: number | undefined): number | undefined => (us === undefined ? undefined : us / 1000);

const LATENCY_COLUMNS = ['latency', 'count', 'min_ms', 'mean_ms', 'p50_ms', 'p90_ms', 'p99_ms', 'p99_9_ms', 'max_ms'] as const;

function latencyCells(kind: string, l: LatencySummary | undefined): unknown[] {
  return [kind, l?.count, ms(l?.minUs), ms(l?.meanUs), ms(l?.p50Us), ms(l?.p90Us), ms(l?.p99Us), ms(l?.p999Us), ms(l?.maxUs)];
}

/**
 * The summary: the console table's rows — every group, then each call
 * group's other legs as rows of their own (counters left empty there) —
 * with the run's delivery account per pattern on the group rows.
 */
export function summaryCsv(runs: readonly ExportedRun[]): string {
  const fields = parameterFields(runs);
  const header = [
    'run',
    ...fields,
    'role',
    'pattern',
    'agents',
    'sent',
    'ok',
    'errors',
    'timeouts',
    'unsent',
    'msg_per_s',
    'payload_bytes_per_s',
    ...LATENCY_COLUMNS,
    'lost',
    'duplicated',
    'reordered',
    'undelivered_at_stop',
    'late_replies',
  ];
  const rows: unknown[][] = [];
  for (const { result, parameters } of runs) {
    const params = fields.map((field) => parameters?.[field]);
    // As the console table: the per-role totals only where a role took part in several patterns.
    const patternsPerRole = new Map<string, number>();
    for (const group of result.groups) patternsPerRole.set(group.role, (patternsPerRole.get(group.role) ?? 0) + 1);
    const totals = result.overall.filter((group) => (patternsPerRole.get(group.role) ?? 0) > 1);
    for (const group of [...result.groups, ...totals]) {
      const c = group.counters;
      const sender = group.role === 'client' || group.role === 'notifier';
      const delivery = group.pattern === 'all' ? undefined : result.delivery[group.pattern];
      rows.push([
        result.id,
        ...params,
        group.role,
        group.pattern,
        group.agents,
        sender ? c.sent : undefined,
        c.ok,
        c.errors,
        c.timeouts,
        sender ? c.unsent : undefined,
        group.throughputPerSec,
        group.payloadBytesPerSec,
        ...latencyCells(group.latency ? (latencyKind(group) ?? '') : '', group.latency),
        // The account is the pattern's, counted once: on the sending side's row.
        sender ? delivery?.lost : undefined,
        sender ? delivery?.duplicated : undefined,
        sender ? delivery?.reordered : undefined,
        sender ? delivery?.undeliveredAtStop : undefined,
        sender && group.pattern.startsWith('call') ? result.lateReplies : undefined,
      ]);
    }
    for (const group of result.groups) {
      for (const [name, leg] of Object.entries(group.legs ?? {}) as [LegName, LatencySummary | undefined][]) {
        if (!leg) continue;
        rows.push([result.id, ...params, group.role, group.pattern, '', '', '', '', '', '', '', '', ...latencyCells(LEG_LABELS[name], leg), '', '', '', '', '']);
      }
    }
  }
  return csvTable(header, rows);
}

/** Per second of the measured phase and group: counts, bytes and the second's latency percentiles. */
export function seriesCsv(runs: readonly ExportedRun[]): string {
  const fields = parameterFields(runs);
  const header = ['run', ...fields, 'second', 'role', 'pattern', 'ok', 'errors', 'timeouts', 'bytes', 'p50_ms', 'p90_ms', 'p99_ms', 'p99_9_ms', 'max_ms'];
  const rows: unknown[][] = [];
  for (const { result, parameters } of runs) {
    const params = fields.map((field) => parameters?.[field]);
    for (const point of result.timeSeries) {
      for (const [key, g] of Object.entries(point.groups)) {
        const [role, pattern] = key.split('/');
        rows.push([result.id, ...params, point.second, role, pattern, g.ok, g.errors, g.timeouts, g.bytes, ms(g.p50Us), ms(g.p90Us), ms(g.p99Us), ms(g.p999Us), ms(g.maxUs)]);
      }
    }
  }
  return csvTable(header, rows);
}

/** Per resource sample and watched process: CPU cores, RSS and TCP connections. */
export function resourcesCsv(runs: readonly ExportedRun[]): string {
  const fields = parameterFields(runs);
  const header = ['run', ...fields, 't_s', 'process', 'kind', 'host', 'cpu_cores', 'rss_bytes', 'tcp_connections'];
  const rows: unknown[][] = [];
  for (const { result, parameters } of runs) {
    const params = fields.map((field) => parameters?.[field]);
    for (const p of result.resources?.processes ?? []) {
      for (const s of p.samples) rows.push([result.id, ...params, s.t / 1000, p.name, p.kind, p.host, s.cpuCores, s.rssBytes, s.tcpConnections]);
    }
  }
  return csvTable(header, rows);
}
