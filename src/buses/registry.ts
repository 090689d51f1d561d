/** The one place that maps a bus kind to its driver. */
import type { BusConfig } from '../scenario/types.js';
import type { BusDriver } from './driver.js';
import { Amqp1Driver } from './amqp1/driver.js';
import { RabbitDriver } from './rabbitmq/driver.js';

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
}

export function createDriver(config: DriverConfig): BusDriver {
  switch (config.kind) {
    case 'rabbitmq':
      return new RabbitDriver({ url: config.url, exchange: config.exchange, ...(config.quorumQueues ? { quorumQueues: true } : {}) });
    case 'amqp1':
      return new Amqp1Driver({
        url: config.url,
        exchange: config.exchange,
        ...(config.addressing ? { addressing: config.addressing } : {}),
        ...(config.serverCredit ? { serverCredit: config.serverCredit } : {}),
      });
    default:
      throw new Error(`unknown bus kind "${String(config.kind)}"`);
  }
}
