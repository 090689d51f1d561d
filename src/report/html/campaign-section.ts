/**
 * A campaign as a section of the report: every planned run (missing and
 * failed ones listed, not hidden), a metric against the swept parameter with
 * one line per bus configuration (PerfTest's series charts), boxplots of
 * latency per parameter value (the seed's Fig. 4), the seed's Table II
 * (peak RAM, CPU and TCP connections of the bus per configuration and x
 * value), and each run's own section, folded.
 */
import { runLabel, type LoadedCampaign } from '../../results/read.js';
import type { BoxStats, ChartAxis, LineChart } from './chart-spec.js';
import { mergedLatency, showValue, sweepAxes, type RunFigures, type SeriesOfRuns, type SweepAxes } from './campaign-data.js';
import { count, esc, ms } from './escape.js';
import { percentileUs } from '../../metrics/histogram.js';
import { boxStats } from './latency-points.js';
import { ChartRegistry, runSection } from './run-section.js';
import { boxplotSvg } from './svg.js';
import { note, table } from './tables.js';

function xAxis(axes: SweepAxes): ChartAxis {
  const x = axes.x!;
  if (!x.numeric) return { label: x.field, scale: 'category', categories: x.values.map(showValue) };
  const numbers = x.values as number[];
  const wide = numbers[0]! > 0 && numbers[numbers.length - 1]! / numbers[0]! >= 20;
  // A sweep has a handful of values: ticks at those, not at round numbers between them.
  return { label: `${x.field}${wide ? ' (log)' : ''}`, scale: wide ? 'log' : 'linear', ...(numbers.length <= 12 ? { ticks: numbers } : {}) };
}

function xsOf(axes: SweepAxes): number[] {
  const x = axes.x!;
  return x.numeric ? (x.values as number[]) : x.values.map((_, i) => i);
}

function metricChart(axes: SweepAxes, id: string, title: string, y: ChartAxis, value: (figures: RunFigures[]) => number | undefined): LineChart {
  const xs = xsOf(axes);
  return {
    id,
    title,
    x: xAxis(axes),
    y,
    xs,
    points: true,
    series: axes.series.map((s) => ({
      label: s.label,
      color: s.color,
      values: xs.map((_, i) => {
        const figures = s.byX.get(i);
        return figures && figures.length > 0 ? (value(figures) ?? null) : null;
      }),
    })),
  };
}

function latencyKinds(axes: SweepAxes): string {
  const kinds = [...new Set(axes.figures.map((f) => f.latencyKind).filter(Boolean))];
  return kinds.length > 0 ? kinds.join('; ') : 'none recorded';
}

function seriesCharts(axes: SweepAxes, id: string, registry: ChartRegistry): string {
  const percentile = (p: number) => (figures: RunFigures[]) => {
    const h = mergedLatency(figures);
    return h ? percentileUs(h, p) / 1000 : undefined;
  };
  const kinds = latencyKinds(axes);
  const per = `against ${axes.x!.field}${axes.seriesFields.length ? `, one line per ${axes.seriesFields.join(' × ')}` : ''}`;
  const charts = [
    metricChart(
      axes,
      `${id}-throughput`,
      `Throughput ${per} (messages/s summed over the senders: calls answered, casts and notifications sent)`,
      { label: 'messages per second', scale: 'linear', fromZero: true, decimals: 1, unit: '/s' },
      (figures) => figures.reduce((s, f) => s + f.throughputPerSec, 0) / figures.length,
    ),
    ...[50, 99].map((p) =>
      metricChart(
        axes,
        `${id}-p${p}`,
        `Latency p${p} ${per} (${kinds})`,
        { label: `p${p} ms`, scale: 'linear', fromZero: true, decimals: 3, unit: ' ms' },
        percentile(p),
      ),
    ),
    metricChart(
      axes,
      `${id}-errors`,
      `Errors and timeouts at the senders ${per}`,
      { label: 'errors + timeouts', scale: 'linear', fromZero: true, decimals: 0 },
      (figures) => figures.reduce((s, f) => s + f.errors + f.timeouts, 0),
    ),
  ];
  const repeated = axes.series.some((s) => [...s.byX.values()].some((f) => f.length > 1));
  return (
    `<div class="pair">${charts.map((c) => registry.place(c)).join('')}</div>` +
    (repeated ? note('Where several runs share a point: throughput is their mean, latency their merged histogram, errors their sum.') : '')
  );
}

function boxplots(axes: SweepAxes, id: string): string {
  const x = axes.x!;
  const groups = x.values.map((value, i) => ({
    label: `${showValue(value)}`,
    boxes: axes.series
      .map((s): BoxStats | undefined => {
        const h = mergedLatency(s.byX.get(i) ?? []);
        return h ? boxStats(s.label, s.color, h) : undefined;
      })
      .filter((b): b is BoxStats => b !== undefined),
  }));
  return boxplotSvg(`${id}-boxplots`, `Latency (${latencyKinds(axes)}) per ${x.field}, one box per ${axes.seriesFields.join(' × ') || 'value'}`, groups, {
    legend: axes.seriesFields.length ? axes.series.map((s) => ({ label: s.label, color: s.color })) : [],
  });
}

/** The seed's Table II: per bus configuration, the bus processes' peaks at each x value. */
function tableTwo(axes: SweepAxes): string {
  const x = axes.x!;
  const metrics: { name: string; pick: (f: RunFigures) => number | undefined; digits: number }[] = [
    { name: 'RAM MiB', pick: (f) => f.bus?.rssMiB, digits: 0 },
    { name: 'CPU cores', pick: (f) => f.bus?.cpuCores, digits: 2 },
    { name: 'TCP connections', pick: (f) => f.bus?.tcpConnections, digits: 0 },
  ];
  const describe = (s: SeriesOfRuns): string => {
    const peaks = [...s.byX.values()].flat().find((f) => f.bus)?.bus;
    return peaks ? `${s.label} (${peaks.processes} ${peaks.kinds.join('/')}${peaks.processes > 1 ? ' processes' : ''})` : s.label;
  };
  const rows: string[] = [];
  let unmeasured = false;
  for (const metric of metrics) {
    for (const s of axes.series) {
      const cells = x.values.map((_, i) => {
        const values = (s.byX.get(i) ?? []).map(metric.pick).filter((v): v is number => v !== undefined);
        if ((s.byX.get(i) ?? []).length === 0) return '<td></td>';
        if (values.length === 0) {
          unmeasured = true;
          return '<td>not sampled</td>';
        }
        const peak = Math.max(...values);
        return `<td class="n">${metric.digits === 0 ? count(Math.round(peak)) : peak.toFixed(metric.digits)}</td>`;
      });
      rows.push(`<tr><th>${esc(metric.name)}</th><th>${esc(describe(s))}</th>${cells.join('')}</tr>`);
    }
  }
  return (
    note(
      `Peak usage of the bus processes (brokers, routers) during each run, summed over them at each sample, per bus configuration and ${x.field}, as the seed's Table II.`,
    ) +
    `<table><thead><tr><th>metric</th><th>bus configuration</th>${x.values.map((v) => `<th>${esc(showValue(v))}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>` +
    (unmeasured
      ? note(
          'not sampled: busbench watched no bus process in that run (an existing bus given with --url, or resources switched off), so it cannot say what the bus used.',
        )
      : '')
  );
}

function runsTable(campaign: LoadedCampaign, axes: SweepAxes, anchor: (runId: string) => string): string {
  const rows = axes.figures.map((f) => {
    const c = f.run.campaign!;
    const latency = f.latency;
    return [
      String(c.index + 1),
      `<a href="#${esc(anchor(c.runId))}">${esc(c.runId)}</a>`,
      esc(
        Object.entries(c.parameters)
          .map(([k, v]) => `${k}=${showValue(v)}`)
          .join(' '),
      ),
      f.ok ? 'ok' : '<span class="bad">FAILED</span>',
      f.throughputPerSec.toFixed(1),
      latency ? ms(percentileUs(latency, 50)) : '–',
      latency ? ms(percentileUs(latency, 99)) : '–',
      count(f.errors),
      count(f.timeouts),
    ];
  });
  const missing = campaign.missing.map((m) => [
    '',
    esc(m.runId),
    esc(
      Object.entries(m.parameters)
        .map(([k, v]) => `${k}=${showValue(v)}`)
        .join(' '),
    ),
    m.failed ? `<span class="bad">failed: ${esc(m.failed)}</span>` : 'not run (yet)',
    '–',
    '–',
    '–',
    '–',
    '–',
  ]);
  return table(['#', 'run', 'parameters', 'outcome', 'msg/s', 'p50 ms', 'p99 ms', 'errors', 'timeouts'], [...rows, ...missing]);
}

export function campaignSection(campaign: LoadedCampaign, id: string, registry: ChartRegistry, anchor: (runId: string) => string): string {
  const axes = sweepAxes(campaign);
  const failed = campaign.missing.filter((m) => m.failed).length;
  const parts = [
    `<h2>Campaign ${esc(campaign.name)}</h2>`,
    `<p class="meta">${esc(
      `${campaign.runs.length} of ${campaign.total} planned runs finished${failed ? `, ${failed} failed` : ''}${campaign.missing.length - failed ? `, ${campaign.missing.length - failed} not run` : ''}; ${campaign.directory}`,
    )}</p>`,
  ];
  if (campaign.missing.length > 0) {
    parts.push(`<p class="bad">${esc(`${campaign.missing.length} planned run(s) have no results: listed below, and missing from the charts.`)}</p>`);
  }
  if (axes.figures.some((f) => !f.ok)) {
    parts.push(
      note('Runs marked FAILED in the table below measured a failure of the bus (or of their set-up): they are charted with the rest, as they measured.'),
    );
  }
  if (!axes.x) {
    parts.push(note('No parameter varies between the finished runs: nothing to chart against; each run is below.'));
  } else {
    parts.push(
      note(
        `x axis: ${axes.x.field} (${axes.x.numeric ? 'numeric' : 'categorical'}); bus configuration: ${axes.seriesFields.length ? axes.seriesFields.join(' × ') : 'the same in every run'}.`,
      ),
      seriesCharts(axes, id, registry),
      boxplots(axes, id),
      '<h3>Peak usage of the bus (Table II)</h3>',
      tableTwo(axes),
    );
  }
  parts.push('<h3>Runs</h3>', runsTable(campaign, axes, anchor));
  for (const run of campaign.runs) {
    const runId = run.campaign!.runId;
    parts.push(
      `<details class="run" id="${esc(anchor(runId))}"><summary>${esc(runLabel(run))}</summary>`,
      runSection(run.result, { id: `${id}-${runId}`, label: runLabel(run), directory: run.directory }, registry),
      '</details>',
    );
  }
  return parts.join('\n');
}
