/**
 * `busbench report --format md`: the report as Markdown, for a terminal or a
 * pull request — per run the groups' figures, the legs of calls, the
 * delivery account, the bus's peaks and the generator's verdict; per
 * campaign every planned run (missing and failed ones included) and the
 * seed's Table II. No charts: for those, the HTML report.
 */
import type { GroupResult, RunResult } from '../model/index.js';
import type { LoadedCampaign, LoadedInputs } from '../results/read.js';
import { runLabel } from '../results/read.js';
import { percentileUs } from '../metrics/histogram.js';
import { latencyKind } from '../results/labels.js';
import { busPeaks, showValue, sweepAxes, type RunFigures } from './html/campaign-data.js';
import { count, ms } from './html/escape.js';

/** A table cell: pipes and line breaks would break the row. */
function cell(value: unknown): string {
  return String(value).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function tableMd(head: string[], rows: string[][], right: number[] = []): string[] {
  return [
    `| ${head.map(cell).join(' | ')} |`,
    `|${head.map((_, i) => (right.includes(i) ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

function groupRow(g: GroupResult): string[] {
  const sender = g.role === 'client' || g.role === 'notifier';
  return [
    g.role,
    g.pattern,
    count(g.agents),
    sender ? count(g.counters.sent) : '–',
    count(g.counters.ok),
    count(g.counters.errors),
    count(g.counters.timeouts),
    g.throughputPerSec.toFixed(1),
    g.latency ? (latencyKind(g) ?? '–') : '–',
    ms(g.latency?.p50Us),
    ms(g.latency?.p90Us),
    ms(g.latency?.p99Us),
    ms(g.latency?.p999Us),
    ms(g.latency?.maxUs),
  ];
}

function legLines(result: RunResult): string[] {
  const lines: string[] = [];
  for (const client of result.groups.filter((g) => g.role === 'client' && g.pattern.startsWith('call'))) {
    const server = result.groups.find((g) => g.role === 'server' && g.pattern === client.pattern);
    const legs: [string, GroupResult['latency']][] = [
      ['request one-way', server?.latency],
      ['server work', client.legs?.processing],
      ['reply one-way', client.legs?.reply],
      ['round trip', client.latency],
      ['corrected (from intended send)', client.legs?.corrected],
    ];
    lines.push(
      '',
      `Legs of ${client.pattern} calls (ms):`,
      '',
      ...tableMd(
        ['leg', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'],
        legs.map(([name, l]) => [name, l ? count(l.count) : 'not recorded', ms(l?.p50Us), ms(l?.p90Us), ms(l?.p99Us), ms(l?.p999Us), ms(l?.maxUs)]),
        [1, 2, 3, 4, 5, 6],
      ),
    );
  }
  return lines;
}

function deliveryLines(result: RunResult): string[] {
  const accounts = Object.entries(result.delivery ?? {});
  if (accounts.length === 0) return [];
  return [
    '',
    'Delivery (deliveries: expected = received + undelivered at stop + lost):',
    '',
    ...tableMd(
      ['pattern', 'sent', 'reached every receiver', 'expected', 'received', 'undelivered at stop', 'lost', 'duplicated', 'reordered'],
      accounts.map(([pattern, d]) => [
        pattern,
        count(d.sent),
        count(d.complete),
        count(d.expectedDeliveries),
        count(d.receivedDeliveries),
        d.backlogReported ? count(d.undeliveredAtStop) : 'not reported',
        d.backlogReported ? count(d.lost) : `${count(d.lost)} missing`,
        count(d.duplicated),
        count(d.reordered),
      ]),
      [1, 2, 3, 4, 5, 6, 7, 8],
    ),
  ];
}

function runMarkdown(result: RunResult, label: string, level: string): string[] {
  const p = result.provenance;
  const verdict = result.outcome && !result.outcome.ok ? 'FAILED' : 'completed';
  const lines = [
    `${level} ${label} — ${verdict}${result.stoppedEarly ? ', PARTIAL' : ''}`,
    '',
    `${p.bus.product} ${p.bus.version} (${p.bus.protocol})${p.bus.embedded ? ', started by busbench' : ''} · scenario ${result.scenario.name} · measured ${(result.phases.measuredMs / 1000).toFixed(2)} s · ${result.loadModel.description}`,
    '',
    ...tableMd(
      ['role', 'pattern', 'agents', 'sent', 'ok / received', 'errors', 'timeouts', 'msg/s', 'latency', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms'],
      result.groups.map(groupRow),
      [2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13],
    ),
    ...legLines(result),
    ...deliveryLines(result),
  ];
  const bus = busPeaks(result);
  lines.push(
    '',
    bus
      ? `Bus at its peak: ${bus.rssMiB.toFixed(0)} MiB RSS, ${bus.cpuCores.toFixed(2)} CPU cores, ${count(bus.tcpConnections)} TCP connections (${bus.processes} ${bus.kinds.join('/')} process(es)).`
      : 'Bus resources: not sampled (no bus process was watched in this run).',
    '',
    result.generator.saturated
      ? `**Load generator saturated**: ${result.generator.reasons.join('; ')}. These figures are the generator's limits, not the bus's.`
      : 'The load generator kept up.',
  );
  const problems = [...(result.stoppedEarly ? [`stopped early: ${result.stoppedEarly.reason}`] : []), ...(result.outcome?.problems ?? [])];
  if (problems.length > 0) lines.push('', ...problems.map((x) => `- **${x}**`));
  const errors = Object.entries(result.firstErrors ?? {});
  if (errors.length > 0) lines.push('', ...errors.map(([pattern, error]) => `- first error of ${pattern}: \`${error.replace(/`/g, "'")}\``));
  return lines;
}

function figureRow(f: RunFigures): string[] {
  const c = f.run.campaign!;
  return [
    String(c.index + 1),
    c.runId,
    Object.entries(c.parameters)
      .map(([k, v]) => `${k}=${showValue(v)}`)
      .join(' '),
    f.ok ? 'ok' : 'FAILED',
    f.throughputPerSec.toFixed(1),
    f.latency ? ms(percentileUs(f.latency, 50)) : '–',
    f.latency ? ms(percentileUs(f.latency, 99)) : '–',
    count(f.errors),
    count(f.timeouts),
  ];
}

function campaignMarkdown(campaign: LoadedCampaign): string[] {
  const axes = sweepAxes(campaign);
  const failed = campaign.missing.filter((m) => m.failed).length;
  const kinds = [...new Set(axes.figures.map((f) => f.latencyKind).filter(Boolean))].join('; ');
  const lines = [
    `## Campaign ${campaign.name}`,
    '',
    `${campaign.runs.length} of ${campaign.total} planned runs finished${failed ? `, ${failed} failed` : ''}${campaign.missing.length - failed ? `, ${campaign.missing.length - failed} not run` : ''}. Latency: ${kinds || 'none recorded'}; msg/s summed over the senders.`,
    '',
    ...tableMd(
      ['#', 'run', 'parameters', 'outcome', 'msg/s', 'p50 ms', 'p99 ms', 'errors', 'timeouts'],
      [
        ...axes.figures.map(figureRow),
        ...campaign.missing.map((m) => [
          '',
          m.runId,
          Object.entries(m.parameters)
            .map(([k, v]) => `${k}=${showValue(v)}`)
            .join(' '),
          m.failed ? `FAILED: ${m.failed}` : 'not run',
          '–',
          '–',
          '–',
          '–',
          '–',
        ]),
      ],
      [4, 5, 6, 7, 8],
    ),
  ];
  const x = axes.x;
  if (x && axes.figures.some((f) => f.bus)) {
    const rows: string[][] = [];
    const metrics: [string, (f: RunFigures) => number | undefined, number][] = [
      ['RAM MiB', (f) => f.bus?.rssMiB, 0],
      ['CPU cores', (f) => f.bus?.cpuCores, 2],
      ['TCP connections', (f) => f.bus?.tcpConnections, 0],
    ];
    for (const [name, pick, digits] of metrics) {
      for (const s of axes.series) {
        rows.push([
          name,
          s.label,
          ...x.values.map((_, i) => {
            const runs = s.byX.get(i) ?? [];
            const values = runs.map(pick).filter((v): v is number => v !== undefined);
            if (runs.length === 0) return '';
            return values.length === 0 ? 'not sampled' : digits === 0 ? count(Math.round(Math.max(...values))) : Math.max(...values).toFixed(digits);
          }),
        ]);
      }
    }
    lines.push(
      '',
      `Peak usage of the bus processes per bus configuration and ${x.field} (the seed's Table II):`,
      '',
      ...tableMd(
        ['metric', 'bus configuration', ...x.values.map(showValue)],
        rows,
        x.values.map((_, i) => i + 2),
      ),
    );
  }
  return lines;
}

/** The whole Markdown report for what loadInputs read. */
export function markdownReport(inputs: LoadedInputs): string {
  const standalone = inputs.runs.filter((r) => !r.campaign || !inputs.campaigns.some((c) => c.directory === r.campaign!.directory));
  const lines = ['# busbench report', ''];
  for (const campaign of inputs.campaigns) lines.push(...campaignMarkdown(campaign), '');
  for (const run of standalone) lines.push(...runMarkdown(run.result, runLabel(run), '##'), '');
  return lines.join('\n');
}
