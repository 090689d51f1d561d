/** A campaign on the console: a line per run with its position, parameters and the ETA of the rest. */
import { describeParameters } from '../campaign/grid.js';
import type { CampaignEvent } from '../campaign/run-campaign.js';

export function formatEta(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function bar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export function campaignProgressPrinter(stream: NodeJS.WriteStream = process.stderr): (event: CampaignEvent) => void {
  let total = 0;
  let finished = 0;
  return (event) => {
    switch (event.type) {
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
