/**
 * The workers' host-pair figures merged into results: per (role, pattern,
 * from, to) over every worker and host, once by host and once by site (a
 * host's site from the run's topology). Histograms merge as every other
 * group's do, so a pair's percentiles are over all its messages.
 */
import { decodeHistogram, newHistogram, summarizeEach, type Histogram } from '../metrics/histogram.js';
import { PATTERN_INDEX } from '../metrics/stats.js';
import { breadthFirst, shortestPath } from '../util/graph.js';
import { PAIR_LEGS, type CallLocality, type PairLegName, type PairResult, type PairSnapshot, type Role, type SitePairs, type UnicastPath } from '../model/index.js';

const ROLE_ORDER: Record<Role, number> = { client: 0, server: 1, notifier: 2, listener: 3 };

interface Merged {
  role: Role;
  pattern: PairSnapshot['pattern'];
  from: string | null;
  to: string | null;
  count: number;
  legs: Partial<Record<PairLegName, Histogram>>;
}

function merge(snapshots: PairSnapshot[], place: (host: string | null) => string | null, measuredMs: number): PairResult[] {
  const merged = new Map<string, Merged>();
  for (const snapshot of snapshots) {
    const from = place(snapshot.from);
    const to = place(snapshot.to);
    // JSON of the tuple: host and site names may hold any character but cannot collide this way.
    const key = JSON.stringify([snapshot.role, snapshot.pattern, from, to]);
    let entry = merged.get(key);
    if (!entry) merged.set(key, (entry = { role: snapshot.role, pattern: snapshot.pattern, from, to, count: 0, legs: {} }));
    entry.count += snapshot.count;
    for (const [name, encoded] of Object.entries(snapshot.legs) as [PairLegName, string][]) (entry.legs[name] ??= newHistogram()).add(decodeHistogram(encoded));
  }
  const byName = (a: string | null, b: string | null): number => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a.localeCompare(b));
  return [...merged.values()]
    .sort(
      (a, b) =>
        ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || PATTERN_INDEX[a.pattern] - PATTERN_INDEX[b.pattern] || byName(a.from, b.from) || byName(a.to, b.to),
    )
    .map((m) => ({
      role: m.role,
      pattern: m.pattern,
      from: m.from,
      to: m.to,
      count: m.count,
      throughputPerSec: measuredMs > 0 ? (m.count / measuredMs) * 1000 : 0,
      legs: summarizeEach(PAIR_LEGS, m.legs),
    }));
}

/**
 * Hops between sites along the topology's links (either direction), breadth first. Two sites no
 * chain of links joins are one hop apart: nothing constrains the way between them, it is direct.
 */
export function siteHops(links: readonly { from: string; to: string }[]): (from: string, to: string) => number {
  const edges = links.map((l): [string, string] => [l.from, l.to]);
  return (from, to) => breadthFirst(from, edges).get(to)?.hops ?? 1;
}

/** Own-site, one-hop and farther shares of the calls answered, per call pattern, per caller site and over all callers. */
export function callLocality(
  bySite: PairResult[],
  delayMs: (from: string, to: string) => number = () => 0,
  hops: (from: string, to: string) => number = (from, to) => (from === to ? 0 : 1),
): CallLocality[] {
  const out: CallLocality[] = [];
  const calls = bySite.filter((r) => r.role === 'client' && r.pattern.startsWith('call'));
  for (const pattern of [...new Set(calls.map((r) => r.pattern))]) {
    const rows = calls.filter((r) => r.pattern === pattern);
    const callerSites = [...new Set(rows.map((r) => r.from).filter((s): s is string => s !== null))];
    for (const callerSite of [...callerSites, 'all']) {
      const mine = callerSite === 'all' ? rows : rows.filter((r) => r.from === callerSite);
      const known = mine.filter((r) => r.to !== null && r.from !== null);
      const total = known.reduce((sum, r) => sum + r.count, 0);
      const own = known.filter((r) => r.to === r.from).reduce((sum, r) => sum + r.count, 0);
      const oneHop = known.filter((r) => r.to !== r.from && hops(r.from!, r.to!) === 1).reduce((sum, r) => sum + r.count, 0);
      const delayed = known.reduce((sum, r) => sum + r.count * (delayMs(r.from!, r.to!) + delayMs(r.to!, r.from!)), 0);
      out.push({
        pattern,
        callerSite,
        calls: total,
        ownSite: total > 0 ? own / total : 0,
        otherSite: total > 0 ? (total - own) / total : 0,
        oneHop: total > 0 ? oneHop / total : 0,
        fartherHops: total > 0 ? (total - own - oneHop) / total : 0,
        unknownSite: mine.filter((r) => r.to === null).reduce((sum, r) => sum + r.count, 0),
        meanConfiguredDelayMs: total > 0 ? delayed / total : 0,
      });
    }
  }
  return out;
}

/**
 * `siteOf`: each host's site; a host it does not know keeps its own name as its place.
 * `links`: the topology's constrained links, one per direction, for the configured delay.
 */
export function mergeSitePairs(
  snapshots: PairSnapshot[],
  siteOf: ReadonlyMap<string, string>,
  measuredMs: number,
  links: readonly { from: string; to: string; delayMs?: number }[] = [],
): SitePairs {
  const bySite = merge(snapshots, (host) => (host === null ? null : (siteOf.get(host) ?? host)), measuredMs);
  return {
    note:
      'client rows: calls answered, from where the caller is to where the server that answered is; server and listener rows: messages received, from where the sender is to where the receiver is ' +
      '(a multicast cast once per receiver). null: unknown, the message or reply carried no busbench stamp (an oslo peer). ' +
      'Legs: request one-way at the receiver, round trip and reply one-way at the caller, µs, corrected for clock offsets as the groups are.',
    bySite,
    byHost: merge(snapshots, (host) => host, measuredMs),
    locality: callLocality(bySite, (from, to) => links.find((l) => l.from === from && l.to === to)?.delayMs ?? 0, siteHops(links)),
  };
}

/** The sites from `from` to `to` along `edges` (breadth first, fewest hops); without edges, or no way along them, directly. */
function routeAlong(edges: readonly (readonly [string, string])[] | undefined, from: string, to: string): string[] {
  if (from === to) return [from];
  return (edges && shortestPath(from, to, edges)) ?? [from, to];
}

/**
 * The sites each unicast call's request crossed: the caller's, the node holding the server's queue
 * when known (RabbitMQ: every message crosses its queue's node), and the server's, each step along
 * the bus's links between sites (`siteEdges`: a router mesh's; absent: every node reaches every
 * other directly, as a cluster's do). From the client rows by host, so `queueSiteOfHost` (the site
 * of the queue of the servers on a host, when they share one) can name the queue.
 */
export function unicastPaths(
  byHost: readonly PairResult[],
  siteOf: ReadonlyMap<string, string>,
  options: { siteEdges?: readonly (readonly [string, string])[]; queueSiteOfHost?: (host: string) => string | undefined } = {},
): UnicastPath[] {
  const merged = new Map<string, UnicastPath>();
  for (const row of byHost) {
    if (row.role !== 'client' || !row.pattern.endsWith('unicast') || row.from === null || row.to === null) continue;
    const from = siteOf.get(row.from) ?? row.from;
    const to = siteOf.get(row.to) ?? row.to;
    const queueSite = options.queueSiteOfHost?.(row.to);
    const stops = [from, ...(queueSite !== undefined ? [queueSite] : []), to];
    const sites = stops.slice(1).reduce<string[]>((path, stop) => [...path, ...routeAlong(options.siteEdges, path.at(-1)!, stop).slice(1)], [from]);
    const key = `${row.pattern} ${sites.join(' ')}`;
    const entry = merged.get(key);
    if (entry) entry.calls += row.count;
    else merged.set(key, { pattern: row.pattern, from, to, ...(queueSite !== undefined ? { queueSite } : {}), sites, calls: row.count });
  }
  return [...merged.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.sites.length - b.sites.length);
}
