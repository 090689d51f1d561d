/** The console summary of a run: one row per (role, pattern), then per role overall. */
import Table from 'cli-table3';
import type { GroupResult, RunResult } from '../results/model.js';
import { topologyLines } from './topology-summary.js';
import { resourceLines } from './resources-summary.js';

/** Microseconds as milliseconds with sensible precision. */
export function formatMs(us: number | undefined): string {
  if (us === undefined) return '-';
  const ms = us / 1000;
  if (ms < 10) return ms.toFixed(3);
  if (ms < 1000) return ms.toFixed(1);
  return ms.toFixed(0);
}

/** Payload throughput in MB/s (10^6 bytes, as network people count). */
function formatMBps(bytesPerSec: number | undefined): string {
  if (!bytesPerSec) return '-';
  const mb = bytesPerSec / 1e6;
  return mb < 10 ? mb.toFixed(3) : mb.toFixed(1);
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Which latency a row shows: what the clients measured, or what arrived at the consumers. */
function latencyKind(group: GroupResult): string {
  if (group.role === 'client') return group.pattern.startsWith('cast') ? '-' : 'round trip';
  if (group.role === 'notifier') return '-';
  return 'one-way';
}

function row(group: GroupResult): string[] {
  const l = group.latency;
  const c = group.counters;
  const sender = group.role === 'client' || group.role === 'notifier';
  return [
    group.role,
    group.pattern,
    String(group.agents),
    sender ? formatCount(c.sent) : '-',
    formatCount(c.ok),
    formatCount(c.errors),
    formatCount(c.timeouts),
    group.throughputPerSec.toFixed(1),
    formatMBps(group.payloadBytesPerSec),
    l ? latencyKind(group) : '-',
    formatMs(l?.p50Us),
    formatMs(l?.p90Us),
    formatMs(l?.p99Us),
    formatMs(l?.p999Us),
    formatMs(l?.maxUs),
  ];
}

export function summaryTable(result: RunResult): string {
  const table = new Table({
    head: ['role', 'pattern', 'agents', 'sent', 'ok / recv', 'errors', 'timeouts', 'msg/s', 'MB/s', 'latency', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms'],
    style: { head: [], border: [], compact: true },
    colAligns: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'right', 'right', 'right', 'right', 'right'],
  });
  for (const group of result.groups) table.push(row(group));
  // Per-role totals only add something when a role took part in several patterns.
  const patternsPerRole = new Map<string, number>();
  for (const group of result.groups) patternsPerRole.set(group.role, (patternsPerRole.get(group.role) ?? 0) + 1);
  for (const group of result.overall) if ((patternsPerRole.get(group.role) ?? 0) > 1) table.push(row(group));
  // The other legs of calls, as rows of their own under the client row.
  const LEG_LABEL = { corrected: 'from intended', processing: 'server work', reply: 'reply one-way' } as const;
  for (const group of result.groups) {
    for (const [name, leg] of Object.entries(group.legs ?? {}) as [keyof typeof LEG_LABEL, NonNullable<GroupResult['legs']>['corrected']][]) {
      if (!leg) continue;
      table.push(['', group.pattern, '', '', formatCount(leg.count), '', '', '', '', LEG_LABEL[name], formatMs(leg.p50Us), formatMs(leg.p90Us), formatMs(leg.p99Us), formatMs(leg.p999Us), formatMs(leg.maxUs)]);
    }
  }
  return table.toString();
}

function deliveryLines(result: RunResult): string[] {
  return Object.entries(result.delivery ?? {}).map(([pattern, d]) => {
    const parts = [`${pattern}: ${formatCount(d.sent)} sent, ${formatCount(d.delivered)} delivered`, `${formatCount(d.lost)} lost`, `${formatCount(d.duplicated)} duplicated`, `${formatCount(d.reordered)} reordered`];
    if (d.unexpected) parts.push(`${formatCount(d.unexpected)} unexpected`);
    if (d.receiversPerMessage) parts.push(`${formatCount(d.complete)} reached every server`);
    return `  ${parts.join(', ')}`;
  });
}

export function summaryText(result: RunResult): string {
  const p = result.provenance;
  const a = result.agents;
  const lines = [
    `busbench ${p.busbench} · ${result.scenario.name} · ${p.bus.product} ${p.bus.version} (${p.bus.protocol}) at ${p.bus.url}${p.bus.embedded ? ' (embedded)' : ''}`,
    `agents: ${a.started.server} servers, ${a.started.client} clients, ${a.started.notifier} notifiers, ${a.started.listener} listeners in ${result.workers} worker(s); ` +
      `started in ${(a.startupMs / 1000).toFixed(2)} s (${a.startedPerSec}/s)${a.failed ? `, ${a.failed} FAILED to start` : ''}`,
    `measured ${(result.phases.measuredMs / 1000).toFixed(2)} s after ${(result.phases.warmupMs / 1000).toFixed(2)} s warm-up; ${result.loadModel.description}`,
    ...topologyLines(result),
    summaryTable(result),
    `client latency of calls is the round trip; server and listener latency is one-way, ${result.clocks.note}`,
    `delivery by (client, sequence)${result.lateReplies || result.unmatchedReplies ? `; replies: ${result.lateReplies} late (after their timeout), ${result.unmatchedReplies} unmatched` : ''}:`,
    ...deliveryLines(result),
    ...resourceLines(result),
  ];
  if (result.generator.saturated) {
    lines.push(`GENERATOR SATURATED: ${result.generator.reasons.join('; ')}. These figures are the load generator's limits, not the bus's: use more workers or hosts, or less load per worker.`);
  }
  if (a.failed) lines.push(`first start-up failures: ${a.failures.slice(0, 3).map((f) => `${f.agent}: ${f.error}`).join('; ')}`);
  if (result.directory) lines.push(`results: ${result.directory}`);
  return lines.join('\n');
}
