/**
 * Interop beyond busbench's own `bench` method, through a real RabbitMQ:
 *   - a Python oslo.messaging client calls echo / noop / any method on a
 *     `busbench rpc-server` and gets what an OpenStack or ombt server would
 *     answer (echo: `data`, or its arguments; other methods: the arguments
 *     beside busbench's stamps);
 *   - `busbench rpc-client --method/--args` calls a Python oslo server that
 *     has ombt's exact `echo(ctxt, data, timestamp, msgid)` endpoint, and a
 *     call to a method it lacks fails every call (non-zero exit);
 *   - against ombt itself (kgiusti/ombt, when a checkout is found, see
 *     helpers/ombt.ts): busbench calls and casts an ombt rpc-server, and an
 *     ombt rpc-client, driven by ombt's controller, calls a busbench server.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { SEQ_KEY, WARMUP_KEY } from '../agents/phase.js';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { busbench, startBusbench, type Outcome, type Running } from './helpers/cli.js';
import {
  OMBT_RPC_EXCHANGE,
  ombtRpcTopic,
  ombtSkipReason,
  readOmbtOutput,
  runOmbtController,
  startOmbtRpcClient,
  startOmbtRpcServer,
  stopAllOmbt,
  type OmbtProcess,
} from './helpers/ombt.js';
import { osloAvailable, startOsloPeer, type OsloPeer, type PeerEvent } from './helpers/oslo-peer.js';
import { suite } from './helpers/suite.js';

interface Group {
  role: string;
  pattern: string;
  counters: { sent: number; ok: number; errors: number; timeouts: number };
}

/** The groups of a `--json` result (the run's whole stdout). */
function groups(outcome: Outcome): Group[] {
  try {
    return (JSON.parse(outcome.stdout) as { groups: Group[] }).groups;
  } catch {
    throw new Error(`no JSON result (exit ${outcome.code}):\n${outcome.stdout}\n${outcome.stderr}`);
  }
}

function only(outcome: Outcome, role: string): Group {
  const found = groups(outcome).filter((g) => g.role === role);
  assert.equal(found.length, 1, `one ${role} group in ${JSON.stringify(groups(outcome))}`);
  return found[0]!;
}

/** Stops a `busbench rpc-server` as a user does (Ctrl-C) and returns its result. */
async function interrupt(server: Running): Promise<Outcome> {
  server.child.kill('SIGINT');
  const outcome = await server.done;
  assert.equal(outcome.code, 0, outcome.stderr);
  return outcome;
}

/** settles within ms or fails */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))),
  ]);
}

const osloSkip = osloAvailable() ? false : 'python3-oslo.messaging is not installed (apt-get install python3-oslo.messaging)';
const ombtSkip = osloSkip || ombtSkipReason();
if (ombtSkip) console.log(`# ombt interop tests skipped: ${ombtSkip}`);

let broker: LocalRabbit | undefined;
let scratch: string;
const peers: OsloPeer[] = [];
const busbenchServers: Running[] = [];
const url = (): string => broker!.transportUrl;
/** a busbench command against the test broker, with results kept out of the repository */
const standalone = (command: string, ...args: string[]): string[] => [command, '--url', url(), ...args, '--no-results', '--json'];

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'busbench-methods-'));
  if (!osloSkip) broker = await startLocalRabbit();
});
after(async () => {
  // Ctrl-C what a failed test left running (busbench then stops what it started), SIGKILL if it lingers.
  await Promise.all(
    busbenchServers.map(async (server) => {
      if (server.child.exitCode !== null || server.child.signalCode !== null) return;
      server.child.kill('SIGINT');
      const killer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
      await server.done;
      clearTimeout(killer);
    }),
  );
  for (const peer of peers) await peer.stop();
  await stopAllOmbt();
  await broker?.stop();
  await rm(scratch, { recursive: true, force: true });
});

/** A one-shot Python caller (test/oslo/peer.py call ...) run to its end. */
async function pythonCall(args: string[]): Promise<PeerEvent[]> {
  const peer = startOsloPeer(['call', '--url', url(), ...args]);
  peers.push(peer);
  await peer.waitFor((e) => e.event === 'done', 60_000);
  assert.equal(await peer.exited, 0);
  return peer.events;
}

function results(events: PeerEvent[]): unknown[] {
  const errors = events.filter((e) => e.event === 'error');
  assert.deepEqual(errors, [], 'no call failed');
  return events.filter((e) => e.event === 'reply').map((e) => e['result']);
}

suite('a Python oslo.messaging client calls a busbench rpc-server', { timeout: 240_000, skip: osloSkip }, () => {
  let server: Running;
  const topic = 'methods';

  before(async () => {
    server = startBusbench(standalone('rpc-server', '--topic', topic, '--server', 'bb-1'));
    busbenchServers.push(server);
    await server.waitForOutput(/agents started: 1/);
  });

  it('echo(i=1) gets its arguments back', async () => {
    const replies = results(await pythonCall(['--topic', topic, '--method', 'echo', '--args', '{"i": 1}', '--no-seq', '--count', '100']));
    assert.equal(replies.length, 100);
    for (const reply of replies) assert.deepEqual(reply, { i: 1 });
  });

  it("echo(data, timestamp, msgid) gets data back, as ombt's echo does", async () => {
    const replies = results(await pythonCall(['--topic', topic, '--method', 'echo', '--args', '{"data": "x", "timestamp": 1.0, "msgid": "m"}', '--no-seq']));
    assert.deepEqual(replies, ['x']);
  });

  it("noop (ombt's cast endpoint) answers a call with None", async () => {
    const replies = results(await pythonCall(['--topic', topic, '--method', 'noop', '--args', '{"data": "x", "timestamp": 1.0, "msgid": "m"}', '--no-seq']));
    assert.deepEqual(replies, [null]);
  });

  it('any other method gets its arguments beside the stamps', async () => {
    const before = Date.now();
    const replies = results(await pythonCall(['--topic', topic, '--method', 'whatever', '--args', '{"a": [1, "two"]}', '--no-seq']));
    assert.equal(replies.length, 1);
    const reply = replies[0] as Record<string, unknown>;
    assert.deepEqual(Object.keys(reply).sort(), ['a', 'busbench_received', 'busbench_replied']);
    assert.deepEqual(reply['a'], [1, 'two']);
    const received = reply['busbench_received'] as number;
    const replied = reply['busbench_replied'] as number;
    assert.ok(typeof received === 'number' && typeof replied === 'number', JSON.stringify(reply));
    assert.ok(replied >= received, 'the reply leaves after the request arrived');
    assert.ok(Math.abs(received - before) < 60_000, 'stamps are epoch milliseconds');
  });

  it('bench still answers with the server and the sequence (args.seq from older senders)', async () => {
    const replies = results(await pythonCall(['--topic', topic, '--count', '3']));
    assert.deepEqual(
      replies.map((r) => {
        const { busbench_received: received, busbench_replied: replied, ...rest } = r as Record<string, unknown>;
        assert.equal(typeof received, 'number');
        assert.equal(typeof replied, 'number');
        return rest;
      }),
      [0, 1, 2].map((seq) => ({ server: 'bb-1', seq })),
    );
  });

  it('the server counted every call, whatever its method', async () => {
    const served = only(await interrupt(server), 'server');
    assert.equal(served.pattern, 'call-anycast');
    // 100 echo(i=1) + echo(data) + noop + whatever + 3 bench
    assert.equal(served.counters.ok, 106);
  });
});

suite("busbench rpc-client --method against a Python oslo server with ombt's endpoint", { timeout: 240_000, skip: osloSkip }, () => {
  let server: OsloPeer;
  const topic = 'pyombt';

  before(async () => {
    server = startOsloPeer(['serve', '--url', url(), '--topic', topic, '--server', 'py-1', '--endpoint', 'ombt']);
    peers.push(server);
    await server.waitFor((e) => e.event === 'ready', 60_000);
  });

  /** the measured calls the server got since `from` (busbench may send a warm-up call or two even with --warmup 0) */
  const received = (from: number): PeerEvent[] =>
    server.events.slice(from).filter((e) => e.event === 'received' && (e['context'] as Record<string, unknown>)[WARMUP_KEY] !== true);

  it("--method echo sends ombt's arguments (data, timestamp, msgid): every call succeeds", async () => {
    const mark = server.events.length;
    const outcome = await busbench(standalone('rpc-client', '--topic', topic, '--method', 'echo', '--calls', '100', '--warmup', '0'));
    assert.equal(outcome.code, 0, outcome.stderr);
    const client = only(outcome, 'client');
    assert.deepEqual([client.pattern, client.counters.ok, client.counters.errors, client.counters.timeouts], ['call-anycast', 100, 0, 0]);
    const got = received(mark);
    assert.equal(got.length, 100);
    const seqs = new Set<unknown>();
    for (const event of got) {
      assert.equal(event['method'], 'echo');
      const args = event['args'] as { data: unknown; timestamp: unknown; msgid: unknown };
      assert.equal(typeof args.data, 'string');
      assert.equal(typeof args.timestamp, 'number');
      assert.ok(Math.abs((args.timestamp as number) - Date.now() / 1000) < 600, `timestamp is epoch seconds: ${String(args.timestamp)}`);
      assert.equal(typeof args.msgid, 'string');
      const context = event['context'] as Record<string, unknown>;
      assert.ok(Number.isInteger(context[SEQ_KEY]), `the sequence travels in the context: ${JSON.stringify(context)}`);
      seqs.add(context[SEQ_KEY]);
    }
    assert.equal(seqs.size, 100, 'one sequence number per call');
  });

  it('--method echo --args sends exactly those arguments', async () => {
    const mark = server.events.length;
    const outcome = await busbench(
      standalone('rpc-client', '--topic', topic, '--method', 'echo', '--args', '{"data":"hi","timestamp":0,"msgid":"x"}', '--calls', '100', '--warmup', '0'),
    );
    assert.equal(outcome.code, 0, outcome.stderr);
    const client = only(outcome, 'client');
    assert.deepEqual([client.counters.ok, client.counters.errors, client.counters.timeouts], [100, 0, 0]);
    const got = received(mark);
    assert.equal(got.length, 100);
    for (const event of got) assert.deepEqual(event['args'], { data: 'hi', timestamp: 0, msgid: 'x' });
  });

  it('a method the server lacks fails every call (NoSuchMethod) and the run exits non-zero', async () => {
    const mark = server.events.length;
    const outcome = await busbench(standalone('rpc-client', '--topic', topic, '--method', 'nosuchmethod', '--calls', '20', '--warmup', '0'));
    assert.notEqual(outcome.code, 0, `every call failed, yet exit 0:\n${outcome.stdout}`);
    const client = only(outcome, 'client');
    assert.equal(client.counters.ok, 0);
    assert.equal(client.counters.errors, 20, 'each failed call is counted as an error');
    assert.equal(client.counters.timeouts, 0, 'the failure came back as a reply, not a timeout');
    assert.deepEqual(received(mark), [], 'the endpoint was never called');
  });
});

// ombt: skipped (and counted as skipped) when no checkout is found.

it('busbench rpc-client calls (echo) and casts (noop) to an ombt rpc-server', { timeout: 240_000, skip: ombtSkip }, async () => {
  const topic = 'bb2ombt';
  const output = join(scratch, 'ombt-server.jsonl');
  const server: OmbtProcess = await startOmbtRpcServer({ url: url(), topic, name: 'ombt-server-1', output });
  const target = ['--exchange', OMBT_RPC_EXCHANGE, '--topic', ombtRpcTopic(topic)];

  const calls = await busbench(standalone('rpc-client', ...target, '--method', 'echo', '--calls', '100', '--warmup', '0'));
  assert.equal(calls.code, 0, calls.stderr);
  const caller = only(calls, 'client');
  assert.deepEqual([caller.pattern, caller.counters.ok, caller.counters.errors, caller.counters.timeouts], ['call-anycast', 100, 0, 0]);

  // A cast has no reply: the caster cannot tell whether ombt's noop(ctxt, data, timestamp, msgid) took it.
  const casts = await busbench(standalone('rpc-client', ...target, '--cast', '--method', 'noop', '--calls', '100', '--warmup', '0'));
  assert.equal(casts.code, 0, casts.stderr);
  const caster = only(casts, 'client');
  assert.deepEqual([caster.pattern, caster.counters.sent, caster.counters.errors], ['cast-anycast', 100, 0]);
  // With ombt's arguments given, ombt's server takes (and records) each one.
  const noopArgs = JSON.stringify({ data: 'x', timestamp: Date.now() / 1000 - 1, msgid: 'bb-noop' });
  const shaped = await busbench(standalone('rpc-client', ...target, '--cast', '--method', 'noop', '--args', noopArgs, '--calls', '50', '--warmup', '0'));
  assert.equal(shaped.code, 0, shaped.stderr);

  // ombt's controller shuts the server down over the control bus; only then does it write its --output.
  const shutdown = await runOmbtController({ url: url(), topic, test: 'shutdown' });
  assert.equal(shutdown.code, 0, `${shutdown.command}\n${shutdown.stderr}`);
  assert.equal(await within(server.exited, 30_000, 'ombt rpc-server exit'), 0, server.stderr());
  const records = readOmbtOutput(output);
  // ombt's server checks each message's send timestamp against its own clock (a send "after" arrival is an error).
  assert.deepEqual(
    records.filter((r) => r.error),
    [],
    'ombt recorded no error',
  );
  const echoes = records.filter((r) => r.id !== 'bb-noop');
  const noops = records.filter((r) => r.id === 'bb-noop');
  // the 100 echo calls and the 100 noop casts with busbench's default (ombt-shaped) arguments, plus the warm-up
  // message(s) busbench may send before measuring even with --warmup 0
  assert.ok(echoes.length >= 200 && echoes.length <= 220, `ombt's server recorded the 100 echo calls and 100 default noop casts (${echoes.length} records)`);
  assert.ok(noops.length >= 50 && noops.length <= 60, `ombt's server recorded the 50 noop casts with its arguments (${noops.length} records)`);
  // Without --args, noop casts carry ombt's own arguments (data, timestamp, msgid), so ombt's noop takes them.
  assert.equal(
    server.problems().find((line) => /noop\(\)/.test(line)),
    undefined,
    "ombt's noop took busbench's default cast arguments",
  );
});

it('an ombt rpc-client, driven by its controller, calls and casts to a busbench rpc-server', { timeout: 240_000, skip: ombtSkip }, async () => {
  const topic = 'ombt2bb';
  const output = join(scratch, 'ombt-client.jsonl');
  const server = startBusbench(standalone('rpc-server', '--exchange', OMBT_RPC_EXCHANGE, '--topic', ombtRpcTopic(topic), '--server', 'bb-ombt'));
  busbenchServers.push(server);
  await server.waitForOutput(/agents started: 1/);
  const client = await startOmbtRpcClient({ url: url(), topic, name: 'ombt-client-1', output });

  // ombt's controller has the client run the test and collects its results, then asks ombt rpc-servers for
  // theirs: there are none here (the server is busbench's), so it gives up with "No RPCServer servers
  // visible" and exits 1 after the client is done. The client's own per-call records are ombt's report.
  const call = await runOmbtController({ url: url(), topic, test: 'rpc-call', calls: 100, length: 64 });
  assert.match(call.stderr, /No RPCServer servers visible/, `${call.command}\n${call.stderr}`);
  const cast = await runOmbtController({ url: url(), topic, test: 'rpc-cast', calls: 50, length: 64 });
  assert.match(cast.stderr, /No RPCServer servers visible/, `${cast.command}\n${cast.stderr}`);

  const shutdown = await runOmbtController({ url: url(), topic, test: 'shutdown' });
  assert.equal(shutdown.code, 0, `${shutdown.command}\n${shutdown.stderr}`);
  assert.equal(await within(client.exited, 30_000, 'ombt rpc-client exit'), 0, client.stderr());
  const records = readOmbtOutput(output);
  assert.deepEqual(
    records.filter((r) => r.error),
    [],
    'every ombt call and cast succeeded',
  );
  assert.equal(records.length, 150, `ombt's client recorded 100 calls and 50 casts (${records.length})`);
  assert.doesNotMatch(client.stderr(), /failed to send message|unable to reach RPC server/i);

  const served = groups(await interrupt(server)).filter((g) => g.role === 'server');
  const count = (pattern: string): number => served.find((g) => g.pattern === pattern)?.counters.ok ?? 0;
  // before each test ombt's client calls self_ready once (another method: answered with its arguments and the stamps)
  assert.equal(count('call-anycast'), 102);
  assert.equal(count('cast-anycast'), 50);
});
