/**
 * Geography in a scenario: sites with hosts, constrained links between
 * sites, which sites carry a bus node (a broker of the cluster, or a router
 * of the mesh), how many agents of each role run on which site, and when
 * links drop out or sites are cut off. The `topology` section of a file is
 * validated by the schema below and the rules in `topologyProblems`; this
 * module resolves it into plain data the providers and the runner read.
 */
import type { FromSchema } from 'json-schema-to-ts';
import type { LinkConstraint, Role, Topology } from '../model/index.js';
import { parseDuration } from './duration.js';

const DURATION = {
  anyOf: [
    { type: 'number', minimum: 0 },
    { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)?\\s*$' },
  ],
} as const;
const SITE_NAME = {
  type: 'string',
  pattern: '^[a-z][a-z0-9-]{0,11}$',
  description: 'a site name: a lowercase letter, then up to 11 lowercase letters, digits or "-"',
} as const;
/** Two sites, the ends of a link. */
const SITE_PAIR = { type: 'array', items: [SITE_NAME, SITE_NAME], minItems: 2, additionalItems: false } as const;
const PLACEMENT = {
  description: '"round-robin" (the role\'s count spread over the sites), "per-site" (the count on every site), or {site: count}',
  anyOf: [{ enum: ['round-robin', 'per-site'] }, { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } }],
} as const;
const LINK_PROPERTIES = {
  delay: { ...DURATION, description: 'one-way delay' },
  jitter: { ...DURATION, description: 'delay varies uniformly by up to this much' },
  loss: {
    anyOf: [
      { type: 'number', minimum: 0, maximum: 100 },
      { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*%\\s*$' },
    ],
    description: 'packets lost, percent: 0.5 or "0.5%"',
  },
  rate: {
    anyOf: [
      { type: 'number', exclusiveMinimum: 0 },
      { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(kbit|mbit|gbit)\\s*$' },
    ],
    description: 'bandwidth: Mbit/s, or "512kbit", "100mbit", "1gbit"',
  },
} as const;

export const topologySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sites'],
  description: 'sites, links between them, where the bus and the agents run',
  properties: {
    provider: {
      enum: ['local', 'netns', 'ssh'],
      default: 'local',
      description: 'local: this host; netns: a network namespace per host on this machine; ssh: hosts from an inventory',
    },
    inventory: { type: 'string', description: 'ssh: YAML inventory of the hosts of each site' },
    sites: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: { name: SITE_NAME, hosts: { type: 'integer', minimum: 1, maximum: 64, default: 1 } },
      },
    },
    links: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        description: '{between: [a, b]} for both directions, or {from: a, to: b} for one',
        properties: { between: SITE_PAIR, from: SITE_NAME, to: SITE_NAME, ...LINK_PROPERTIES },
      },
    },
    bus: {
      description: 'sites with a bus node (RabbitMQ cluster node or router), on their first host: "all", or a list of sites',
      anyOf: [{ const: 'all' }, { type: 'array', items: SITE_NAME, minItems: 1 }],
    },
    placement: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        servers: { ...PLACEMENT, default: 'round-robin' },
        clients: { ...PLACEMENT, default: 'round-robin' },
        notifiers: { ...PLACEMENT, default: 'round-robin' },
        listeners: { ...PLACEMENT, default: 'round-robin' },
      },
    },
    dropouts: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['between', 'every', 'for'],
        properties: { between: SITE_PAIR, every: DURATION, for: DURATION, first: DURATION },
      },
    },
    partitions: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['at', 'for', 'isolate'],
        properties: { at: DURATION, for: DURATION, isolate: { type: 'array', items: SITE_NAME, minItems: 1 } },
      },
    },
  },
} as const;

/** The `topology` section once validated, with the schema's defaults (bus has none: every site, or with provider local the first). */
export type RawTopology = FromSchema<typeof topologySchema>;

const ROLE_FIELDS: Record<Role, 'servers' | 'clients' | 'notifiers' | 'listeners'> = {
  server: 'servers',
  client: 'clients',
  notifier: 'notifiers',
  listener: 'listeners',
};

export function parseLossPercent(value: string | number): number {
  return typeof value === 'number' ? value : Number(value.replace('%', '').trim());
}

export function parseRateMbit(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(kbit|mbit|gbit)\s*$/.exec(value)!;
  return Number(match[1]) * { kbit: 0.001, mbit: 1, gbit: 1000 }[match[2] as 'kbit' | 'mbit' | 'gbit'];
}

/** A problem at a path inside `topology`, for the scenario loader to locate and report. */
export interface TopologyProblem {
  path: (string | number)[];
  message: string;
}

/** The rules the schema cannot say: names that must exist, counts that must add up, links given once. */
export function topologyProblems(raw: RawTopology, agentCounts: Record<Role, number>): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  const add = (path: (string | number)[], message: string): void => void problems.push({ path: ['topology', ...path], message });
  const names = raw.sites.map((s) => s.name);
  const known = new Set(names);
  const listed = `sites: ${names.join(', ')}`;
  raw.sites.forEach((site, i) => {
    if (names.indexOf(site.name) !== i) add(['sites', i, 'name'], `site "${site.name}" is listed twice`);
  });
  const checkSite = (path: (string | number)[], site: string): void => {
    if (!known.has(site)) add(path, `"${site}" is not a site (${listed})`);
  };
  const directions = new Map<string, number>();
  raw.links.forEach((link, i) => {
    const pair = link.between ?? (link.from !== undefined && link.to !== undefined ? [link.from, link.to] : undefined);
    if (!pair || (link.between && (link.from !== undefined || link.to !== undefined))) {
      add(['links', i], 'give either between: [a, b] (both directions) or from: a and to: b (one direction)');
      return;
    }
    pair.forEach((site, end) => checkSite(['links', i, link.between ? 'between' : end === 0 ? 'from' : 'to'], site));
    if (pair[0] === pair[1]) add(['links', i], `a link joins two different sites, got ${pair[0]} twice`);
    if (link.delay === undefined && link.jitter === undefined && link.loss === undefined && link.rate === undefined)
      add(['links', i], 'a link constrains something: give delay, jitter, loss or rate');
    if (link.jitter !== undefined && parseDuration(link.jitter) > 0 && (link.delay === undefined || parseDuration(link.delay) === 0))
      add(['links', i, 'jitter'], 'jitter varies a delay: give delay too');
    for (const [from, to] of link.between ? [pair, [pair[1], pair[0]]] : [pair]) {
      const key = `${from} → ${to}`;
      if (directions.has(key)) add(['links', i], `${key} is already constrained by links[${directions.get(key)}]`);
      else directions.set(key, i);
    }
  });
  if (raw.bus !== undefined && raw.bus !== 'all') {
    raw.bus.forEach((site, i) => checkSite(['bus', i], site));
    if (new Set(raw.bus).size !== raw.bus.length) add(['bus'], 'a site carries at most one bus node; list each site once');
  }
  const busNodes = raw.bus === undefined ? (raw.provider === 'local' ? 1 : names.length) : raw.bus === 'all' ? names.length : raw.bus.length;
  if (raw.provider === 'local' && busNodes > 1)
    add(['bus'], 'provider local runs one bus node on this host: list one site in topology.bus, or set provider: netns for a node per site');
  for (const [role, field] of Object.entries(ROLE_FIELDS) as [Role, keyof RawTopology['placement']][]) {
    const placement = raw.placement[field];
    if (typeof placement !== 'object') continue;
    for (const site of Object.keys(placement)) checkSite(['placement', field, site], site);
    const sum = Object.values(placement).reduce((a, b) => a + b, 0);
    if (sum !== agentCounts[role]) add(['placement', field], `places ${sum} ${field} but agents.${field} is ${agentCounts[role]}; make them equal`);
  }
  raw.dropouts.forEach((dropout, i) => {
    dropout.between.forEach((site, end) => checkSite(['dropouts', i, 'between', end], site));
    if (parseDuration(dropout.for) >= parseDuration(dropout.every))
      add(['dropouts', i, 'for'], `a dropout must end before the next begins: "for" (${dropout.for}) must be shorter than "every" (${dropout.every})`);
  });
  raw.partitions.forEach((partition, i) => {
    partition.isolate.forEach((site, j) => checkSite(['partitions', i, 'isolate', j], site));
    if (new Set(partition.isolate).size >= known.size)
      add(['partitions', i, 'isolate'], 'a partition cuts some sites off from the rest: leave at least one site out');
  });
  if (raw.provider === 'ssh' && raw.inventory === undefined) add(['inventory'], 'the ssh provider needs an inventory file naming the hosts of each site');
  if (raw.provider !== 'ssh' && raw.inventory !== undefined)
    add(['inventory'], `an inventory is for provider: ssh (this topology's provider is ${raw.provider})`);
  if (raw.provider === 'local') {
    if (raw.links.length > 0) add(['links'], 'constraining links needs hosts with network stacks of their own: set provider: netns (or ssh)');
    if (raw.dropouts.length > 0 || raw.partitions.length > 0)
      add(['provider'], 'dropouts and partitions need hosts with network stacks of their own: set provider: netns (or ssh)');
  }
  return problems;
}

/** `count` agents spread over `sites` in order, the first ones getting one more. */
function spread(count: number, sites: string[]): Record<string, number> {
  return Object.fromEntries(sites.map((site, i) => [site, Math.floor(count / sites.length) + (i < count % sites.length ? 1 : 0)]));
}

/** The resolved topology; the agent counts of `per-site` roles are multiplied by the number of sites (see agentTotals). */
export function resolveTopology(raw: RawTopology, agentCounts: Record<Role, number>): Topology {
  const names = raw.sites.map((s) => s.name);
  const agentsBySite = {} as Topology['agentsBySite'];
  for (const [role, field] of Object.entries(ROLE_FIELDS) as [Role, keyof RawTopology['placement']][]) {
    const placement = raw.placement[field];
    if (placement === 'per-site') agentsBySite[role] = Object.fromEntries(names.map((site) => [site, agentCounts[role]]));
    else if (placement === 'round-robin') agentsBySite[role] = spread(agentCounts[role], names);
    else agentsBySite[role] = Object.fromEntries(names.map((site) => [site, placement[site] ?? 0]));
  }
  const links: LinkConstraint[] = raw.links.flatMap((link) => {
    const pair = link.between ?? [link.from!, link.to!];
    const constraint = {
      ...(link.delay !== undefined ? { delayMs: parseDuration(link.delay) } : {}),
      ...(link.jitter !== undefined ? { jitterMs: parseDuration(link.jitter) } : {}),
      ...(link.loss !== undefined ? { lossPercent: parseLossPercent(link.loss) } : {}),
      ...(link.rate !== undefined ? { rateMbit: parseRateMbit(link.rate) } : {}),
    };
    const directions: [string, string][] = link.between ? [pair, [pair[1], pair[0]]] : [pair];
    return directions.map(([from, to]) => ({ from, to, ...constraint }));
  });
  return {
    provider: raw.provider,
    ...(raw.inventory !== undefined ? { inventory: raw.inventory } : {}),
    sites: raw.sites.map((s) => ({ name: s.name, hosts: s.hosts })),
    links,
    busSites: raw.bus === undefined ? (raw.provider === 'local' ? [names[0]!] : names) : raw.bus === 'all' ? names : [...raw.bus],
    agentsBySite,
    dropouts: raw.dropouts.map((d) => ({
      sites: d.between,
      everyMs: parseDuration(d.every),
      forMs: parseDuration(d.for),
      firstMs: d.first !== undefined ? parseDuration(d.first) : parseDuration(d.every),
    })),
    partitions: raw.partitions.map((p) => ({ atMs: parseDuration(p.at), forMs: parseDuration(p.for), isolate: [...p.isolate] })),
  };
}

/** How many agents of each role run in all, once `per-site` roles are counted on every site. */
export function agentTotals(topology: Topology): Record<Role, number> {
  const totals = {} as Record<Role, number>;
  for (const role of Object.keys(ROLE_FIELDS) as Role[]) totals[role] = Object.values(topology.agentsBySite[role]).reduce((a, b) => a + b, 0);
  return totals;
}

/**
 * The bus site the agents of `site` use: their own when it has a bus node,
 * else the one reached with the least configured delay (the first listed
 * on a tie), as agents in the seed's decentralized deployment do.
 */
export function busSiteFor(topology: Topology, site: string): string {
  if (topology.busSites.includes(site)) return site;
  const delay = (to: string): number => {
    const link = topology.links.find((l) => l.from === site && l.to === to);
    return link?.delayMs ?? 0;
  };
  let best = topology.busSites[0]!;
  for (const candidate of topology.busSites) if (delay(candidate) < delay(best)) best = candidate;
  return best;
}
