/**
 * The ssh provider: every host is a real machine from the inventory,
 * reached over ssh. busbench runs there as a copy of this very build,
 * shipped into busbench_dir when the copy there is missing or different;
 * agent hosts and bus node hosts (src/entries/bus-node.ts) run there as
 * processes over ssh exec channels; network constraints are the netns
 * provider's plan, put on each host's real interface with tc and nft.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startReaderHost, type ReaderHost } from '../../src/metrics/resources.js';
import { applyNetworkPlan, detectKernel, type AppliedPlan, type HostExecutor } from '../../src/network/apply.js';
import { measureLinks } from '../../src/network/measure.js';
import { buildNetworkPlan, type KernelCapabilities, type NetworkHost, type NetworkPlan } from '../../src/network/plan.js';
import type { LinkConstraint, Topology } from '../../src/model/index.js';
import { loadInventory } from './inventory.js';
import { installedEntry } from '../../src/util/entries.js';
import type { AppliedNetwork, ProvidedHost, Provider } from './provider.js';
import { connectSshHosts, type HostFacts, type SshHost, type SshHosts } from './ssh-hosts.js';

const execFileAsync = promisify(execFile);

export interface SshProviderOptions {
  /** the inventory, a path on this machine */
  inventoryFile: string;
  /** labs only: trust hosts whose key the known_hosts file lacks */
  insecureAcceptUnknownHostKeys?: boolean;
  connectTimeoutMs?: number;
}

const MIN_NODE_MAJOR = 20;
/** The file in busbench_dir saying which build is unpacked there; written last, so a half-unpacked copy has none. */
export const BUILD_MARKER = '.busbench-build';

/** This busbench's root: dist/deploy/providers/ssh.js is three levels below it. */
const BUSBENCH_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * What a host needs to run busbench: the build's runtime and the production
 * dependencies as installed here, following package.json's "files". The
 * lock file's non-dev packages decide which node_modules go, rather than
 * excluding the dev ones, so a stray package in node_modules is not shipped.
 */
async function runtimePaths(root: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as { packages?: Record<string, { dev?: boolean; optional?: boolean }> };
  const present = async (path: string): Promise<boolean> =>
    readdir(join(root, path)).then(
      () => true,
      () => false,
    );
  const production = Object.entries(lock.packages ?? {})
    .filter(([path, info]) => path.startsWith('node_modules/') && !info.dev)
    .map(([path]) => path)
    .sort();
  // A nested package goes with its parent; an optional one never installed here is not there to ship.
  const topLevel = production.filter((path) => !production.some((other) => other !== path && path.startsWith(`${other}/`)));
  const installed = (await Promise.all(topLevel.map(async (path) => ((await present(path)) ? path : undefined)))).filter((p): p is string => p !== undefined);
  return ['package.json', 'package-lock.json', 'dist/src', 'dist/agents', 'dist/deploy', ...installed];
}

async function filesUnder(root: string, path: string): Promise<string[]> {
  const entries = await readdir(join(root, path), { withFileTypes: true }).catch(() => undefined);
  if (!entries) return [path];
  const nested = await Promise.all(
    entries.map((entry) => {
      const child = posix.join(path, entry.name);
      return entry.isDirectory() ? filesUnder(root, child) : Promise.resolve(entry.isFile() ? [child] : []);
    }),
  );
  return nested.flat();
}

export interface BusbenchBuild {
  root: string;
  version: string;
  /** sha256 over every shipped file's path and content */
  hash: string;
  paths: string[];
}

/** The build a host must have, identified by content: a rebuild with the same version is still a different build. */
export async function localBuild(root = BUSBENCH_ROOT): Promise<BusbenchBuild> {
  const version = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const paths = await runtimePaths(root);
  const files = (await Promise.all(paths.map((p) => filesUnder(root, p)))).flat().sort();
  const digest = createHash('sha256');
  for (const file of files) {
    digest.update(`${file}\0`);
    digest.update(await readFile(join(root, file)));
    digest.update('\0');
  }
  return { root, version, hash: digest.digest('hex'), paths };
}

function markerText(build: BusbenchBuild): string {
  return JSON.stringify({ version: build.version, hash: build.hash });
}

async function remoteText(hosts: SshHosts, host: string, file: string): Promise<string | undefined> {
  return hosts.run(host, ['cat', file]).catch(() => undefined);
}

/** The copy in busbench_dir is this build when its package.json version and the marker's hash both match. */
async function hasBuild(hosts: SshHosts, host: SshHost, build: BusbenchBuild): Promise<boolean> {
  const [pkg, marker] = await Promise.all([
    remoteText(hosts, host.name, posix.join(host.busbenchDir, 'package.json')),
    remoteText(hosts, host.name, posix.join(host.busbenchDir, BUILD_MARKER)),
  ]);
  try {
    const recorded = JSON.parse(marker ?? 'null') as { version?: string; hash?: string } | null;
    return (
      (JSON.parse(pkg ?? 'null') as { version?: string } | null)?.version === build.version &&
      recorded?.version === build.version &&
      recorded.hash === build.hash
    );
  } catch {
    return false;
  }
}

/**
 * Ships the build to the hosts lacking it: one tarball of the installed
 * runtime, made once, unpacked over busbench_dir. Hosts that are one
 * machine and one directory (several inventory entries for a machine) get
 * one copy, so two unpacks never race in the same directory.
 */
async function installBusbench(hosts: SshHosts, build: BusbenchBuild): Promise<string[]> {
  const copies = new Map<string, SshHost>();
  for (const host of hosts.hosts) {
    const key = `${host.inventory.user}@${host.inventory.host}:${host.inventory.port}:${host.busbenchDir}`;
    if (!copies.has(key)) copies.set(key, host);
  }
  const lacking = (await Promise.all([...copies.values()].map(async (host) => ((await hasBuild(hosts, host, build)) ? undefined : host)))).filter(
    (h): h is SshHost => h !== undefined,
  );
  if (lacking.length === 0) return [];
  const scratch = await mkdtemp(join(tmpdir(), 'busbench-ship-'));
  try {
    const tarball = join(scratch, `busbench-${build.version}-${build.hash.slice(0, 12)}.tgz`);
    await execFileAsync('tar', ['czf', tarball, '-C', build.root, ...build.paths]).catch((error: Error & { stderr?: string }) => {
      throw new Error(`packing busbench for the ssh hosts: ${error.stderr?.trim() || error.message}`);
    });
    await Promise.all(
      lacking.map(async (host) => {
        const marker = posix.join(host.busbenchDir, BUILD_MARKER);
        await hosts.run(host.name, ['rm', '-f', marker]);
        const remote = await hosts.ship(host.name, tarball);
        try {
          await hosts.run(host.name, ['tar', 'xzf', remote, '-C', host.busbenchDir]);
        } finally {
          await hosts.run(host.name, ['rm', '-f', remote]).catch(() => undefined);
        }
        await hosts.run(host.name, ['sh', '-c', 'printf "%s\\n" "$1" > "$2"', 'busbench-marker', markerText(build), marker]);
      }),
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return lacking.map((h) => h.name);
}

function nodeMajor(version: string): number {
  return Number(/^v?(\d+)\./.exec(version)?.[1] ?? 0);
}

/** Every host without a usable node, in one error, each with what to do there. */
function checkNode(facts: HostFacts[], hosts: SshHost[]): void {
  const problems = facts.flatMap((fact) => {
    const host = hosts.find((h) => h.name === fact.host)!;
    const where = `${fact.host} (${host.inventory.user}@${host.inventory.host}:${host.inventory.port})`;
    if (!fact.node)
      return [
        `${where}: no node on the PATH of a non-interactive ssh session: install Node.js ${MIN_NODE_MAJOR} or later there (e.g. apt-get install nodejs from NodeSource), on a PATH that ssh <host> node --version sees`,
      ];
    if (nodeMajor(fact.node) < MIN_NODE_MAJOR)
      return [`${where}: node ${fact.node} is too old: busbench needs Node.js ${MIN_NODE_MAJOR} or later there; upgrade it (e.g. from NodeSource)`];
    return [];
  });
  if (problems.length > 0) throw new Error(`the ssh hosts cannot run busbench:\n${problems.map((p) => `  ${p}`).join('\n')}`);
}

/** `ip -o route get` names the interface traffic to that address leaves by: `… dev eth0 src …`. */
export function routeDevice(output: string): string | undefined {
  return /\bdev (\S+)/.exec(output)?.[1];
}

/**
 * What a host's kernel can do, tried in a scratch namespace there so
 * nothing on the host is touched (as detectKernel does on this machine).
 */
export async function probeKernel(run: SshHosts['run'], host: string): Promise<KernelCapabilities> {
  try {
    return await detectKernel((argv) => run(host, argv));
  } catch (error) {
    // Only the scratch namespace's creation can throw: the probes themselves answer yes or no.
    throw new Error(`${host}: constraining links needs root there (ip netns, tc, nft): the inventory's user for it must be root; ${(error as Error).message}`);
  }
}

function constrained(link: LinkConstraint): boolean {
  return Boolean(link.delayMs || link.jitterMs || link.lossPercent || link.rateMbit);
}

/** Constraints steer by destination address: two sites at one address are one machine to tc, and cannot be told apart. */
function checkSeparable(hosts: SshHost[]): void {
  const siteOf = new Map<string, { site: string; host: string }>();
  for (const host of hosts) {
    const other = siteOf.get(host.address);
    if (other && other.site !== host.site) {
      throw new Error(
        `hosts ${other.host} (site ${other.site}) and ${host.name} (site ${host.site}) are both at ${host.address}: links between their sites cannot be constrained ` +
          '(tc and nft tell traffic apart by destination address); give each site hosts of its own in the inventory, or remove topology.links',
      );
    }
    if (!other) siteOf.set(host.address, { site: host.site, host: host.name });
  }
}

export async function startSshProvider(topology: Topology, options: SshProviderOptions): Promise<Provider> {
  const inventory = await loadInventory(options.inventoryFile);
  const ssh = await connectSshHosts(
    inventory,
    topology.sites.map((s) => ({ site: s.name, count: s.hosts })),
    {
      ...(options.insecureAcceptUnknownHostKeys ? { insecureAcceptUnknownHostKeys: true } : {}),
      ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    },
  );
  const nodeOf = new Map<string, string>();
  let facts: HostFacts[];
  try {
    facts = await ssh.facts();
    checkNode(facts, ssh.hosts);
    await Promise.all(ssh.hosts.map(async (h) => nodeOf.set(h.name, (await ssh.run(h.name, ['sh', '-c', 'command -v node'])).trim())));
    await installBusbench(ssh, await localBuild());
    // Bus nodes keep their files under busbench_dir/tmp (see busNodeArgv): it must be there before one starts.
    await Promise.all(ssh.hosts.map((h) => ssh.run(h.name, ['mkdir', '-p', posix.join(h.busbenchDir, 'tmp')])));
  } catch (error) {
    await ssh.close();
    throw error;
  }

  const run: HostExecutor = async (host, argv) => void (await ssh.run(host, argv));
  const agentHostOf = (host: SshHost): string[] => [nodeOf.get(host.name)!, installedEntry(host.busbenchDir, 'agentHost')];
  const busNodeArgv = (host: SshHost): string[] => [
    'env',
    // The broker's files go under busbench_dir rather than the host's /tmp: everything busbench leaves on the host is in one place.
    `TMPDIR=${posix.join(host.busbenchDir, 'tmp')}`,
    nodeOf.get(host.name)!,
    installedEntry(host.busbenchDir, 'busNode'),
  ];
  const hosts: ProvidedHost[] = ssh.hosts.map((host) => ({
    name: host.name,
    site: host.site,
    address: host.address,
    spawn: host.spawn,
    run: (argv) => ssh.run(host.name, argv),
    busNodeArgv: busNodeArgv(host),
    reachedBy: 'over ssh',
    // node and busbench_dir may differ per host.
    agentHostArgv: agentHostOf(host),
    facts: async () => {
      const { host: _name, site: _site, ...machine } = facts.find((f) => f.host === host.name)!;
      return machine;
    },
  }));
  // Started on first use: a run without resource sampling starts none.
  const readers = new Map<string, ReaderHost>();
  const readerOf = (name: string): ReaderHost | undefined => {
    const host = ssh.hosts.find((h) => h.name === name);
    if (!host) return undefined;
    // Its pids are the host's: after destroy() they can be read nowhere, and this machine's /proc would answer for other processes.
    if (destroyed) throw new Error(`${name}: the ssh hosts are gone`);
    let reader = readers.get(name);
    if (!reader) readers.set(name, (reader = startReaderHost(host.spawn, [nodeOf.get(name)!, installedEntry(host.busbenchDir, 'readerHost')])));
    return reader;
  };
  const firstHostOf = (site: string): SshHost => {
    const host = ssh.hosts.find((h) => h.site === site);
    if (!host) throw new Error(`site ${site} has no host`);
    return host;
  };
  let applied: AppliedPlan | undefined;
  let destroyed: Promise<void> | undefined;

  return {
    kind: 'ssh',
    hosts,
    run,
    processReader: readerOf,

    async constrain(t: Topology): Promise<AppliedNetwork> {
      const links = t.links.filter(constrained);
      const empty: NetworkPlan = { hosts: [], mechanisms: [], relayed: [] };
      if (links.length === 0) return { plan: empty, mechanisms: [], measured: [] };
      checkSeparable(ssh.hosts);
      const networkHosts: NetworkHost[] = await Promise.all(
        ssh.hosts.map(async (host) => {
          const peer = ssh.hosts.find((h) => h.address !== host.address)!;
          const output = await ssh.run(host.name, ['ip', '-o', 'route', 'get', peer.address]);
          const device = routeDevice(output);
          if (!device)
            throw new Error(`${host.name}: cannot tell the interface towards ${peer.address} from \`ip -o route get ${peer.address}\`: ${output.trim()}`);
          return { name: host.name, site: host.site, device, address: host.address };
        }),
      );
      // One plan for all hosts: a mechanism is used only when every host has it.
      const kernels = await Promise.all(ssh.hosts.map((h) => probeKernel(ssh.run, h.name)));
      const kernel = { netem: kernels.every((k) => k.netem), nft: kernels.every((k) => k.nft) };
      const plan = buildNetworkPlan(networkHosts, t.links, kernel);
      applied = await applyNetworkPlan(plan, run);
      const firsts = t.sites.map((s) => {
        const host = firstHostOf(s.name);
        return { site: s.name, host: host.name, address: host.address };
      });
      const measured = await measureLinks(firsts, t.links, plan, (host, argv) => ssh.run(host, argv));
      return { plan, mechanisms: plan.mechanisms, measured };
    },

    destroy(): Promise<void> {
      return (destroyed ??= (async () => {
        // Whoever deployed the bus stopped it before this: the readers are all that is left here.
        await Promise.all([...readers.values()].map((r) => r.stop()));
        const removal = await applied?.remove();
        await ssh.close();
        if (removal && removal.failures.length > 0)
          throw new Error(`some network constraints could not be removed from the ssh hosts:\n${removal.failures.map((f) => `  ${f}`).join('\n')}`);
      })());
    },
  };
}
