/**
 * The one list of bus kinds. The scenario schema's `bus.kind`, the CLI's
 * choices and driver creation all come from here: adding a bus is adding
 * its folder and one line below.
 */
import { amqp1Bus } from './amqp1/index.js';
import type { BusDriver } from './driver.js';
import type { BusPlugin } from './plugin.js';
import type { DriverConfig } from '../model/index.js';
import { rabbitmqBus } from './rabbitmq/index.js';
import { amqp1BusFields } from './amqp1/schema.js';
import { rabbitmqBusFields } from './rabbitmq/schema.js';

/** The first is the default kind (the embedded RabbitMQ). */
export const BUS_PLUGINS: readonly BusPlugin[] = [rabbitmqBus, amqp1Bus];

/**
 * Every kind's fields of the scenario's `bus:` mapping, merged into one
 * mapping (a field of one kind set with another is refused by that kind's
 * check). Spelled out rather than folded over BUS_PLUGINS so the schema's
 * TypeScript type, derived from it, keeps every field's literal type.
 */
export const BUS_SCHEMA_FIELDS = { ...rabbitmqBusFields, ...amqp1BusFields } as const;

/** The kinds, in the order help texts list them. */
export const BUS_KINDS: readonly string[] = BUS_PLUGINS.map((plugin) => plugin.kind);

export function busPlugin(kind: string): BusPlugin {
  const plugin = BUS_PLUGINS.find((p) => p.kind === kind);
  if (!plugin) throw new Error(`unknown bus kind "${kind}": one of ${BUS_KINDS.join(', ')}`);
  return plugin;
}

export function createDriver(config: DriverConfig): BusDriver {
  return busPlugin(config.kind).createDriver(config);
}
