/** The console summary of a run: one row per (role, pattern), then per role overall. */
import Table from 'cli-table3';
import type { GroupResult, LegName, RunResult } from '../model/index.js';
import { LEG_LABELS, latencyKind } from '../results/labels.js';
import { topologyLines } from './topology-summary.js';
import { resourceLines } from './resources-summary.js';
import { sitePairLines } from './site-pairs-summary.js';

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

function row(group: GroupResult, withUnsent: boolean): string[] {
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
    ...(withUnsent ? [sender ? formatCount(c.unsent) : '-'] : []),
    group.throughputPerSec.toFixed(1),
    formatMBps(group.payloadBytesPerSec),
    l ? (latencyKind(group) ?? '-') : '-',
    formatMs(l?.p50Us),
    formatMs(l?.p90Us),
    formatMs(l?.p99Us),
    formatMs(l?.p999Us),
    formatMs(l?.maxUs),
  ];
}

export function summaryTable(result: RunResult): string {
  // Sends the bus never took get a column only when there were any: they are not in `sent`.
  const withUnsent = result.groups.some((g) => g.counters.unsent > 0);
  const table = new Table({
    head: [
      'role',
      'pattern',
      'agents',
      'sent',
      'ok / recv',
      'errors',
      'timeouts',
      ...(withUnsent ? ['not sent'] : []),
      'msg/s',
      'MB/s',
      'latency',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
    ],
    style: { head: [], border: [], compact: true },
    colAligns: [
      'left',
      'left',
      'right',
      'right',
      'right',
      'right',
      'right',
      ...(withUnsent ? (['right'] as const) : []),
      'right',
      'right',
      'left',
      'right',
      'right',
      'right',
      'right',
      'right',
    ],
  });
  for (const group of result.groups) table.push(row(group, withUnsent));
  // Per-role totals only add something when a role took part in several patterns.
  const patternsPerRole = new Map<string, number>();
  for (const group of result.groups) patternsPerRole.set(group.role, (patternsPerRole.get(group.role) ?? 0) + 1);
  for (const group of result.overall) if ((patternsPerRole.get(group.role) ?? 0) > 1) table.push(row(group, withUnsent));
  // The other legs of calls, as rows of their own under the client row.
  for (const group of result.groups) {
    for (const [name, leg] of Object.entries(group.legs ?? {}) as [LegName, NonNullable<GroupResult['legs']>['corrected']][]) {
      if (!leg) continue;
      table.push([
        '',
        group.pattern,
        '',
        '',
        formatCount(leg.count),
        '',
        '',
        ...(withUnsent ? [''] : []),
        '',
        '',
        LEG_LABELS[name],
        formatMs(leg.p50Us),
        formatMs(leg.p90Us),
        formatMs(leg.p99Us),
        formatMs(leg.p999Us),
        formatMs(leg.maxUs),
      ]);
    }
  }
  return table.toString();
}

/**
 * The delivery accounting, in its two units: messages (each counted once)
 * and deliveries (a message × each receiver it should reach), each adding up.
 */
function deliveryLines(result: RunResult): string[] {
  const lines: string[] = [];
  for (const [pattern, d] of Object.entries(result.delivery ?? {})) {
    if (d.sent === 0 && d.unexpected > 0) {
      lines.push(`  ${pattern}: ${formatCount(d.unexpected)} received from senders this run did not start (not accounted by sequence)`);
      continue;
    }
    const multi = d.receiversPerMessage !== undefined;
    const messages = multi
      ? `${formatCount(d.sent)} messages sent: ${formatCount(d.complete)} reached every server, ${formatCount(d.delivered - d.complete)} some, ${formatCount(d.sent - d.delivered)} none`
      : `${formatCount(d.sent)} messages sent`;
    const held = d.backlogReported ? `${formatCount(d.undeliveredAtStop)} undelivered at stop (still queued), ` : '';
    const lost = d.backlogReported
      ? `${formatCount(d.lost)} lost`
      : `${formatCount(d.lost)} missing (lost, or still queued: the bus did not say what it still held)`;
    const deliveries = `${multi ? 'deliveries (message × server): ' : ''}${formatCount(d.expectedDeliveries)} expected = ${formatCount(d.receivedDeliveries)} received + ${held}${lost}`;
    const extra = [`${formatCount(d.duplicated)} duplicated`, `${formatCount(d.reordered)} reordered`];
    if (d.unexpected) extra.push(`${formatCount(d.unexpected)} unexpected`);
    lines.push(`  ${pattern}: ${messages}; ${deliveries}; ${extra.join(', ')}`);
  }
  const queued = (result.backlogAtStop ?? []).filter((q) => q.messages > 0);
  if (queued.length > 0) {
    const shown = queued.slice(0, 6).map((q) => `${q.queue} ${formatCount(q.messages)}`);
    lines.push(
      `  still queued when the consumers stopped (warm-up leftovers included): ${shown.join(', ')}${queued.length > 6 ? `, … ${queued.length - 6} more queues` : ''}`,
    );
  }
  return lines;
}

function describeAgents(result: RunResult): string {
  const a = result.agents;
  const parts = (['server', 'client', 'notifier', 'listener'] as const).filter((role) => a.requested[role] > 0).map((role) => `${a.started[role]} ${role}s`);
  return `agents: ${parts.join(', ')} in ${result.workersChosen ?? result.workers} worker(s)${result.heapChosen ? `, heap ${result.heapChosen}` : ''}; started in ${(a.startupMs / 1000).toFixed(2)} s (${a.startedPerSec}/s)${a.failed ? `, ${a.failed} FAILED to start` : ''}`;
}

function describePhases(result: RunResult): string {
  const p = result.phases;
  const after = [
    p.drainMs ? `${(p.drainMs / 1000).toFixed(2)} s draining in-flight calls` : '',
    p.settleMs ? `${(p.settleMs / 1000).toFixed(2)} s settling` : '',
  ].filter(Boolean);
  return `measured ${(p.measuredMs / 1000).toFixed(2)} s after ${(p.warmupMs / 1000).toFixed(2)} s warm-up${after.length ? ` (then ${after.join(', ')})` : ''}; ${result.loadModel.description}`;
}

export function summaryText(result: RunResult): string {
  const p = result.provenance;
  const a = result.agents;
  const lines = [
    `busbench ${p.busbench} · ${result.scenario.name} · ${p.bus.product} ${p.bus.version} (${p.bus.protocol}) at ${p.bus.url}${p.bus.embedded ? ' (embedded)' : ''}`,
    ...(result.stoppedEarly ? [`PARTIAL: the run stopped early — ${result.stoppedEarly.reason}; the figures cover what ran until then`] : []),
    describeAgents(result),
    describePhases(result),
    ...topologyLines(result),
    summaryTable(result),
    `client latency of calls is the round trip; server and listener latency is one-way, ${result.clocks.note}`,
    ...(Object.keys(result.delivery ?? {}).length > 0 || result.lateReplies || result.unmatchedReplies
      ? [
          `delivery by (sender, sequence)${result.lateReplies || result.unmatchedReplies ? `; replies: ${result.lateReplies} late (after their timeout), ${result.unmatchedReplies} unmatched` : ''}:`,
          ...deliveryLines(result),
        ]
      : []),
    ...sitePairLines(result),
    ...resourceLines(result),
  ];
  if (result.generator.saturated) {
    lines.push(
      `GENERATOR SATURATED: ${result.generator.reasons.join('; ')}. These figures are the load generator's limits, not the bus's: use more workers or hosts, or less load per worker.`,
    );
  }
  if (a.failed)
    lines.push(
      `first start-up failures: ${a.failures
        .slice(0, 3)
        .map((f) => `${f.agent}: ${f.error}`)
        .join('; ')}`,
    );
  const incidents = result.busIncidents;
  if (incidents) {
    const parts = Object.entries(incidents.errors).map(([kind, e]) => `${formatCount(e.count)} ${kind} (first: ${e.first})`);
    if (incidents.malformedMessages) parts.push(`${formatCount(incidents.malformedMessages)} deliveries that were not oslo JSON`);
    if (incidents.returnedMessages) parts.push(`${formatCount(incidents.returnedMessages)} replies returned by the broker (the caller's queue was gone)`);
    if (parts.length > 0) lines.push(`bus incidents: ${parts.join('; ')}`);
  }
  const errors = Object.entries(result.firstErrors ?? {});
  if (errors.length > 0) lines.push(`first errors: ${errors.map(([pattern, error]) => `${pattern}: ${error}`).join('; ')}`);
  const received = result.groups.filter((g) => g.role === 'server' || g.role === 'listener').reduce((sum, g) => sum + g.counters.ok, 0);
  if (result.agents.started.client + result.agents.started.notifier === 0) {
    lines.push(`received ${formatCount(received)} message(s) from senders elsewhere: no per-message delivery accounting without the senders' counts`);
  }
  const unaccounted = result.groups.filter(
    (g) => (g.role === 'client' || g.role === 'notifier') && g.counters.sent > 0 && !(g.pattern in (result.delivery ?? {})),
  );
  if (unaccounted.length > 0)
    lines.push(
      `no per-message delivery accounting for ${unaccounted.map((g) => g.pattern).join(', ')}: the receivers run elsewhere (busbench counts what its own servers and listeners log)`,
    );
  for (const problem of result.outcome?.problems ?? []) lines.push(`FAILED: ${problem}`);
  if (result.directory) lines.push(`results: ${result.directory}`);
  return lines.join('\n');
}
