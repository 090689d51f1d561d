/**
 * RabbitMQ on the hosts of a placement: one node per bus site, clustered
 * when there are several. On this machine (the local provider, or network
 * namespaces) the nodes are this process's children; elsewhere each runs
 * under the bus node entry (src/entries/bus-node.ts) on its host. An amqp1 bus without routers is
 * the same nodes with the AMQP 1.0 plugin, reached by amqp:// URLs.
 */
import { randomBytes } from 'node:crypto';
import type { BusConfig } from '../../model/index.js';
import type { BusHost } from '../host.js';
import type { BusNode, BusPlacement, DeployedBus } from '../plugin.js';
import { discoveryNodes, startRabbitCluster } from './cluster.js';
import { fetchQueuePlacement, type ManagementEndpoint, type QueuePlacement } from './management.js';
import { startLocalRabbit, type LocalRabbit } from './node.js';
import { remoteLifecycle, startRemoteBusNode, type RemoteBusNode } from '../remote-node.js';
import type { RabbitNodeFacts } from './hosted.js';

/** The protocol agents speak to the nodes: RabbitMQ's own, or AMQP 1.0 through its plugin (the amqp1 bus without routers). */
export type RabbitProtocol = 'amqp-0-9-1' | 'amqp-1.0';

/** The plugins a deployed broker needs: AMQP 1.0 when agents speak it, management when asked for. */
export function brokerPlugins(bus: BusConfig, protocol: RabbitProtocol): string[] {
  return [...(protocol === 'amqp-1.0' ? ['rabbitmq_amqp1_0'] : []), ...(bus.management ? ['rabbitmq_management'] : [])];
}

/** A node's management API, as the resource sampler reads it (guest may log in from any address: loopback_users is none). */
export function managementOf(broker: LocalRabbit): { name: string } & ManagementEndpoint {
  return {
    name: broker.nodeName,
    url: `${broker.url.replace(/^amqp:\/\/[^@]*@([^:/]+):\d+\/$/, 'http://$1')}:${broker.managementPort}/`,
    user: 'guest',
    password: 'guest',
  };
}

function localNode(broker: LocalRabbit, url: string, host: string, site: string | undefined): BusNode {
  return {
    name: broker.nodeName,
    kind: 'broker',
    ...(site !== undefined ? { site } : {}),
    host,
    url,
    pid: () => broker.beamPid(),
    stop: () => broker.stop(),
    kill: () => broker.kill(),
    pause: () => broker.pause(),
    resume: () => broker.resume(),
    restart: () => broker.restart(),
  };
}

function remoteNode(node: RemoteBusNode<RabbitNodeFacts>, url: string): BusNode {
  // The host's pid: the sampler reads it through that host's process reader.
  return { name: node.report.nodeName, kind: 'broker', site: node.site, host: node.host, url, ...remoteLifecycle(node) };
}

export async function deployRabbit(bus: BusConfig, placement: BusPlacement, protocol: RabbitProtocol = 'amqp-0-9-1'): Promise<DeployedBus> {
  const here = placement.sites.filter((s) => s.host.thisMachine);
  if (here.length === placement.sites.length)
    return placement.topology ? deployOnNamespaces(bus, placement, protocol) : deployEmbedded(bus, placement, protocol);
  if (here.length === 0) return deployRemote(bus, placement, protocol);
  throw new Error(
    `the bus sites ${here.map((s) => s.site).join(', ')} are on this machine and the others are not: a RabbitMQ cluster is deployed one way, on hosts of one provider`,
  );
}

/**
 * What the run leaves in the bus's statistics: where every queue lives, by node and by the node's
 * site (quorum queues by their leader), read from the management API when the run ends.
 */
async function queueStatistics(
  endpoint: ManagementEndpoint,
  siteOfNode: ReadonlyMap<string, string>,
): Promise<{ queues: (QueuePlacement & { site?: string })[] }> {
  const queues = await fetchQueuePlacement(endpoint);
  return { queues: queues.map((q) => ({ ...q, ...(siteOfNode.has(q.node) ? { site: siteOfNode.get(q.node)! } : {}) })) };
}

/** The embedded default: one node on this host's loopback. */
async function deployEmbedded(bus: BusConfig, placement: BusPlacement, protocol: RabbitProtocol): Promise<DeployedBus> {
  const amqp1 = protocol === 'amqp-1.0';
  const [{ site, host }] = placement.sites as [{ site: string; host: BusHost }];
  const broker = await startLocalRabbit({
    ...(placement.logsDir ? { keepLogsIn: placement.logsDir } : {}),
    plugins: brokerPlugins(bus, protocol),
    address: host.address,
  });
  const url = amqp1 ? broker.amqp1Url : broker.transportUrl;
  return {
    urls: [url],
    endpoints: { [site]: url },
    embedded: true,
    description: `a local RabbitMQ ${broker.version}${amqp1 ? ' with its AMQP 1.0 plugin' : ''}`,
    nodes: [localNode(broker, url, host.name, undefined)],
    ...(broker.managementPort
      ? { management: [managementOf(broker)], statistics: () => queueStatistics(managementOf(broker), new Map([[broker.nodeName, site]])) }
      : {}),
    stop: () => broker.stop(),
  };
}

/** A node per bus site in the namespace of the site's host, clustered. */
async function deployOnNamespaces(bus: BusConfig, placement: BusPlacement, protocol: RabbitProtocol): Promise<DeployedBus> {
  const amqp1 = protocol === 'amqp-1.0';
  const nodes = placement.sites.map(({ site, host }) => ({ site, host: host.name, netns: host.thisMachine!.netns ?? '', address: host.address }));
  if (nodes.some((n) => !n.netns)) throw new Error('a RabbitMQ cluster on this machine needs a network namespace per node (provider netns)');
  const cluster = await startRabbitCluster(nodes, {
    plugins: brokerPlugins(bus, protocol),
    ...(placement.logsDir ? { keepLogsIn: placement.logsDir } : {}),
    ...(placement.relayLinks ? { relayLinks: placement.relayLinks } : {}),
  });
  const urlOf = (n: LocalRabbit): string => (amqp1 ? n.amqp1Url : n.transportUrl);
  const endpoints = Object.fromEntries(nodes.map((n, i) => [n.site, urlOf(cluster.nodes[i]!)]));
  const busSites = nodes.map((n) => n.site);
  return {
    urls: Object.values(endpoints),
    endpoints,
    embedded: true,
    description:
      nodes.length > 1
        ? `a ${nodes.length}-node RabbitMQ ${cluster.version} cluster on sites ${busSites.join(', ')}`
        : `RabbitMQ ${cluster.version} on site ${busSites[0]}`,
    facts: { nodes: cluster.nodes.map((n, i) => ({ site: nodes[i]!.site, node: n.nodeName, url: urlOf(n) })) },
    nodes: cluster.nodes.map((n, i) => localNode(n, urlOf(n), nodes[i]!.host, nodes[i]!.site)),
    ...(bus.management
      ? {
          management: cluster.nodes.map(managementOf),
          statistics: () => queueStatistics(managementOf(cluster.nodes[0]!), new Map(cluster.nodes.map((n, i) => [n.nodeName, nodes[i]!.site]))),
        }
      : {}),
    stop: () => cluster.stop(),
  };
}

/** A node per bus site under the bus node entry on the site's host; the first boots alone, the others join it. */
async function deployRemote(bus: BusConfig, placement: BusPlacement, protocol: RabbitProtocol): Promise<DeployedBus> {
  const nodes = placement.sites;
  const busSites = nodes.map((n) => n.site);
  if (new Set(nodes.map((n) => n.host.address)).size !== nodes.length) {
    throw new Error(
      `each RabbitMQ cluster node needs a machine of its own (the nodes are rabbit@<address>, and share one epmd port): bus sites ${busSites.join(', ')} have hosts at the same address; give them hosts of their own in the inventory, or list one bus site`,
    );
  }
  const plugins = brokerPlugins(bus, protocol);
  const baseFlags = (address: string): string[] => ['rabbitmq', '--address', address, ...(plugins.length > 0 ? ['--plugins', plugins.join(',')] : [])];
  const started: RemoteBusNode<RabbitNodeFacts>[] = [];
  const stopAll = async (list: RemoteBusNode<RabbitNodeFacts>[]): Promise<void> => void (await Promise.all(list.map((n) => n.stop())));
  try {
    if (nodes.length === 1) {
      const [only] = nodes;
      started.push(await startRemoteBusNode<RabbitNodeFacts>(only!.host, baseFlags(only!.host.address), only!.site));
    } else {
      const cookie = randomBytes(16).toString('hex').toUpperCase();
      const names = nodes.map((n) => `rabbit@${n.host.address}`);
      // The first node boots alone and picks the epmd port on its host; the others then join it at that port.
      const first = await startRemoteBusNode<RabbitNodeFacts>(
        nodes[0]!.host,
        [...baseFlags(nodes[0]!.host.address), '--cluster-json', JSON.stringify({ nodeName: names[0], cookie, nodes: discoveryNodes(names, 0) })],
        nodes[0]!.site,
      );
      started.push(first);
      const rest = await Promise.allSettled(
        nodes
          .slice(1)
          .map((n, i) =>
            startRemoteBusNode<RabbitNodeFacts>(
              n.host,
              [
                ...baseFlags(n.host.address),
                '--cluster-json',
                JSON.stringify({ nodeName: names[i + 1], cookie, epmdPort: first.report.epmdPort, nodes: discoveryNodes(names, i + 1) }),
              ],
              n.site,
            ),
          ),
      );
      for (const outcome of rest) if (outcome.status === 'fulfilled') started.push(outcome.value);
      const failed = rest.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason as Error;
    }
  } catch (error) {
    await stopAll(started);
    throw error;
  }
  const amqp1 = protocol === 'amqp-1.0';
  const urlOf = (n: RemoteBusNode<RabbitNodeFacts>): string => (amqp1 ? n.report.amqp1Url : n.report.transportUrl);
  const endpoints = Object.fromEntries(started.map((n) => [n.site, urlOf(n)]));
  const version = started[0]!.report.version;
  const reachedBy = nodes[0]!.host.reachedBy ? ` ${nodes[0]!.host.reachedBy}` : '';
  return {
    urls: Object.values(endpoints),
    endpoints,
    embedded: true,
    description:
      started.length > 1
        ? `a ${started.length}-node RabbitMQ ${version} cluster on sites ${busSites.join(', ')}${reachedBy}`
        : `RabbitMQ ${version} on site ${busSites[0]} (${started[0]!.host}${reachedBy ? `,${reachedBy}` : ''})`,
    facts: { nodes: started.map((n) => ({ site: n.site, host: n.host, node: n.report.nodeName, url: urlOf(n), pid: n.pid() })) },
    nodes: started.map((n) => remoteNode(n, urlOf(n))),
    stop: () => stopAll(started),
  };
}
