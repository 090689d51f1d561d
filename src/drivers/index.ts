/** The one place that maps a bus kind to its driver. */
import type { BusConfig } from '../scenario/types.js';
import type { BusDriver } from './driver.js';
import { Amqp1Driver } from './amqp1.js';
import { RabbitDriver } from './rabbitmq.js';

export interface DriverConfig {
  kind: BusConfig['kind'];
  url: string;
  exchange: string;
}

export function createDriver(config: DriverConfig): BusDriver {
  switch (config.kind) {
    case 'rabbitmq':
      return new RabbitDriver({ url: config.url, exchange: config.exchange });
    case 'amqp1':
      return new Amqp1Driver({ url: config.url, exchange: config.exchange });
    default:
      throw new Error(`unknown bus kind "${String(config.kind)}"`);
  }
}
