/**
 * A RabbitMQ cluster of N nodes, each a plain rabbitmq-server process on a
 * host of its own (a network namespace here), joined by classic peer
 * discovery: every node's rabbitmq.conf lists all nodes. The first node
 * boots alone, then the others boot at once and join it, so the cluster
 * never forms twice. Membership is checked through AMQP itself: a queue
 * declared on the first node must be visible on every other.
 */
import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import { freePort, startLocalRabbit, type LocalRabbit } from './rabbitmq-local.js';

export interface ClusterNodeSpec {
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

export async function startRabbitCluster(specs: ClusterNodeSpec[], options: { plugins?: string[]; keepLogsIn?: string } = {}): Promise<RabbitCluster> {
  if (specs.length === 0) throw new Error('a RabbitMQ cluster needs at least one node');
  if (new Set(specs.map((s) => s.netns)).size !== specs.length) {
    throw new Error('each RabbitMQ cluster node needs a host of its own (its epmd takes the same port on every host): put the nodes on different sites or hosts');
  }
  const cookie = randomBytes(16).toString('hex').toUpperCase();
  // One epmd port for the whole cluster: a node finds its peers' epmd at that port on their hosts.
  const epmdPort = await freePort();
  const names = specs.map((s) => `rabbit@${s.address}`);
  const start = (spec: ClusterNodeSpec, i: number): Promise<LocalRabbit> =>
    startLocalRabbit({
      netns: spec.netns,
      address: spec.address,
      // The first node knows only itself: listing peers that are not up yet makes it retry them for some 5 s before it boots alone.
      cluster: { nodeName: names[i]!, cookie, epmdPort, nodes: i === 0 ? [names[0]!] : names },
      ...(options.plugins ? { plugins: options.plugins } : {}),
      ...(options.keepLogsIn ? { keepLogsIn: `${options.keepLogsIn}/${spec.address}` } : {}),
    });
  const nodes: LocalRabbit[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    nodes.push(await start(specs[0]!, 0));
    const rest = await Promise.allSettled(specs.slice(1).map((spec, i) => start(spec, i + 1)));
    for (const outcome of rest) if (outcome.status === 'fulfilled') nodes.push(outcome.value);
    const failed = rest.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason as Error;
    await checkMembership(nodes);
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, version: nodes[0]!.version, stop };
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
        if (Date.now() > deadline) throw new Error(`RabbitMQ node ${node.nodeName} did not join the cluster of ${nodes[0]!.nodeName} within ${JOIN_TIMEOUT_MS / 1000} s (see its log)`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    await channel.deleteQueue(queue);
  } finally {
    await first.close().catch(() => undefined);
  }
}
