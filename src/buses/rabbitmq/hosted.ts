/**
 * One RabbitMQ node under a bus node host (../node-host.ts), on a host
 * busbench reaches over ssh: `bus-node rabbitmq --address A [--cluster-json
 * J] [--plugins P]`. deploy.ts starts it on each bus site's host.
 */
import { Command } from 'commander';
import { freePort } from '../../util/process.js';
import type { HostedNode } from '../node-host.js';
import { startLocalRabbit } from './node.js';

export interface BusNodeCluster {
  /** long node name, rabbit@<address> */
  nodeName: string;
  cookie: string;
  /** the same on every node; absent for the first node, which picks a free one and reports it */
  epmdPort?: number;
  /** every node to discover: the first node lists only itself */
  nodes: string[];
}

/** What a hosted RabbitMQ node's ready report says beyond its pid. */
export interface RabbitNodeFacts {
  transportUrl: string;
  amqp1Url: string;
  nodeName: string;
  epmdPort: number;
  version: string;
}

/** The --cluster-json flag, checked field by field so a bad one says what is wrong rather than failing inside the broker. */
export function parseClusterJson(text: string): BusNodeCluster {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`--cluster-json is not JSON: ${(error as Error).message}`);
  }
  const cluster = value as Partial<BusNodeCluster> | null;
  const problems: string[] = [];
  if (typeof cluster !== 'object' || cluster === null || Array.isArray(cluster))
    throw new Error('--cluster-json must be an object {nodeName, cookie, epmdPort?, nodes}');
  if (typeof cluster.nodeName !== 'string' || !cluster.nodeName.includes('@')) problems.push('nodeName must be a node name such as rabbit@192.0.2.10');
  if (typeof cluster.cookie !== 'string' || !/^[A-Za-z0-9]{1,255}$/.test(cluster.cookie)) problems.push('cookie must be letters and digits');
  if (cluster.epmdPort !== undefined && !(Number.isInteger(cluster.epmdPort) && cluster.epmdPort > 0 && cluster.epmdPort < 65536))
    problems.push('epmdPort must be a port number');
  if (!Array.isArray(cluster.nodes) || cluster.nodes.length === 0 || !cluster.nodes.every((n) => typeof n === 'string' && n.includes('@')))
    problems.push('nodes must list node names');
  if (problems.length > 0) throw new Error(`--cluster-json: ${problems.join('; ')}`);
  return cluster as BusNodeCluster;
}

function flagsOf(argv: string[]): { address: string; cluster?: BusNodeCluster; plugins: string[] } {
  const program = new Command('bus-node rabbitmq')
    .description('one RabbitMQ node on this host for a busbench on another')
    .requiredOption('--address <address>', 'IPv4 address the node listens on and is reached at')
    .option('--cluster-json <json>', 'cluster membership: {"nodeName", "cookie", "epmdPort", "nodes": [...]}')
    .option('--plugins <list>', 'comma-separated RabbitMQ plugins to enable (rabbitmq_amqp1_0 for an amqp1 bus)', '')
    .exitOverride()
    .parse(argv, { from: 'user' });
  const flags = program.opts<{ address: string; clusterJson?: string; plugins: string }>();
  return {
    address: flags.address,
    ...(flags.clusterJson !== undefined ? { cluster: parseClusterJson(flags.clusterJson) } : {}),
    plugins: flags.plugins.split(',').filter((p) => p.length > 0),
  };
}

export async function hostRabbitNode(argv: string[]): Promise<HostedNode> {
  const options = flagsOf(argv);
  const cluster = options.cluster ? { ...options.cluster, epmdPort: options.cluster.epmdPort ?? (await freePort()) } : undefined;
  const broker = await startLocalRabbit({ address: options.address, plugins: options.plugins, ...(cluster ? { cluster } : {}) });
  const facts: RabbitNodeFacts = {
    transportUrl: broker.transportUrl,
    amqp1Url: broker.amqp1Url,
    nodeName: broker.nodeName,
    epmdPort: broker.epmdPort,
    version: broker.version,
  };
  return {
    facts: { ...facts },
    pid: () => broker.beamPid(),
    kill: () => broker.kill(),
    pause: () => broker.pause(),
    resume: () => broker.resume(),
    restart: () => broker.restart(),
    stop: () => broker.stop(),
  };
}
