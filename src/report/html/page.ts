/**
 * The report page: one HTML file that opens offline. uPlot's script and
 * stylesheet are read from node_modules when the report is made and inlined,
 * with the page's own CSS and script, the chart specs and the embedded
 * results; nothing is fetched from anywhere.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { LineChart } from './chart-spec.js';
import { pageScript } from './browser.js';
import type { EmbeddedReport } from './embedded.js';
import { esc, jsonForScript } from './escape.js';

/** Line colours, in order (Tableau 10): uPlot lines and SVG shapes share them by index. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

async function uplotAssets(): Promise<{ script: string; css: string; version: string }> {
  const require = createRequire(import.meta.url);
  const scriptPath = require.resolve('uplot/dist/uPlot.iife.min.js');
  const [script, css, pkg] = await Promise.all([
    readFile(scriptPath, 'utf8'),
    readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    readFile(require.resolve('uplot/package.json'), 'utf8'),
  ]);
  const version = (JSON.parse(pkg) as { version: string }).version;
  // Its banner is a link: said without the scheme, so the page holds no URL a reader could take for a reference.
  const body = script.replace(/^\/\*![^*]*\*\/\s*/, '');
  return { script: `/*! uPlot ${version} — MIT License, Copyright (c) 2022 Leon Sorokin — github.com/leeoniya/uPlot */\n${body}`, css, version };
}

/** Text inside a <script> or <style> element must not close it early. */
function inline(code: string): string {
  return code.replace(/<\/(script|style)/gi, '<\\/$1');
}

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0 auto; padding: 16px 28px 48px; max-width: 1500px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 28px 0 6px; padding-top: 12px; border-top: 2px solid #ddd; }
h3 { font-size: 16px; margin: 22px 0 6px; }
h4 { font-size: 14px; margin: 14px 0 4px; }
code, pre { font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, monospace; }
pre { background: #f6f6f6; padding: 8px; overflow: auto; max-height: 400px; }
.meta { color: #444; margin: 4px 0; }
.note { color: #666; font-size: 13px; margin: 4px 0 8px; }
.bad { color: #b00; }
.badge { font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 9px; vertical-align: middle; }
.badge.good { background: #e3f4e3; color: #1d6b1d; }
.badge.bad { background: #fbe3e3; color: #a00; }
.badge.warn { background: #fff1d6; color: #8a5a00; }
ul.problems { color: #a00; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
thead th { background: #f3f3f3; }
td.n { text-align: right; white-space: nowrap; }
table.keys th { background: #f7f7f7; white-space: nowrap; }
caption { text-align: left; color: #444; padding: 4px 0; }
figure.chart { margin: 8px 0 16px; }
figcaption { font-weight: 600; font-size: 13px; margin-bottom: 4px; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 12px 24px; }
.plot { width: 100%; }
details.run { border: 1px solid #ddd; border-radius: 6px; padding: 4px 12px; margin: 8px 0; }
details.run > summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
svg { width: 100%; height: auto; max-width: 960px; font: 12px system-ui, sans-serif; }
svg .grid { stroke: #e4e4e4; }
svg .axis { stroke: #999; }
svg .tick, svg .axis-label { fill: #333; }
svg .box rect, svg .swatch, svg .bar rect { fill: var(--c); fill-opacity: 0.35; stroke: var(--c); }
svg .box .whisker { stroke: var(--c); }
svg .box .median { stroke: var(--c); stroke-width: 2.5; }
svg .box .max { fill: var(--c); }
#busbench-status { display: none; }
${PALETTE.map((colour, i) => `.c${i} { --c: ${colour}; }`).join('\n')}
`;

export interface PageContent {
  title: string;
  /** the summary under the title: what the report holds */
  intro: string;
  /** the sections, HTML */
  body: string;
  charts: LineChart[];
  embedded: EmbeddedReport;
}

export async function pageHtml(content: PageContent): Promise<string> {
  const uplot = await uplotAssets();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="busbench ${esc(content.embedded.busbench)}">
<title>${esc(content.title)}</title>
<style>${inline(uplot.css)}</style>
<style>${inline(CSS)}</style>
</head>
<body>
<h1>${esc(content.title)}</h1>
<p class="meta">${content.intro}</p>
${content.body}
<pre id="busbench-status">{}</pre>
<script type="application/json" id="busbench-charts">${jsonForScript({ palette: PALETTE, charts: content.charts })}</script>
<script type="application/json" id="busbench-data">${jsonForScript(content.embedded)}</script>
<script>${inline(uplot.script)}</script>
<script>${inline(pageScript())}</script>
</body>
</html>
`;
}
