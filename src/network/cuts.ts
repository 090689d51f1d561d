/**
 * Links that go down during a run: scheduled dropouts (a site pair down
 * for Y every X) and partitions (some sites cut from all others for a
 * while). A cut is an nft table of its own on every host of both sides,
 * dropping whatever goes to or comes from the other side's hosts, so
 * TCP sees silence, as on a dead WAN link, not a refusal; restoring
 * deletes the table. Overlapping cuts have tables of their own and do
 * not undo each other.
 */
import type { PlannedCommand } from './plan.js';
import type { CutWindow, Dropout, Partition } from '../model/index.js';

export interface CutHost {
  name: string;
  site: string;
  address: string;
}

const TABLE = /^[a-z][a-z0-9_]{0,30}$/;

/** The nft commands that cut `pairs` on every host concerned, and those that restore them. */
export function cutCommands(hosts: CutHost[], pairs: [string, string][], table: string): { host: string; apply: PlannedCommand[]; undo: PlannedCommand[] }[] {
  if (!TABLE.test(table)) throw new Error(`nft table "${table}": a lowercase letter, then letters, digits or "_"`);
  const out: { host: string; apply: PlannedCommand[]; undo: PlannedCommand[] }[] = [];
  for (const host of hosts) {
    const others = new Set<string>();
    for (const [a, b] of pairs) {
      if (host.site === a) others.add(b);
      if (host.site === b) others.add(a);
    }
    const addresses = hosts.filter((h) => others.has(h.site)).map((h) => h.address);
    if (addresses.length === 0) continue;
    const set = ['{', addresses.join(', '), '}'];
    out.push({
      host: host.name,
      apply: [
        { argv: ['nft', 'add', 'table', 'inet', table], why: `${host.name}: table for the cut` },
        {
          argv: ['nft', 'add', 'chain', 'inet', table, 'out', '{', 'type', 'filter', 'hook', 'output', 'priority', '0', ';', '}'],
          why: `${host.name}: outgoing`,
        },
        {
          argv: ['nft', 'add', 'chain', 'inet', table, 'in', '{', 'type', 'filter', 'hook', 'input', 'priority', '0', ';', '}'],
          why: `${host.name}: incoming`,
        },
        { argv: ['nft', 'add', 'rule', 'inet', table, 'out', 'ip', 'daddr', ...set, 'drop'], why: `${host.name}: nothing to ${[...others].join(', ')}` },
        { argv: ['nft', 'add', 'rule', 'inet', table, 'in', 'ip', 'saddr', ...set, 'drop'], why: `${host.name}: nothing from ${[...others].join(', ')}` },
        // A bus link relayed in user space (bus-link-relays.ts) was dialed to the other side but goes to the relay: its conntrack entry still names the other side.
        {
          argv: ['nft', 'add', 'rule', 'inet', table, 'out', 'ct', 'original', 'ip', 'daddr', ...set, 'drop'],
          why: `${host.name}: nothing to ${[...others].join(', ')} through a relay`,
        },
        {
          argv: ['nft', 'add', 'rule', 'inet', table, 'in', 'ct', 'original', 'ip', 'daddr', ...set, 'drop'],
          why: `${host.name}: nothing from ${[...others].join(', ')} through a relay`,
        },
      ],
      undo: [{ argv: ['nft', 'delete', 'table', 'inet', table], why: `${host.name}: end of the cut` }],
    });
  }
  return out;
}

/**
 * The cuts of a run, in time order, up to `horizonMs` into the measured
 * phase (its duration; for a run bounded by a message count, as far ahead
 * as it could last).
 */
export function cutWindows(dropouts: Dropout[], partitions: Partition[], sites: string[], horizonMs: number): CutWindow[] {
  const windows: CutWindow[] = [];
  for (const d of dropouts) {
    for (let at = d.firstMs; at < horizonMs; at += d.everyMs)
      windows.push({ kind: 'dropout', label: `${d.sites[0]}↔${d.sites[1]}`, pairs: [d.sites], atMs: at, forMs: d.forMs });
  }
  for (const p of partitions) {
    if (p.atMs >= horizonMs) continue;
    const rest = sites.filter((s) => !p.isolate.includes(s));
    windows.push({
      kind: 'partition',
      label: `isolate ${p.isolate.join(', ')}`,
      pairs: p.isolate.flatMap((a) => rest.map((b): [string, string] => [a, b])),
      atMs: p.atMs,
      forMs: p.forMs,
    });
  }
  return windows.sort((x, y) => x.atMs - y.atMs);
}
