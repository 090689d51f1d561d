/** RabbitMQ over AMQP 0-9-1: oslo's rabbit driver. */
import type { BusPlugin } from '../plugin.js';
import { deployRabbit } from './deploy.js';
import { RabbitDriver } from './driver.js';
import { hostRabbitNode } from './hosted.js';
import { checkRabbitBus, rabbitmqBusConfig, rabbitmqBusFields } from './schema.js';

export const rabbitmqBus: BusPlugin = {
  kind: 'rabbitmq',
  summary: 'rabbitmq (AMQP 0-9-1)',
  scheme: 'rabbit://',
  urlSchemes: /^rabbit:\/\//,
  fields: rabbitmqBusFields,
  checkBus: checkRabbitBus,
  toConfig: rabbitmqBusConfig,
  createDriver: (config) =>
    new RabbitDriver({
      url: config.url,
      exchange: config.exchange,
      ...(config.quorumQueues ? { quorumQueues: true } : {}),
      ...(config.queueLocator ? { queueLocator: config.queueLocator } : {}),
      ...(config.prefetch ? { prefetch: config.prefetch } : {}),
    }),
  deploy: (bus, placement) => deployRabbit(bus, placement),
  hostNode: (argv) => hostRabbitNode(argv),
};
