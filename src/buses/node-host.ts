/**
 * A bus node host: the process (src/entries/bus-node.ts) the RabbitMQ
 * plugin starts on a bus site's host when busbench reaches that host only
 * through processes (ssh). It runs one RabbitMQ node there, says where it
 * is (or why it could not start), carries out lifecycle commands, and stops
 * the node when its stdin closes (busbench done, or the ssh connection
 * gone) or on a signal. The broker is this host's process, so only
 * something on this host can stop it and clean up after it.
 */
import { readFrames, writeFrame } from '../util/frames.js';
import { installSignalHandlers, runCleanups } from '../cleanup.js';
import { freePort } from '../util/process.js';
import { startLocalRabbit } from './rabbitmq/node.js';

export interface BusNodeCluster {
  /** long node name, rabbit@<address> */
  nodeName: string;
  cookie: string;
  /** the same on every node; absent for the first node, which picks a free one and reports it */
  epmdPort?: number;
  /** every node to discover: the first node lists only itself */
  nodes: string[];
}

export interface BusNodeOptions {
  address: string;
  cluster?: BusNodeCluster;
  plugins: string[];
}

export type BusNodeReport =
  | { ready: true; transportUrl: string; amqp1Url: string; nodeName: string; pid: number | undefined; epmdPort: number; version: string }
  | { ready: false; error: string };

/** A lifecycle command, a frame on the node host's stdin; each is answered by one BusNodeReply frame. */
export interface BusNodeCommand {
  op: 'kill' | 'pause' | 'resume' | 'restart';
}

export type BusNodeReply = { op: string; ok: true } | { op: string; ok: false; error: string };

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

/**
 * Starts the node, reports it, carries out lifecycle commands, and resolves
 * once it has been stopped. Everything on stdin and stdout is a frame
 * (util/frames.ts): first a BusNodeReport (ready, or why not), then one
 * BusNodeReply per BusNodeCommand, in order.
 */
export async function runBusNode(options: BusNodeOptions): Promise<void> {
  // A SIGTERM (the provider's kill, or a lost session) must still stop the broker: it runs in a process group of its own, out of reach of a group kill.
  installSignalHandlers();
  const send = (message: BusNodeReport | BusNodeReply): void => void writeFrame(process.stdout, message);
  // Listening from the start: stdin closing while the broker boots must not go unnoticed.
  const stdinClosed = new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.stdin.once('error', () => resolve());
  });
  const commands: unknown[] = [];
  let onCommand: (() => void) | undefined;
  readFrames(
    process.stdin,
    (value) => {
      commands.push(value);
      onCommand?.();
    },
    (error) => process.stderr.write(`bus node: ${error.message}\n`),
  );
  let broker: Awaited<ReturnType<typeof startLocalRabbit>>;
  try {
    const cluster = options.cluster ? { ...options.cluster, epmdPort: options.cluster.epmdPort ?? (await freePort()) } : undefined;
    broker = await startLocalRabbit({ address: options.address, plugins: options.plugins, ...(cluster ? { cluster } : {}) });
  } catch (error) {
    send({ ready: false, error: (error as Error).message });
    process.exitCode = 1;
    await runCleanups();
    return;
  }
  send({
    ready: true,
    transportUrl: broker.transportUrl,
    amqp1Url: broker.amqp1Url,
    nodeName: broker.nodeName,
    pid: broker.beamPid(),
    epmdPort: broker.epmdPort,
    version: broker.version,
  });
  // Commands one at a time, in order, until stdin closes.
  for (;;) {
    while (commands.length > 0) {
      const command = commands.shift() as Partial<BusNodeCommand> | null;
      const op = String(command?.op ?? '?');
      try {
        if (op !== 'kill' && op !== 'pause' && op !== 'resume' && op !== 'restart') throw new Error(`unknown command ${JSON.stringify(command).slice(0, 100)}`);
        await broker[op]();
        send({ op, ok: true });
      } catch (error) {
        send({ op, ok: false, error: (error as Error).message });
      }
    }
    const next = await Promise.race([new Promise<'more'>((resolve) => (onCommand = () => resolve('more'))), stdinClosed.then(() => 'closed' as const)]);
    if (next === 'closed') break;
  }
  await broker.stop();
  process.stdin.pause();
}
