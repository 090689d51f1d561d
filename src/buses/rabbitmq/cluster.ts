/**
 * A RabbitMQ cluster of N nodes, each a plain rabbitmq-server process on a
 * host of its own (a network namespace here), joined by classic peer
 * discovery. The first node boots alone; the others start as soon as its
 * Erlang VM is up and join it once it runs, so the cluster forms once.
 * Membership is checked through AMQP itself: a queue declared on the first
 * node must be visible on every other.
 */
import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import { runCommand } from '../../network/command.js';
import type { BusLink } from '../../network/bus-link-relays.js';
import { join } from 'node:path';
import { freePort, tail } from '../../util/process.js';
import { startLocalRabbit, type LocalRabbit } from './node.js';

export interface ClusterNodeSpec {
  /** the bus site the node serves, and its host's name */
  site: string;
  host: string;
  /** network namespace of the node's host */
  netns: string;
  /** the host's address: the node is rabbit@<address> */
  address: string;
}

export interface RabbitCluster {
  nodes: LocalRabbit[];
  version: string;
  stop(): Promise<void>;
}

const JOIN_TIMEOUT_MS = 30_000;

/**
 * The nodes node `i` of a cluster lists for classic peer discovery. The
 * first knows only itself: listing peers that are not up yet makes it retry
 * them for some 5 s before it boots alone. Any other knows the first, which
 * it joins, and itself.
 */
export function discoveryNodes(names: string[], i: number): string[] {
  return i === 0 ? [names[0]!] : [names[0]!, names[i]!];
}

export async function startRabbitCluster(
  specs: ClusterNodeSpec[],
  options: { plugins?: string[]; keepLogsIn?: string; relayLinks?: (links: BusLink[]) => Promise<void> } = {},
): Promise<RabbitCluster> {
  if (specs.length === 0) throw new Error('a RabbitMQ cluster needs at least one node');
  if (new Set(specs.map((s) => s.netns)).size !== specs.length) {
    throw new Error(
      'each RabbitMQ cluster node needs a host of its own (its epmd takes the same port on every host): put the nodes on different sites or hosts',
    );
  }
  const cookie = randomBytes(16).toString('hex').toUpperCase();
  // One epmd port for the whole cluster: a node finds its peers' epmd at that port on their hosts.
  const epmdPort = await freePort();
  const names = specs.map((s) => `rabbit@${s.address}`);
  // Chosen here, not by each node, so that every node's connections to the others can be relayed before any dials.
  const distPorts = await Promise.all(specs.map(() => freePort()));
  if (specs.length > 1 && options.relayLinks) {
    // Either node of a pair may dial the other (net_kernel connects on demand): both directions.
    await options.relayLinks(
      specs.flatMap((from, i) =>
        specs.flatMap((to, j) =>
          i === j ? [] : [{ from: from.site, fromHost: from.host, to: to.site, address: to.address, port: distPorts[j]!, what: 'Erlang distribution' }],
        ),
      ),
    );
  }
  const start = (spec: ClusterNodeSpec, i: number): Promise<LocalRabbit> =>
    startLocalRabbit({
      netns: spec.netns,
      address: spec.address,
      distPort: distPorts[i]!,
      // A joining node retries discovery every 500 ms, for up to 30 s, until the first runs and it can join.
      cluster: { nodeName: names[i]!, cookie, epmdPort, nodes: discoveryNodes(names, i) },
      ...(i > 0 ? { extraConfig: { 'cluster_formation.discovery_retry_limit': '60', 'cluster_formation.discovery_retry_interval': '500' } } : {}),
      ...(options.plugins ? { plugins: options.plugins } : {}),
      ...(options.keepLogsIn ? { keepLogsIn: `${options.keepLogsIn}/${spec.address}` } : {}),
    });
  const nodes: LocalRabbit[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    // The others start once the first's Erlang VM is up (registered in its epmd, about 1 s in), not once it is
    // ready (about 5 s): they boot while it boots, and join it when it runs. Started together from the beginning,
    // nodes could each find no running peer and form clusters of their own.
    const first = start(specs[0]!, 0);
    const registered = await Promise.race([untilRegistered(specs[0]!, epmdPort), first.then(() => true)]);
    const all = await Promise.allSettled([first, ...(registered ? specs.slice(1).map((spec, i) => start(spec, i + 1)) : [])]);
    for (const outcome of all) if (outcome.status === 'fulfilled') nodes.push(outcome.value);
    const failed = all.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason as Error;
    await checkMembership(nodes);
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, version: nodes[0]!.version, stop };
}

/** Whether the node's VM registered with its host's epmd within the start timeout (false: it will fail on its own). */
async function untilRegistered(spec: ClusterNodeSpec, epmdPort: number): Promise<boolean> {
  const deadline = Date.now() + JOIN_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const names = await runCommand(['ip', 'netns', 'exec', spec.netns, 'epmd', '-port', String(epmdPort), '-names']).catch(() => '');
    if (/^name rabbit at port/m.test(names)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** A queue declared on the first node is visible from every other once they have joined. */
async function checkMembership(nodes: LocalRabbit[]): Promise<void> {
  if (nodes.length < 2) return;
  const queue = `busbench.cluster-check.${randomBytes(4).toString('hex')}`;
  const first = await amqplib.connect(nodes[0]!.url);
  try {
    const channel = await first.createChannel();
    await channel.assertQueue(queue, { durable: false, autoDelete: false });
    const deadline = Date.now() + JOIN_TIMEOUT_MS;
    for (const node of nodes.slice(1)) {
      for (;;) {
        const connection = await amqplib.connect(node.url);
        // A passive declare of a queue the node does not know closes the channel: catch that, not the connection.
        connection.on('error', () => undefined);
        const seen = await connection
          .createChannel()
          .then((ch) => ch.checkQueue(queue))
          .then(
            () => true,
            () => false,
          );
        await connection.close().catch(() => undefined);
        if (seen) break;
        if (Date.now() > deadline)
          // Its log goes when the node is stopped (unless kept): the error carries its end.
          throw new Error(
            `RabbitMQ node ${node.nodeName} did not join the cluster of ${nodes[0]!.nodeName} within ${JOIN_TIMEOUT_MS / 1000} s. The end of its log:\n${await tail(join(node.baseDir, 'log', `${node.nodeName}.log`))}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    await channel.deleteQueue(queue);
  } finally {
    await first.close().catch(() => undefined);
  }
}
