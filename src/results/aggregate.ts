/** Merging workers' group snapshots into results: per (role, pattern), per role, per worker. */
import { encodeHistogram, newHistogram, summarize, summarizeEach, decodeHistogram, type Histogram } from '../metrics/histogram.js';
import { addCounters, emptyCounters, groupKey, PATTERN_INDEX, payloadBytesPerSec, throughputPerSec } from '../metrics/stats.js';
import { LEGS, type GroupSnapshot, type LegName, type Role, type GroupResult } from '../model/index.js';

const ROLE_ORDER: Record<Role, number> = { client: 0, server: 1, notifier: 2, listener: 3 };

function toResult(group: GroupSnapshot, histogram: Histogram | undefined, measuredMs: number, legs: Partial<Record<LegName, Histogram>> = {}): GroupResult {
  const summary = summarize(histogram);
  const legResults = summarizeEach(LEGS, legs);
  return {
    role: group.role,
    pattern: group.pattern,
    agents: group.agents,
    counters: group.counters,
    throughputPerSec: throughputPerSec(group.counters, measuredMs),
    payloadBytesPerSec: Math.round(payloadBytesPerSec(group.counters, measuredMs)),
    ...(summary ? { latency: summary } : {}),
    ...(histogram && histogram.totalCount > 0 ? { histogram: encodeHistogram(histogram) } : {}),
    ...(Object.keys(legResults).length > 0 ? { legs: legResults } : {}),
  };
}

function sortGroups(groups: GroupResult[]): GroupResult[] {
  return groups.sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || patternOrder(a.pattern) - patternOrder(b.pattern));
}

/**
 * Merge snapshots that share a key. `keyOf` picks the grouping: (role,
 * pattern) for the main table, role alone for the overall rows.
 */
export function mergeGroups(snapshots: GroupSnapshot[], measuredMs: number, keyOf: (g: GroupSnapshot) => string = (g) => groupKey(g.role, g.pattern)): GroupResult[] {
  const merged = new Map<string, { snapshot: GroupSnapshot; histogram?: Histogram; legs: Partial<Record<LegName, Histogram>> }>();
  for (const snapshot of snapshots) {
    const key = keyOf(snapshot);
    let entry = merged.get(key);
    if (!entry) {
      entry = { snapshot: { role: snapshot.role, pattern: snapshot.pattern, counters: emptyCounters(), agents: 0 }, legs: {} };
      merged.set(key, entry);
    }
    addCounters(entry.snapshot.counters, snapshot.counters);
    entry.snapshot.agents += snapshot.agents;
    if (snapshot.histogram) (entry.histogram ??= newHistogram()).add(decodeHistogram(snapshot.histogram));
    for (const [name, encoded] of Object.entries(snapshot.legs ?? {}) as [LegName, string][]) (entry.legs[name] ??= newHistogram()).add(decodeHistogram(encoded));
  }
  return sortGroups([...merged.values()].map((e) => toResult(e.snapshot, e.histogram, measuredMs, e.legs)));
}

function patternOrder(pattern: GroupResult['pattern']): number {
  return pattern === 'all' ? -1 : PATTERN_INDEX[pattern];
}

/** Per role over all its patterns ("all"); `agents` is the number of agents of the role that started. */
export function mergeByRole(snapshots: GroupSnapshot[], measuredMs: number, agentsByRole: Record<Role, number>): GroupResult[] {
  return mergeGroups(snapshots, measuredMs, (g) => g.role).map((g) => ({ ...g, pattern: 'all' as const, agents: agentsByRole[g.role] }));
}
