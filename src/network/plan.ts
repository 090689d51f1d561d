/**
 * Network constraints between sites as commands, the EnOSlib way: on each
 * host's interface an htb root, one class per destination host in a
 * constrained site (its rate, or unlimited), under it a netem qdisc with
 * the delay, jitter and loss, and a u32 filter on the destination address
 * steering traffic into it. Traffic to hosts of its own site, or of sites
 * without a constraint, takes the default class untouched.
 *
 * Where the kernel has no netem (these machines), each part of a
 * constraint goes to what the kernel has: rate stays on htb, loss becomes
 * an nft rule dropping at random, and delay and jitter are left to a
 * user-space relay; the plan says which mechanism carries each part.
 *
 * Pure: values are validated, commands are argument arrays (never shell
 * strings), and each host's commands come with the ones that undo them.
 */
import type { LinkConstraint } from '../model/index.js';

export interface NetworkHost {
  name: string;
  site: string;
  /** the interface towards the other sites */
  device: string;
  /** IPv4 address other hosts reach it at */
  address: string;
}

export interface KernelCapabilities {
  netem: boolean;
  /** nft with numgen (random drop) */
  nft: boolean;
}

export type Mechanism = 'netem' | 'htb' | 'nft' | 'userspace-relay';

export interface PlannedCommand {
  argv: string[];
  /** what it is for, for logs and dry runs */
  why: string;
}

export interface HostPlan {
  host: string;
  apply: PlannedCommand[];
  /** run in order on every exit path; each may fail harmlessly when its apply step never ran */
  undo: PlannedCommand[];
}

export interface NetworkPlan {
  hosts: HostPlan[];
  /** per constrained direction and property: which mechanism carries it */
  mechanisms: { from: string; to: string; property: 'delay' | 'jitter' | 'loss' | 'rate'; value: number; mechanism: Mechanism }[];
  /** directions whose delay (and jitter) a user-space relay must add, as the kernel cannot */
  relayed: { from: string; to: string; delayMs: number; jitterMs: number }[];
}

export class NetworkPlanError extends Error {
  override readonly name = 'NetworkPlanError';
}

const DEVICE = /^[A-Za-z0-9_.-]{1,15}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const NAME = /^[A-Za-z0-9_.-]+$/;
/** htb's rate for "no limit": far above any link these hosts have */
const UNLIMITED = '10gbit';
/** htb derives a class's quantum from its rate; at 10gbit that is too big and tc warns, so it is given */
const UNLIMITED_QUANTUM = ['quantum', '60000'];
/** nft table busbench owns, so removing it removes every rule it added */
export const NFT_TABLE = 'busbench';

function check(condition: boolean, message: string): void {
  if (!condition) throw new NetworkPlanError(message);
}

function validate(hosts: NetworkHost[], constraints: LinkConstraint[]): void {
  const sites = new Set(hosts.map((h) => h.site));
  const names = new Set<string>();
  for (const host of hosts) {
    check(NAME.test(host.name), `host "${host.name}": a name may contain only letters, digits, "_", "." and "-"`);
    check(!names.has(host.name), `host "${host.name}" is listed twice`);
    names.add(host.name);
    check(NAME.test(host.site), `host ${host.name}: site "${host.site}" may contain only letters, digits, "_", "." and "-"`);
    check(DEVICE.test(host.device), `host ${host.name}: device "${host.device}" is not an interface name (1-15 letters, digits, "_", "." or "-")`);
    check(IPV4.test(host.address), `host ${host.name}: address "${host.address}" is not an IPv4 address`);
  }
  const seen = new Set<string>();
  for (const c of constraints) {
    const link = `${c.from} → ${c.to}`;
    check(sites.has(c.from) && sites.has(c.to), `link ${link}: both ends must be sites with hosts (sites: ${[...sites].join(', ')})`);
    check(c.from !== c.to, `link ${link}: a site's traffic to itself is not constrained`);
    check(!seen.has(link), `link ${link} is constrained twice`);
    seen.add(link);
    const range = (value: number | undefined, what: string, min: number, max: number): void =>
      check(
        value === undefined || (Number.isFinite(value) && value >= min && value <= max),
        `link ${link}: ${what} must be between ${min} and ${max}, got ${value}`,
      );
    range(c.delayMs, 'delay (ms)', 0, 60_000);
    range(c.jitterMs, 'jitter (ms)', 0, 60_000);
    range(c.lossPercent, 'loss (%)', 0, 100);
    range(c.rateMbit, 'rate (Mbit/s)', 0.001, 100_000);
    check(c.jitterMs === undefined || c.jitterMs === 0 || (c.delayMs ?? 0) > 0, `link ${link}: jitter varies a delay; give delay too`);
  }
}

/** tc and nft want plain decimals: 0.5, not 5e-1. */
function decimal(value: number): string {
  return String(Number(value.toFixed(6)));
}

export function buildNetworkPlan(hosts: NetworkHost[], constraints: LinkConstraint[], kernel: KernelCapabilities): NetworkPlan {
  validate(hosts, constraints);
  const plan: NetworkPlan = { hosts: [], mechanisms: [], relayed: [] };
  const active = constraints.filter((c) => c.delayMs || c.jitterMs || c.lossPercent || c.rateMbit);
  for (const c of active) {
    const note = (property: 'delay' | 'jitter' | 'loss' | 'rate', value: number | undefined, mechanism: Mechanism): void => {
      if (value) plan.mechanisms.push({ from: c.from, to: c.to, property, value, mechanism });
    };
    note('rate', c.rateMbit, 'htb');
    note('delay', c.delayMs, kernel.netem ? 'netem' : 'userspace-relay');
    note('jitter', c.jitterMs, kernel.netem ? 'netem' : 'userspace-relay');
    if (c.lossPercent) {
      check(kernel.netem || kernel.nft, `link ${c.from} → ${c.to}: loss needs netem or nft, and this kernel has neither`);
      note('loss', c.lossPercent, kernel.netem ? 'netem' : 'nft');
    }
    if (!kernel.netem && (c.delayMs || c.jitterMs)) plan.relayed.push({ from: c.from, to: c.to, delayMs: c.delayMs ?? 0, jitterMs: c.jitterMs ?? 0 });
  }
  for (const host of hosts) {
    const outgoing = active.filter((c) => c.from === host.site);
    if (outgoing.length === 0) continue;
    const dev = host.device;
    const apply: PlannedCommand[] = [];
    const undo: PlannedCommand[] = [];
    const shaped = outgoing.filter((c) => c.rateMbit || (kernel.netem && (c.delayMs || c.jitterMs || c.lossPercent)));
    if (shaped.length > 0) {
      // Class 1:1 is the default: everything not steered elsewhere goes through it unlimited.
      apply.push({ argv: ['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '1'], why: `${host.name}: htb root on ${dev}` });
      apply.push({
        argv: ['tc', 'class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:1', 'htb', 'rate', UNLIMITED, ...UNLIMITED_QUANTUM],
        why: `${host.name}: default class, unlimited`,
      });
      undo.push({ argv: ['tc', 'qdisc', 'del', 'dev', dev, 'root'], why: `${host.name}: remove the htb root and all under it` });
      let minor = 10;
      for (const c of shaped) {
        for (const destination of hosts.filter((h) => h.site === c.to)) {
          const classid = `1:${minor}`;
          const rate = c.rateMbit ? `${decimal(c.rateMbit)}mbit` : UNLIMITED;
          apply.push({
            argv: [
              'tc',
              'class',
              'add',
              'dev',
              dev,
              'parent',
              '1:',
              'classid',
              classid,
              'htb',
              'rate',
              rate,
              'ceil',
              rate,
              ...(c.rateMbit ? [] : UNLIMITED_QUANTUM),
            ],
            why: `${host.name} → ${destination.name} (${c.to}): rate ${rate}`,
          });
          if (kernel.netem && (c.delayMs || c.jitterMs || c.lossPercent)) {
            const netem = ['netem'];
            if (c.delayMs || c.jitterMs) netem.push('delay', `${decimal(c.delayMs ?? 0)}ms`, ...(c.jitterMs ? [`${decimal(c.jitterMs)}ms`] : []));
            if (c.lossPercent) netem.push('loss', `${decimal(c.lossPercent)}%`);
            apply.push({
              argv: ['tc', 'qdisc', 'add', 'dev', dev, 'parent', classid, 'handle', `${minor}:`, ...netem],
              why: `${host.name} → ${destination.name}: ${netem.slice(1).join(' ')}`,
            });
          }
          apply.push({
            argv: [
              'tc',
              'filter',
              'add',
              'dev',
              dev,
              'parent',
              '1:',
              'protocol',
              'ip',
              'prio',
              '1',
              'u32',
              'match',
              'ip',
              'dst',
              `${destination.address}/32`,
              'flowid',
              classid,
            ],
            why: `${host.name}: traffic to ${destination.address} into ${classid}`,
          });
          minor++;
        }
      }
    }
    const dropped = kernel.netem ? [] : outgoing.filter((c) => c.lossPercent);
    if (dropped.length > 0) {
      apply.push({ argv: ['nft', 'add', 'table', 'inet', NFT_TABLE], why: `${host.name}: busbench's own nft table` });
      apply.push({
        argv: ['nft', 'add', 'chain', 'inet', NFT_TABLE, 'output', '{', 'type', 'filter', 'hook', 'output', 'priority', '0', ';', '}'],
        why: `${host.name}: output chain`,
      });
      for (const c of dropped) {
        // numgen over 1,000,000 gives loss to a ten-thousandth of a percent.
        const threshold = Math.round((c.lossPercent! / 100) * 1_000_000);
        for (const destination of hosts.filter((h) => h.site === c.to)) {
          apply.push({
            argv: [
              'nft',
              'add',
              'rule',
              'inet',
              NFT_TABLE,
              'output',
              'ip',
              'daddr',
              destination.address,
              'numgen',
              'random',
              'mod',
              '1000000',
              '<',
              String(threshold),
              'drop',
            ],
            why: `${host.name} → ${destination.name}: drop ${decimal(c.lossPercent!)}% at random`,
          });
        }
      }
      undo.push({ argv: ['nft', 'delete', 'table', 'inet', NFT_TABLE], why: `${host.name}: remove busbench's nft table and its rules` });
    }
    if (apply.length > 0) plan.hosts.push({ host: host.name, apply, undo });
  }
  return plan;
}
