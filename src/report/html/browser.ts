/**
 * The page's own script: reads the chart specs embedded in the page, draws
 * each with uPlot (bands for outages, percentile and category axes), and
 * keeps a status — charts found, drawn, still folded, and every error the
 * page met — in window.__busbenchReport and in <pre id="busbench-status">,
 * which a test (or a curious reader) can check.
 *
 * These functions run in the browser, not in Node: the page inlines their
 * source (Function.prototype.toString), so they use nothing but their
 * parameters, each other and the language's own globals (JSON, Math).
 */
import type { ChartAxis, LineChart, ReportStatus } from './chart-spec.js';
import type { PageElement, PageEnv, Plot, PlotAxis, PlotOptions } from './browser-types.js';

/** 1/(1−p) as a percentile label: 2 → "50 %", 1000 → "99.9 %". */
export function percentileLabel(x: number): string {
  const p = 100 * (1 - 1 / x);
  return `${Number(p.toFixed(Math.max(0, Math.ceil(Math.log10(x)) - 2)))} %`;
}

export function formatAxisValue(axis: ChartAxis, value: number | null): string {
  if (value === null || value === undefined) return '–';
  if (axis.scale === 'percentile') return percentileLabel(value);
  if (axis.scale === 'category') return axis.categories?.[Math.round(value)] ?? '';
  const digits = axis.decimals ?? 2;
  return `${value.toFixed(digits)}${axis.unit ?? ''}`;
}

export function axisOptions(axis: ChartAxis, isX: boolean): PlotAxis {
  const options: PlotAxis = {
    label: axis.label,
    stroke: '#333',
    grid: { stroke: '#e4e4e4', width: 1 },
    ticks: { stroke: '#ccc', width: 1 },
  };
  if (!isX) options.size = 64;
  if (axis.whole) options.incrs = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400];
  if (axis.ticks) {
    const ticks = axis.ticks;
    options.splits = () => ticks;
    options.filter = (_plot, splits) => splits;
  }
  if (axis.scale === 'percentile') {
    options.splits = (_plot, _axis, min, max) => [2, 10, 100, 1e3, 1e4, 1e5].filter((v) => v >= min * 0.999 && v <= max * 1.001);
    options.filter = (_plot, splits) => splits;
    options.values = (_plot, splits) => splits.map((v) => (v === null ? '' : percentileLabel(v)));
  } else if (axis.scale === 'category') {
    const categories = axis.categories ?? [];
    options.splits = () => categories.map((_, i) => i);
    options.values = (_plot, splits) => splits.map((i) => (i === null ? '' : (categories[i] ?? '')));
  } else if (axis.scale === 'log') {
    options.values = (_plot, splits) => splits.map((v) => (v === null ? '' : String(Number(v.toPrecision(v >= 1 ? 3 : 2)))));
  }
  return options;
}

export function plotOptions(chart: LineChart, width: number, palette: string[], onDrawn: (plot: Plot, seriesDrawn: number) => void): PlotOptions {
  const scale = (axis: ChartAxis): PlotOptions['scales'][string] => {
    if (axis.scale === 'percentile' || axis.scale === 'log') {
      return axis.range ? { time: false, distr: 3, log: 10, range: axis.range } : { time: false, distr: 3, log: 10 };
    }
    if (axis.scale === 'category') {
      const n = (axis.categories ?? []).length;
      return { time: false, range: [-0.5, Math.max(0.5, n - 0.5)] };
    }
    if (axis.range) return { time: false, range: axis.range };
    if (axis.fromZero) return { time: false, range: (_plot, _min, max) => [0, max > 0 ? max * 1.05 : 1] };
    return { time: false };
  };
  let seriesDrawn = 0;
  const bands = chart.bands ?? [];
  return {
    width,
    height: 300,
    scales: { x: scale(chart.x), y: scale(chart.y) },
    axes: [axisOptions(chart.x, true), axisOptions(chart.y, false)],
    series: [
      { label: chart.x.label, value: (_plot, v) => formatAxisValue(chart.x, v) },
      ...chart.series.map((s) => ({
        label: s.label,
        stroke: palette[s.color % palette.length],
        width: 1.6,
        ...(s.dashed ? { dash: [6, 4] } : {}),
        spanGaps: chart.points === true,
        // A line of one or two points would not be seen: dots then, as for a sweep's few values.
        points: chart.points || s.values.filter((v) => v !== null).length <= 2 ? { show: true, size: 7 } : { show: false },
        value: (_plot: Plot, v: number | null) => formatAxisValue(chart.y, v),
      })),
    ],
    legend: { show: true },
    cursor: { drag: { x: true, y: false } },
    hooks: {
      // Under the lines: outages and link cuts as shaded bands, labelled at the top.
      drawAxes: [
        (plot) => {
          if (bands.length === 0) return;
          const ctx = plot.ctx;
          const box = plot.bbox;
          ctx.save();
          for (const band of bands) {
            const from = Math.max(box.left, plot.valToPos(band.from, 'x', true));
            const to = Math.min(box.left + box.width, plot.valToPos(band.to, 'x', true));
            if (!(to >= from)) continue;
            ctx.fillStyle = 'rgba(214, 39, 40, 0.14)';
            ctx.fillRect(from, box.top, Math.max(2, to - from), box.height);
            ctx.fillStyle = 'rgba(150, 20, 20, 0.9)';
            ctx.font = '12px sans-serif';
            ctx.textAlign = 'left';
            ctx.textBaseline = 'top';
            ctx.fillText(band.label, from + 3, box.top + 3);
          }
          ctx.restore();
        },
      ],
      drawSeries: [
        (_plot, index) => {
          const values = chart.series[index - 1]?.values ?? [];
          if (values.some((v) => v !== null)) seriesDrawn++;
        },
      ],
      draw: [(plot) => onDrawn(plot, seriesDrawn)],
    },
  };
}

/** Non-transparent pixels in the plotting area, sampled on a grid: 0 means nothing was drawn there. */
export function paintedPixels(plot: Plot): number {
  const box = plot.bbox;
  if (box.width < 1 || box.height < 1) return 0;
  const data = plot.ctx.getImageData(Math.round(box.left), Math.round(box.top), Math.round(box.width), Math.round(box.height)).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4 * 7) if ((data[i] ?? 0) > 0) painted++;
  return painted;
}

export function reportMain(env: PageEnv): void {
  const status: ReportStatus = { charts: 0, drawn: 0, pending: 0, empty: [], errors: [] };
  env.window.__busbenchReport = status;
  const publish = (): void => {
    const element = env.document.getElementById('busbench-status');
    if (element) element.textContent = JSON.stringify(status);
  };
  // Errors a library logs without throwing count too: a clean page logs none.
  const logError = env.console.error;
  env.console.error = (...args: unknown[]) => {
    status.errors.push(`console.error: ${args.map(String).join(' ')}`);
    publish();
    logError.apply(env.console, args);
  };
  env.window.addEventListener('error', (event) => {
    status.errors.push(`${event.message}${event.filename ? ` (${event.filename}:${event.lineno ?? 0})` : ''}`);
    publish();
  });
  env.window.addEventListener('unhandledrejection', (event) => {
    status.errors.push(`unhandled rejection: ${String(event.reason)}`);
    publish();
  });
  const source = env.document.getElementById('busbench-charts');
  const spec = JSON.parse(source?.textContent ?? '{}') as { palette?: string[]; charts?: LineChart[] };
  const palette = spec.palette ?? ['#1f77b4'];
  const byId = new Map((spec.charts ?? []).map((c) => [c.id, c]));
  // #all opens every folded run first: one look at everything (and what the tests load).
  if (env.window.location.hash === '#all') {
    const folded = env.document.querySelectorAll('details.run');
    for (let i = 0; i < folded.length; i++) folded[i]!.open = true;
  }
  const done = new Set<PageElement>();

  const draw = (figure: PageElement): void => {
    if (done.has(figure)) return;
    done.add(figure);
    const id = figure.getAttribute('data-chart') ?? '';
    try {
      if (figure.getAttribute('class')?.includes('svg-chart')) {
        if (figure.querySelectorAll('rect, line, circle').length > 0) status.drawn++;
        else status.empty.push(id);
        return;
      }
      const chart = byId.get(id);
      const target = figure.querySelector('.plot');
      if (!chart || !target) {
        status.errors.push(`chart ${id}: no data for it in the page`);
        return;
      }
      let counted = false;
      const options = plotOptions(chart, Math.max(320, target.clientWidth || figure.clientWidth), palette, (plot, seriesDrawn) => {
        if (counted) return;
        counted = true;
        if (seriesDrawn > 0 && paintedPixels(plot) > 0) status.drawn++;
        else status.empty.push(id);
        publish();
      });
      new env.uPlot(options, [chart.xs, ...chart.series.map((s) => s.values)], target);
    } catch (error) {
      status.errors.push(`chart ${id}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      publish();
    }
  };

  const figures = env.document.querySelectorAll('figure.chart');
  status.charts = figures.length;
  for (let i = 0; i < figures.length; i++) {
    const figure = figures[i]!;
    const folded = figure.closest('details');
    if (folded && !folded.open) {
      status.pending++;
      folded.addEventListener('toggle', () => {
        if (!folded.open || done.has(figure)) return;
        status.pending--;
        draw(figure);
      });
      continue;
    }
    draw(figure);
  }
  publish();
}

/** The page script: these functions' source, run with the browser's globals once the page has loaded. */
export function pageScript(): string {
  const functions = [percentileLabel, formatAxisValue, axisOptions, plotOptions, paintedPixels, reportMain];
  return `(function () {\n'use strict';\n${functions.map((f) => f.toString()).join('\n')}\nreportMain({ window: window, document: document, uPlot: uPlot, console: console });\n})();`;
}
