/**
 * One run as a section of the report: what ran and whether it worked, the
 * groups' figures, the latency charts per pattern, the legs of calls, the
 * per-second series, the delivery account, the resources, where messages
 * went between sites, the generator's verdict and the provenance. Tables
 * are HTML written here; charts are placeholders the page script fills.
 */
import type { GroupResult, PairResult, RunResult } from '../../model/index.js';
import type { LineChart } from './chart-spec.js';
import { count, esc, ms, percent } from './escape.js';
import { latencyKind } from '../../results/labels.js';
import { runCharts, type PatternLatency } from './run-charts.js';
import { barsSvg, boxplotSvg } from './svg.js';
import { note, table } from './tables.js';

/** Collects the uPlot charts of the page; each placeholder names its chart. */
export class ChartRegistry {
  readonly charts: LineChart[] = [];
  place(chart: LineChart): string {
    this.charts.push(chart);
    return `<figure class="chart uplot-chart" data-chart="${esc(chart.id)}"><figcaption>${esc(chart.title)}</figcaption><div class="plot"></div></figure>`;
  }
}

function groupRow(group: GroupResult): string[] {
  const c = group.counters;
  const l = group.latency;
  const sender = group.role === 'client' || group.role === 'notifier';
  return [
    esc(group.role),
    esc(group.pattern),
    count(group.agents),
    sender ? count(c.sent) : '–',
    count(c.ok),
    count(c.errors),
    count(c.timeouts),
    sender ? count(c.unsent) : '–',
    group.throughputPerSec.toFixed(1),
    l ? (latencyKind(group) ?? '–') : '–',
    ms(l?.p50Us),
    ms(l?.p90Us),
    ms(l?.p99Us),
    ms(l?.p999Us),
    ms(l?.maxUs),
  ];
}

function groupsTable(result: RunResult): string {
  const perRole = new Map<string, number>();
  for (const g of result.groups) perRole.set(g.role, (perRole.get(g.role) ?? 0) + 1);
  const rows = [...result.groups.map(groupRow), ...result.overall.filter((g) => (perRole.get(g.role) ?? 0) > 1).map(groupRow)];
  return table(
    [
      'role',
      'pattern',
      'agents',
      'sent',
      'ok / received',
      'errors',
      'timeouts',
      'not sent',
      'msg/s',
      'latency',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
    ],
    rows,
  );
}

function header(result: RunResult, label: string): string {
  const p = result.provenance;
  const badges: string[] = [];
  if (result.outcome && !result.outcome.ok) badges.push('<span class="badge bad">FAILED</span>');
  else badges.push('<span class="badge good">completed</span>');
  if (result.stoppedEarly) badges.push('<span class="badge warn">PARTIAL</span>');
  badges.push(result.generator.saturated ? '<span class="badge bad">generator saturated</span>' : '<span class="badge good">generator kept up</span>');
  const lines = [
    `${esc(p.bus.product)} ${esc(p.bus.version)} (${esc(p.bus.protocol)}) at <code>${esc(p.bus.url)}</code>${p.bus.embedded ? ', started by busbench' : ''}`,
    `${esc(describeAgents(result))}; measured ${(result.phases.measuredMs / 1000).toFixed(2)} s after ${(result.phases.warmupMs / 1000).toFixed(2)} s warm-up`,
    esc(result.loadModel.description),
  ];
  const problems = [
    ...(result.stoppedEarly ? [`the run stopped early: ${result.stoppedEarly.reason}; its figures cover what ran until then`] : []),
    ...(result.outcome?.problems ?? []),
  ];
  return (
    `<h2>${esc(label)} ${badges.join(' ')}</h2>` +
    `<p class="meta">${lines.join('<br>')}</p>` +
    (problems.length ? `<ul class="problems">${problems.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '')
  );
}

function describeAgents(result: RunResult): string {
  const a = result.agents;
  const parts = (['server', 'client', 'notifier', 'listener'] as const).filter((role) => a.requested[role] > 0).map((role) => `${a.started[role]} ${role}s`);
  return `${parts.join(', ')} in ${result.workers} worker thread(s)${a.failed ? `, ${a.failed} failed to start` : ''}`;
}

function latencySection(patterns: PatternLatency[], registry: ChartRegistry, id: string): string {
  if (patterns.length === 0) return `<h3>Latency</h3>${note('no latency was recorded in this run')}`;
  const parts = [
    '<h3>Latency</h3>',
    note(
      'Left: latency against percentile on a log axis of 1/(1−p) — each step right is ten times rarer (90 %, 99 %, 99.9 % …); a line ends where its samples do. Right: the share of messages at or below each latency.',
    ),
  ];
  for (const pattern of patterns) {
    parts.push(`<div class="pair">${registry.place(pattern.spectrum)}${registry.place(pattern.cdf)}</div>`);
    if (pattern.legs) {
      const rows = pattern.legs.rows.map((row) => [
        esc(row.leg),
        esc(row.meaning),
        row.summary ? count(row.summary.count) : 'not recorded',
        ms(row.summary?.p50Us),
        ms(row.summary?.p90Us),
        ms(row.summary?.p99Us),
        ms(row.summary?.p999Us),
        ms(row.summary?.maxUs),
      ]);
      parts.push(
        `<h4>${esc(pattern.pattern)}: the legs of a call</h4>`,
        table(['leg', 'what it spans', 'count', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms'], rows),
        boxplotSvg(`${id}-legs-${pattern.pattern}`, `${pattern.pattern}: the legs side by side`, [{ label: '', boxes: pattern.legs.boxes }]),
      );
      if (pattern.legs.rows.some((r) => r.leg === 'corrected' && !r.summary)) {
        parts.push(note('corrected: not recorded — in a closed loop each call is sent when the previous one returns, so the round trip is the latency.'));
      }
    }
  }
  return parts.join('');
}

function overTimeSection(result: RunResult, charts: LineChart[], notes: string[], registry: ChartRegistry): string {
  const cuts = result.topology?.disruptions ?? [];
  const parts = ['<h3>Over time</h3>', ...notes.map(note), ...charts.map((c) => registry.place(c))];
  if (cuts.length > 0) {
    parts.push(
      note('Shaded bands: outages and link cuts, from when each was in place until it was lifted.'),
      table(
        ['kind', 'label', 'between', 'planned at s', 'for s', 'in place s', 'lifted s', 'error'],
        cuts.map((cut) => [
          esc(cut.kind),
          esc(cut.label),
          esc(cut.pairs.map((p) => p.join(' ↔ ')).join(', ')),
          (cut.plannedAtMs / 1000).toFixed(1),
          (cut.plannedForMs / 1000).toFixed(1),
          cut.startedAtMs === undefined ? 'never' : (cut.startedAtMs / 1000).toFixed(2),
          cut.endedAtMs === undefined ? 'not lifted' : (cut.endedAtMs / 1000).toFixed(2),
          esc(cut.error ?? ''),
        ]),
      ),
    );
  }
  if (result.connectionsLost > 0) {
    const shown = result.connectionLosses.slice(0, 20);
    parts.push(
      `<h4>Bus connections lost: ${count(result.connectionsLost)}</h4>`,
      table(
        ['agent', 'phase', 'at s', 'error'],
        shown.map((loss) => [esc(loss.agent), esc(loss.phase), (loss.atMs / 1000).toFixed(2), esc(loss.error)]),
      ),
      result.connectionsLost > shown.length ? note(`… and ${count(result.connectionsLost - shown.length)} more`) : '',
    );
  }
  return parts.join('');
}

function deliverySection(result: RunResult, id: string): string {
  const accounts = Object.entries(result.delivery ?? {});
  const parts = ['<h3>Delivery</h3>'];
  if (accounts.length === 0) {
    parts.push(note('no per-message delivery accounting in this run: the senders or the receivers ran elsewhere'));
  } else {
    parts.push(
      note(
        'Messages (each counted once): sent = complete + partial + reached none. Deliveries (a message × each receiver it should reach): expected = received + undelivered at stop + lost. Duplicates and unexpected receipts are extra deliveries, outside those sums.',
      ),
      table(
        [
          'pattern',
          'messages sent',
          'reached every receiver',
          'some',
          'none',
          'deliveries expected',
          'received',
          'undelivered at stop',
          'lost',
          'duplicated',
          'reordered',
          'unexpected',
        ],
        accounts.map(([pattern, d]) => [
          esc(pattern),
          count(d.sent),
          count(d.complete),
          count(d.delivered - d.complete),
          count(d.sent - d.delivered),
          count(d.expectedDeliveries),
          count(d.receivedDeliveries),
          d.backlogReported ? count(d.undeliveredAtStop) : 'not reported',
          d.backlogReported ? count(d.lost) : `${count(d.lost)} missing (lost or still queued)`,
          count(d.duplicated),
          count(d.reordered),
          count(d.unexpected),
        ]),
      ),
    );
    for (const [pattern, d] of accounts) {
      if (!d.receiversPerMessage) continue;
      parts.push(
        barsSvg(
          `${id}-receivers-${pattern}`,
          `${pattern}: messages by how many receivers they reached (multicast completeness: ${d.sent ? percent(d.complete / d.sent) : '–'} reached every one)`,
          d.receiversPerMessage.map((n, k) => ({ label: `${k}`, value: n })),
          'messages',
        ),
      );
    }
  }
  const replies = `replies: ${count(result.lateReplies)} late (after their call's timeout), ${count(result.unmatchedReplies)} unmatched`;
  parts.push(`<p>${esc(replies)}</p>`);
  const queued = (result.backlogAtStop ?? []).filter((q) => q.messages > 0);
  if (queued.length > 0) {
    parts.push(
      `<p>${esc('still queued when the consumers stopped (warm-up leftovers included): ')}${queued
        .slice(0, 20)
        .map((q) => `<code>${esc(q.queue)}</code> ${count(q.messages)}`)
        .join(', ')}${queued.length > 20 ? esc(` … ${queued.length - 20} more queues`) : ''}</p>`,
    );
  }
  const errors = Object.entries(result.firstErrors ?? {});
  if (errors.length > 0) parts.push(`<h4>First errors</h4><ul>${errors.map(([p, e]) => `<li>${esc(p)}: <code>${esc(e)}</code></li>`).join('')}</ul>`);
  const incidents = result.busIncidents;
  if (incidents) {
    const items = Object.entries(incidents.errors).map(([kind, e]) => `${count(e.count)} ${kind} (first: ${e.first})`);
    if (incidents.malformedMessages) items.push(`${count(incidents.malformedMessages)} deliveries that were not oslo JSON`);
    if (incidents.returnedMessages) items.push(`${count(incidents.returnedMessages)} replies returned by the broker (the caller's queue was gone)`);
    if (items.length > 0) parts.push(`<h4>Bus incidents</h4><ul>${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>`);
  }
  return parts.join('');
}

function resourcesSection(result: RunResult, charts: LineChart[], chartNote: string | undefined, registry: ChartRegistry): string {
  const resources = result.resources;
  const parts = ['<h3>Resources</h3>'];
  if (!resources || resources.rows.length === 0) return parts.concat(note('resources were not sampled in this run')).join('');
  parts.push(
    note(`CPU, memory and TCP connections of the bus and agent processes, sampled every ${resources.intervalMs / 1000} s over the measured phase.`),
    table(
      ['process', 'kind', 'host', 'CPU cores peak', 'mean', 'RSS MiB peak', 'TCP connections peak'],
      resources.rows.map((row) => [
        esc(row.kind === 'host' ? 'all on the host' : row.name),
        esc(row.kind),
        esc(row.host),
        row.peakCpuCores.toFixed(2),
        row.meanCpuCores.toFixed(2),
        row.peakRssMiB.toFixed(1),
        count(row.peakTcpConnections),
      ]),
    ),
  );
  for (const node of resources.rabbitmq) {
    const p = node.peak;
    parts.push(
      `<p>${esc(
        `${node.name} (management API): peak ${p.queues} queues, ${p.messagesReady} ready, ${p.messagesUnacknowledged} unacknowledged, ${p.connections} connections, ${p.channels} channels` +
          (node.errors ? `; ${node.errors} failed reads (${node.lastError ?? ''})` : ''),
      )}</p>`,
    );
  }
  if (resources.errors.length > 0) parts.push(note(`sampling problems: ${resources.errors.join('; ')}`));
  if (chartNote) parts.push(note(chartNote));
  parts.push(...charts.map((c) => registry.place(c)));
  return parts.join('');
}

function heat(value: number | undefined, lo: number, hi: number): string {
  if (value === undefined || !(hi > lo)) return '';
  const t = (Math.log(value) - Math.log(lo)) / (Math.log(hi) - Math.log(lo));
  return ` style="background: hsla(${Math.round(120 - 120 * t)}, 70%, 50%, 0.25)"`;
}

function sitePairsSection(result: RunResult): string {
  const pairs = result.sitePairs?.bySite ?? [];
  if (pairs.length === 0) return '';
  const parts = ['<h3>Where messages went, by site</h3>', note(result.sitePairs!.note)];
  const sections = new Map<string, PairResult[]>();
  for (const pair of pairs) {
    const key = `${pair.role}/${pair.pattern}`;
    sections.set(key, [...(sections.get(key) ?? []), pair]);
  }
  const order = result.topology?.sites.map((s) => s.name) ?? [];
  const place = (name: string | null): string => name ?? '(unstamped)';
  const sorted = (names: string[]): string[] =>
    [...new Set(names)].sort((a, b) => (order.indexOf(a) + 1 || order.length + 1) - (order.indexOf(b) + 1 || order.length + 1) || a.localeCompare(b));
  for (const rows of sections.values()) {
    const { role, pattern } = rows[0]!;
    const leg = (r: PairResult) => (r.role === 'client' ? r.legs.roundTrip : r.legs.request);
    const p50s = rows.map((r) => leg(r)?.p50Us).filter((v): v is number => v !== undefined && v > 0);
    const [lo, hi] = [Math.min(...p50s), Math.max(...p50s)];
    const columns = sorted(rows.map((r) => place(r.to)));
    const senders = sorted(rows.map((r) => place(r.from)));
    const body = senders.map((from) => {
      const mine = rows.filter((r) => place(r.from) === from);
      const known = mine.filter((r) => r.to !== null).reduce((s, r) => s + r.count, 0);
      const own = mine.filter((r) => r.to !== null && r.to === r.from).reduce((s, r) => s + r.count, 0);
      const cells = columns.map((to) => {
        const cell = mine.find((r) => place(r.to) === to);
        if (!cell) return '<td class="n">–</td>';
        const p50 = leg(cell)?.p50Us;
        return `<td class="n"${heat(p50, lo, hi)}>${count(cell.count)} · ${ms(p50)}</td>`;
      });
      return `<tr><th>${esc(from)}</th>${cells.join('')}<td class="n">${from === '(unstamped)' || known === 0 ? '–' : percent(own / known)}</td></tr>`;
    });
    const caption =
      role === 'client'
        ? `${pattern} calls answered, caller's site → answering server's site: count · p50 round trip ms`
        : `${pattern} received at ${role}s, sender's site → ${role}'s site: count · p50 one-way ms`;
    parts.push(
      `<table class="matrix"><caption>${esc(caption)}</caption><thead><tr><th>from \\ to</th>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}<th>own site</th></tr></thead><tbody>${body.join('')}</tbody></table>`,
    );
  }
  const locality = (result.sitePairs?.locality ?? []).filter((l) => l.callerSite === 'all');
  if (locality.length > 0) {
    parts.push(
      table(
        ['pattern', 'calls', 'own site', 'other site', 'one hop', 'farther', 'unknown site', 'mean configured delay ms'],
        locality.map((l) => [
          esc(l.pattern),
          count(l.calls),
          percent(l.ownSite),
          percent(l.otherSite),
          percent(l.oneHop),
          percent(l.fartherHops),
          count(l.unknownSite),
          l.meanConfiguredDelayMs.toFixed(1),
        ]),
      ),
    );
  }
  return parts.join('');
}

function generatorSection(result: RunResult): string {
  const g = result.generator;
  const verdict = g.saturated
    ? `SATURATED: ${g.reasons.join('; ')}. These figures are the load generator's limits, not the bus's.`
    : `the load generator kept up: no worker was busier than ${percent(g.thresholds.utilization, 0)}, its event-loop lag p99 stayed under ${g.thresholds.lagP99Ms} ms and its schedule lag p50 under ${g.thresholds.scheduleLagP50Ms} ms`;
  return (
    '<h3>Load generator</h3>' +
    `<p class="${g.saturated ? 'bad' : ''}">${esc(verdict)}</p>` +
    table(
      ['worker', 'utilization', 'loop lag p50 ms', 'p99 ms', 'max ms', 'schedule lag p50 ms', 'CPU share', 'CPU wait share'],
      g.workers.map((w) => [
        String(w.worker),
        percent(w.utilization),
        w.lagP50Ms.toFixed(2),
        w.lagP99Ms.toFixed(2),
        w.lagMaxMs.toFixed(2),
        w.scheduleLagP50Ms === undefined ? '–' : w.scheduleLagP50Ms.toFixed(2),
        w.cpuFraction === undefined ? '–' : percent(w.cpuFraction),
        w.cpuWaitFraction === undefined ? '–' : percent(w.cpuWaitFraction),
      ]),
    ) +
    `<p>${esc(`busbench itself: ${result.harness.cpuCores.toFixed(2)} CPU cores over the measured phase, peak RSS ${(result.harness.maxRssBytes / 1048576).toFixed(1)} MiB; clocks: ${result.clocks.note}`)}</p>`
  );
}

function provenanceSection(result: RunResult, directory: string | undefined): string {
  const p = result.provenance;
  const h = p.host;
  const rows: [string, string][] = [
    ['run id', result.id],
    ['scenario', `${result.scenario.name} (${result.scenario.source})`],
    ['busbench', p.busbench],
    ['node', p.node],
    ['command', `busbench ${p.argv.join(' ')}`],
    ['host', `${h.hostname}: ${h.platform} ${h.release} ${h.arch}, ${h.cpus} × ${h.cpuModel}, ${(h.memoryBytes / 2 ** 30).toFixed(1)} GiB`],
    ['bus', `${p.bus.kind}: ${p.bus.product} ${p.bus.version}, ${p.bus.protocol}, ${p.bus.url}${p.bus.embedded ? ' (embedded)' : ''}`],
    ['workers', `${result.workers}: ${result.workersChosen}`],
    ['started', p.startedAt],
    ['ended', p.endedAt],
    ...(result.phases.measureStartedAt ? [['measured phase began', result.phases.measureStartedAt] as [string, string]] : []),
    ...(directory ? [['results', directory] as [string, string]] : []),
  ];
  return (
    '<h3>Provenance</h3>' +
    `<table class="keys"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</tbody></table>` +
    `<details><summary>scenario as run</summary><pre>${esc(JSON.stringify(result.scenario, null, 2))}</pre></details>`
  );
}

/** The whole section of one run; `id` is unique on the page. */
export function runSection(result: RunResult, options: { id: string; label: string; directory?: string }, registry: ChartRegistry): string {
  const charts = runCharts(result, options.id);
  return [
    header(result, options.label),
    groupsTable(result),
    latencySection(charts.latency, registry, options.id),
    overTimeSection(result, charts.overTime, charts.overTimeNotes, registry),
    deliverySection(result, options.id),
    resourcesSection(result, charts.resources, charts.resourcesNote, registry),
    sitePairsSection(result),
    generatorSection(result),
    provenanceSection(result, options.directory),
  ].join('\n');
}
