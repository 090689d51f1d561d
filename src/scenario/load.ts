/**
 * Scenario files: YAML → schema validation (ajv, through the shared loader
 * in src/config) → cross-field rules → the resolved Scenario. Every problem
 * names the file, line, column, field, what is allowed and what was given;
 * all problems are reported at once.
 */
import { basename, extname } from 'node:path';
import { meshEdges } from '../buses/amqp1/router/mesh.js';
import { ConfigError, defineConfig, plainSource, unreadable, type AddProblem, type FieldOverride, type LoadOptions } from '../config/load.js';
import { parseDuration } from './duration.js';
import { scenarioSchema, type RawScenario } from './schema.js';
import { formatSize, largestPayloadBytes, parseSize } from './size.js';
import type { Faults, PayloadSizes, RpcPattern, Scenario } from '../model/index.js';
import { agentTotals, resolveTopology, topologyProblems } from './topology.js';

export type { FieldOverride };

/** The most a message may carry: beyond it brokers refuse frames or stall (RabbitMQ's default max is 128 MiB, but a benchmark has no business near it). */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

type RawPayload = RawScenario['load']['payload_bytes'];

export class ScenarioError extends ConfigError {
  override readonly name = 'ScenarioError';
}

const scenarios = defineConfig(scenarioSchema, {
  error: ScenarioError,
  unreadable: (error) => unreadable(error, 'scenario file', 'scenarios/quickstart.yaml'),
});

function agentCounts(agents: RawScenario['agents']): { server: number; client: number; notifier: number; listener: number } {
  return { server: agents.servers, client: agents.clients, notifier: agents.notifiers, listener: agents.listeners };
}

function toPattern(item: string | RpcPattern): RpcPattern {
  if (typeof item !== 'string') return item;
  const [method, target] = item.split('/') as [RpcPattern['method'], RpcPattern['target']];
  return { method, target };
}

/** Values the schema's forms admit but a run cannot use; checked for every scenario, the standalone agents' too. */
function valueProblems(raw: RawScenario, add: AddProblem): void {
  const { load, bus } = raw;
  if (load.duration !== undefined && parseDuration(load.duration) === 0) add(['load', 'duration'], 'must be longer than 0 (e.g. 30s); to run a message count instead, use load.messages');
  if (parseDuration(load.timeout) === 0) add(['load', 'timeout'], 'must be longer than 0 (e.g. 30s): every call would time out at once');
  // oslo's transport URL scheme names its driver: rabbit:// the AMQP 0-9-1 one, amqp:// the AMQP 1.0 one.
  if (bus.url !== undefined && bus.kind === 'rabbitmq' && /^amqps?:\/\//.test(bus.url)) {
    add(['bus', 'url'], `"${bus.url.replace(/\/\/[^@/]*@/, '//…@')}" is an amqp:// URL, which oslo.messaging speaks as AMQP 1.0; for RabbitMQ over AMQP 0-9-1 write rabbit://…, or set bus.kind: amqp1`);
  }
  if (bus.kind === 'amqp1' && bus.url !== undefined && !/^amqps?:\/\//.test(bus.url)) add(['bus', 'url'], `an amqp1 bus takes an amqp:// URL (oslo's AMQP 1.0 driver), got "${bus.url.replace(/\/\/[^@/]*@/, '//…@')}"; for RabbitMQ over AMQP 0-9-1 set bus.kind: rabbitmq`);
}

function crossFieldProblems(raw: RawScenario, add: AddProblem): void {
  const { agents, load } = raw;
  const patterns = load.patterns.map(toPattern);
  patterns.forEach((pattern, index) => {
    if (pattern.method === 'call' && pattern.target === 'multicast') {
      add(['load', 'patterns', index], 'call/multicast does not exist: oslo fanout has no replies; use cast/multicast');
    }
  });
  if (agents.clients > 0 && agents.servers === 0) {
    add(['agents', 'servers'], `the clients' patterns (${load.patterns.map((p) => (typeof p === 'string' ? p : `${p.method}/${p.target}`)).join(', ')}) need servers; set agents.servers >= 1`);
  }
  if (agents.notifiers > 0 && agents.listeners === 0) {
    add(['agents', 'listeners'], 'notifiers send to listeners; set agents.listeners >= 1');
  }
  if (agents.clients === 0 && agents.notifiers === 0) {
    add(['agents'], 'nothing sends: set agents.clients or agents.notifiers >= 1');
  }
  if ((load.arrival === 'fixed' || load.arrival === 'poisson') && load.rate === undefined) {
    add(['load', 'arrival'], `an open loop (${load.arrival}) needs load.rate (messages/s per sender)`);
  }
  if (load.arrival === 'closed' && load.rate !== undefined) {
    add(['load', 'rate'], 'load.rate sets an open loop; remove it, or set load.arrival to fixed or poisson');
  }
  const payload = toPayload(load.payload_bytes);
  const largest = largestPayloadBytes(payload);
  if (largest > MAX_PAYLOAD_BYTES) add(['load', 'payload_bytes'], `${largest} bytes is over the ${formatSize(MAX_PAYLOAD_BYTES)} a message may carry here; use a smaller size`);
  if (payload.kind === 'uniform' && payload.min > payload.max) add(['load', 'payload_bytes'], `min (${payload.min}) is above max (${payload.max}); swap them`);
  if (load.mix === 'messages' && patterns.length < 2) add(['load', 'mix'], 'mix: messages draws each message from several patterns; list at least two in load.patterns, or remove mix');
  if (load.messages !== undefined && load.duration !== undefined) {
    add(['load', 'duration'], 'give either load.messages or load.duration, not both');
  }
  const bus = raw.bus;
  if (bus.queues === 'quorum' && bus.kind !== 'rabbitmq') add(['bus', 'queues'], 'quorum queues are RabbitMQ over AMQP 0-9-1 (oslo rabbit_quorum_queue): set bus.kind: rabbitmq, or remove bus.queues');
  if (bus.router && bus.kind !== 'amqp1') add(['bus', 'router'], 'routers speak AMQP 1.0: set bus.kind: amqp1, or remove bus.router');
  if (bus.router && bus.url !== undefined) add(['bus', 'router'], 'bus.url uses a running bus and bus.router deploys one: give only one of them');
  if (raw.topology) {
    for (const problem of topologyProblems(raw.topology, agentCounts(agents))) add(problem.path, problem.message);
    if (bus.url !== undefined) add(['topology', 'bus'], 'bus.url uses a running bus, but a topology places the bus nodes busbench deploys: remove bus.url');
    if (bus.router && raw.topology.provider === 'ssh') add(['bus', 'router'], 'with provider ssh the bus nodes are one per bus site (topology.bus), and routers are deployed only with provider netns: remove bus.router');
    if (bus.router && raw.topology.provider === 'netns') {
      // One router per bus site, linked along topology.links: the mesh fields of provider local do not apply.
      for (const field of ['routers', 'shape', 'edges', 'tree_fanout'] as const) {
        if (bus.router[field] !== undefined) {
          add(['bus', 'router', field], `with provider netns there is one router per bus site (topology.bus), linked along topology.links: remove bus.router.${field}, and list the router sites in topology.bus`);
        }
      }
    }
  }
  const sitesDecideRouters = raw.topology !== undefined && raw.topology.provider !== 'local';
  if (bus.router && !sitesDecideRouters) {
    const { routers, shape, edges, tree_fanout: treeFanout } = bus.router;
    if (routers === undefined) add(['bus', 'router'], 'bus.router needs routers: how many routers to deploy on this host (1 … 64)');
    else {
      try {
        meshEdges({ routers, ...(shape ? { shape } : {}), ...(edges ? { edges } : {}), ...(treeFanout ? { treeFanout } : {}) });
      } catch (error) {
        add(['bus', 'router'], (error as Error).message);
      }
    }
  }
}

function toPayload(raw: RawPayload): PayloadSizes {
  if (Array.isArray(raw)) return { kind: 'weighted', choices: raw.map((c) => ({ bytes: parseSize(c.bytes), weight: c.weight })) };
  if (typeof raw === 'object') return { kind: 'uniform', min: parseSize(raw.min), max: parseSize(raw.max) };
  return { kind: 'fixed', bytes: parseSize(raw) };
}

function toRouterDeployment(router: NonNullable<RawScenario['bus']['router']>): NonNullable<Scenario['bus']['router']> {
  return {
    ...(router.routers !== undefined ? { routers: router.routers } : {}),
    ...(router.shape ? { shape: router.shape } : {}),
    ...(router.edges ? { edges: router.edges } : {}),
    ...(router.tree_fanout ? { treeFanout: router.tree_fanout } : {}),
    flavor: router.flavor,
    ...(router.worker_threads ? { workerThreads: router.worker_threads } : {}),
    ...(router.link_capacity ? { linkCapacity: router.link_capacity } : {}),
  };
}

function toScenario(raw: RawScenario, source: string): Scenario {
  const name = raw.name ?? (source.startsWith('<') ? 'cli' : basename(source, extname(source)).replace(/[^A-Za-z0-9_.-]/g, '_'));
  const load = raw.load;
  const messages = load.messages ?? (load.duration === undefined ? 10_000 : undefined);
  const topology = raw.topology ? resolveTopology(raw.topology, agentCounts(raw.agents)) : undefined;
  // per-site placements multiply a role's count by the sites: from here on the counts are totals.
  const totals = topology ? agentTotals(topology) : agentCounts(raw.agents);
  return {
    name,
    source,
    bus: {
      kind: raw.bus.kind,
      ...(raw.bus.url !== undefined ? { url: raw.bus.url } : {}),
      exchange: raw.bus.exchange,
      addressing: raw.bus.addressing,
      credit: raw.bus.credit,
      management: raw.bus.management,
      queues: raw.bus.queues,
      ...(raw.bus.router ? { router: toRouterDeployment(raw.bus.router) } : {}),
    },
    agents: {
      servers: totals.server,
      clients: totals.client,
      notifiers: totals.notifier,
      listeners: totals.listener,
      topic: raw.agents.topic,
      notificationTopic: raw.agents.notification_topic,
      notificationPriority: raw.agents.notification_priority,
      sharedConnections: raw.agents.shared_connections,
    },
    load: {
      patterns: load.patterns.map(toPattern),
      mix: load.mix,
      ...(messages !== undefined ? { messages } : {}),
      ...(load.duration !== undefined ? { durationMs: parseDuration(load.duration) } : {}),
      warmupMs: parseDuration(load.warmup),
      concurrency: load.concurrency,
      pauseMs: parseDuration(load.pause),
      arrival: load.arrival ?? (load.rate !== undefined ? 'fixed' : 'closed'),
      ...(load.rate !== undefined ? { ratePerClient: load.rate } : {}),
      payload: toPayload(load.payload_bytes),
      timeoutMs: parseDuration(load.timeout),
      method: load.method,
      ...(load.args !== undefined ? { args: load.args } : {}),
    },
    runner: {
      workers: raw.runner.workers === 'auto' ? 0 : raw.runner.workers,
      connectConcurrency: raw.runner.connect_concurrency,
      saturationUtilization: raw.runner.saturation_utilization,
      saturationLagMs: parseDuration(raw.runner.saturation_lag),
      bookkeeping: raw.runner.bookkeeping,
      resourceIntervalMs: parseDuration(raw.runner.resource_interval),
    },
    ...(raw.faults ? { faults: toFaults(raw.faults, parseDuration(load.timeout)) } : {}),
    ...(topology ? { topology } : {}),
  };
}

function toFaults(raw: NonNullable<RawScenario['faults']>, timeoutMs: number): Faults {
  return {
    ...(raw.server_stall ? { serverStall: { atMs: parseDuration(raw.server_stall.at), forMs: parseDuration(raw.server_stall.for) } } : {}),
    ...(raw.drop_every !== undefined ? { dropEvery: raw.drop_every } : {}),
    ...(raw.late_reply_every !== undefined
      ? { lateReplyEvery: raw.late_reply_every, lateReplyDelayMs: raw.late_reply_delay !== undefined ? parseDuration(raw.late_reply_delay) : 2 * timeoutMs }
      : {}),
    ...(raw.duplicate_send_every !== undefined ? { duplicateSendEvery: raw.duplicate_send_every } : {}),
    ...(raw.server_rate !== undefined ? { serverRate: raw.server_rate } : {}),
    ...(raw.clock_skew_ms ? { clockSkewMs: raw.clock_skew_ms } : {}),
    ...(raw.client_burn !== undefined ? { clientBurnMs: parseDuration(raw.client_burn) } : {}),
    ...(raw.server_burn !== undefined ? { serverBurnMs: parseDuration(raw.server_burn) } : {}),
  };
}

export interface ResolveOptions {
  /** applied in order to the document before it is validated, so every check sees the result */
  overrides?: FieldOverride[];
  /**
   * Check the rules between fields (servers for clients, listeners for
   * notifiers, …). Off for the standalone agent commands, whose peers run
   * in other processes.
   */
  crossFieldChecks?: boolean;
}

/** The loader's options for a scenario: the flags over the file, and the rules its schema cannot say. */
function loading(options: ResolveOptions): LoadOptions<RawScenario> {
  return {
    ...(options.overrides ? { overrides: options.overrides } : {}),
    check: (raw, add) => {
      valueProblems(raw, add);
      if (options.crossFieldChecks !== false) crossFieldProblems(raw, add);
    },
  };
}

/** YAML text → validated, resolved scenario. `file` is used in messages and for the default name. */
export function parseScenario(text: string, file: string, options: ResolveOptions = {}): Scenario {
  return toScenario(scenarios.parse(text, file, loading(options)).data, file);
}

export async function loadScenario(file: string, options: ResolveOptions = {}): Promise<Scenario> {
  return toScenario((await scenarios.read(file, loading(options))).data, file);
}

/** A plain object in the file format (the CLI's quick flags) → resolved scenario, same validation, no line numbers. */
export function resolveScenario(raw: unknown, source: string, options: ResolveOptions = {}): Scenario {
  return toScenario(scenarios.load(plainSource(raw, source), loading(options)).data, source);
}
