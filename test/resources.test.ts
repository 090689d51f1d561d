/** Resource metrics: /proc parsing, a real busy child holding TCP connections, and a real RabbitMQ node with its management API. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import amqplib from 'amqplib';
import {
  countEstablished,
  TcpConnectionCounter,
  establishedInodes,
  parseProcStat,
  parseTcpTable,
  readProcess,
  socketInodes,
  TCP_ESTABLISHED,
  tcpCountersOf,
} from '../src/metrics/process-stats.js';
import { fetchRabbitFigures, rabbitFigures } from '../src/buses/rabbitmq/management.js';
import { READER_HOST_ENTRY, startReaderHost, startResourceSampler, summarizeResources } from '../src/metrics/resources.js';
import type { WatchedProcess } from '../src/model/index.js';
import { startLocalRabbit } from '../src/buses/rabbitmq/node.js';
import { groupMemberFinder } from '../src/util/process.js';
import { runScenario } from '../src/index.js';
import { parseScenario } from '../src/index.js';
import { summaryText } from '../src/report/summary.js';

const MiB = 1024 * 1024;

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:8CCB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 641666 1 00000000aa07a2e7 100 0 0 10 0
   1: 0100007F:8CCB 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000     0        0 700001 1 00000000ee68e096 20 4 30 10 -1
   2: 0100007F:D2A4 0100007F:8CCB 01 00000000:00000000 00:00000000 00000000     0        0 700002 1 000000006210cb2a 20 4 30 10 -1
   3: 0100007F:D2A6 0100007F:8CCB 06 00000000:00000000 03:00000dd1 00000000     0        0 0 3 00000000ec33abad
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:8CCB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 641667 1 00000000ec33abad 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:E1C2 01 00000000:00000000 00:00000000 00000000     0        0 700003 1 00000000aa07a2e7 20 4 30 10 -1
`;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the value, or rejects after timeoutMs naming what was awaited. */
function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test('parses TCP tables and fd links: only ESTABLISHED sockets owned by the process count', () => {
  assert.deepEqual(parseTcpTable(TCP), [
    { state: 0x0a, inode: 641666 },
    { state: TCP_ESTABLISHED, inode: 700001 },
    { state: TCP_ESTABLISHED, inode: 700002 },
    { state: 0x06, inode: 0 },
  ]);
  assert.deepEqual(parseTcpTable('  sl  local_address rem_address   st\n'), [], 'a table with no sockets');
  const established = establishedInodes([TCP, TCP6]);
  assert.deepEqual([...established].sort(), [700001, 700002, 700003]);

  const links = [
    '/dev/null',
    'pipe:[641740]',
    'socket:[641666]',
    'socket:[700001]',
    'anon_inode:[eventfd]',
    'socket:[700003]',
    'socket:[999999]',
    '/tmp/socket:[1]',
  ];
  assert.deepEqual(socketInodes(links), [641666, 700001, 700003, 999999]);
  // the listener (641666) and a socket of another namespace's table (999999) are not connections
  assert.equal(countEstablished(socketInodes(links), established), 2);
});

test('sums RabbitMQ management lists for the node asked', () => {
  const queues = [
    { node: 'rabbit@a', messages_ready: 7, messages_unacknowledged: 2 },
    { node: 'rabbit@a' }, // no statistics emitted yet
    { node: 'rabbit@b', messages_ready: 100, messages_unacknowledged: 100 },
  ];
  const connections = [{ node: 'rabbit@a' }, { node: 'rabbit@a' }, { node: 'rabbit@b' }];
  const channels = [{ node: 'rabbit@a' }, { node: 'rabbit@a' }, { node: 'rabbit@a' }, { node: 'rabbit@b' }];
  assert.deepEqual(rabbitFigures('rabbit@a', queues, connections, channels), {
    queues: 2,
    messagesReady: 7,
    messagesUnacknowledged: 2,
    connections: 2,
    channels: 3,
  });
  assert.deepEqual(rabbitFigures(undefined, queues, connections, channels), {
    queues: 3,
    messagesReady: 107,
    messagesUnacknowledged: 102,
    connections: 3,
    channels: 4,
  });
});

test("a namespace's TCP tables and a process's open files are read again when its connections change, and only then", { timeout: 20_000 }, async () => {
  const snmp = readFileSync('/proc/self/net/snmp', 'utf8');
  assert.match(tcpCountersOf(snmp), /^\d+ \d+ \d+ \d+ \d+$/, 'opens, fails, resets and CurrEstab of this namespace');
  assert.throws(() => tcpCountersOf('Ip: 1 2\nIp: 3 4\n'), /no Tcp lines/);

  const counter = new TcpConnectionCounter();
  const connections = (): number => readProcess(process.pid, counter)!.tcpConnections;
  const before = connections();
  assert.deepEqual([counter.tableReads, counter.fileListings], [1, 1]);
  assert.equal(connections(), before);
  // Nothing else of this suite runs meanwhile: nothing in the namespace connected or closed, so the counters held.
  assert.deepEqual([counter.tableReads, counter.fileListings], [1, 1], 'the same counters: neither the table nor the files are read again');

  const accepted: Socket[] = [];
  const server = createServer((socket) => void accepted.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = connect(port, '127.0.0.1');
  try {
    await new Promise<void>((resolve) => client.once('connect', resolve));
    while (accepted.length === 0) await sleep(10);
    assert.equal(connections(), before + 2, 'both ends of the new connection are this process');
    assert.deepEqual([counter.tableReads, counter.fileListings], [2, 2], 'a connection came up: read again');
    client.destroy();
    accepted[0]!.destroy();
    await sleep(100);
    assert.equal(connections(), before, 'both ends closed');
    assert.deepEqual([counter.tableReads, counter.fileListings], [3, 3]);
    // A second process of the namespace: its files are listed, the table just read is not read again.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10_000)'], { stdio: 'ignore' });
    try {
      assert.equal(readProcess(other.pid!, counter)!.tcpConnections, 0);
      assert.deepEqual([counter.tableReads, counter.fileListings], [3, 4]);
    } finally {
      other.kill();
    }
  } finally {
    client.destroy();
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('CPU time and RSS are read from /proc/<pid>/stat, whatever the command is called', () => {
  // fields from 3 on: state, then 4..13, utime 14, stime 15, …, rss 24
  const rest = [
    'S',
    ...Array.from({ length: 10 }, (_, i) => String(i + 4)),
    '250',
    '50',
    ...Array.from({ length: 8 }, (_, i) => String(i + 16)),
    '1000',
    '25',
    '26',
  ];
  const reading = parseProcStat(`4242 (a (weird) name) ${rest.join(' ')}\n`);
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  const page = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }));
  assert.deepEqual(reading, { cpuTimeMs: (300 * 1000) / ticks, rssBytes: 1000 * page });
  assert.throws(() => parseProcStat('4242 (cut) S 1 2'), /unreadable \/proc stat/);
  const own = parseProcStat(readFileSync('/proc/self/stat', 'latin1'));
  assert.ok(Math.abs(own.rssBytes - process.memoryUsage.rss()) < 64 * MiB, `own RSS ${own.rssBytes} against Node's ${process.memoryUsage.rss()}`);
  assert.ok(own.cpuTimeMs > 0);
});

test("a process group's member is found by its command name, remembered while it lives, and found again when replaced", { timeout: 20_000 }, async () => {
  const start = (): ChildProcess => spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  let child = start();
  try {
    const find = groupMemberFinder(() => child.pid!, 'sleep');
    assert.equal(find(), child.pid, 'the group leader is its own member');
    assert.equal(find(), child.pid);
    assert.equal(groupMemberFinder(() => child.pid!, 'beam.smp')(), undefined, 'no member of that name');
    const first = child;
    child = start();
    first.kill();
    await new Promise((resolve) => first.once('exit', resolve));
    assert.equal(find(), child.pid, 'the group asked for changed: the new one is looked up');
  } finally {
    child.kill();
  }
});

test('a process that does not exist is no reading, not an error', () => {
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  assert.equal(readProcess(pidMax, new TcpConnectionCounter()), undefined);
});

test('a reader host answers each line of pids with their readings, and a sampler reads its host through it', { timeout: 20_000 }, async () => {
  let child: ChildProcess | undefined;
  const reader = startReaderHost(
    (argv) => (child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })),
    [process.execPath, READER_HOST_ENTRY],
  );
  const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  const pid = child!.pid!;
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  try {
    const [first, gone] = await within(reader.read([pid, pidMax]), 10_000, 'the first answer');
    assert.ok(first && !('error' in first), JSON.stringify(first));
    assert.ok(first.rssBytes > 10 * MiB && first.cpuTimeMs > 0, JSON.stringify(first));
    assert.equal(gone, undefined, 'a pid that does not exist there is gone');
    const [second] = await within(reader.read([pid]), 10_000, 'the second answer');
    assert.ok(second && !('error' in second) && second.readAt > first.readAt, "readAt is on the reader's own clock, which goes on");
    assert.deepEqual(await within(reader.read([]), 10_000, 'an empty question'), []);

    // The sampler's host "far" is read through the reader; "local" stays this machine's /proc.
    const sampler = startResourceSampler({
      processes: () => [
        { name: 'reader', kind: 'other', host: 'far', pid },
        { name: 'test', kind: 'coordinator', host: 'local', pid: process.pid },
      ],
      readers: (host) => (host === 'far' ? reader : undefined),
      intervalMs: 100,
    });
    await sleep(350);
    const report = await within(sampler.stop(), 10_000, 'stop()');
    assert.deepEqual(report.errors, []);
    const far = report.processes.find((p) => p.host === 'far')!;
    assert.ok(far.samples.length >= 2 && far.peak.rssBytes > 10 * MiB, JSON.stringify(far.samples));
    assert.deepEqual(report.hosts.map((h) => h.host).sort(), ['far', 'local']);
  } finally {
    await within(reader.stop(), 10_000, 'stop the reader');
  }
  assert.equal(await exited, 0, 'the reader exits when its stdin closes');
  await assert.rejects(reader.read([pid]), /the process reader exited/);
});

test('samples a busy child holding 5 TCP connections, and goes on after it exits', { timeout: 30_000 }, async () => {
  const CONNECTIONS = 5;
  const accepted = new Set<Socket>();
  const server = createServer((socket) => {
    accepted.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => accepted.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  const script = `
    const net = require('node:net');
    let connected = 0;
    for (let i = 0; i < ${CONNECTIONS}; i++) {
      net.connect(Number(process.argv[1]), '127.0.0.1', () => {
        if (++connected < ${CONNECTIONS}) return;
        process.stdout.write('connected\\n');
        const end = Date.now() + 1500;
        while (Date.now() < end);
        process.exit(0);
      });
    }`;
  const child = spawn(process.execPath, ['-e', script, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const childPid = child.pid!;
  const watched: WatchedProcess[] = [
    { name: 'child', kind: 'agents', host: 'local', pid: childPid },
    { name: 'test', kind: 'coordinator', host: 'local', pid: process.pid },
  ];
  const sampler = startResourceSampler({ processes: () => watched, intervalMs: 250 });
  try {
    const lines = createInterface({ input: child.stdout! });
    await within(new Promise<void>((resolve) => lines.on('line', (line) => line === 'connected' && resolve())), 10_000, 'the child connecting');
    await within(exited, 10_000, 'the child exiting');
    const exitedAt = Date.now();
    await sleep(750);

    const report = await within(sampler.stop(), 10_000, 'stop()');
    assert.equal(report.intervalMs, 250);
    assert.deepEqual(report.errors, []);
    const childResources = report.processes.find((p) => p.pid === childPid);
    const self = report.processes.find((p) => p.pid === process.pid);
    assert.ok(childResources && self);
    assert.equal(childResources.peak.tcpConnections, CONNECTIONS, JSON.stringify(childResources.samples));
    assert.ok(childResources.peak.cpuCores > 0.3, `peak CPU ${childResources.peak.cpuCores} cores`);
    assert.ok(childResources.peak.rssBytes > MiB, `peak RSS ${childResources.peak.rssBytes} bytes`);
    assert.ok(childResources.goneAt !== undefined, 'the exited child is marked gone');
    assert.ok(
      childResources.samples.every((sample) => sample.t < childResources.goneAt!),
      'no sample after it was gone',
    );
    assert.ok(self.peak.tcpConnections >= CONNECTIONS, `the server side: ${self.peak.tcpConnections}`);
    const selfAfter = self.samples.filter((sample) => sample.t > childResources.goneAt!);
    assert.ok(selfAfter.length >= 2, `the sampler went on after the child exited ${Date.now() - exitedAt} ms ago: ${selfAfter.length} samples`);

    const [host] = report.hosts;
    assert.equal(report.hosts.length, 1);
    assert.equal(host!.host, 'local');
    // the host's busiest tick holds both processes' connections (client and server side)
    assert.ok(host!.peak.tcpConnections >= 2 * CONNECTIONS, `host peak ${host!.peak.tcpConnections}`);
    assert.ok(host!.peak.rssBytes >= childResources.peak.rssBytes);
    assert.deepEqual(report.rabbitmq, []);
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report, 'the report is plain JSON');

    const rows = summarizeResources(report);
    assert.deepEqual(
      rows.map((row) => [row.name, row.kind, row.host]),
      [
        ['child', 'agents', 'local'],
        ['test', 'coordinator', 'local'],
        ['local', 'host', 'local'],
      ],
    );
    assert.equal(rows[0]!.peakTcpConnections, CONNECTIONS);
    assert.ok(rows[0]!.peakRssMiB > 1 && rows[0]!.peakCpuCores > 0.3 && rows[0]!.meanCpuCores > 0);
    assert.equal(await sampler.stop(), report, 'stop() again gives the same report');
  } finally {
    child.kill('SIGKILL');
    await sampler.stop();
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('samples a real RabbitMQ node: its Erlang VM and its management figures', { timeout: 55_000 }, async () => {
  const rabbit = await startLocalRabbit({ plugins: ['rabbitmq_management'], startTimeoutMs: 30_000 });
  const connections: amqplib.ChannelModel[] = [];
  try {
    assert.ok(rabbit.managementPort, 'the management plugin listens');
    const beamPid = rabbit.beamPid();
    assert.ok(beamPid, 'the Erlang VM is found');
    const endpoint = { name: 'rabbit', url: `http://127.0.0.1:${rabbit.managementPort}/`, user: 'guest', password: 'guest' };

    for (let i = 0; i < 3; i++) connections.push(await amqplib.connect(rabbit.url));
    const channel = await connections[0]!.createConfirmChannel();
    const { queue } = await channel.assertQueue('busbench-resources-test');
    for (let i = 0; i < 7; i++) channel.sendToQueue(queue, Buffer.from(`message ${i}`));
    await channel.waitForConfirms();

    // The API emits its statistics every 5 s: wait for them to show what was done, within a bound.
    const deadline = Date.now() + 15_000;
    let figures = await fetchRabbitFigures(endpoint).catch(() => undefined);
    while (!figures || figures.connections < 3 || figures.messagesReady < 7) {
      assert.ok(Date.now() < deadline, `management figures not up to date within 15 s: ${JSON.stringify(figures)}`);
      await sleep(500);
      figures = await fetchRabbitFigures(endpoint).catch(() => undefined);
    }

    const sampler = startResourceSampler({
      processes: () => [{ name: 'rabbit', kind: 'broker', host: 'local', pid: beamPid }],
      intervalMs: 500,
      management: [endpoint, { name: 'nobody', url: 'http://127.0.0.1:1/', user: 'guest', password: 'guest' }],
    });
    await sleep(1200);
    const report = await within(sampler.stop(), 15_000, 'stop()');

    const [broker] = report.processes;
    assert.ok(broker && broker.samples.length >= 2, JSON.stringify(report.processes));
    assert.ok(broker.peak.tcpConnections >= 3, `broker TCP connections ${broker.peak.tcpConnections}`);
    assert.ok(broker.peak.rssBytes > 20 * MiB, `broker RSS ${broker.peak.rssBytes} bytes`);
    assert.equal(broker.goneAt, undefined);

    const [management, unreachable] = report.rabbitmq;
    assert.equal(management!.name, 'rabbit');
    assert.equal(management!.errors, 0, management!.lastError);
    assert.ok(management!.samples.length >= 2);
    assert.ok(management!.peak.connections >= 3, JSON.stringify(management!.peak));
    assert.ok(management!.peak.channels >= 1, JSON.stringify(management!.peak));
    assert.ok(management!.peak.queues >= 1, JSON.stringify(management!.peak));
    assert.ok(management!.peak.messagesReady >= 7, JSON.stringify(management!.peak));
    assert.equal(unreachable!.name, 'nobody');
    assert.deepEqual(unreachable!.samples, []);
    assert.ok(unreachable!.errors >= 2, 'a broker that does not answer counts errors, and the sampler goes on');
  } finally {
    for (const connection of connections) await connection.close().catch(() => undefined);
    await rabbit.stop();
  }
});

test("a run records what its broker and agents cost over the measured phase, and the broker's own figures", { timeout: 90_000 }, async () => {
  const scenario = parseScenario(
    'bus: {kind: rabbitmq, management: true}\nagents: {servers: 2, clients: 6}\nload: {duration: 7s, warmup: 500ms}\nrunner: {resource_interval: 500ms, workers: 1}\n',
    'resources.yaml',
  );
  const result = await runScenario(scenario, { resultsRoot: null });
  const resources = result.resources!;
  assert.ok(resources, 'the run has a resources section');
  const broker = resources.rows.find((row) => row.kind === 'broker')!;
  assert.ok(broker, `a broker row among ${resources.rows.map((r) => r.kind).join(', ')}`);
  // Eight agents, a connection each, end on the broker.
  assert.ok(broker.peakTcpConnections >= 8, `broker peak TCP connections ${broker.peakTcpConnections}`);
  assert.ok(broker.peakRssMiB > 20 && broker.meanCpuCores > 0);
  const agents = resources.rows.find((row) => row.kind === 'agents')!;
  assert.ok(agents.peakTcpConnections >= 8, `agents' peak TCP connections ${agents.peakTcpConnections}`);
  // Samples every 500 ms over a 7 s phase.
  const samples = resources.processes.find((p) => p.kind === 'broker')!.samples.length;
  assert.ok(samples >= 10 && samples <= 17, `${samples} broker samples`);
  // RabbitMQ lists a connection in its management API some 5 s after it opened, whatever the statistics interval: hence the 7 s.
  const [node] = resources.rabbitmq;
  assert.ok(node && node.samples.length > 0, 'the management API was read');
  assert.ok(node.peak.connections >= 8, `management: ${node.peak.connections} connections`);
  assert.match(summaryText(result), /resources over the measured phase, sampled every 0\.5 s:[\s\S]*broker[\s\S]*management API\): peak \d+ queues/);
});
