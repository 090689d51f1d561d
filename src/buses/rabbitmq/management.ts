/**
 * A RabbitMQ node's load as its management HTTP API sees it. The API answers
 * for the whole cluster on every node, so queues and connections are kept
 * only where they live on the node asked (its name from /api/overview): each
 * broker node then has figures of its own, and they add up to the cluster's.
 * The API refreshes these statistics every few seconds (5 s by default), so
 * a figure lags the broker by up to that much.
 */
import type { RabbitFigures } from '../../model/index.js';

export interface ManagementEndpoint {
  /** the API's base, e.g. http://127.0.0.1:15672/ */
  url: string;
  user: string;
  password: string;
}

/** The fields read from /api/queues; a queue whose statistics have not been emitted yet has no message counts. */
export interface ManagementQueue {
  node?: string;
  messages_ready?: number;
  messages_unacknowledged?: number;
}

/** A connection or a channel from /api/connections or /api/channels: where it lives. */
export interface ManagementNodeItem {
  node?: string;
}

export const DEFAULT_MANAGEMENT_TIMEOUT_MS = 5000;

/** The figures of node `node` (every node's when undefined) from the API's queue, connection and channel lists. */
export function rabbitFigures(
  node: string | undefined,
  queues: ManagementQueue[],
  connections: ManagementNodeItem[],
  channels: ManagementNodeItem[],
): RabbitFigures {
  const onNode = <T extends ManagementNodeItem>(items: T[]): T[] => (node === undefined ? items : items.filter((item) => item.node === node));
  const nodeQueues = onNode(queues);
  const sum = (value: (queue: ManagementQueue) => number | undefined): number => nodeQueues.reduce((total, queue) => total + (value(queue) ?? 0), 0);
  return {
    queues: nodeQueues.length,
    messagesReady: sum((queue) => queue.messages_ready),
    messagesUnacknowledged: sum((queue) => queue.messages_unacknowledged),
    connections: onNode(connections).length,
    channels: onNode(channels).length,
  };
}

async function getJson<T>(endpoint: ManagementEndpoint, path: string, timeoutMs: number): Promise<T> {
  const base = endpoint.url.endsWith('/') ? endpoint.url : `${endpoint.url}/`;
  const url = new URL(path, base);
  const response = await fetch(url, {
    headers: { authorization: `Basic ${Buffer.from(`${endpoint.user}:${endpoint.password}`).toString('base64')}` },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`GET ${url.href}: HTTP ${response.status} ${response.statusText}`);
  return (await response.json()) as T;
}

/** The node's figures now; rejects when the API does not answer within timeoutMs or answers with an error. */
export async function fetchRabbitFigures(endpoint: ManagementEndpoint, timeoutMs = DEFAULT_MANAGEMENT_TIMEOUT_MS): Promise<RabbitFigures> {
  // columns= keeps the lists small when there are thousands of queues and connections
  // A connection's own `channels` figure is not kept up to date (it stays 0 on 3.10), so channels are listed too.
  const [overview, queues, connections, channels] = await Promise.all([
    getJson<{ node?: string }>(endpoint, 'api/overview?columns=node', timeoutMs),
    getJson<ManagementQueue[]>(endpoint, 'api/queues?columns=node,messages_ready,messages_unacknowledged', timeoutMs),
    getJson<ManagementNodeItem[]>(endpoint, 'api/connections?columns=node', timeoutMs),
    getJson<ManagementNodeItem[]>(endpoint, 'api/channels?columns=node', timeoutMs),
  ]);
  return rabbitFigures(overview.node, queues, connections, channels);
}

/** Where a queue lives: its node, and for a quorum queue its leader (the node that takes its messages first) and members. */
export interface QueuePlacement {
  name: string;
  type: string;
  /** the node a classic queue lives on, or a quorum queue's leader */
  node: string;
  members?: string[];
}

/** Every queue's node from the API (any node answers for the cluster); quorum queues by their leader. */
export async function fetchQueuePlacement(endpoint: ManagementEndpoint, timeoutMs = DEFAULT_MANAGEMENT_TIMEOUT_MS): Promise<QueuePlacement[]> {
  const queues = await getJson<{ name?: string; type?: string; node?: string; leader?: string; members?: string[] }[]>(
    endpoint,
    'api/queues?columns=name,type,node,leader,members',
    timeoutMs,
  );
  return queues
    .filter((q) => typeof q.name === 'string')
    .map((q) => ({
      name: q.name!,
      type: q.type ?? 'classic',
      node: q.leader ?? q.node ?? 'unknown',
      ...(Array.isArray(q.members) ? { members: q.members } : {}),
    }));
}
