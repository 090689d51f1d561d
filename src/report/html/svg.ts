/**
 * The two views uPlot has no series type for, drawn as static SVG here in
 * Node: boxplots of latency (one box per histogram, grouped along an axis,
 * as the seed's Fig. 4 shows bus × clients) and plain bars (how many
 * receivers each multicast reached). Colours are the page's palette classes
 * (c0, c1, …), shared with the uPlot charts; every shape carries a <title>
 * with its figures, which the browser shows on hover.
 */
import type { BoxStats } from './chart-spec.js';
import { count, esc } from './escape.js';

export interface BoxGroup {
  /** under the group on the x axis; empty for a single group */
  label: string;
  boxes: BoxStats[];
}

const WIDTH = 960;
const PLOT = { left: 64, right: 16, top: 12, bottom: 56 };
const LEGEND_PER_ROW = 4;

function number(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 100) return count(Math.round(value));
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

/** Round tick values for a linear axis from 0 to at least `max`. */
function linearTicks(max: number): number[] {
  const rough = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? magnitude * 10;
  const ticks: number[] = [];
  for (let t = 0; t <= max + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

interface YScale {
  toY(value: number): number;
  ticks: number[];
  log: boolean;
}

function yScale(values: number[], height: number, allowLog: boolean): YScale {
  const positive = values.filter((v) => v > 0);
  const lo = Math.min(...positive);
  const hi = Math.max(...positive, 1e-9);
  const plotHeight = height - PLOT.top - PLOT.bottom;
  // Latencies that differ by orders of magnitude only stay readable on a log axis.
  if (allowLog && positive.length > 0 && hi / lo > 50) {
    const a = Math.floor(Math.log10(lo));
    const b = Math.ceil(Math.log10(hi));
    const ticks: number[] = [];
    for (let e = a; e <= b; e++) ticks.push(10 ** e);
    return { log: true, ticks, toY: (v) => PLOT.top + plotHeight * (1 - (Math.log10(Math.max(v, 10 ** a)) - a) / (b - a || 1)) };
  }
  const ticks = linearTicks(hi);
  const top = ticks[ticks.length - 1]!;
  return { log: false, ticks, toY: (v) => PLOT.top + plotHeight * (1 - v / top) };
}

/** `height` is the plot's (axes and labels), `total` the drawing's (legend rows below it included). */
function frame(id: string, title: string, height: number, body: string, yLabel: string, total = height): string {
  return (
    `<figure class="chart svg-chart" data-chart="${esc(id)}"><figcaption>${esc(title)}</figcaption>` +
    `<svg viewBox="0 0 ${WIDTH} ${total}" role="img" aria-label="${esc(title)}">` +
    `<text class="axis-label" transform="translate(14 ${(height - PLOT.bottom + PLOT.top) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>` +
    body +
    `</svg></figure>`
  );
}

function yAxis(scale: YScale, height: number): string {
  return scale.ticks
    .map((t) => {
      const y = scale.toY(t).toFixed(1);
      return `<line class="grid" x1="${PLOT.left}" x2="${WIDTH - PLOT.right}" y1="${y}" y2="${y}"/><text class="tick" x="${PLOT.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${number(t)}</text>`;
    })
    .join('')
    .concat(`<line class="axis" x1="${PLOT.left}" x2="${PLOT.left}" y1="${PLOT.top}" y2="${height - PLOT.bottom}"/>`);
}

/**
 * Boxes: p25–p75, a line at the median, whiskers from p1 to p99, a dot at the
 * maximum. Groups side by side along the x axis, their boxes next to each other.
 */
export function boxplotSvg(id: string, title: string, groups: readonly BoxGroup[], options: { legend?: { label: string; color: number }[] } = {}): string {
  const height = 340;
  const legendRows = Math.ceil((options.legend ?? []).length / LEGEND_PER_ROW);
  const total = height + Math.max(0, legendRows - 1) * 18;
  const all = groups.flatMap((g) => g.boxes);
  if (all.length === 0) return '';
  const scale = yScale(
    all.flatMap((b) => [b.p1, b.max]),
    height,
    true,
  );
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const groupWidth = plotWidth / groups.length;
  const parts: string[] = [yAxis(scale, height)];
  groups.forEach((group, g) => {
    const slots = Math.max(1, group.boxes.length);
    const slot = (groupWidth * 0.8) / slots;
    const boxWidth = Math.min(48, slot * 0.7);
    const start = PLOT.left + g * groupWidth + groupWidth * 0.1;
    group.boxes.forEach((box, i) => {
      const cx = start + slot * (i + 0.5);
      const [y1, y25, y50, y75, y99, yMax] = [box.p1, box.p25, box.p50, box.p75, box.p99, box.max].map((v) => scale.toY(v).toFixed(1));
      const tip = `${box.label}${group.label ? ` · ${group.label}` : ''}: ${count(box.count)} samples; p1 ${number(box.p1)}, p25 ${number(box.p25)}, median ${number(box.p50)}, p75 ${number(box.p75)}, p99 ${number(box.p99)}, max ${number(box.max)} ms`;
      parts.push(
        `<g class="box c${box.color % 10}"><title>${esc(tip)}</title>` +
          `<line class="whisker" x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${y1}" y2="${y99}"/>` +
          `<line class="whisker" x1="${(cx - boxWidth / 4).toFixed(1)}" x2="${(cx + boxWidth / 4).toFixed(1)}" y1="${y1}" y2="${y1}"/>` +
          `<line class="whisker" x1="${(cx - boxWidth / 4).toFixed(1)}" x2="${(cx + boxWidth / 4).toFixed(1)}" y1="${y99}" y2="${y99}"/>` +
          `<rect x="${(cx - boxWidth / 2).toFixed(1)}" y="${y75}" width="${boxWidth.toFixed(1)}" height="${Math.max(1, Number(y25) - Number(y75)).toFixed(1)}"/>` +
          `<line class="median" x1="${(cx - boxWidth / 2).toFixed(1)}" x2="${(cx + boxWidth / 2).toFixed(1)}" y1="${y50}" y2="${y50}"/>` +
          `<circle class="max" cx="${cx.toFixed(1)}" cy="${yMax}" r="2.5"/>` +
          (groups.length === 1
            ? `<text class="tick" x="${cx.toFixed(1)}" y="${height - PLOT.bottom + 16}" text-anchor="middle">${esc(box.label)}</text>`
            : '') +
          `</g>`,
      );
    });
    if (group.label) {
      parts.push(
        `<text class="tick" x="${(PLOT.left + (g + 0.5) * groupWidth).toFixed(1)}" y="${height - PLOT.bottom + 16}" text-anchor="middle">${esc(group.label)}</text>`,
      );
    }
  });
  const legend = (options.legend ?? [])
    .map((entry, i) => {
      const x = PLOT.left + (i % LEGEND_PER_ROW) * 220;
      const y = height - 22 + Math.floor(i / LEGEND_PER_ROW) * 18;
      return `<g class="c${entry.color % 10}"><rect class="swatch" x="${x}" y="${y}" width="12" height="12"/><text class="tick" x="${x + 18}" y="${y + 10}">${esc(entry.label)}</text></g>`;
    })
    .join('');
  const yLabel = `latency ms${scale.log ? ' (log)' : ''}`;
  return frame(id, `${title} — box p25–p75, line at the median, whiskers p1–p99, dot at the maximum`, height, parts.join('') + legend, yLabel, total);
}

/** Bars with a label under each: counts by category. */
export function barsSvg(id: string, title: string, bars: readonly { label: string; value: number }[], yLabel: string): string {
  const height = 240;
  if (bars.length === 0) return '';
  const scale = yScale([...bars.map((b) => b.value), 1], height, false);
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const slot = plotWidth / bars.length;
  const width = Math.min(60, slot * 0.7);
  const parts: string[] = [yAxis(scale, height)];
  const base = scale.toY(0);
  bars.forEach((bar, i) => {
    const cx = PLOT.left + slot * (i + 0.5);
    const y = bar.value > 0 ? scale.toY(bar.value) : base;
    parts.push(
      `<g class="bar c0"><title>${esc(`${bar.label}: ${count(bar.value)}`)}</title>` +
        `<rect x="${(cx - width / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${width.toFixed(1)}" height="${Math.max(bar.value > 0 ? 1 : 0, base - y).toFixed(1)}"/>` +
        `<text class="tick" x="${cx.toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle">${count(bar.value)}</text>` +
        `<text class="tick" x="${cx.toFixed(1)}" y="${height - PLOT.bottom + 16}" text-anchor="middle">${esc(bar.label)}</text></g>`,
    );
  });
  return frame(id, title, height, parts.join(''), yLabel);
}
