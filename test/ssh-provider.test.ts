/**
 * Whole runs with the ssh provider against a real sshd on loopback: sites
 * a and b are both this machine, reached over ssh, with busbench shipped
 * into a temp busbench_dir, a RabbitMQ node started there by `busbench bus
 * node`, and agent hosts spoken to over ssh channels. A second run finds
 * the copy current and ships nothing. Afterwards nothing started through
 * ssh is left.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRabbitServer } from '../src/buses/rabbitmq/node.js';
import { detectKernel } from '../src/network/apply.js';
import { loadInventory } from '../deploy/providers/inventory.js';
import { BUILD_MARKER, probeKernel, routeDevice } from '../deploy/providers/ssh.js';
import { connectSshHosts } from '../deploy/providers/ssh-hosts.js';
import { startProvider } from '../deploy/providers/start.js';
import { runScenario } from '../src/index.js';
import { installedEntry } from '../src/util/entries.js';
import { parseScenario } from '../src/index.js';
import { group } from './helpers/results.js';
import { sshdAbsent, startSshd, type TestSshd } from './helpers/sshd.js';
import { suite } from './helpers/suite.js';

const SESSION_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Processes naming `dir` in their arguments or environment: agent hosts and bus nodes by their entry, brokers and epmd by their TMPDIR. */
async function processesUsing(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const [args, environment, status] = await Promise.all(
      [`/proc/${entry}/cmdline`, `/proc/${entry}/environ`, `/proc/${entry}/stat`].map((file) => readFile(file, 'latin1').catch(() => '')),
    );
    // A zombie is done: in a container nothing may ever reap it.
    if (status!.slice(status!.lastIndexOf(')') + 2).startsWith('Z')) continue;
    if (args!.includes(dir) || environment!.includes(dir)) found.push(`${entry}: ${args!.split('\0').join(' ').slice(0, 200)}`);
  }
  return found;
}

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const skip = sshdAbsent || (findRabbitServer() ? false : 'rabbitmq-server is absent (apt-get install -y rabbitmq-server)');
if (skip) process.stdout.write(`ssh provider tests skipped: ${skip}\n`);
/** The bus node entry looks for a router on its session's PATH and in the sbin directories: one only on this shell's PATH is not found over ssh. */
const sshRouter = (['skrouterd', 'qdrouterd'] as const)
  .flatMap((flavor) => SESSION_DIRS.map((dir) => ({ flavor, path: join(dir, flavor) })))
  .find((router) => existsSync(router.path));
const routerSkip = sshRouter ? false : `neither qdrouterd nor skrouterd is in ${SESSION_DIRS.join(', ')}, where a non-interactive ssh session finds it`;
if (routerSkip) process.stdout.write(`routers over ssh skipped: ${routerSkip}\n`);

suite('the ssh provider runs scenarios on hosts reached over ssh', { skip, timeout: 150_000 }, () => {
  let sshd: TestSshd | undefined;
  let work: string;
  let remote: string;
  let scenarioFile: string;

  const scenarioText = (links = ''): string => `
name: ssh-two-sites
bus: {kind: rabbitmq}
agents: {servers: 1, clients: 2}
load: {messages: 200, warmup: 0}
topology:
  provider: ssh
  inventory: inventory.yaml
  sites: [{name: a}, {name: b}]
  bus: [a]
  placement: {servers: {a: 1}, clients: {b: 2}}
${links}`;

  before(async () => {
    sshd = await within(startSshd(), 15_000, 'sshd start');
    work = await mkdtemp(join(tmpdir(), 'busbench-ssh-provider-'));
    remote = join(work, 'remote-busbench');
    scenarioFile = join(work, 'scenario.yaml');
    // Relative to the scenario file, not to where the test runs.
    await writeFile(
      join(work, 'inventory.yaml'),
      [
        `defaults: {user: ${sshd.user}, port: ${sshd.port}, identity: ${sshd.identity}, known_hosts: ${sshd.knownHosts}, busbench_dir: ${remote}}`,
        'sites:',
        '  a: [{host: 127.0.0.1}]',
        '  b: [{host: 127.0.0.1}]',
      ].join('\n'),
    );
  });

  after(async () => {
    await sshd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('ships busbench, runs 200 calls across the sites, and leaves nothing running', async (t) => {
    const startedAt = Date.now();
    const result = await within(runScenario(parseScenario(scenarioText(), scenarioFile), { resultsRoot: null }), 60_000, 'first run');
    const firstMs = Date.now() - startedAt;
    const calls = group(result, 'client', 'call-anycast');
    assert.equal(calls.counters.ok, 200);
    assert.equal(calls.counters.timeouts + calls.counters.errors, 0);
    assert.equal(result.agents.started.server, 1);
    assert.equal(result.agents.started.client, 2);
    assert.equal(result.topology!.provider, 'ssh');
    assert.deepEqual(
      result.topology!.hosts.map((h) => [h.name, h.site]),
      [
        ['a-1', 'a'],
        ['b-1', 'b'],
      ],
    );
    // The brokers and agent hosts run over ssh, by pids of their hosts: they are read there, not in this machine's /proc.
    const rows = result.resources!.rows;
    const rowsOf = (kind: string, host: string): typeof rows => rows.filter((r) => r.kind === kind && r.host === host);
    for (const [kind, host] of [
      ['broker', 'a-1'],
      ['agents', 'a-1'],
      ['agents', 'b-1'],
    ] as const) {
      const [row] = rowsOf(kind, host);
      assert.ok(row, `a ${kind} row for ${host}: ${JSON.stringify(rows)}; errors ${JSON.stringify(result.resources!.errors)}`);
      assert.ok(row.peakRssMiB > 10, `${kind} on ${host}: ${row.peakRssMiB} MiB`);
      assert.ok(row.peakTcpConnections >= 1, `${kind} on ${host}: ${row.peakTcpConnections} TCP connections`);
    }
    assert.deepEqual(result.resources!.errors, []);
    for (const host of result.topology!.hosts) assert.equal(host.facts?.node, process.version, JSON.stringify(host));
    assert.ok(existsSync(installedEntry(remote, 'agentHost')), 'the agent host entry was shipped');
    assert.ok(existsSync(installedEntry(remote, 'busNode')), 'the bus node entry was shipped');
    assert.ok(!existsSync(join(remote, 'node_modules', 'typescript')), 'dev dependencies stay behind');
    const marker = JSON.parse(await readFile(join(remote, BUILD_MARKER), 'utf8')) as { version: string; hash: string };
    assert.match(marker.hash, /^[0-9a-f]{64}$/);
    assert.deepEqual(
      await eventually(
        () => processesUsing(remote),
        (left) => left.length === 0,
        10_000,
      ),
      [],
    );

    const before = await stat(join(remote, BUILD_MARKER));
    const againAt = Date.now();
    const again = await within(runScenario(parseScenario(scenarioText(), scenarioFile), { resultsRoot: null }), 60_000, 'second run');
    const secondMs = Date.now() - againAt;
    assert.equal(group(again, 'client', 'call-anycast').counters.ok, 200);
    const afterwards = await stat(join(remote, BUILD_MARKER));
    assert.equal(afterwards.mtimeMs, before.mtimeMs, 'the second run found the copy current and shipped nothing');
    assert.equal(afterwards.ino, before.ino);
    t.diagnostic(`first run (shipping) ${firstMs} ms, second run ${secondMs} ms`);
    assert.deepEqual(
      await eventually(
        () => processesUsing(remote),
        (left) => left.length === 0,
        10_000,
      ),
      [],
    );
  });

  test('constraining links between two sites on one machine fails, naming the hosts and the fix', async () => {
    const scenario = parseScenario(scenarioText('  links: [{between: [a, b], delay: 10ms}]\n'), scenarioFile);
    await assert.rejects(
      within(runScenario(scenario, { resultsRoot: null }), 30_000, 'constrained run'),
      /a-1 \(site a\) and b-1 \(site b\) are both at 127\.0\.0\.1: links between their sites cannot be constrained/,
    );
    assert.deepEqual(
      await eventually(
        () => processesUsing(remote),
        (left) => left.length === 0,
        10_000,
      ),
      [],
    );
  });

  test('a missing inventory is refused, naming the file', async () => {
    const topology = parseScenario(scenarioText(), scenarioFile).topology!;
    await assert.rejects(startProvider({ ...topology, inventory: 'nowhere.yaml' }, { scenarioFile }), (error: Error) => {
      assert.ok(error.message.includes(join(work, 'nowhere.yaml')));
      return true;
    });
  });

  test('routers over ssh: one per bus site under its bus node entry, meshed, carrying calls and fanouts between the sites', { skip: routerSkip }, async () => {
    const scenario = parseScenario(
      `
name: ssh-routers
bus: {kind: amqp1, router: {flavor: ${sshRouter?.flavor}}}
agents: {servers: 2, clients: 2}
load: {patterns: [call/anycast, cast/multicast], messages: 200, warmup: 2s}
topology:
  provider: ssh
  inventory: inventory.yaml
  sites: [{name: a}, {name: b}]
  bus: [a, b]
  placement: {servers: {a: 1, b: 1}, clients: {b: 2}}
`,
      scenarioFile,
    );
    const result = await within(runScenario(scenario, { resultsRoot: null }), 90_000, 'routed run');
    // The clients share the 200 messages; each sends one pattern (mix: clients).
    const calls = group(result, 'client', 'call-anycast');
    const casts = group(result, 'client', 'cast-multicast').counters.ok;
    assert.ok(calls.counters.sent > 0 && casts > 0, `calls ${calls.counters.sent}, casts ${casts}`);
    assert.equal(calls.counters.sent + casts, 200);
    assert.equal(calls.counters.ok, calls.counters.sent, 'every call answered');
    assert.equal(calls.counters.timeouts + calls.counters.errors, 0);
    // Every cast reached both servers, the one behind the other router too.
    assert.equal(result.delivery['cast-multicast']!.lost, 0);
    assert.equal(group(result, 'server', 'cast-multicast').counters.ok, 2 * casts);
    const stats = result.busStatistics as { routers: { id: string; nodes: number; error?: string }[] };
    assert.deepEqual(
      stats.routers.map((r) => [r.id, r.nodes]),
      [
        ['Router.a', 1],
        ['Router.b', 1],
      ],
      JSON.stringify(stats),
    );
    const facts = result.provenance.bus as unknown as { router: { flavor: string; routers: { site: string; id: string; host: string }[] } };
    assert.equal(facts.router.flavor, sshRouter!.flavor);
    assert.deepEqual(
      facts.router.routers.map((r) => [r.site, r.id, r.host]),
      [
        ['a', 'Router.a', 'a-1'],
        ['b', 'Router.b', 'b-1'],
      ],
    );
    const rows = result.resources!.rows.filter((r) => r.kind === 'router');
    assert.deepEqual(rows.map((r) => r.host).sort(), ['a-1', 'b-1'], JSON.stringify(result.resources));
    for (const row of rows) assert.ok(row.peakTcpConnections >= 2, `${row.name}: agents and the other router, ${row.peakTcpConnections} connections`);
    assert.deepEqual(
      await eventually(
        () => processesUsing(remote),
        (left) => left.length === 0,
        10_000,
      ),
      [],
    );
  });

  test('the kernel is probed over ssh in a scratch namespace, as on this machine', async () => {
    const inventory = await loadInventory(join(work, 'inventory.yaml'));
    const hosts = await within(connectSshHosts(inventory, [{ site: 'a', count: 1 }]), 15_000, 'connect');
    try {
      assert.deepEqual(await within(probeKernel(hosts.run, 'a-1'), 15_000, 'probe'), await detectKernel());
    } finally {
      await hosts.close();
    }
  });

  test('the interface towards a peer is read from ip route get', () => {
    assert.equal(routeDevice('10.0.0.5 via 192.0.2.1 dev eth0 src 192.0.2.10 uid 0 \\    cache'), 'eth0');
    assert.equal(routeDevice('local 127.0.0.1 dev lo src 127.0.0.1 uid 0'), 'lo');
    assert.equal(routeDevice('unreachable'), undefined);
  });
});
