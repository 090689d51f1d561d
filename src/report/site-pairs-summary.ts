/**
 * The console's site × site matrices: for each (role, pattern) a run with
 * sites has pairs for, one row per sending site and one column per receiving
 * site, each cell the count and p50 (round trip for calls at the clients,
 * one-way for what servers and listeners received), and per row the share
 * that stayed in its own site (of those whose receiving end is known).
 */
import Table from 'cli-table3';
import type { PairResult, RunResult } from '../model/index.js';

const UNKNOWN = '(unstamped)';

function formatMs(us: number | undefined): string {
  if (us === undefined) return '-';
  const ms = us / 1000;
  return ms < 10 ? ms.toFixed(2) : ms < 1000 ? ms.toFixed(1) : ms.toFixed(0);
}

function describeSide(rows: PairResult[]): string {
  const { role, pattern } = rows[0]!;
  return role === 'client'
    ? `${pattern} calls answered, caller's site → answering server's site: count · p50 round trip ms`
    : `${pattern} received at ${role}s, sender's site → ${role}'s site: count · p50 one-way ms`;
}

export function sitePairLines(result: RunResult): string[] {
  const pairs = result.sitePairs?.bySite;
  if (!pairs || pairs.length === 0) return [];
  const lines = ['where messages went, by site:'];
  const sections = new Map<string, PairResult[]>();
  for (const pair of pairs) {
    const key = `${pair.role}/${pair.pattern}`;
    let rows = sections.get(key);
    if (!rows) sections.set(key, (rows = []));
    rows.push(pair);
  }
  const known = result.topology?.sites.map((s) => s.name) ?? [];
  for (const rows of sections.values()) {
    const place = (name: string | null): string => name ?? UNKNOWN;
    const columns = [...new Set([...known.filter((s) => rows.some((r) => r.to === s)), ...rows.map((r) => place(r.to))])];
    const senders = [...new Set([...known.filter((s) => rows.some((r) => r.from === s)), ...rows.map((r) => place(r.from))])];
    const table = new Table({ head: ['from \\ to', ...columns, 'own site'], style: { head: [], border: [] } });
    for (const from of senders) {
      const mine = rows.filter((r) => place(r.from) === from);
      // Of the messages whose other end is known, as the locality figures count them.
      const total = mine.filter((r) => r.to !== null).reduce((sum, r) => sum + r.count, 0);
      const own = mine.filter((r) => r.to !== null && r.to === r.from).reduce((sum, r) => sum + r.count, 0);
      table.push([
        from,
        ...columns.map((to) => {
          const cell = mine.find((r) => place(r.to) === to);
          if (!cell) return '-';
          const leg = cell.role === 'client' ? cell.legs.roundTrip : cell.legs.request;
          return `${cell.count.toLocaleString('en-US')} · ${formatMs(leg?.p50Us)}`;
        }),
        from === UNKNOWN || total === 0 ? '-' : `${((own / total) * 100).toFixed(1)} %`,
      ]);
    }
    lines.push(`  ${describeSide(rows)}`, table.toString());
  }
  const locality = result.sitePairs?.locality ?? [];
  const percent = (share: number): string => `${(share * 100).toFixed(1)} %`;
  for (const pattern of [...new Set(locality.map((l) => l.pattern))]) {
    const all = locality.find((l) => l.pattern === pattern && l.callerSite === 'all');
    if (!all) continue;
    const order = result.topology?.sites.map((s) => s.name) ?? [];
    const rank = (site: string): number => (order.includes(site) ? order.indexOf(site) : order.length);
    // In the topology's order of sites, as the matrix rows.
    const perSite = locality
      .filter((l) => l.pattern === pattern && l.callerSite !== 'all' && l.calls > 0)
      .sort((a, b) => rank(a.callerSite) - rank(b.callerSite) || a.callerSite.localeCompare(b.callerSite));
    lines.push(
      `locality of ${pattern} calls: ${percent(all.ownSite)} answered in the caller's own site (${perSite
        .map((l) => `${l.callerSite} ${percent(l.ownSite)}`)
        .join(
          ', ',
        )}), ${percent(all.otherSite)} in another (${percent(all.oneHop)} one hop away${all.fartherHops > 0 ? `, ${percent(all.fartherHops)} farther` : ''}); ${all.meanConfiguredDelayMs.toFixed(1)} ms of configured delay between caller's and server's site, both ways, on average` +
        (all.unknownSite > 0 ? `; ${all.unknownSite.toLocaleString('en-US')} answered by servers that stamp no host, not counted` : ''),
    );
  }
  const paths = result.sitePairs?.paths ?? [];
  for (const pattern of [...new Set(paths.map((p) => p.pattern))]) {
    lines.push(
      `paths of ${pattern} requests, by the sites they crossed: ${paths
        .filter((p) => p.pattern === pattern)
        .map(
          (p) =>
            `${p.sites.join(' → ')}${p.queueSite !== undefined && p.queueSite !== p.from && p.queueSite !== p.to ? ` (queue on ${p.queueSite})` : ''} ${p.calls.toLocaleString('en-US')}`,
        )
        .join('; ')}`,
    );
  }
  const mechanisms = (result.topology?.network?.mechanisms ?? []) as { mechanism?: string; property?: string }[];
  const busLinks = result.topology?.network?.busLinks ?? [];
  if ((result.topology?.busSites.length ?? 0) > 1 && mechanisms.some((m) => m.property === 'delay' && m.mechanism === 'userspace-relay')) {
    lines.push(
      busLinks.length > 0
        ? `  (delay here is added in user space: on agents' connections to another site's bus node, and on ${busLinks.length} of the bus's own connections between sites, ${[...new Set(busLinks.map((l) => l.what))].join(', ')})`
        : "  (delay here is added in user space on the agents' connections to their bus node, not between bus nodes: a message crossing from one bus node to another crossed no configured delay)",
    );
  }
  lines.push(...queueLines(result));
  return lines;
}

/** Where the run's queues lived, by site: every message crossed its queue's node. */
function queueLines(result: RunResult): string[] {
  const queues = result.sitePairs?.queues;
  if (!queues) {
    return result.scenario?.bus.kind === 'rabbitmq'
      ? ["where the queues lived: not read (busbench reads it from RabbitMQ's management API: set bus.management: true on a bus it deploys)"]
      : [];
  }
  const bySite = new Map<string, string[]>();
  const fanouts = new Map<string, number>();
  for (const q of queues) {
    const site = q.site ?? `node ${q.node}`;
    // One fanout queue per server: counted, not named.
    if (/_fanout_/.test(q.queue)) fanouts.set(site, (fanouts.get(site) ?? 0) + 1);
    else bySite.set(site, [...(bySite.get(site) ?? []), q.queue]);
  }
  const fanoutText = [...fanouts].map(([site, n]) => `${site} ${n}`).join(', ');
  return [
    `where the queues lived (quorum queues: their leader), by site: ${[...bySite].map(([site, names]) => `${site}: ${names.join(', ')}`).join('; ') || 'none'}` +
      (fanoutText ? `; fanout queues: ${fanoutText}` : ''),
  ];
}
