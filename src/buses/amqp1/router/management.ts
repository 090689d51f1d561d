/**
 * A router's statistics through its AMQP management node ($management),
 * read with rhea: the same QUERY qdstat and skstat send. Used to know when
 * a mesh has formed and to record links, addresses and deliveries beside
 * the latency in the results.
 */
import rhea from 'rhea';
import type { Connection, EventContext, Message, Source } from 'rhea';
import type { RouterFlavor } from './config.js';
import { parseAmqp1Url } from '../driver.js';

/** Entity types are named with the router's own prefix. */
function entityType(flavor: RouterFlavor, short: string): string {
  return `${flavor === 'skrouterd' ? 'io.skupper.router' : 'org.apache.qpid.dispatch'}.${short}`;
}

export class ManagementError extends Error {
  override readonly name = 'ManagementError';
}

/** Open a connection, run `work`, close: management reads are rare and short. */
async function withConnection<T>(url: string, timeoutMs: number, work: (connection: Connection) => Promise<T>): Promise<T> {
  const target = parseAmqp1Url(url);
  const container = rhea.create_container();
  container.on('error', () => undefined);
  const connection = container.connect({
    host: target.host,
    port: target.port,
    reconnect: false,
    ...(target.username ? { username: target.username, password: target.password ?? '' } : {}),
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      (async () => {
        await new Promise<void>((resolve, reject) => {
          connection.once('connection_open', () => resolve());
          connection.once('disconnected', (context: EventContext) =>
            reject(new ManagementError(`cannot reach ${url}: ${(context.error as Error | undefined)?.message ?? 'disconnected'}`)),
          );
        });
        return work(connection);
      })(),
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new ManagementError(`${url}: management did not answer within ${timeoutMs} ms`)), timeoutMs)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
    connection.close();
  }
}

/** QUERY one entity type; rows as objects keyed by attribute name. */
export function managementQuery(
  url: string,
  flavor: RouterFlavor,
  type: string,
  attributes: string[] = [],
  timeoutMs = 5000,
): Promise<Record<string, unknown>[]> {
  return withConnection(url, timeoutMs, async (connection) => {
    const receiver = connection.open_receiver({ source: { dynamic: true } as unknown as Source });
    const replyTo = await new Promise<string>((resolve, reject) => {
      receiver.once('receiver_open', (context: EventContext) => resolve(context.receiver!.source.address));
      receiver.once('receiver_error', () => reject(new ManagementError('the router refused a reply link')));
    });
    const sender = connection.open_sender('$management');
    const answer = new Promise<Message>((resolve) => receiver.once('message', (context: EventContext) => resolve(context.message!)));
    sender.send({
      reply_to: replyTo,
      message_id: 'busbench-query',
      application_properties: { operation: 'QUERY', type: 'org.amqp.management', entityType: entityType(flavor, type), name: 'self' },
      body: { attributeNames: attributes },
    });
    const message = await answer;
    const status = Number((message.application_properties as Record<string, unknown> | undefined)?.['statusCode'] ?? 0);
    if (status < 200 || status >= 300) {
      throw new ManagementError(
        `QUERY ${type}: ${status} ${String((message.application_properties as Record<string, unknown> | undefined)?.['statusDescription'] ?? '')}`,
      );
    }
    const body = message.body as { attributeNames: string[]; results: unknown[][] };
    return body.results.map((row) => Object.fromEntries(body.attributeNames.map((name, i) => [name, row[i]])));
  });
}

/** How many other routers this router knows (0 for a router alone). */
export async function routerNodes(url: string, flavor: RouterFlavor): Promise<number> {
  const [self] = await managementQuery(url, flavor, 'router', ['id']);
  const nodes = await managementQuery(url, flavor, 'router.node', ['id']);
  return nodes.filter((node) => node['id'] !== self?.['id']).length;
}

export interface RouterStatistics {
  id: string;
  /** routers this one knows */
  nodes: number;
  connections: number;
  links: { total: number; byType: Record<string, number> };
  /** per address: deliveries that came in from, went out to, and passed through this router */
  addresses: { address: string; distribution: string; ingress: number; egress: number; transit: number; subscribers: number }[];
}

function count(value: unknown): number {
  return typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : Number(value ?? 0) || 0;
}

/** A snapshot of one router: what results record beside the latency. */
export async function routerStatistics(url: string, flavor: RouterFlavor): Promise<RouterStatistics> {
  const [router] = await managementQuery(url, flavor, 'router', ['id']);
  const nodes = await routerNodes(url, flavor);
  const connections = await managementQuery(url, flavor, 'connection', ['role']);
  const links = await managementQuery(url, flavor, 'router.link', ['linkType']);
  const addresses = await managementQuery(url, flavor, 'router.address', [
    'name',
    'distribution',
    'deliveriesIngress',
    'deliveriesEgress',
    'deliveriesTransit',
    'subscriberCount',
  ]);
  const byType: Record<string, number> = {};
  for (const link of links) byType[String(link['linkType'])] = (byType[String(link['linkType'])] ?? 0) + 1;
  return {
    id: String(router?.['id'] ?? ''),
    nodes,
    connections: connections.length,
    links: { total: links.length, byType },
    addresses: addresses
      .filter((a) => /openstack\.org\/om|exclusive\.|unicast\.|broadcast\./.test(String(a['name'])))
      .map((a) => ({
        address: String(a['name']),
        distribution: String(a['distribution']),
        ingress: count(a['deliveriesIngress']),
        egress: count(a['deliveriesEgress']),
        transit: count(a['deliveriesTransit']),
        subscribers: count(a['subscriberCount']),
      })),
  };
}
