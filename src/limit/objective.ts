/**
 * A latency objective, written as people say it: "p99<50ms,timeouts=0".
 * Clauses: pNN<time (any percentile, e.g. p50, p99.9), max<time,
 * timeouts=N, errors=N, lost=N (at most N over a step).
 */
import type { GroupResult, Objective, RunResult, Verdict } from '../model/index.js';
import { decodeHistogram, percentileUs } from '../metrics/histogram.js';
import { latencySeenBySenders } from '../analysis/metrics.js';
import { parseDuration } from '../scenario/duration.js';

export const DEFAULT_OBJECTIVE = 'p99<50ms,timeouts=0,errors=0';

export class ObjectiveError extends Error {
  override readonly name = 'ObjectiveError';
}

const COUNT_CLAUSES = { timeouts: 'maxTimeouts', errors: 'maxErrors', lost: 'maxLost' } as const;

export function parseObjective(text: string): Objective {
  const objective: Objective = { text: '', latency: [] };
  const clauses = text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (clauses.length === 0) throw new ObjectiveError(`an objective needs at least one clause, e.g. ${DEFAULT_OBJECTIVE}`);
  for (const clause of clauses) {
    const latency = /^(p(\d+(?:\.\d+)?)|max)\s*<\s*(.+)$/i.exec(clause);
    if (latency) {
      const percentile = latency[2] !== undefined ? Number(latency[2]) : 100;
      if (!(percentile > 0 && percentile <= 100)) throw new ObjectiveError(`"${clause}": a percentile is between 0 and 100 (p50, p99, p99.9)`);
      let maxMs: number;
      try {
        maxMs = parseDuration(latency[3]!.trim());
      } catch (error) {
        throw new ObjectiveError(`"${clause}": ${(error as Error).message}`);
      }
      objective.latency.push({ percentile, maxMs });
      continue;
    }
    const count = /^(timeouts|errors|lost)\s*(=|<=)\s*(\d+)$/i.exec(clause);
    if (count) {
      objective[COUNT_CLAUSES[count[1]!.toLowerCase() as keyof typeof COUNT_CLAUSES]] = Number(count[3]);
      continue;
    }
    throw new ObjectiveError(
      `"${clause}" is not an objective clause: write pNN<time (p99<50ms, p99.9<200ms), max<time, timeouts=N, errors=N or lost=N, joined by commas`,
    );
  }
  objective.text = [
    ...objective.latency.map((l) => `${l.percentile === 100 ? 'max' : `p${l.percentile}`}<${l.maxMs}ms`),
    ...countText('timeouts', objective.maxTimeouts),
    ...countText('errors', objective.maxErrors),
    ...countText('lost', objective.maxLost),
  ].join(',');
  return objective;
}

function countText(name: string, max: number | undefined): string[] {
  if (max === undefined) return [];
  return [max === 0 ? `${name}=0` : `${name}<=${max}`];
}

function sum(groups: GroupResult[], pick: (g: GroupResult) => number): number {
  return groups.reduce((total, g) => total + pick(g), 0);
}

export function judge(result: RunResult, objective: Objective): Verdict {
  const senders = result.groups.filter((g) => g.role === 'client' || g.role === 'notifier');
  const timeouts = sum(senders, (g) => g.counters.timeouts);
  const errors = sum(senders, (g) => g.counters.errors);
  const lost = Object.values(result.delivery ?? {}).reduce((total, d) => total + (d?.lost ?? 0), 0);
  const misses: string[] = [];
  const groups = latencySeenBySenders(result).map((g) => ({ pattern: g.pattern, histogram: decodeHistogram(g.encoded) }));
  const latency = objective.latency.map(({ percentile, maxMs }) => {
    let worstMs = 0;
    let pattern = '-';
    for (const group of groups) {
      const ms = (percentile >= 100 ? group.histogram.maxValue : percentileUs(group.histogram, percentile)) / 1000;
      if (ms >= worstMs) {
        worstMs = ms;
        pattern = group.pattern;
      }
    }
    const label = percentile >= 100 ? 'max' : `p${percentile}`;
    if (groups.length === 0) misses.push(`${label}: no latency was recorded`);
    else if (worstMs >= maxMs) misses.push(`${label} ${worstMs.toFixed(1)} ms (${pattern}) is not below ${maxMs} ms`);
    return { percentile, maxMs, worstMs, pattern };
  });
  if (objective.maxTimeouts !== undefined && timeouts > objective.maxTimeouts) misses.push(`${timeouts} timeouts (at most ${objective.maxTimeouts})`);
  if (objective.maxErrors !== undefined && errors > objective.maxErrors) misses.push(`${errors} errors (at most ${objective.maxErrors})`);
  if (objective.maxLost !== undefined && lost > objective.maxLost) misses.push(`${lost} lost (at most ${objective.maxLost})`);
  return { passed: misses.length === 0, misses, latency, timeouts, errors, lost };
}
