/**
 * Scenario files: YAML → schema validation (ajv) → cross-field rules →
 * the resolved Scenario. Every problem names the file, line, column, field,
 * what is allowed and what was given; all problems are reported at once.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { meshEdges } from '../buses/amqp1/router/mesh.js';
import { parseDuration } from './duration.js';
import { deleteField, setField } from './fields.js';
import { scenarioSchema } from './schema.js';
import { formatSize, largestPayloadBytes, parseSize } from './size.js';
import type { Faults, PayloadSizes, RpcPattern, Scenario } from './types.js';
import { agentTotals, resolveTopology, topologyProblems, type RawTopology } from './topology.js';

/** The most a message may carry: beyond it brokers refuse frames or stall (RabbitMQ's default max is 128 MiB, but a benchmark has no business near it). */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

type RawSize = string | number;
type RawPayload = RawSize | { min: RawSize; max: RawSize } | { bytes: RawSize; weight: number }[];

export interface ScenarioProblem {
  file: string;
  line?: number;
  column?: number;
  /** the field, e.g. "load.concurrency" ("" for the whole file) */
  path: string;
  message: string;
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(
    readonly file: string,
    readonly problems: ScenarioProblem[],
  ) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export function formatProblem(p: ScenarioProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  return `${where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const validate = ajv.compile(scenarioSchema);

type Path = (string | number)[];

/** Finds where a field is in the YAML source, when there is a source. */
class Locator {
  constructor(
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter | undefined,
  ) {}

  private position(offset: number | undefined): { line?: number; column?: number } {
    if (offset === undefined || !this.lines) return {};
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** The value at `path`, or with `key` the key of that field (for unknown keys), or the nearest parent that exists. */
  at(path: Path, key = false): { line?: number; column?: number } {
    if (!this.doc) return {};
    for (let depth = path.length; depth >= 0; depth--) {
      const parent = depth > 0 ? this.doc.getIn(path.slice(0, depth - 1), true) : this.doc.contents;
      if (key && depth === path.length && isMap(parent)) {
        const pair = parent.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === path[depth - 1]);
        if (pair && isPair(pair) && isScalar(pair.key)) return this.position(pair.key.range?.[0]);
      }
      const node = (depth === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, depth), true)) as Node | null | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) return this.position(node.range[0]);
    }
    return {};
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'a mapping';
  return String(value);
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function suggestion(unknown: string, known: string[]): string {
  const normalized = unknown.toLowerCase().replace(/-/g, '_');
  const best = known
    .map((name) => ({ name, distance: levenshtein(normalized, name) }))
    .sort((a, b) => a.distance - b.distance)[0];
  return best && best.distance <= Math.max(2, Math.floor(unknown.length / 3)) ? `; did you mean "${best.name}"?` : '';
}

const PATTERN_MESSAGES: Record<string, string> = {
  '^[A-Za-z0-9_.-]+$': 'may contain only letters, digits, "_", "." and "-"',
  '^(rabbit|amqp|amqps)://': 'must be a transport URL starting with rabbit://, amqp:// or amqps://',
  '^[A-Za-z_][A-Za-z0-9_]*$': 'must be a method name (letters, digits and "_", not starting with a digit)',
};

function segments(instancePath: string): Path {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function dotted(path: Path): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function schemaErrors(errors: ErrorObject[], file: string, locate: Locator): ScenarioProblem[] {
  // An anyOf failure says it best itself; drop the noise of its branches.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  // An anyOf nested in another (a size inside the payload forms) at the same field: the outer one names every form.
  const outermostAnyOf = new Map<string, ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf') continue;
    const known = outermostAnyOf.get(e.instancePath);
    if (!known || e.schemaPath.length < known.schemaPath.length) outermostAnyOf.set(e.instancePath, e);
  }
  const problems: ScenarioProblem[] = [];
  for (const error of errors) {
    if (error.keyword === 'anyOf' && outermostAnyOf.get(error.instancePath) !== error) continue;
    if (error.keyword !== 'anyOf' && anyOfPaths.has(error.instancePath) && error.schemaPath.includes('/anyOf/')) continue;
    if (error.keyword !== 'anyOf' && [...anyOfPaths].some((p) => error.instancePath.startsWith(`${p}/`) && error.schemaPath.includes('/anyOf/'))) continue;
    const path = segments(error.instancePath);
    const got = describeValue(error.data);
    let message: string;
    let at = locate.at(path);
    switch (error.keyword) {
      case 'type':
        message = `must be ${error.params['type'] === 'integer' ? 'a whole number' : `a ${error.params['type']}`}, got ${got}`;
        break;
      case 'enum':
        message = `must be one of ${(error.params['allowedValues'] as unknown[]).join(', ')}; got ${got}`;
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
        message = `must be ${error.params['comparison']} ${error.params['limit']}, got ${got}`;
        break;
      case 'minItems':
        message = `must list at least ${error.params['limit']} item(s)`;
        break;
      case 'pattern':
        message = `${PATTERN_MESSAGES[error.params['pattern'] as string] ?? `must match ${error.params['pattern']}`}, got ${got}`;
        break;
      case 'required':
        message = `missing required field "${error.params['missingProperty']}"`;
        break;
      case 'additionalProperties': {
        const name = error.params['additionalProperty'] as string;
        const known = Object.keys((error.parentSchema as { properties?: object })?.properties ?? {});
        path.push(name);
        at = locate.at(path, true);
        message = `unknown field "${name}" (allowed: ${known.join(', ')})${suggestion(name, known)}`;
        break;
      }
      case 'anyOf': {
        const description = (error.parentSchema as { description?: string })?.description;
        const isPatternItem = path[0] === 'load' && path[1] === 'patterns';
        message = isPatternItem
          ? `must be "method/target" (call/unicast, call/anycast, cast/unicast, cast/anycast, cast/multicast) or {method, target}; got ${got}`
          : `must be ${description ?? 'something else'}; got ${got}`;
        break;
      }
      default:
        message = `${error.message ?? 'is not valid'}, got ${got}`;
    }
    problems.push({ file, ...at, path: dotted(path), message });
  }
  return problems;
}

interface RawScenario {
  name?: string;
  bus: {
    kind: Scenario['bus']['kind'];
    url?: string;
    exchange: string;
    addressing: 'routable' | 'legacy';
    credit: number;
    management: boolean;
    queues: 'classic' | 'quorum';
    router?: {
      routers: number;
      shape?: NonNullable<Scenario['bus']['router']>['shape'];
      edges?: [number, number][];
      tree_fanout?: number;
      flavor: 'auto' | 'qdrouterd' | 'skrouterd';
      worker_threads?: number;
      link_capacity?: number;
    };
  };
  agents: {
    servers: number;
    clients: number;
    notifiers: number;
    listeners: number;
    topic: string;
    notification_topic: string;
    notification_priority: Scenario['agents']['notificationPriority'];
    shared_connections: boolean;
  };
  load: {
    patterns: (string | RpcPattern)[];
    mix: 'clients' | 'messages';
    messages?: number;
    duration?: string | number;
    warmup: string | number;
    concurrency: number;
    pause: string | number;
    arrival?: 'closed' | 'fixed' | 'poisson';
    rate?: number;
    payload_bytes: RawPayload;
    timeout: string | number;
    method: string;
    args?: Record<string, unknown>;
  };
  runner: { workers: 'auto' | number; connect_concurrency: number; saturation_utilization: number; saturation_lag: string | number; bookkeeping: boolean; resource_interval: string | number };
  faults?: {
    server_stall?: { at: string | number; for: string | number };
    drop_every?: number;
    late_reply_every?: number;
    late_reply_delay?: string | number;
    duplicate_send_every?: number;
    server_rate?: number;
    clock_skew_ms?: number[];
    client_burn?: string | number;
    server_burn?: string | number;
  };
  topology?: RawTopology;
}

function agentCounts(agents: RawScenario['agents']): { server: number; client: number; notifier: number; listener: number } {
  return { server: agents.servers, client: agents.clients, notifier: agents.notifiers, listener: agents.listeners };
}

function toPattern(item: string | RpcPattern): RpcPattern {
  if (typeof item !== 'string') return item;
  const [method, target] = item.split('/') as [RpcPattern['method'], RpcPattern['target']];
  return { method, target };
}

/** Values the schema's forms admit but a run cannot use; checked for every scenario, the standalone agents' too. */
function valueProblems(raw: RawScenario, file: string, locate: Locator): ScenarioProblem[] {
  const problems: ScenarioProblem[] = [];
  const add = (path: Path, message: string): void => void problems.push({ file, ...locate.at(path), path: dotted(path), message });
  const { load, bus } = raw;
  if (load.duration !== undefined && parseDuration(load.duration) === 0) add(['load', 'duration'], 'must be longer than 0 (e.g. 30s); to run a message count instead, use load.messages');
  if (parseDuration(load.timeout) === 0) add(['load', 'timeout'], 'must be longer than 0 (e.g. 30s): every call would time out at once');
  // oslo's transport URL scheme names its driver: rabbit:// the AMQP 0-9-1 one, amqp:// the AMQP 1.0 one.
  if (bus.url !== undefined && bus.kind === 'rabbitmq' && /^amqps?:\/\//.test(bus.url)) {
    add(['bus', 'url'], `"${bus.url.replace(/\/\/[^@/]*@/, '//…@')}" is an amqp:// URL, which oslo.messaging speaks as AMQP 1.0; for RabbitMQ over AMQP 0-9-1 write rabbit://…, or set bus.kind: amqp1`);
  }
  if (bus.kind === 'amqp1' && bus.url !== undefined && !/^amqps?:\/\//.test(bus.url)) add(['bus', 'url'], `an amqp1 bus takes an amqp:// URL (oslo's AMQP 1.0 driver), got "${bus.url.replace(/\/\/[^@/]*@/, '//…@')}"; for RabbitMQ over AMQP 0-9-1 set bus.kind: rabbitmq`);
  return problems;
}

function crossFieldProblems(raw: RawScenario, file: string, locate: Locator): ScenarioProblem[] {
  const problems: ScenarioProblem[] = [];
  const add = (path: Path, message: string): void => void problems.push({ file, ...locate.at(path), path: dotted(path), message });
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
  if (bus.router && !sitesDecideRouters && bus.router.routers === undefined) {
    add(['bus', 'router'], 'bus.router needs routers: how many routers to deploy on this host (1 … 64)');
  } else if (bus.router && !sitesDecideRouters) {
    try {
      meshEdges({ routers: bus.router.routers, ...(bus.router.shape ? { shape: bus.router.shape } : {}), ...(bus.router.edges ? { edges: bus.router.edges } : {}), ...(bus.router.tree_fanout ? { treeFanout: bus.router.tree_fanout } : {}) });
    } catch (error) {
      add(['bus', 'router'], (error as Error).message);
    }
  }
  return problems;
}

function toPayload(raw: RawPayload): PayloadSizes {
  if (Array.isArray(raw)) return { kind: 'weighted', choices: raw.map((c) => ({ bytes: parseSize(c.bytes), weight: c.weight })) };
  if (typeof raw === 'object') return { kind: 'uniform', min: parseSize(raw.min), max: parseSize(raw.max) };
  return { kind: 'fixed', bytes: parseSize(raw) };
}

function toRouterDeployment(router: NonNullable<RawScenario['bus']['router']>): NonNullable<Scenario['bus']['router']> {
  return {
    routers: router.routers,
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

/** A field set (or removed) on the document before validation: a command-line flag over a scenario file. */
export interface FieldOverride {
  /** dotted, as in a file: agents.clients, load.rate */
  field: string;
  /** the value; with remove, the field is taken out instead */
  value?: unknown;
  remove?: boolean;
  /** what set it, for messages: --clients, --set load.rate=100 */
  from: string;
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

function resolve(data: unknown, file: string, locate: Locator, options: ResolveOptions): Scenario {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ScenarioError(file, [{ file, ...locate.at([]), path: '', message: `a scenario is a mapping with at least "bus: {kind: rabbitmq}", got ${describeValue(data)}` }]);
  }
  const raw = structuredClone(data) as RawScenario;
  const overrides = options.overrides ?? [];
  for (const o of overrides) {
    try {
      if (o.remove) deleteField(raw as unknown as Record<string, unknown>, o.field);
      else setField(raw as unknown as Record<string, unknown>, o.field, o.value);
    } catch (error) {
      throw new ScenarioError(file, [{ file, path: o.field, message: `${(error as Error).message} (set by ${o.from})` }]);
    }
  }
  // A problem in a field a flag set is the flag's: its place in the file would point at the value it replaced.
  const blame = (problems: ScenarioProblem[]): ScenarioProblem[] =>
    problems.map((p) => {
      const o = [...overrides].reverse().find((o) => !o.remove && (p.path === o.field || p.path.startsWith(`${o.field}.`) || p.path.startsWith(`${o.field}[`)));
      return o ? { file: p.file, path: p.path, message: `${p.message} (set by ${o.from})` } : p;
    });
  if (!validate(raw)) throw new ScenarioError(file, blame(schemaErrors(validate.errors ?? [], file, locate)));
  const problems = [...valueProblems(raw, file, locate), ...(options.crossFieldChecks !== false ? crossFieldProblems(raw, file, locate) : [])];
  if (problems.length > 0) throw new ScenarioError(file, blame(problems));
  return toScenario(raw, file);
}

/** YAML text → validated, resolved scenario. `file` is used in messages and for the default name. */
export function parseScenario(text: string, file: string, options: ResolveOptions = {}): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      file,
      doc.errors.map((error) => {
        const pos = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0]);
        return { file, ...(pos ? { line: pos.line, column: pos.col } : {}), path: '', message: `YAML: ${error.message.split('\n')[0]}` };
      }),
    );
  }
  return resolve(doc.toJS(), file, new Locator(doc, lineCounter), options);
}

export async function loadScenario(file: string, options: ResolveOptions = {}): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ScenarioError(file, [{ file, path: '', message: unreadable(error, 'scenario file', 'scenarios/quickstart.yaml') }]);
  }
  return parseScenario(text, file, options);
}

/** Why a file could not be read, in words (not a raw EISDIR or ENOENT). */
export function unreadable(error: unknown, what: string, example: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `no such ${what}; give the path of a YAML file such as ${example}`;
  if (code === 'EISDIR') return `is a directory; give a ${what} inside it, such as ${example}`;
  if (code === 'EACCES') return `cannot be read (permission denied)`;
  return `cannot read: ${(error as Error).message}`;
}

/** A plain object in the file format (the CLI's quick flags) → resolved scenario, same validation, no line numbers. */
export function resolveScenario(raw: unknown, source: string, options: ResolveOptions = {}): Scenario {
  return resolve(raw, source, new Locator(undefined, undefined), options);
}
