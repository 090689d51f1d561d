/**
 * The resolved shape of a scenario: what a YAML scenario file or the quick
 * flags of `busbench run` become once validated and filled with defaults.
 * Durations are milliseconds here; the file accepts "30s", "500ms", "2m" or
 * a bare number of seconds.
 */

import type { Topology } from './topology.js';

/**
 * Which bus busbench talks to, and so which driver speaks to it:
 * - rabbitmq: AMQP 0-9-1, oslo's rabbit:// driver, on amqplib;
 * - amqp1: AMQP 1.0, oslo's amqp:// driver, on rhea: a router (Qpid Dispatch,
 *   skupper-router) or a broker (RabbitMQ's AMQP 1.0 plugin; the embedded default).
 */
/** one of the registry's kinds (src/buses/registry.ts); the schema allows no other */
export type BusKind = string;

export type RpcMethod = 'call' | 'cast';
export type RpcTarget = 'unicast' | 'anycast' | 'multicast';

/** One traffic pattern an RPC client runs; multicast is cast only (oslo fanout has no replies). */
export interface RpcPattern {
  method: RpcMethod;
  target: RpcTarget;
  /** share of this pattern in the mix (default 1): of the clients, or of each client's messages (see LoadConfig.mix) */
  weight?: number;
}

/**
 * Payload sizes: one size, sizes drawn uniformly from [min, max], or a
 * weighted list (many small messages and a few large ones, as OpenStack sends).
 */
export type PayloadSizes =
  { kind: 'fixed'; bytes: number } | { kind: 'uniform'; min: number; max: number } | { kind: 'weighted'; choices: { bytes: number; weight: number }[] };

/** Routers busbench deploys for an amqp1 bus: `routers` of them on this host, or with provider netns one per bus site. */
export interface RouterDeployment {
  /** how many on this host; absent with provider netns, where the bus sites decide */
  routers?: number;
  /** a named shape, or explicit links between router indexes */
  shape?: 'single' | 'chain' | 'ring' | 'star' | 'full' | 'tree';
  edges?: [number, number][];
  treeFanout?: number;
  /** which router: skrouterd or qdrouterd, or whichever is installed (skrouterd first) */
  flavor: 'auto' | 'qdrouterd' | 'skrouterd';
  workerThreads?: number;
  linkCapacity?: number;
  /** how the routers spread oslo's unicast and anycast addresses (multicast stays multicast); absent: oslo's own, closest and balanced */
  distribution?: AddressDistribution;
}

/**
 * A router's distribution for oslo's unicast and anycast address prefixes: `closest` sends each
 * message to the nearest consumer (strict locality), `balanced` shares them among all consumers,
 * preferring nearer ones while they keep up (locality-aware load sharing).
 */
export interface AddressDistribution {
  unicast: 'closest' | 'balanced';
  anycast: 'closest' | 'balanced';
}

/** oslo's defaults (its amqp1 driver's router configuration). */
export const OSLO_DISTRIBUTION: AddressDistribution = { unicast: 'closest', anycast: 'balanced' };

export interface BusConfig {
  kind: BusKind;
  /** transport URL of an existing bus; absent: busbench deploys its own (a local RabbitMQ, or routers) */
  url?: string;
  /** oslo control exchange */
  exchange: string;
  /** amqp1 against routers: oslo's routable addresses (default) or the legacy ones */
  addressing: 'routable' | 'legacy';
  /** amqp1: credit window of server and listener links (oslo's default 100) */
  credit: number;
  /** amqp1 without url: deploy these routers instead of the embedded RabbitMQ */
  router?: RouterDeployment;
  /** deployed RabbitMQ: enable the management plugin and sample its figures */
  management: boolean;
  /** rabbitmq: server and notification queues classic, or quorum (oslo rabbit_quorum_queue) */
  queues: 'classic' | 'quorum';
  /** rabbitmq: which cluster node a server's queues are created on (quorum: their leader); absent: the broker's default, client-local */
  queueLocator?: 'client-local' | 'balanced';
  /** rabbitmq: unacknowledged messages pushed to each consumer (oslo rabbit_qos_prefetch_count); absent: no limit */
  prefetch?: number;
}

export interface AgentsConfig {
  servers: number;
  clients: number;
  notifiers: number;
  listeners: number;
  /** oslo RPC topic served by the servers */
  topic: string;
  /** notification topic (oslo default "notifications") */
  notificationTopic: string;
  /** notification priority the notifiers send and the listeners consume */
  notificationPriority: 'audit' | 'debug' | 'info' | 'warn' | 'error' | 'critical' | 'sample';
  /** agents of one worker share a few connections instead of one each */
  sharedConnections: boolean;
}

export interface LoadConfig {
  /** the patterns the clients run, each with its weight */
  patterns: RpcPattern[];
  /**
   * clients: each client runs one pattern, clients split over the patterns by
   * weight (equal weights: round-robin); messages: every client runs every
   * pattern, drawing each message's pattern by weight.
   */
  mix: 'clients' | 'messages';
  /** measured messages in total across all clients and notifiers (exclusive with durationMs) */
  messages?: number;
  /** measured phase length (exclusive with messages) */
  durationMs?: number;
  /** load before the measured phase; its samples are discarded */
  warmupMs: number;
  /** closed loop: calls/casts each client keeps outstanding */
  concurrency: number;
  /** closed loop: pause after each reply before the next send */
  pauseMs: number;
  /**
   * closed: each client keeps `concurrency` messages outstanding (ombt's model);
   * fixed / poisson: open loop at `ratePerClient`, evenly spaced or with
   * exponential gaps; latency counts from each message's intended send time.
   */
  arrival: 'closed' | 'fixed' | 'poisson';
  /** open loop: messages/s per sender */
  ratePerClient?: number;
  /** size of the payload argument in bytes */
  payload: PayloadSizes;
  /** call timeout; replies after it count as timeouts */
  timeoutMs: number;
  /** the RPC method clients call (bench: busbench's own; echo: ombt's; or a peer's) */
  method: string;
  /** the call's arguments as given; undefined: the method's default shape */
  args?: Record<string, unknown>;
}

export interface RunnerConfig {
  /** worker threads; 0 = busbench chooses (src/runner/workers.ts) */
  workers: number;
  /** connections opened at once per worker during start-up */
  connectConcurrency: number;
  /** a worker whose event loop is busier than this (0..1) over the measured phase saturates the generator */
  saturationUtilization: number;
  /**
   * … or whose open-loop sends start more than this behind schedule at the
   * median, or whose event-loop delay p99 (beyond the timer's interval)
   * exceeds this while its thread ran at least as long as it waited for a CPU
   */
  saturationLagMs: number;
  /** per-message accounting, per-leg timestamps and the time series; off only to measure what they cost */
  bookkeeping: boolean;
  /** sampling period of the bus and agent processes' CPU, RSS and TCP connections; 0: none */
  resourceIntervalMs: number;
  /** how V8 sizes the heaps of the processes holding agents: for speed, for memory (size), or by the agents in a worker (auto; runner/heap-mode.ts) */
  heap: 'auto' | 'speed' | 'size';
}

/**
 * Faults busbench injects into its own agents, to check what the
 * measurements make of them (and to rehearse a bus misbehaving). Counts
 * apply to measured messages only.
 */
export interface Faults {
  /** servers stop answering at `atMs` after the measured phase begins, for `forMs` (calls wait, then are answered) */
  serverStall?: { atMs: number; forMs: number };
  /** each server ignores every n-th measured message it receives: no record, no reply */
  dropEvery?: number;
  /** each server answers every n-th call this long after it came (past the caller's timeout: a late reply) */
  lateReplyEvery?: number;
  lateReplyDelayMs?: number;
  /** each client sends every n-th cast twice with the same sequence number */
  duplicateSendEvery?: number;
  /** each server answers at most this many calls per second (a rate-limited service) */
  serverRate?: number;
  /** skew added to the clock of worker i (ms), for checking the offset estimate */
  clockSkewMs?: number[];
  /** busy CPU per send in every client, to overload the generator */
  clientBurnMs?: number;
  /** busy CPU per measured message in every server: consumers slower than the senders */
  serverBurnMs?: number;
}

export interface Scenario {
  name: string;
  /** where it came from: a file path, or "<command line>" */
  source: string;
  bus: BusConfig;
  agents: AgentsConfig;
  load: LoadConfig;
  runner: RunnerConfig;
  faults?: Faults;
  /** sites, links, where the bus and the agents run; absent: everything on this host */
  topology?: Topology;
}
