/**
 * The JSON schema of a scenario file (snake_case, as users write it).
 * Validated with ajv; defaults here are the defaults everywhere. The raw
 * type of a validated file, RawScenario, is derived from it: every fragment
 * is `as const`, so the schema is the one description of the format (the
 * `message` annotations are words for problems, see src/config/load.ts).
 */

import { BUS_KINDS, BUS_PLUGINS, BUS_SCHEMA_FIELDS } from '../buses/registry.js';
import type { FromSchema } from 'json-schema-to-ts';
import { SIZE_PATTERN } from './size.js';
import { topologySchema } from './topology.js';

const DURATION = {
  description: 'a duration: "500ms", "30s", "2m", "1h", or a number of seconds',
  anyOf: [
    { type: 'number', minimum: 0 },
    { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)?\\s*$' },
  ],
} as const;

const SIZE = {
  description: 'a size: bytes (512), or with a unit: "512B", "4KiB", "1MB", "2MiB"',
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: SIZE_PATTERN },
  ],
} as const;

/** A name busbench uses in files, queues and results: letters, digits, "_", "." and "-". */
export const NAME = {
  type: 'string',
  pattern: '^[A-Za-z0-9_.-]+$',
  message: { pattern: 'may contain only letters, digits, "_", "." and "-", got {got}' },
} as const;

export const PATTERN_STRINGS = ['call/unicast', 'call/anycast', 'cast/unicast', 'cast/anycast', 'cast/multicast', 'call/multicast'] as const;

export const scenarioSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['bus'],
  message: 'a scenario is a mapping with at least "bus: {kind: rabbitmq}", got {got}',
  properties: {
    name: { ...NAME, description: 'name of the run (results directory prefix); default: the file name' },
    bus: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        kind: { enum: [...BUS_KINDS], description: `which bus: ${BUS_PLUGINS.map((plugin) => plugin.summary).join(' or ')}` },
        url: {
          type: 'string',
          pattern: '^(rabbit|amqp|amqps)://',
          message: { pattern: 'must be a transport URL starting with rabbit://, amqp:// or amqps://, got {got}' },
          description: 'transport URL of an existing bus; omitted: busbench starts a local RabbitMQ',
        },
        exchange: { ...NAME, default: 'openstack', description: 'oslo control exchange' },
        // Each kind's own fields (rabbitmq: queues, management; amqp1: addressing, credit, router), from its plugin folder.
        ...BUS_SCHEMA_FIELDS,
      },
    },
    agents: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        servers: { type: 'integer', minimum: 0, default: 0, description: 'RPC server agents' },
        clients: { type: 'integer', minimum: 0, default: 0, description: 'RPC client agents' },
        notifiers: { type: 'integer', minimum: 0, default: 0, description: 'notifier agents' },
        listeners: { type: 'integer', minimum: 0, default: 0, description: 'notification listener agents' },
        topic: { ...NAME, default: 'busbench', description: 'RPC topic served by the servers' },
        notification_topic: { ...NAME, default: 'notifications', description: 'notification topic' },
        notification_priority: { enum: ['audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample'], default: 'info' },
        shared_connections: { type: 'boolean', default: false, description: 'agents of a worker share connections (one channel each)' },
      },
    },
    load: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        patterns: {
          type: 'array',
          minItems: 1,
          default: ['call/anycast'],
          description: 'the patterns the clients run, with optional weights (see mix)',
          items: {
            message: 'must be "method/target" (call/unicast, call/anycast, cast/unicast, cast/anycast, cast/multicast) or {method, target}; got {got}',
            anyOf: [
              { enum: [...PATTERN_STRINGS] },
              {
                type: 'object',
                additionalProperties: false,
                required: ['method', 'target'],
                properties: {
                  method: { enum: ['call', 'cast'] },
                  target: { enum: ['unicast', 'anycast', 'multicast'] },
                  weight: { type: 'number', exclusiveMinimum: 0, description: "the pattern's share of the mix (default 1)" },
                },
              },
            ],
          },
        },
        mix: {
          enum: ['clients', 'messages'],
          default: 'clients',
          description:
            "clients: each client runs one pattern, clients split over the patterns by weight; messages: each client draws every message's pattern by weight",
        },
        messages: { type: 'integer', minimum: 1, description: 'measured messages in total across the senders' },
        duration: DURATION,
        warmup: { ...DURATION, default: '1s' },
        concurrency: { type: 'integer', minimum: 1, default: 1, description: 'outstanding messages per client (closed loop)' },
        pause: { ...DURATION, default: 0 },
        arrival: {
          enum: ['closed', 'fixed', 'poisson'],
          description: 'closed loop (default without rate), or open loop at `rate`: fixed gaps (default with rate) or Poisson arrivals',
        },
        rate: { type: 'number', exclusiveMinimum: 0, description: 'messages/s per sender: the open loop (latency counts from each intended send time)' },
        payload_bytes: {
          default: 64,
          description: 'a size (64, "4KiB"), {min, max} for sizes drawn uniformly, or a list of {bytes, weight}',
          anyOf: [
            SIZE,
            { type: 'object', additionalProperties: false, required: ['min', 'max'], properties: { min: SIZE, max: SIZE } },
            {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['bytes', 'weight'],
                properties: { bytes: SIZE, weight: { type: 'number', exclusiveMinimum: 0 } },
              },
            },
          ],
        },
        timeout: { ...DURATION, default: '30s', description: "call timeout, > 0 (also the request's TTL, as oslo sends it)" },
        method: {
          type: 'string',
          pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
          message: { pattern: 'must be a method name (letters, digits and "_", not starting with a digit), got {got}' },
          default: 'bench',
          description: "the RPC method clients call: bench (busbench's own), echo (ombt's), or any method the servers serve",
        },
        args: {
          type: 'object',
          description: "the call's arguments as a mapping, sent as given (default: {payload} for bench, ombt's {data, timestamp, msgid} for echo)",
        },
      },
    },
    runner: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        workers: { anyOf: [{ const: 'auto' }, { type: 'integer', minimum: 1 }], default: 'auto', description: '"auto": one worker thread per core' },
        connect_concurrency: { type: 'integer', minimum: 1, default: 64, description: 'connections opened at once per worker' },
        saturation_utilization: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1,
          default: 0.9,
          description:
            'event-loop utilization of a worker over the measured phase above which the generator counts as saturated (whether its thread ran or waited for a CPU, it could not keep up)',
        },
        saturation_lag: {
          ...DURATION,
          default: '50ms',
          description:
            'how late a worker may run before the generator counts as saturated: the median lateness of open-loop sends behind their schedule (waits on load.concurrency left out), and the event-loop delay p99 (its excess over the 10 ms sampling interval) when the thread ran on a CPU at least as long as it waited for one; delay while it mostly waited for a CPU is contention from other processes, not saturation',
        },
        bookkeeping: {
          type: 'boolean',
          default: true,
          description: 'per-message accounting, per-leg timestamps and the time series (off only to measure their cost)',
        },
        heap: {
          enum: ['auto', 'speed', 'size'],
          default: 'auto',
          description:
            "how V8 sizes the agent processes' heaps: speed (a 128 MiB young generation per worker: fewer objects promoted under load, less CPU per call), size (a 16 MiB young generation, and an old generation kept 10 % above its live size: about 30 % less memory per agent at thousands of agents, for half as much CPU again in the collector), or auto: size for a worker holding 2,000 agents or more, else speed (see the README's Density)",
        },
        resource_interval: {
          ...DURATION,
          default: '1s',
          description: 'how often CPU, RSS and TCP connections of the bus and agent processes are sampled over the measured phase; 0: not at all',
        },
      },
    },
    topology: topologySchema,
    faults: {
      type: 'object',
      additionalProperties: false,
      description: "faults injected into busbench's own agents (to check the measurements, or rehearse a misbehaving service)",
      properties: {
        server_stall: {
          type: 'object',
          additionalProperties: false,
          required: ['at', 'for'],
          properties: { at: DURATION, for: DURATION },
          description: 'servers stop answering at `at` into the measured phase, for `for`',
        },
        drop_every: { type: 'integer', minimum: 2, description: 'each server ignores every n-th measured message' },
        late_reply_every: { type: 'integer', minimum: 2, description: 'each server answers every n-th call after late_reply_delay' },
        late_reply_delay: { ...DURATION, description: 'default: twice load.timeout' },
        duplicate_send_every: { type: 'integer', minimum: 2, description: 'each client sends every n-th cast twice' },
        server_rate: { type: 'number', exclusiveMinimum: 0, description: 'each server answers at most this many calls per second' },
        clock_skew_ms: { type: 'array', items: { type: 'number' }, description: 'clock skew of worker i in ms' },
        client_burn: { ...DURATION, description: 'busy CPU per send in every client (overloads the generator)' },
        server_burn: { ...DURATION, description: 'busy CPU per measured message in every server (slow consumers: a backlog builds in the bus)' },
      },
    },
  },
} as const;

/** A scenario file once validated, with the schema's defaults filled in. */
export type RawScenario = FromSchema<typeof scenarioSchema>;
