/**
 * RabbitMQ's part of a scenario's `bus:` mapping (snake_case, as users
 * write it) and its rules between fields. The fields merge into the one
 * `bus` mapping of src/scenario/schema.ts through the registry.
 */
import { hideCredentials } from '../../util/url.js';
import type { BusFieldCheck } from '../plugin.js';

export const rabbitmqBusFields = {
  queues: {
    enum: ['classic', 'quorum'],
    default: 'classic',
    description: "rabbitmq: server and notification queues as classic queues, or as quorum queues replicated over the cluster (oslo's rabbit_quorum_queue)",
  },
  queue_locator: {
    enum: ['client-local', 'balanced'],
    description:
      "rabbitmq: on which cluster node a server's queues are created (quorum: their leader), as RabbitMQ's queue leader locator offers it: client-local, the node the server is connected to, or balanced, the node with the fewest; absent: the broker's own default (client-local)",
  },
  prefetch: {
    type: 'integer',
    minimum: 0,
    description:
      "rabbitmq: how many unacknowledged messages the broker pushes to each server and listener (oslo's rabbit_qos_prefetch_count); 0 or absent: no limit, oslo's default, so a slow consumer's backlog sits in its socket rather than in the queue",
  },
  management: {
    type: 'boolean',
    default: false,
    description:
      'deployed RabbitMQ: enable its management plugin and sample queues, messages, connections and channels from it every second (it costs the broker some memory and CPU)',
  },
} as const;

export const checkRabbitBus: BusFieldCheck = (bus, context, add) => {
  // oslo's transport URL scheme names its driver: rabbit:// the AMQP 0-9-1 one, amqp:// the AMQP 1.0 one.
  if (bus.kind === 'rabbitmq' && bus.url !== undefined && /^amqps?:\/\//.test(bus.url)) {
    add(
      ['bus', 'url'],
      `"${hideCredentials(bus.url)}" is an amqp:// URL, which oslo.messaging speaks as AMQP 1.0; for RabbitMQ over AMQP 0-9-1 write rabbit://…, or set bus.kind: amqp1`,
    );
  }
  if (context.valuesOnly) return;
  if (bus['queue_locator'] !== undefined && bus.kind !== 'rabbitmq')
    add(['bus', 'queue_locator'], 'queue_locator places RabbitMQ queues on cluster nodes: set bus.kind: rabbitmq, or remove bus.queue_locator');
  if (bus['prefetch'] !== undefined && bus.kind !== 'rabbitmq')
    add(
      ['bus', 'prefetch'],
      "prefetch is RabbitMQ's consumer prefetch (oslo rabbit_qos_prefetch_count): set bus.kind: rabbitmq, or use bus.credit for AMQP 1.0",
    );
  if (bus['queues'] === 'quorum' && bus.kind !== 'rabbitmq')
    add(['bus', 'queues'], 'quorum queues are RabbitMQ over AMQP 0-9-1 (oslo rabbit_quorum_queue): set bus.kind: rabbitmq, or remove bus.queues');
};

/** The scenario's bus fields RabbitMQ reads, camelCased for the resolved BusConfig. */
export function rabbitmqBusConfig(bus: Record<string, unknown>): {
  queues: 'classic' | 'quorum';
  management: boolean;
  queueLocator?: 'client-local' | 'balanced';
  prefetch?: number;
} {
  const locator = bus['queue_locator'] as 'client-local' | 'balanced' | undefined;
  const prefetch = bus['prefetch'] as number | undefined;
  return {
    queues: bus['queues'] as 'classic' | 'quorum',
    management: bus['management'] as boolean,
    ...(locator ? { queueLocator: locator } : {}),
    ...(prefetch ? { prefetch } : {}),
  };
}
