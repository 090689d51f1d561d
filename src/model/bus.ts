/**
 * The bus as the model sees it: what a driver is configured with, and what
 * a bus still held when the consumers stopped. The drivers, their
 * interface (src/buses/driver.ts) and the bus plugins are in src/buses/.
 */
import type { BusConfig } from './scenario.js';

/** How a request reached a server: which of its three subscriptions it came through. */
export type Delivery = 'unicast' | 'anycast' | 'multicast';

/** Messages a bus still holds for a subscription: delivered to no consumer yet. */
export interface QueueBacklog {
  /** the bus's name for where they wait (a RabbitMQ queue) */
  queue: string;
  /** which delivery the queue serves: an RPC server's three, or a notification pool */
  via: Delivery | 'notify';
  messages: number;
}

export interface DriverConfig {
  kind: BusConfig['kind'];
  /** one transport URL, or one per endpoint (the routers of a mesh) */
  url: string | string[];
  exchange: string;
  /** AMQP 1.0 against routers: oslo's routable (default) or legacy addresses */
  addressing?: 'routable' | 'legacy';
  /** AMQP 1.0: credit window of server and listener links */
  serverCredit?: number;
  /** RabbitMQ: server and notification queues as quorum queues */
  quorumQueues?: boolean;
  /** RabbitMQ: which cluster node a server's queues are created on (see BusConfig.queueLocator) */
  queueLocator?: 'client-local' | 'balanced';
  /** RabbitMQ: consumer prefetch (see BusConfig.prefetch) */
  prefetch?: number;
}
