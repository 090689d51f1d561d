/**
 * The ssh provider's inventory: the real hosts of each site and how
 * busbench reaches them.
 *
 *   defaults: {user: root, port: 22, identity: ~/.ssh/id_ed25519, known_hosts: ~/.ssh/known_hosts, busbench_dir: /opt/busbench}
 *   sites:
 *     paris: [{host: 192.0.2.10}, {host: 192.0.2.11, port: 2222, user: bench}]
 *     lyon: [{host: lyon-1.example.org, address: 10.0.0.5}]   # address: where the other hosts reach it (default: host)
 *
 * Validated against inventorySchema by the shared loader (src/config), so
 * problems are reported like a scenario's (file:line:column, field, what is
 * wrong and the fix, did-you-mean), all at once.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { FromSchema } from 'json-schema-to-ts';
import { ConfigError, defineConfig, type ConfigProblem, type Loaded } from '../../src/config/load.js';
import type { Topology } from '../../src/model/index.js';

export interface InventoryHost {
  /** `<site>-<n>`, the nth host of its site, as the netns provider names them */
  name: string;
  site: string;
  /** where busbench connects: a host name or an IPv4 address */
  host: string;
  port: number;
  user: string;
  /** where the other hosts reach this one */
  address: string;
  /** the private key, a path on this machine */
  identity: string;
  /** the known_hosts file that must hold the host's key, a path on this machine */
  knownHosts: string;
  /** on the host: absolute, or `~/…` for the user's home there */
  busbenchDir: string;
}

export interface InventorySite {
  name: string;
  hosts: InventoryHost[];
  /** where the site is in the file, for problems found later (a topology asking for more hosts) */
  line?: number;
  column?: number;
}

export interface Inventory {
  file: string;
  sites: InventorySite[];
}

export class InventoryError extends ConfigError {
  override readonly name = 'InventoryError';
}

/** The topology's rule for site names: an inventory site named otherwise could never be used. */
const SITE_NAME = '^[a-z][a-z0-9-]{0,11}$';
const HOST_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
/** Four numbers of which one is above 255: looks like an IPv4 address, is none (leading zeros do not count). */
const BAD_IPV4 = '^(?=(?:[0-9]+\\.){3}[0-9]+$)(?:[0-9]+\\.)*0*(?:25[6-9]|2[6-9][0-9]|[3-9][0-9]{2}|[1-9][0-9]{3,})(?:\\.|$)';

const HOST = {
  type: 'string',
  maxLength: 253,
  pattern: `^${HOST_LABEL}(?:\\.${HOST_LABEL})*$`,
  message: 'must be a host name or an IPv4 address (letters, digits, "-" and "."), got {got}',
  allOf: [{ not: { type: 'string', pattern: BAD_IPV4 }, message: '{got} is not an IPv4 address: each number is 0-255' }],
} as const;
const LOCAL_PATH = { type: 'string', pattern: '^(?:/|~/)[^\\n]*$', message: 'must be an absolute path, or one starting with ~/, got {got}' } as const;
/** What `defaults` sets for every host, and each host may set for itself. */
const CONNECTION = {
  user: {
    type: 'string',
    pattern: '^[a-z_][a-z0-9_-]{0,31}$',
    message: 'must be a user name: a lowercase letter or "_", then up to 31 lowercase letters, digits, "_" or "-"; got {got}',
  },
  port: { type: 'integer', minimum: 1, maximum: 65535, message: 'must be a whole number from 1 to 65535, got {got}' },
  identity: LOCAL_PATH,
  known_hosts: LOCAL_PATH,
  busbench_dir: LOCAL_PATH,
} as const;

export const inventorySchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['sites'],
  message: 'an inventory is a mapping with "sites: {<site>: [{host: <name or address>}, …]}", got {got}',
  properties: {
    defaults: {
      type: 'object',
      additionalProperties: false,
      default: {},
      message: 'must be a mapping of user, port, identity, known_hosts, busbench_dir, got {got}',
      properties: {
        user: { ...CONNECTION.user, default: 'root' },
        port: { ...CONNECTION.port, default: 22 },
        identity: { ...CONNECTION.identity, default: '~/.ssh/id_ed25519' },
        known_hosts: { ...CONNECTION.known_hosts, default: '~/.ssh/known_hosts' },
        busbench_dir: { ...CONNECTION.busbench_dir, default: '/opt/busbench' },
      },
    },
    sites: {
      type: 'object',
      minProperties: 1,
      message: 'must map each site to the list of its hosts, e.g. sites: {paris: [{host: 192.0.2.10}]}; got {got}',
      missing: 'a mapping of each site to the list of its hosts, e.g. sites: {paris: [{host: 192.0.2.10}]}',
      propertyNames: {
        pattern: SITE_NAME,
        message: '{got} cannot be a site name: a lowercase letter, then up to 11 lowercase letters, digits or "-" (as in a topology)',
      },
      additionalProperties: {
        type: 'array',
        minItems: 1,
        message: "must list the site's hosts, e.g. [{host: 192.0.2.10}], got {got}",
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['host'],
          message: 'a host is a mapping with at least "host", e.g. {host: 192.0.2.10}, got {got}',
          properties: {
            host: { ...HOST, missing: 'the name or IPv4 address busbench connects to' },
            address: HOST,
            ...CONNECTION,
          },
        },
      },
    },
  },
} as const;

/** An inventory file once validated, with the schema's defaults filled in. */
export type RawInventory = FromSchema<typeof inventorySchema>;

const inventories = defineConfig(inventorySchema, {
  error: InventoryError,
  unreadable: (error) =>
    (error as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'no such inventory file (topology.inventory names it, relative to the scenario file)'
      : `cannot read: ${(error as Error).message}`,
});

/** `~/` in the local files means this machine's home; busbench_dir's `~/` is kept for the remote user's. */
function localPath(path: string): string {
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

/** The validated file → hosts, each with the defaults it does not set itself. */
function toInventory({ data: raw, file, at }: Loaded<RawInventory>): Inventory {
  const sites = Object.entries(raw.sites).map(([site, entries]): InventorySite => ({
    name: site,
    hosts: entries.map((entry, index) => {
      const fields = { ...raw.defaults, ...entry };
      return {
        name: `${site}-${index + 1}`,
        site,
        host: fields.host,
        port: fields.port,
        user: fields.user,
        address: fields.address ?? fields.host,
        identity: localPath(fields.identity),
        knownHosts: localPath(fields.known_hosts),
        busbenchDir: fields.busbench_dir,
      };
    }),
    ...at(['sites', site], true),
  }));
  return { file, sites };
}

/** Inventory YAML → validated inventory. `file` is used in messages. */
export function parseInventory(text: string, file: string): Inventory {
  return toInventory(inventories.parse(text, file));
}

export async function loadInventory(file: string): Promise<Inventory> {
  return toInventory(await inventories.read(file));
}

/** Every site asked for must be in the inventory with at least `count` hosts; throws one InventoryError naming each short site. */
export function checkSiteHosts(inventory: Inventory, siteHosts: { site: string; count: number }[]): void {
  const file = inventory.file;
  const problems: ConfigProblem[] = [];
  for (const { site, count } of siteHosts) {
    const listed = inventory.sites.find((s) => s.name === site);
    if (!listed) {
      const known = inventory.sites.map((s) => s.name).join(', ') || 'none';
      problems.push({
        file,
        path: 'sites',
        message: `site "${site}" of the topology is not in the inventory (it lists: ${known}); add sites.${site} with ${count} host(s)`,
      });
    } else if (listed.hosts.length < count) {
      const short = count - listed.hosts.length;
      problems.push({
        file,
        ...(listed.line !== undefined ? { line: listed.line, column: listed.column } : {}),
        path: `sites.${site}`,
        message: `the topology puts ${count} host(s) on site ${site}, the inventory lists ${listed.hosts.length}: ${short} short; add ${short} host(s) to sites.${site}, or lower the site's hosts in the topology`,
      });
    }
  }
  if (problems.length > 0) throw new InventoryError(file, problems);
}

/** The topology's sites against the inventory: see checkSiteHosts. */
export function checkTopologyHosts(inventory: Inventory, topology: Topology): void {
  checkSiteHosts(
    inventory,
    topology.sites.map((s) => ({ site: s.name, count: s.hosts })),
  );
}
