/**
 * The ssh provider's inventory: the real hosts of each site and how
 * busbench reaches them.
 *
 *   defaults: {user: root, port: 22, identity: ~/.ssh/id_ed25519, known_hosts: ~/.ssh/known_hosts, busbench_dir: /opt/busbench}
 *   sites:
 *     paris: [{host: 192.0.2.10}, {host: 192.0.2.11, port: 2222, user: bench}]
 *     lyon: [{host: lyon-1.example.org, address: 10.0.0.5}]   # address: where the other hosts reach it (default: host)
 *
 * Problems are reported like a scenario's (file:line:column, field, what is
 * wrong and the fix), all at once.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { ConfigProblem } from '../config/load.js';
import { ScenarioError } from '../scenario/load.js';
import type { Topology } from '../scenario/topology.js';

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

export class InventoryError extends ScenarioError {}

const DEFAULTS = { user: 'root', port: 22, identity: '~/.ssh/id_ed25519', known_hosts: '~/.ssh/known_hosts', busbench_dir: '/opt/busbench' };
const DEFAULT_FIELDS = Object.keys(DEFAULTS);
const HOST_FIELDS = ['host', 'address', ...DEFAULT_FIELDS];
const TOP_FIELDS = ['defaults', 'sites'];

/** The topology's rule for site names: an inventory site named otherwise could never be used. */
const SITE_NAME = /^[a-z][a-z0-9-]{0,11}$/;
const HOST_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^${HOST_LABEL}(?:\\.${HOST_LABEL})*$`);
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;

type Path = (string | number)[];

function dotted(path: Path): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'a mapping';
  return String(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function locator(doc: Document, lines: LineCounter): (path: Path, key?: boolean) => { line?: number; column?: number } {
  const position = (offset: number | undefined): { line?: number; column?: number } => {
    if (offset === undefined) return {};
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  return (path, key = false) => {
    if (key && path.length > 0) {
      const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === path[path.length - 1]);
        if (pair && isScalar(pair.key)) return position(pair.key.range?.[0]);
      }
    }
    for (let depth = path.length; depth >= 0; depth--) {
      const node = (depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)) as { range?: [number, number] } | null | undefined;
      if (node?.range) return position(node.range[0]);
    }
    return {};
  };
}

/** Checks one field of `defaults` or of a host; returns the value to use, or undefined after reporting a problem. */
function checkField(name: string, value: unknown, problem: (message: string) => void): string | number | undefined {
  switch (name) {
    case 'host':
    case 'address': {
      if (typeof value !== 'string' || value.length > 253 || !HOST_NAME.test(value)) {
        problem(`must be a host name or an IPv4 address (letters, digits, "-" and "."), got ${describeValue(value)}`);
        return undefined;
      }
      const octets = value.split('.');
      if (octets.length === 4 && octets.every((o) => /^\d+$/.test(o)) && octets.some((o) => Number(o) > 255)) {
        problem(`"${value}" is not an IPv4 address: each number is 0-255`);
        return undefined;
      }
      return value;
    }
    case 'port':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
        problem(`must be a whole number from 1 to 65535, got ${describeValue(value)}`);
        return undefined;
      }
      return value;
    case 'user':
      if (typeof value !== 'string' || !USER.test(value)) {
        problem(`must be a user name: a lowercase letter or "_", then up to 31 lowercase letters, digits, "_" or "-"; got ${describeValue(value)}`);
        return undefined;
      }
      return value;
    default:
      if (typeof value !== 'string' || !(value.startsWith('/') || value.startsWith('~/')) || value.includes('\n')) {
        problem(`must be an absolute path, or one starting with ~/, got ${describeValue(value)}`);
        return undefined;
      }
      return value;
  }
}

/** `~/` in the local files means this machine's home; busbench_dir's `~/` is kept for the remote user's. */
function localPath(path: string): string {
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

/** Inventory YAML → validated inventory. `file` is used in messages. */
export function parseInventory(text: string, file: string): Inventory {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new InventoryError(
      file,
      doc.errors.map((error) => {
        const pos = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
        return { file, line: pos.line, column: pos.col, path: '', message: `YAML: ${error.message.split('\n')[0]}` };
      }),
    );
  }
  const at = locator(doc, lines);
  const problems: ConfigProblem[] = [];
  const add = (path: Path, message: string, key = false): void => void problems.push({ file, ...at(path, key), path: dotted(path), message });
  const unknownFields = (value: Record<string, unknown>, path: Path, allowed: string[]): void => {
    for (const name of Object.keys(value)) {
      if (!allowed.includes(name)) add([...path, name], `unknown field "${name}" (allowed: ${allowed.join(', ')})`, true);
    }
  };

  const raw = doc.toJS() as unknown;
  if (!isRecord(raw)) {
    throw new InventoryError(file, [{ file, ...at([]), path: '', message: `an inventory is a mapping with "sites: {<site>: [{host: <name or address>}, …]}", got ${describeValue(raw)}` }]);
  }
  unknownFields(raw, [], TOP_FIELDS);

  const defaults: Record<string, string | number> = { ...DEFAULTS };
  if (raw['defaults'] !== undefined) {
    const given = raw['defaults'];
    if (!isRecord(given)) add(['defaults'], `must be a mapping of ${DEFAULT_FIELDS.join(', ')}, got ${describeValue(given)}`);
    else {
      unknownFields(given, ['defaults'], DEFAULT_FIELDS);
      for (const name of DEFAULT_FIELDS) {
        if (given[name] === undefined) continue;
        const value = checkField(name, given[name], (message) => add(['defaults', name], message));
        if (value !== undefined) defaults[name] = value;
      }
    }
  }

  const sites: InventorySite[] = [];
  const rawSites = raw['sites'];
  if (rawSites === undefined) add([], 'missing required field "sites": a mapping of each site to the list of its hosts, e.g. sites: {paris: [{host: 192.0.2.10}]}');
  else if (!isRecord(rawSites) || Object.keys(rawSites).length === 0) add(['sites'], `must map each site to the list of its hosts, e.g. sites: {paris: [{host: 192.0.2.10}]}; got ${describeValue(rawSites)}`);
  else {
    for (const [site, entries] of Object.entries(rawSites)) {
      if (!SITE_NAME.test(site)) add(['sites', site], `"${site}" cannot be a site name: a lowercase letter, then up to 11 lowercase letters, digits or "-" (as in a topology)`, true);
      if (!Array.isArray(entries) || entries.length === 0) {
        add(['sites', site], `must list the site's hosts, e.g. [{host: 192.0.2.10}], got ${describeValue(entries)}`);
        continue;
      }
      const hosts: InventoryHost[] = [];
      entries.forEach((entry: unknown, index) => {
        const path: Path = ['sites', site, index];
        if (!isRecord(entry)) {
          add(path, `a host is a mapping with at least "host", e.g. {host: 192.0.2.10}, got ${describeValue(entry)}`);
          return;
        }
        unknownFields(entry, path, HOST_FIELDS);
        if (entry['host'] === undefined) add(path, 'missing required field "host": the name or IPv4 address busbench connects to');
        const fields: Record<string, string | number> = { ...defaults };
        let valid = entry['host'] !== undefined;
        for (const name of HOST_FIELDS) {
          if (entry[name] === undefined) continue;
          const value = checkField(name, entry[name], (message) => add([...path, name], message));
          if (value === undefined) valid = false;
          else fields[name] = value;
        }
        if (!valid) return;
        hosts.push({
          name: `${site}-${index + 1}`,
          site,
          host: fields['host'] as string,
          port: fields['port'] as number,
          user: fields['user'] as string,
          address: (fields['address'] ?? fields['host']) as string,
          identity: localPath(fields['identity'] as string),
          knownHosts: localPath(fields['known_hosts'] as string),
          busbenchDir: fields['busbench_dir'] as string,
        });
      });
      sites.push({ name: site, hosts, ...at(['sites', site], true) });
    }
  }
  if (problems.length > 0) throw new InventoryError(file, problems);
  return { file, sites };
}

export async function loadInventory(file: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InventoryError(file, [{ file, path: '', message: code === 'ENOENT' ? 'no such inventory file (topology.inventory names it, relative to the scenario file)' : `cannot read: ${(error as Error).message}` }]);
  }
  return parseInventory(text, file);
}

/** Every site asked for must be in the inventory with at least `count` hosts; throws one InventoryError naming each short site. */
export function checkSiteHosts(inventory: Inventory, siteHosts: { site: string; count: number }[]): void {
  const file = inventory.file;
  const problems: ConfigProblem[] = [];
  for (const { site, count } of siteHosts) {
    const listed = inventory.sites.find((s) => s.name === site);
    if (!listed) {
      const known = inventory.sites.map((s) => s.name).join(', ') || 'none';
      problems.push({ file, path: 'sites', message: `site "${site}" of the topology is not in the inventory (it lists: ${known}); add sites.${site} with ${count} host(s)` });
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
