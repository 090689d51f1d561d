/** The console side of a limit search: a line per step as it goes, a table of steps and the conclusion at the end. */
import Table from 'cli-table3';
import type { LimitEvent } from '../limit/find-limit.js';
import type { LimitResult, LimitStep } from '../model/index.js';

function rate(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function latencyText(step: LimitStep): string {
  return step.verdict.latency.map((l) => `${l.percentile >= 100 ? 'max' : `p${l.percentile}`} ${l.worstMs.toFixed(1)} ms`).join(', ');
}

function outcome(step: LimitStep): string {
  if (step.generatorSaturated) return 'GENERATOR SATURATED';
  return step.held ? 'held' : 'failed';
}

export function limitProgressPrinter(stream: NodeJS.WriteStream = process.stderr): (event: LimitEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'bus-ready':
        stream.write(`bus: ${event.description} at ${event.urls.join(', ')}\n`);
        break;
      case 'step-start':
        stream.write(`step ${event.step}: offering ${rate(event.ratePerSec)} msg/s (${rate(event.ratePerSender)}/s per sender)…\n`);
        break;
      case 'step-done': {
        const step = event.step;
        const why = step.generatorSaturated ? step.generatorReasons.join('; ') : step.verdict.misses.join('; ');
        stream.write(
          `step ${step.step}: ${outcome(step)} at ${rate(step.ratePerSec)} msg/s: ${latencyText(step)}, ${step.verdict.timeouts} timeouts${why ? ` (${why})` : ''}\n`,
        );
        break;
      }
      case 'run':
        if (event.event.type === 'log' && event.event.level !== 'info') stream.write(`${event.event.level}: ${event.event.message}\n`);
        break;
    }
  };
}

export function limitSummaryText(result: LimitResult): string {
  const latencyHeads = result.steps[0]?.verdict.latency.map((l) => `${l.percentile >= 100 ? 'max' : `p${l.percentile}`} ms (< ${l.maxMs})`) ?? [];
  const table = new Table({
    head: ['step', 'offered msg/s', 'per sender', 'sent/s', 'completed/s', ...latencyHeads, 'timeouts', 'errors', 'lost', 'outcome'],
    style: { head: [], border: [], compact: true },
  });
  for (const step of [...result.steps].sort((a, b) => a.ratePerSec - b.ratePerSec)) {
    table.push([
      String(step.step),
      rate(step.ratePerSec),
      rate(step.ratePerSender),
      rate(step.sentPerSec),
      rate(step.completedPerSec),
      ...step.verdict.latency.map((l) => l.worstMs.toFixed(1)),
      String(step.verdict.timeouts),
      String(step.verdict.errors),
      String(step.verdict.lost),
      outcome(step),
    ]);
  }
  return [
    `busbench ${result.busbench} · limit search · ${result.scenario} · objective ${result.objective}`,
    `bus: ${result.bus.description} at ${result.bus.urls.join(', ')}`,
    table.toString(),
    `limit: ${result.conclusion}`,
    ...(result.directory ? [`results: ${result.directory}/limit.json (each step's run in its own directory beside it)`] : []),
  ].join('\n');
}
