/**
 * Scenario files: YAML → schema validation (ajv, through the shared loader
 * in src/config) → cross-field rules → the resolved Scenario. Every problem
 * names the file, line, column, field, what is allowed and what was given;
 * all problems are reported at once.
 */
import { basename, extname } from 'node:path';
import { BUS_PLUGINS } from '../buses/registry.js';
import { ConfigError, defineConfig, plainSource, unreadable, type AddProblem, type FieldOverride, type LoadOptions } from '../config/load.js';
import { parseDuration } from './duration.js';
import { scenarioSchema, type RawScenario } from './schema.js';
import { formatSize, largestPayloadBytes, parseSize } from './size.js';
import type { BusConfig, Faults, PayloadSizes, RpcPattern, Scenario } from '../model/index.js';
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
  if (load.duration !== undefined && parseDuration(load.duration) === 0)
    add(['load', 'duration'], 'must be longer than 0 (e.g. 30s); to run a message count instead, use load.messages');
  if (parseDuration(load.timeout) === 0) add(['load', 'timeout'], 'must be longer than 0 (e.g. 30s): every call would time out at once');
  // Each bus kind checks its own values (oslo's URL scheme names its driver).
  for (const plugin of BUS_PLUGINS) plugin.checkBus(bus, { valuesOnly: true }, add);
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
    add(
      ['agents', 'servers'],
      `the clients' patterns (${load.patterns.map((p) => (typeof p === 'string' ? p : `${p.method}/${p.target}`)).join(', ')}) need servers; set agents.servers >= 1`,
    );
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
  if (largest > MAX_PAYLOAD_BYTES)
    add(['load', 'payload_bytes'], `${largest} bytes is over the ${formatSize(MAX_PAYLOAD_BYTES)} a message may carry here; use a smaller size`);
  if (payload.kind === 'uniform' && payload.min > payload.max) add(['load', 'payload_bytes'], `min (${payload.min}) is above max (${payload.max}); swap them`);
  if (load.mix === 'messages' && patterns.length < 2)
    add(['load', 'mix'], 'mix: messages draws each message from several patterns; list at least two in load.patterns, or remove mix');
  if (load.messages !== undefined && load.duration !== undefined) {
    add(['load', 'duration'], 'give either load.messages or load.duration, not both');
  }
  const bus = raw.bus;
  // Each bus kind's rules between its fields and the rest (a kind's field set with another kind is that kind's to refuse).
  for (const plugin of BUS_PLUGINS) plugin.checkBus(bus, { ...(raw.topology ? { provider: raw.topology.provider } : {}), valuesOnly: false }, add);
  if (raw.topology) {
    for (const problem of topologyProblems(raw.topology, agentCounts(agents))) add(problem.path, problem.message);
    if (bus.url !== undefined) add(['topology', 'bus'], 'bus.url uses a running bus, but a topology places the bus nodes busbench deploys: remove bus.url');
  }
}

function toPayload(raw: RawPayload): PayloadSizes {
  if (Array.isArray(raw)) return { kind: 'weighted', choices: raw.map((c) => ({ bytes: parseSize(c.bytes), weight: c.weight })) };
  if (typeof raw === 'object') return { kind: 'uniform', min: parseSize(raw.min), max: parseSize(raw.max) };
  return { kind: 'fixed', bytes: parseSize(raw) };
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
      // Every kind's fields, as each kind resolves them (defaults filled in for all).
      ...(Object.assign({}, ...BUS_PLUGINS.map((plugin) => plugin.toConfig(raw.bus))) as Omit<BusConfig, 'kind' | 'url' | 'exchange'>),
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
      heap: raw.runner.heap,
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
