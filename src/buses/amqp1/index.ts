/** AMQP 1.0: oslo's amqp1 driver, against routers or RabbitMQ's AMQP 1.0 plugin. */
import type { BusPlugin } from '../plugin.js';
import { deployAmqp1 } from './deploy.js';
import { Amqp1Driver } from './driver.js';
import { hostRouter } from './router/hosted.js';
import { amqp1BusConfig, amqp1BusFields, checkAmqp1Bus } from './schema.js';

export const amqp1Bus: BusPlugin = {
  kind: 'amqp1',
  summary: 'amqp1 (AMQP 1.0: a router, or RabbitMQ with its AMQP 1.0 plugin)',
  scheme: 'amqp://',
  urlSchemes: /^amqps?:\/\//,
  fields: amqp1BusFields,
  checkBus: checkAmqp1Bus,
  toConfig: amqp1BusConfig,
  createDriver: (config) =>
    new Amqp1Driver({
      url: config.url,
      exchange: config.exchange,
      ...(config.addressing ? { addressing: config.addressing } : {}),
      ...(config.serverCredit ? { serverCredit: config.serverCredit } : {}),
    }),
  deploy: deployAmqp1,
  hostNode: hostRouter,
};
