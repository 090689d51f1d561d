import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkSiteHosts, checkTopologyHosts, InventoryError, parseInventory, type Inventory } from '../deploy/providers/inventory.js';
import { connectSshHosts, RemoteCommandError, type SshHosts } from '../deploy/providers/ssh-hosts.js';
import type { HostProcess } from '../src/index.js';
import type { Topology } from '../src/index.js';
import { sshdAbsent, startSshd, type TestSshd } from './helpers/sshd.js';
import { suite } from './helpers/suite.js';

const execFileAsync = promisify(execFile);
const BOTH_SITES = [
  { site: 'paris', count: 1 },
  { site: 'lyon', count: 1 },
];

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function exitOf(child: HostProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function commandsUnder(sshd: TestSshd, name: string): Promise<number[]> {
  const pids = await sshd.sessions();
  const names = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')));
  return pids.filter((_, i) => names[i]!.trim() === name);
}

async function eventually(condition: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

suite('ssh hosts against a real sshd', { skip: sshdAbsent, timeout: 60_000 }, () => {
  let sshd: TestSshd;
  let work: string;
  let hosts: SshHosts | undefined;

  const inventoryWith = (knownHosts: string): Inventory =>
    parseInventory(
      [
        `defaults: {user: ${sshd.user}, port: ${sshd.port}, identity: ${sshd.identity}, known_hosts: ${knownHosts}, busbench_dir: ${join(work, 'remote', 'busbench')}}`,
        'sites:',
        '  paris: [{host: 127.0.0.1}]',
        '  lyon: [{host: 127.0.0.1, address: 10.0.0.5}]',
      ].join('\n'),
      join(work, 'inventory.yaml'),
    );

  before(async () => {
    sshd = await within(startSshd(), 15_000, 'sshd start');
    work = await mkdtemp(join(tmpdir(), 'busbench-ssh-test-'));
    hosts = await within(connectSshHosts(inventoryWith(sshd.knownHosts), BOTH_SITES), 15_000, 'connect');
  });

  after(async () => {
    await hosts?.close();
    await sshd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('hosts are named per site and reached at their inventory address', () => {
    assert.deepEqual(
      hosts!.hosts.map((h) => [h.name, h.site, h.address]),
      [
        ['paris-1', 'paris', '127.0.0.1'],
        ['lyon-1', 'lyon', '10.0.0.5'],
      ],
    );
  });

  test('run passes every argument verbatim: the remote shell interprets none', async () => {
    for (const host of ['paris-1', 'lyon-1']) {
      const out = await within(hosts!.run(host, ['printf', '%s|', "it's", 'a b', '$(id)', ';rm']), 5000, 'printf');
      assert.equal(out, "it's|a b|$(id)|;rm|");
    }
    assert.equal(await hosts!.run('paris-1', ['printf', '%s', '']), '');
  });

  test('a failing command rejects with its command, exit code and stderr', async () => {
    const failing = ['sh', '-c', 'echo partial; echo went wrong >&2; exit 3'];
    const error = await within(
      hosts!.run('paris-1', failing).then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      ),
      5000,
      'failing command',
    );
    assert.ok(error instanceof RemoteCommandError);
    assert.equal(error.exitCode, 3);
    assert.equal(error.stderr, 'went wrong\n');
    assert.equal(error.stdout, 'partial\n');
    assert.deepEqual(error.command, failing);
    assert.match(error.message, /^paris-1: sh -c 'echo partial; echo went wrong >&2; exit 3': exit code 3: went wrong$/);
    await assert.rejects(hosts!.run('tokyo-1', ['true']), /no ssh host "tokyo-1" \(hosts: paris-1, lyon-1\)/);
  });

  test('spawn: cat echoes stdin, and exits when stdin ends', async () => {
    const cat = hosts!.hosts[0]!.spawn(['cat']);
    const exit = exitOf(cat);
    const chunks: Buffer[] = [];
    cat.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise((resolve) => cat.stdout!.once('end', resolve));
    // Past ssh's channel window (2 MiB), so flow control is exercised too.
    const payload = randomBytes(3 * 1024 * 1024);
    cat.stdin!.write('hello\n');
    cat.stdin!.end(payload);
    assert.deepEqual(await within(exit, 10_000, 'cat exit'), { code: 0, signal: null });
    await within(ended, 5000, 'cat stdout end');
    assert.ok(Buffer.concat(chunks).equals(Buffer.concat([Buffer.from('hello\n'), payload])));
  });

  test("spawn: stderr and the exit code are the command's own", async () => {
    const failing = hosts!.hosts[0]!.spawn(['sh', '-c', 'printf partial >&2; sleep 0.2; echo " line" >&2; exit 4']);
    let stderr = '';
    failing.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ended = new Promise((resolve) => failing.stderr!.once('end', resolve));
    assert.deepEqual(await within(exitOf(failing), 5000, 'exit'), { code: 4, signal: null });
    await within(ended, 5000, 'stderr end');
    assert.equal(stderr, 'partial line\n');
  });

  test('kill ends a remote sleep promptly, also after its stdin has ended', async () => {
    for (const [signal, endStdinFirst] of [
      ['SIGTERM', false],
      ['SIGKILL', true],
    ] as const) {
      const sleep = hosts!.hosts[1]!.spawn(['sleep', '30']);
      const exit = exitOf(sleep);
      await eventually(async () => (await commandsUnder(sshd, 'sleep')).length === 1, 5000, 'remote sleep to start');
      if (endStdinFirst) sleep.stdin!.end();
      const killedAt = Date.now();
      sleep.kill(signal);
      assert.deepEqual(await within(exit, 3000, `sleep exit after ${signal}`), { code: null, signal });
      assert.ok(Date.now() - killedAt < 3000);
      await eventually(async () => (await commandsUnder(sshd, 'sleep')).length === 0, 3000, 'remote sleep to die');
    }
  });

  test('an unknown host key is refused with the ssh-keyscan fix, and accepted when unknown keys are allowed', async () => {
    const empty = join(work, 'known_hosts.empty');
    await writeFile(empty, '');
    await assert.rejects(within(connectSshHosts(inventoryWith(empty), BOTH_SITES), 10_000, 'connect'), (error: Error) => {
      assert.match(error.message, /cannot reach 2 of 2 ssh host\(s\)/);
      assert.match(
        error.message,
        new RegExp(`paris-1 \\(${sshd.user}@127\\.0\\.0\\.1:${sshd.port}\\): the host key of \\[127\\.0\\.0\\.1\\]:${sshd.port} \\(ssh-ed25519 SHA256:`),
      );
      assert.ok(error.message.includes(`is not in ${empty}: `));
      assert.ok(error.message.includes(`ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${empty}`));
      return true;
    });
    const missing = join(work, 'no-such-known-hosts');
    await assert.rejects(connectSshHosts(inventoryWith(missing), BOTH_SITES), /\(there is no such file\)/);
    const lab = await within(connectSshHosts(inventoryWith(empty), BOTH_SITES, { insecureAcceptUnknownHostKeys: true }), 10_000, 'connect');
    try {
      assert.equal(await lab.run('lyon-1', ['echo', 'in']), 'in\n');
    } finally {
      await lab.close();
    }
  });

  test('a different key in known_hosts is refused, even when unknown keys are allowed', async () => {
    const wrong = join(work, 'known_hosts.wrong');
    await writeFile(wrong, `# the host was reinstalled\n[127.0.0.1]:${sshd.port} ${sshd.otherHostKey}\n`);
    for (const options of [{}, { insecureAcceptUnknownHostKeys: true }]) {
      await assert.rejects(within(connectSshHosts(inventoryWith(wrong), BOTH_SITES, options), 10_000, 'connect'), (error: Error) => {
        assert.ok(error.message.includes(`differs from the one in ${wrong} line 2`));
        assert.ok(error.message.includes(`ssh-keygen -R '[127.0.0.1]:${sshd.port}' -f ${wrong}`));
        return true;
      });
    }
  });

  test('hashed known_hosts entries and wildcard patterns are understood', async () => {
    const hostKey = (await readFile(sshd.knownHosts, 'utf8')).split(' ').slice(1).join(' ');
    const hashed = join(work, 'known_hosts.hashed');
    await writeFile(hashed, `[127.0.0.1]:${sshd.port} ${hostKey}`);
    await execFileAsync('ssh-keygen', ['-H', '-f', hashed]);
    assert.match(await readFile(hashed, 'utf8'), /^\|1\|/);
    const wildcard = join(work, 'known_hosts.wildcard');
    await writeFile(wildcard, `other.example.org,[127.0.0.?]:${sshd.port} ${hostKey}`);
    for (const file of [hashed, wildcard]) {
      const connected = await within(connectSshHosts(inventoryWith(file), BOTH_SITES), 10_000, 'connect');
      await connected.close();
    }
  });

  test('facts report node, the tools, cores and memory of each host', async () => {
    const facts = await within(hosts!.facts(), 10_000, 'facts');
    assert.equal(facts.length, 2);
    for (const fact of facts) {
      assert.equal(fact.node, process.version);
      assert.equal(fact.cores, cpus().length);
      assert.equal(fact.memoryBytes, totalmem());
      assert.equal(typeof fact.busbench === 'string' || fact.busbench === undefined, true);
    }
    assert.deepEqual(
      facts.map((f) => [f.host, f.site]),
      [
        ['paris-1', 'paris'],
        ['lyon-1', 'lyon'],
      ],
    );
  });

  test('ship copies a file into busbench_dir, creating it, byte for byte', async () => {
    const local = join(work, 'busbench-0.1.0.tgz');
    const bytes = randomBytes(300 * 1024);
    await writeFile(local, bytes);
    const remote = await within(hosts!.ship('paris-1', local), 10_000, 'ship');
    assert.equal(remote, join(work, 'remote', 'busbench', 'busbench-0.1.0.tgz'));
    const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    assert.equal(digest(await readFile(remote)), digest(bytes));
  });

  test('close ends every session and what runs in it, and the server stops with nothing left', async () => {
    const cat = hosts!.hosts[1]!.spawn(['cat']);
    const exit = exitOf(cat);
    await eventually(async () => (await commandsUnder(sshd, 'cat')).length === 1, 5000, 'remote cat to start');
    await within(hosts!.close(), 10_000, 'close');
    await within(exit, 5000, 'cat exit after close');
    await hosts!.close();
    await eventually(async () => (await sshd.sessions()).length === 0, 5000, 'sshd sessions to end');
    assert.deepEqual(await within(sshd.stop(), 10_000, 'sshd stop'), []);
  });
});

describe('inventory files', () => {
  const file = '/etc/busbench/inventory.yaml';

  test('defaults and per-host fields resolve into each host', () => {
    const inventory = parseInventory(
      [
        'defaults: {user: bench, port: 2200, identity: /keys/bench, known_hosts: /keys/known_hosts, busbench_dir: ~/busbench}',
        'sites:',
        '  paris: [{host: 192.0.2.10}, {host: 192.0.2.11, port: 2222, user: root}]',
        '  lyon: [{host: lyon-1.example.org, address: 10.0.0.5}]',
      ].join('\n'),
      file,
    );
    assert.deepEqual(
      inventory.sites.map((s) => [s.name, s.hosts.map((h) => `${h.name} ${h.user}@${h.host}:${h.port} ${h.address} ${h.busbenchDir}`)]),
      [
        ['paris', ['paris-1 bench@192.0.2.10:2200 192.0.2.10 ~/busbench', 'paris-2 root@192.0.2.11:2222 192.0.2.11 ~/busbench']],
        ['lyon', ['lyon-1 bench@lyon-1.example.org:2200 10.0.0.5 ~/busbench']],
      ],
    );
  });

  test('a site short of hosts, and one missing, are named with how many are needed', async () => {
    const inventory = parseInventory('sites:\n  paris: [{host: 192.0.2.10}]\n  lyon: [{host: 192.0.2.20}]\n', file);
    assert.throws(
      () =>
        checkSiteHosts(inventory, [
          { site: 'paris', count: 3 },
          { site: 'lyon', count: 1 },
          { site: 'tokyo', count: 2 },
        ]),
      (error: Error) => {
        assert.ok(error instanceof InventoryError);
        assert.equal(error.problems.length, 2);
        assert.equal(
          error.message,
          [
            `${file}:2:3: sites.paris: the topology puts 3 host(s) on site paris, the inventory lists 1: 2 short; add 2 host(s) to sites.paris, or lower the site's hosts in the topology`,
            `${file}: sites: site "tokyo" of the topology is not in the inventory (it lists: paris, lyon); add sites.tokyo with 2 host(s)`,
          ].join('\n'),
        );
        return true;
      },
    );
    const topology = {
      provider: 'ssh',
      sites: [{ name: 'lyon', hosts: 2 }],
      links: [],
      busSites: ['lyon'],
      agentsBySite: {},
      dropouts: [],
      partitions: [],
    } as unknown as Topology;
    assert.throws(() => checkTopologyHosts(inventory, topology), /sites\.lyon: .*lists 1: 1 short/);
    await assert.rejects(connectSshHosts(inventory, [{ site: 'paris', count: 2 }]), /sites\.paris: .*1 short/);
  });

  test('bad values and unknown fields are all reported, with line, field and what to write', () => {
    const text = [
      'defaults: {user: Root, identity: .ssh/id}',
      'sites:',
      '  paris:',
      '    - {host: 192.0.2.10, port: 70000}',
      '    - {host: "bad host;rm", prot: 22}',
      '  Lyon: [{host: 300.1.1.1}]',
      'extra: 1',
    ].join('\n');
    assert.throws(
      () => parseInventory(text, file),
      (error: Error) => {
        assert.ok(error instanceof InventoryError);
        const lines = error.message.split('\n');
        assert.deepEqual(lines, [
          `${file}:7:1: extra: unknown field "extra" (allowed: defaults, sites)`,
          `${file}:1:18: defaults.user: must be a user name: a lowercase letter or "_", then up to 31 lowercase letters, digits, "_" or "-"; got "Root"`,
          `${file}:1:34: defaults.identity: must be an absolute path, or one starting with ~/, got ".ssh/id"`,
          `${file}:4:32: sites.paris[0].port: must be a whole number from 1 to 65535, got 70000`,
          `${file}:5:29: sites.paris[1].prot: unknown field "prot" (allowed: host, address, user, port, identity, known_hosts, busbench_dir); did you mean "port"?`,
          `${file}:5:14: sites.paris[1].host: must be a host name or an IPv4 address (letters, digits, "-" and "."), got "bad host;rm"`,
          `${file}:6:3: sites.Lyon: "Lyon" cannot be a site name: a lowercase letter, then up to 11 lowercase letters, digits or "-" (as in a topology)`,
          `${file}:6:17: sites.Lyon[0].host: "300.1.1.1" is not an IPv4 address: each number is 0-255`,
        ]);
        return true;
      },
    );
    assert.throws(() => parseInventory('sites: {paris: [{host: a}]\n', file), /inventory\.yaml:\d+:\d+: YAML: /);
    assert.throws(() => parseInventory('defaults: {user: root}\n', file), /inventory\.yaml:1:1: missing required field "sites"/);
  });
});
