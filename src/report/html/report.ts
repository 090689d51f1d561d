/**
 * `busbench report` as HTML: the campaigns given (their sweep views, then
 * their runs folded), then the runs given on their own, in one page with
 * every result embedded.
 */
import type { LoadedInputs } from '../../results/read.js';
import { runLabel } from '../../results/read.js';
import { campaignSection } from './campaign-section.js';
import { embeddedReport } from './embedded.js';
import { esc } from './escape.js';
import { pageHtml } from './page.js';
import { ChartRegistry, runSection } from './run-section.js';

function title(inputs: LoadedInputs, standalone: number): string {
  if (inputs.campaigns.length === 1 && standalone === 0) return `busbench report: campaign ${inputs.campaigns[0]!.name}`;
  if (inputs.campaigns.length === 0 && standalone === 1) {
    const result = inputs.runs[0]!.result;
    return `busbench report: ${result.scenario.name} (${result.id})`;
  }
  const parts = [...(inputs.campaigns.length ? [`${inputs.campaigns.length} campaign(s)`] : []), ...(standalone ? [`${standalone} run(s)`] : [])];
  return `busbench report: ${parts.join(', ')}`;
}

/** The whole report page for what loadInputs read. */
export async function htmlReport(inputs: LoadedInputs, options: { fileName?: string } = {}): Promise<string> {
  const registry = new ChartRegistry();
  const standalone = inputs.runs.filter((r) => !r.campaign || !inputs.campaigns.some((c) => c.directory === r.campaign!.directory));
  const sections: { anchor: string; label: string; html: string }[] = [];
  inputs.campaigns.forEach((campaign, i) => {
    const anchor = `campaign-${i + 1}`;
    sections.push({
      anchor,
      label: `campaign ${campaign.name}`,
      html: campaignSection(campaign, anchor, registry, (runId) => `${anchor}-run-${runId}`),
    });
  });
  standalone.forEach((run, i) => {
    const anchor = `run-${i + 1}`;
    sections.push({ anchor, label: runLabel(run), html: runSection(run.result, { id: anchor, label: runLabel(run), directory: run.directory }, registry) });
  });
  const contents =
    sections.length > 1 ? `<ul class="contents">${sections.map((s) => `<li><a href="#${s.anchor}">${esc(s.label)}</a></li>`).join('')}</ul>` : '';
  const embedded = embeddedReport(inputs);
  const file = options.fileName ?? 'report.html';
  const intro =
    esc(
      `${[
        ...(inputs.campaigns.length ? [`${inputs.campaigns.length} campaign(s) of ${embedded.runs.length - standalone.length} run(s)`] : []),
        ...(standalone.length ? [`${standalone.length} run(s)${inputs.campaigns.length ? ' on their own' : ''}`] : []),
      ].join(' and ')}; made ${embedded.createdAt} by busbench ${embedded.busbench}. Every run's results, histograms included, are inside this file: `,
    ) + `<code>${esc(`busbench report --extract ${file} -o <dir>`)}</code> writes them back as run and campaign directories.`;
  return pageHtml({
    title: title(inputs, standalone.length),
    intro,
    body: contents + sections.map((s) => `<section id="${s.anchor}">${s.html}</section>`).join('\n'),
    charts: registry.charts,
    embedded,
  });
}
