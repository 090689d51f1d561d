/**
 * Router configuration files for Qpid Dispatch Router (qdrouterd.conf) and
 * its successor skupper-router (skrouterd.conf), from a mesh plan: one
 * listener for clients and one for inter-router links per router, a
 * connector per link (the higher-numbered router dials the lower, as
 * ombt-orchestrator did), and the oslo address prefixes with their
 * distributions. Values are validated before they are written: a config
 * file is parsed by the router, and a bad value must fail here, in words.
 */
import { LEGACY_PREFIXES, ROUTABLE_PREFIXES } from '../addresses.js';
import { meshEdges, type MeshSpec } from './mesh.js';
import { OSLO_DISTRIBUTION, type AddressDistribution } from '../../../model/index.js';

export type RouterFlavor = 'qdrouterd' | 'skrouterd';

export interface RouterPlan {
  index: number;
  id: string;
  host: string;
  /** AMQP listener for agents */
  port: number;
  /** inter-router listener; absent on a router that is alone */
  interRouterPort?: number;
  /** inter-router connections this router opens */
  connectors: { name: string; host: string; port: number }[];
}

export interface MeshPlanOptions {
  /** router ids (default Router.0, Router.1, …) */
  ids?: string[];
  /** host each router listens on (default 127.0.0.1 for all) */
  hosts?: string[];
  /** client ports, one per router */
  ports: number[];
  /** inter-router ports, one per router */
  interRouterPorts: number[];
}

export interface RouterTuning {
  /** router worker threads (both routers default to 4) */
  workerThreads?: number;
  /** credit a router grants each client link (default 250) */
  linkCapacity?: number;
  /** log file; default: the router's standard error */
  logFile?: string;
  /** the distribution of oslo's unicast and anycast prefixes (default: oslo's, closest and balanced) */
  distribution?: AddressDistribution;
  /** log level: info+ unless told otherwise */
  logLevel?: 'trace+' | 'debug+' | 'info+' | 'notice+' | 'warning+' | 'error+' | 'critical+';
}

export class RouterConfigError extends Error {
  override readonly name = 'RouterConfigError';
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const HOST_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.:-]*$/;

function checkPort(what: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RouterConfigError(`${what}: port must be 1 … 65535, got ${port}`);
}

/** Each router's listeners and connectors for a mesh. */
export function planMesh(spec: MeshSpec, options: MeshPlanOptions): RouterPlan[] {
  const n = spec.routers;
  const edges = meshEdges(spec);
  const ids = options.ids ?? Array.from({ length: n }, (_, i) => `Router.${i}`);
  const hosts = options.hosts ?? Array.from({ length: n }, () => '127.0.0.1');
  if (ids.length !== n || hosts.length !== n || options.ports.length !== n || options.interRouterPorts.length !== n) {
    throw new RouterConfigError(`a mesh of ${n} routers needs ${n} ids, hosts, ports and inter-router ports`);
  }
  const used = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    if (!ID_PATTERN.test(ids[i]!)) throw new RouterConfigError(`router id "${ids[i]}": use letters, digits, ".", "_" and "-"`);
    if (!HOST_PATTERN.test(hosts[i]!)) throw new RouterConfigError(`router ${ids[i]}: "${hosts[i]}" is not a host name or address`);
    for (const [what, port] of [
      ['client', options.ports[i]!],
      ['inter-router', options.interRouterPorts[i]!],
    ] as const) {
      checkPort(`router ${ids[i]} ${what} listener`, port);
      const key = `${hosts[i]}:${port}`;
      if (used.has(key)) throw new RouterConfigError(`router ${ids[i]} ${what} listener: ${key} is already taken by ${used.get(key)}`);
      used.set(key, `router ${ids[i]} ${what} listener`);
    }
  }
  if (new Set(ids).size !== n) throw new RouterConfigError(`router ids must be unique: ${ids.join(', ')}`);
  const alone = edges.length === 0;
  return ids.map((id, index) => ({
    index,
    id,
    host: hosts[index]!,
    port: options.ports[index]!,
    ...(alone ? {} : { interRouterPort: options.interRouterPorts[index]! }),
    connectors: edges
      .filter(([, higher]) => higher === index)
      .map(([lower]) => ({ name: `to-${ids[lower]}`, host: hosts[lower]!, port: options.interRouterPorts[lower]! })),
  }));
}

/**
 * A plan that came from elsewhere (a bus node host receives its router's
 * from busbench), checked as planMesh checks the plans it makes: it is
 * written into a config file the router parses.
 */
export function checkRouterPlan(value: unknown): RouterPlan {
  const plan = value as Partial<RouterPlan> | null;
  const fail = (why: string): never => {
    throw new RouterConfigError(`router plan ${JSON.stringify(value).slice(0, 200)}: ${why}`);
  };
  if (typeof plan !== 'object' || plan === null) return fail('not an object');
  if (!Number.isInteger(plan.index) || plan.index! < 0) fail('index must be a whole number');
  if (typeof plan.id !== 'string' || !ID_PATTERN.test(plan.id)) fail('id must be letters, digits, ".", "_" and "-"');
  if (typeof plan.host !== 'string' || !HOST_PATTERN.test(plan.host)) fail('host must be a host name or address');
  checkPort(`router ${plan.id} client listener`, plan.port as number);
  if (plan.interRouterPort !== undefined) checkPort(`router ${plan.id} inter-router listener`, plan.interRouterPort);
  if (!Array.isArray(plan.connectors)) return fail('connectors must be a list');
  for (const c of plan.connectors as Partial<RouterPlan['connectors'][number]>[]) {
    if (typeof c?.name !== 'string' || !ID_PATTERN.test(c.name)) fail('a connector name must be letters, digits, ".", "_" and "-"');
    if (typeof c?.host !== 'string' || !HOST_PATTERN.test(c.host)) fail(`connector ${c?.name}: host must be a host name or address`);
    checkPort(`router ${plan.id} connector ${c?.name}`, c?.port as number);
  }
  return plan as RouterPlan;
}

/**
 * oslo's address prefixes and the distribution each gets (REFERENCE §1), routable and legacy:
 * multicast always; unicast and anycast as `distribution` says, oslo's own by default.
 */
export function addressDistributions(
  distribution: AddressDistribution = OSLO_DISTRIBUTION,
): readonly (readonly [string, 'multicast' | 'closest' | 'balanced'])[] {
  for (const [kind, value] of Object.entries(distribution)) {
    // It becomes a line of the config file: only the two values a router takes.
    if (value !== 'closest' && value !== 'balanced') throw new RouterConfigError(`distribution.${kind} must be closest or balanced, got ${String(value)}`);
  }
  const { unicast, anycast } = distribution;
  return [
    [ROUTABLE_PREFIXES.rpcMulticast, 'multicast'],
    [ROUTABLE_PREFIXES.rpcUnicast, unicast],
    [ROUTABLE_PREFIXES.rpcAnycast, anycast],
    [ROUTABLE_PREFIXES.notifyMulticast, 'multicast'],
    [ROUTABLE_PREFIXES.notifyUnicast, unicast],
    [ROUTABLE_PREFIXES.notifyAnycast, anycast],
    [LEGACY_PREFIXES.multicast, 'multicast'],
    [LEGACY_PREFIXES.unicast, unicast],
    [LEGACY_PREFIXES.anycast, anycast],
  ];
}

/** oslo's prefixes with oslo's distributions. */
export const OSLO_ADDRESS_DISTRIBUTIONS = addressDistributions();

function block(name: string, attributes: [string, string | number | undefined][]): string {
  const lines = attributes.filter(([, value]) => value !== undefined).map(([key, value]) => `    ${key}: ${value}`);
  return `${name} {\n${lines.join('\n')}\n}\n`;
}

/**
 * The configuration file of one router. Both flavors read the same syntax
 * for everything used here (router, listener, connector, address, log);
 * the flavor is named in the header so a reader knows which router it is for.
 */
export function renderRouterConfig(plan: RouterPlan, flavor: RouterFlavor, tuning: RouterTuning = {}): string {
  if (tuning.workerThreads !== undefined && (!Number.isInteger(tuning.workerThreads) || tuning.workerThreads < 1)) {
    throw new RouterConfigError(`workerThreads must be a whole number >= 1, got ${tuning.workerThreads}`);
  }
  if (tuning.linkCapacity !== undefined && (!Number.isInteger(tuning.linkCapacity) || tuning.linkCapacity < 1)) {
    throw new RouterConfigError(`linkCapacity must be a whole number >= 1, got ${tuning.linkCapacity}`);
  }
  if (tuning.logFile !== undefined && /[\n{}]/.test(tuning.logFile))
    throw new RouterConfigError(`log file "${tuning.logFile}" cannot be written in a router config`);
  const sasl: [string, string][] = [
    ['authenticatePeer', 'no'],
    ['saslMechanisms', 'ANONYMOUS'],
  ];
  const parts = [
    `# ${flavor === 'skrouterd' ? 'skrouterd.conf (skupper-router)' : 'qdrouterd.conf (Qpid Dispatch Router)'} for ${plan.id}, generated by busbench\n`,
    block('router', [
      ['mode', plan.interRouterPort === undefined ? 'standalone' : 'interior'],
      ['id', plan.id],
      ['workerThreads', tuning.workerThreads],
    ]),
    block('listener', [['host', plan.host], ['port', plan.port], ['role', 'normal'], ...sasl, ['linkCapacity', tuning.linkCapacity]]),
  ];
  if (plan.interRouterPort !== undefined) {
    parts.push(block('listener', [['host', plan.host], ['port', plan.interRouterPort], ['role', 'inter-router'], ...sasl]));
  }
  for (const connector of plan.connectors) {
    parts.push(
      block('connector', [
        ['name', connector.name],
        ['host', connector.host],
        ['port', connector.port],
        ['role', 'inter-router'],
        ['saslMechanisms', 'ANONYMOUS'],
      ]),
    );
  }
  for (const [prefix, distribution] of addressDistributions(tuning.distribution))
    parts.push(
      block('address', [
        ['prefix', prefix],
        ['distribution', distribution],
      ]),
    );
  parts.push(
    block('log', [
      ['module', 'DEFAULT'],
      ['enable', tuning.logLevel ?? 'info+'],
      ['outputFile', tuning.logFile],
    ]),
  );
  return parts.join('\n');
}

/** What a router config file says, read back as data (for tests and for checking a plan). */
export function parseRouterConfig(text: string): { entity: string; attributes: Record<string, string> }[] {
  const entities: { entity: string; attributes: Record<string, string> }[] = [];
  const pattern = /^([A-Za-z.]+)\s*\{([^}]*)\}/gm;
  for (const match of text.matchAll(pattern)) {
    const attributes: Record<string, string> = {};
    for (const line of match[2]!.split('\n')) {
      const kv = /^\s*([A-Za-z]+):\s*(.*?)\s*$/.exec(line);
      if (kv) attributes[kv[1]!] = kv[2]!;
    }
    entities.push({ entity: match[1]!, attributes });
  }
  return entities;
}
