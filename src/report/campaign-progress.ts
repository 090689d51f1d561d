/**
 * A campaign on the console: a line per run with its position, parameters
 * and the ETA of the rest, the going run's own progress line (see
 * progress.ts), and at the end a table of every run.
 */
import Table from 'cli-table3';
import { describeParameters } from '../campaign/grid.js';
import type { Campaign } from '../campaign/file.js';
import type { CampaignEvent, CampaignOutcome } from '../campaign/run-campaign.js';
import type { RunEvent } from '../runner/run.js';
import type { LiveRun } from '../live/aggregate.js';
import { formatEta, progressPrinter } from './progress.js';

function bar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export { formatEta };

/**
 * `liveOf`: the live view of the run going, when the caller keeps one (and feeds it) for others too (exporters): the
 * run's line reads it instead of decoding the same histograms a second time.
 */
export function campaignProgressPrinter(
  stream: NodeJS.WriteStream = process.stderr,
  liveOf: () => LiveRun | undefined = () => undefined,
): (event: CampaignEvent) => void {
  let total = 0;
  let finished = 0;
  let runProgress: ((event: RunEvent) => void) | undefined;
  return (event) => {
    switch (event.type) {
      case 'run-event':
        runProgress?.(event.event);
        break;
      case 'plan':
        total = event.total;
        finished = event.done;
        stream.write(`campaign: ${event.total} runs, ${event.done} already finished (skipped); results in ${event.directory}\n`);
        break;
      case 'run-start':
        stream.write(
          `${bar(finished, total)} ${finished}/${total} · run ${event.run.id} (${describeParameters(event.run.parameters) || 'base scenario'})` +
            `${event.etaMs !== undefined ? ` · ETA ${formatEta(event.etaMs)}` : ''}\n`,
        );
        {
          const live = liveOf();
          runProgress = progressPrinter(stream, { prefix: `  [${finished + 1}/${total}]`, ...(live ? { live } : {}) });
        }
        break;
      case 'run-done': {
        finished++;
        const figures = event.record.summary
          .map((g) => `${g.pattern} ${g.throughputPerSec}/s${g.p99Us !== undefined ? ` p99 ${(g.p99Us / 1000).toFixed(1)} ms` : ''}`)
          .join(', ');
        stream.write(`  done in ${formatEta(event.record.durationMs)}: ${figures}\n`);
        break;
      }
      case 'run-failed':
        stream.write(`  FAILED: ${event.error} (rerun the campaign to retry it)\n`);
        break;
      case 'budget':
        stream.write(
          `budget: ${formatEta(event.leftMs)} left, a run takes about ${formatEta(event.estimateMs)}; stopping with ${event.remaining} run(s) to go (rerun to continue)\n`,
        );
        break;
    }
  };
}

const cell = (value: number | undefined, digits = 1): string => (value === undefined ? '-' : value.toFixed(digits));

/**
 * Every run of the campaign, in campaign order: finished (now or before),
 * failed, or still to run; per finished run its senders' figures as done.json
 * records them (a row per client or notifier group).
 */
export function campaignRunsTable(campaign: Campaign, outcome: CampaignOutcome): string {
  const finished = new Map(outcome.finished.map((record) => [record.id, record]));
  const failed = new Map(outcome.failed.map((f) => [f.id, f.error]));
  const table = new Table({
    head: ['#', 'run', 'parameters', 'status', 'time', 'group', 'msg/s', 'p50 ms', 'p99 ms', 'errors', 'timeouts'],
    style: { head: [], border: [] },
    colAligns: ['right', 'left', 'left', 'left', 'right', 'left', 'right', 'right', 'right', 'right', 'right'],
  });
  for (const run of campaign.runs) {
    const record = finished.get(run.id);
    const base = [String(run.index + 1), run.id, describeParameters(run.parameters) || '(base scenario)'];
    if (!record) {
      const error = failed.get(run.id);
      table.push([...base, error ? `FAILED: ${error.slice(0, 60)}` : 'not run', '-', '-', '-', '-', '-', '-', '-']);
      continue;
    }
    const groups = record.summary.length > 0 ? record.summary : [undefined];
    for (const [i, g] of groups.entries()) {
      table.push([
        ...(i === 0 ? [...base, 'finished', formatEta(record.durationMs)] : ['', '', '', '', '']),
        g ? `${g.role}/${g.pattern}` : '-',
        g ? g.throughputPerSec.toFixed(0) : '-',
        cell(g?.p50Us !== undefined ? g.p50Us / 1000 : undefined, 2),
        cell(g?.p99Us !== undefined ? g.p99Us / 1000 : undefined, 2),
        g ? String(g.errors) : '-',
        g ? String(g.timeouts) : '-',
      ]);
    }
  }
  return table.toString();
}
