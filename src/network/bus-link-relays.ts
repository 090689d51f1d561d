/**
 * Delay on the bus's own links between sites, where the kernel has no
 * netem: the connections one bus node opens to another (Erlang
 * distribution between RabbitMQ nodes, inter-router links) go through a
 * user-space delay relay, as the agents' connections to a far bus node
 * already do. Without this, a message that crosses from one site's node
 * to another's would cross no configured delay at all.
 *
 * Bus nodes dial their peers by the address and port the peers listen on,
 * which busbench cannot rewrite for every protocol (an Erlang node is
 * named by its address). So the dialing node's namespace gets an nft
 * `dnat` rule that turns that one address and port into a relay's, and
 * the relay, in this process on the sites' gateway, dials the real peer
 * with the delay of the link each way. Every value that goes into a
 * command is checked first: an IPv4 address, a port, a namespace name.
 */
import { startDelayRelay, type DelayRelay } from './delay-relay.js';
import type { BusLinkRecord } from '../model/index.js';
import type { PlannedCommand } from './plan.js';

/** One connection a bus node opens to another's: the node on host `fromHost` (site `from`) dials `address:port` (site `to`). */
export interface BusLink {
  from: string;
  fromHost: string;
  to: string;
  address: string;
  port: number;
  /** what the connection is, for the log and the results: "Erlang distribution", "inter-router link" */
  what: string;
}

/** A bus link as relayed (as the results record it), with what crossed it so far as live counters. */
export type RelayedBusLink = Omit<BusLinkRecord, keyof DelayRelay['stats']> & { stats: DelayRelay['stats'] };

/** The directions whose delay user space must add (NetworkPlan.relayed). */
export type RelayedDirection = { from: string; to: string; delayMs: number; jitterMs: number };

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const TABLE = 'busbench_links';

function checkLink(link: BusLink): void {
  if (!IPV4.test(link.address)) throw new Error(`bus link ${link.from} → ${link.to} (${link.what}): "${link.address}" is not an IPv4 address`);
  if (!Number.isInteger(link.port) || link.port < 1 || link.port > 65535)
    throw new Error(`bus link ${link.from} → ${link.to} (${link.what}): port must be 1 … 65535, got ${link.port}`);
}

/** The nft commands that send one host's connections to `address:port` to the relay at `via` instead (the table first, once per host). */
export function redirectCommands(target: { address: string; port: number }, via: { address: string; port: number }, withTable: boolean): PlannedCommand[] {
  for (const [what, a] of [
    ['target', target],
    ['relay', via],
  ] as const) {
    if (!IPV4.test(a.address)) throw new Error(`${what} "${a.address}" is not an IPv4 address`);
    if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) throw new Error(`${what} port must be 1 … 65535, got ${a.port}`);
  }
  return [
    ...(withTable
      ? [
          { argv: ['nft', 'add', 'table', 'ip', TABLE], why: 'table for the bus links through delay relays' },
          {
            // dstnat priority: before the filter hooks, so a cut's rules see the connection as it was dialed (ct original)
            argv: ['nft', 'add', 'chain', 'ip', TABLE, 'out', '{', 'type', 'nat', 'hook', 'output', 'priority', '-100', ';', '}'],
            why: 'outgoing connections, before routing',
          },
        ]
      : []),
    {
      argv: [
        'nft',
        'add',
        'rule',
        'ip',
        TABLE,
        'out',
        'ip',
        'daddr',
        target.address,
        'tcp',
        'dport',
        String(target.port),
        'dnat',
        'to',
        `${via.address}:${via.port}`,
      ],
      why: `${target.address}:${target.port} through the relay at ${via.address}:${via.port}`,
    },
  ];
}

/**
 * Relays every link one of whose directions has delay to add, in this process at `gateway`,
 * with the redirect on the dialing host (`run` runs a command there). A link with no delay
 * either way is left direct. stop() removes the redirects and stops the relays; safe to call twice.
 */
export async function relayBusLinks(
  links: readonly BusLink[],
  options: { relayed: readonly RelayedDirection[]; gateway: string; run: (host: string, argv: string[]) => Promise<unknown> },
): Promise<{ relayed: RelayedBusLink[]; stop(): Promise<void> }> {
  for (const link of links) checkLink(link);
  const relays: DelayRelay[] = [];
  const hostsWithTable = new Set<string>();
  const relayed: RelayedBusLink[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const host of hostsWithTable) await options.run(host, ['nft', 'delete', 'table', 'ip', TABLE]).catch(() => undefined);
    await Promise.all(relays.map((r) => r.stop()));
  };
  try {
    for (const [i, link] of links.entries()) {
      const forward = options.relayed.find((r) => r.from === link.from && r.to === link.to);
      const backward = options.relayed.find((r) => r.from === link.to && r.to === link.from);
      if (!forward && !backward) continue;
      const jitterMs = Math.max(forward?.jitterMs ?? 0, backward?.jitterMs ?? 0);
      const relay = await startDelayRelay({
        listenHost: options.gateway,
        targetHost: link.address,
        targetPort: link.port,
        forwardDelayMs: forward?.delayMs ?? 0,
        backwardDelayMs: backward?.delayMs ?? 0,
        jitterMs,
        seed: i + 1,
      });
      relays.push(relay);
      const withTable = !hostsWithTable.has(link.fromHost);
      hostsWithTable.add(link.fromHost);
      for (const command of redirectCommands({ address: link.address, port: link.port }, { address: relay.host, port: relay.port }, withTable)) {
        await options.run(link.fromHost, command.argv);
      }
      relayed.push({
        from: link.from,
        to: link.to,
        what: link.what,
        target: `${link.address}:${link.port}`,
        via: `${relay.host}:${relay.port}`,
        forwardDelayMs: forward?.delayMs ?? 0,
        backwardDelayMs: backward?.delayMs ?? 0,
        jitterMs,
        stats: relay.stats,
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { relayed, stop };
}
