/**
 * Numbers and exits a user can trust (issue 13), each against a real
 * RabbitMQ: a notifier-only scenario delivers its quota; a broker killed
 * mid-run ends the run non-zero at once, with the loss said and no hot
 * loop; a cast backlog at stop is undelivered, not lost, and the counts add
 * up; Ctrl-C and SIGTERM leave a partial result.json and a summary; every
 * run flag overrides a scenario file; one exit code per outcome; a
 * standalone server whose broker goes away says so and retries.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { EXIT, EXIT_CODE_TABLE } from '../src/index.js';
import type { RunResult } from '../src/index.js';
import { runScenario } from '../src/index.js';
import { loadScenario, resolveScenario, ScenarioError } from '../src/index.js';
import { progressPrinter } from '../src/report/progress.js';
import { emptyCounters } from '../src/metrics/stats.js';
import { busbench, REPO, startBusbench, type Running } from './helpers/cli.js';
import { group } from './helpers/results.js';
import { until } from './helpers/wait.js';
import amqplib from 'amqplib';
import { RabbitDriver, toAmqpUrl as amqpUrl } from '../src/buses/rabbitmq/driver.js';

/** Processes below `pid`, from /proc (the embedded broker's beam.smp is a grandchild of the busbench process). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const child of parents.get(p) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

async function onlyResult(root: string): Promise<RunResult> {
  const dirs = await readdir(root);
  assert.equal(dirs.length, 1, `one run directory in ${root}: ${dirs.join(', ')}`);
  return JSON.parse(await readFile(join(root, dirs[0]!, 'result.json'), 'utf8')) as RunResult;
}

/** Waits for the outcome of a run, failing the test instead of hanging when it does not end. */
async function within(run: Running, ms: number, what: string): Promise<Awaited<Running['done']>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error(`${what} did not end within ${ms / 1000} s:\n${run.output.stdout}\n${run.output.stderr}`));
    }, ms);
  });
  try {
    return await Promise.race([run.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('numbers and exits a user can trust', { timeout: 600_000 }, () => {
  let broker: LocalRabbit;
  let scratch: string;

  before(async () => {
    broker = await startLocalRabbit();
    scratch = await mkdtemp(join(tmpdir(), 'busbench-trust-'));
  });
  after(async () => {
    await broker?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('a notifier-only scenario delivers its quota, and its header says notifiers ran', async () => {
    // The shipped file, as a user runs it with --messages 2000: before, the listeners counted 0.
    const scenario = await loadScenario(join(REPO, 'scenarios/notifications.yaml'), {
      overrides: [
        { field: 'bus.url', value: broker.transportUrl, from: '--url' },
        { field: 'load.messages', value: 2000, from: '--messages' },
        { field: 'agents.notification_topic', value: 'trust_notes', from: 'test' },
      ],
    });
    const result = await runScenario(scenario, { resultsRoot: null });
    assert.equal(group(result, 'notifier', 'notify').counters.sent, 2000);
    assert.equal(group(result, 'listener', 'notify').counters.ok, 2000, 'every notification reached a listener of the pool');
    const notify = result.delivery.notify!;
    assert.deepEqual(
      { sent: notify.sent, expected: notify.expectedDeliveries, received: notify.receivedDeliveries, lost: notify.lost, duplicated: notify.duplicated },
      { sent: 2000, expected: 2000, received: 2000, lost: 0, duplicated: 0 },
    );
    assert.match(result.loadModel.description, /10 notifier\(s\) on trust_notes\.info/);
    assert.doesNotMatch(result.loadModel.description, /call\/anycast|RPC client/);
    assert.ok(result.outcome?.ok, JSON.stringify(result.outcome));
  });

  it('casts still queued at stop are undelivered, not lost, and every count adds up', async () => {
    const scenario = resolveScenario(
      {
        // One server, in worker 0; the clients of workers 1 and 2 cast freely while it burns 2 ms a message
        // (at most ~500/s), far below what they push. With a prefetch the backlog stays in the queue, where the
        // broker reports it: without one, RabbitMQ pushed it all into the server's socket, and the server's
        // worker, burning through it, answered the stop only once the queue was empty.
        bus: { kind: 'rabbitmq', url: broker.transportUrl, prefetch: 10 },
        agents: { servers: 1, clients: 6, topic: 'backlog' },
        load: { patterns: ['cast/multicast'], duration: '2s', warmup: '200ms' },
        runner: { workers: 3 },
        faults: { server_burn: '2ms' },
      },
      'test',
    );
    // A short settle: whatever the closed-loop casts pushed beyond what the servers took is still queued.
    const result = await runScenario(scenario, { resultsRoot: null, settleTimeoutMs: 500 });
    const d = result.delivery['cast-multicast']!;
    assert.ok(d.backlogReported, 'RabbitMQ reports its queue depths');
    assert.ok(d.undeliveredAtStop > 0, `a backlog at stop: ${JSON.stringify(d)}`);
    assert.equal(d.lost, 0, 'a healthy broker loses nothing: the missing ones were still queued');
    assert.equal(d.expectedDeliveries, d.sent, 'deliveries: every message × its one server');
    assert.equal(d.expectedDeliveries, d.receivedDeliveries + d.undeliveredAtStop + d.lost, 'deliveries add up');
    assert.equal(d.sent, d.delivered + d.undeliveredAtStop + d.lost, 'messages add up (one receiver each: a delivery is a message)');
    assert.equal(
      group(result, 'server', 'cast-multicast').counters.ok,
      d.receivedDeliveries + d.duplicated,
      'the servers counted what the accounting says they got',
    );
    const queued = (result.backlogAtStop ?? []).filter((q) => q.via === 'multicast').reduce((sum, q) => sum + q.messages, 0);
    assert.ok(queued >= d.undeliveredAtStop, `the fanout queues held ${queued}`);
    // The measured phase is the duration asked for; what came after is drain and settle.
    assert.ok(result.phases.measuredMs >= 2000 && result.phases.measuredMs < 2600, `measured ${result.phases.measuredMs} ms of 2 s`);
    assert.ok(result.workers > 0);
    assert.equal(result.scenario.runner.workers, result.workers, 'result.json records the worker count used');
    assert.match(result.loadModel.description, /closed-loop casts measure how fast the clients push/);
  });

  it('a broker killed mid-run ends the run non-zero within seconds, says so, and does not spin', async () => {
    const results = join(scratch, 'killed');
    const run = startBusbench([
      'run',
      '--clients',
      '4',
      '--servers',
      '2',
      '--patterns',
      'call/anycast,cast/anycast',
      '--duration',
      '60s',
      '--workers',
      '1',
      '--results-dir',
      results,
    ]);
    await run.waitForOutput(/\bmeasuring\b/, 90_000);
    const beams = descendants(run.child.pid!).filter((pid) => /beam\.smp/.test(commandLine(pid)));
    assert.equal(beams.length, 1, 'the embedded broker is found under busbench');
    process.kill(beams[0]!, 'SIGKILL');
    const killedAt = Date.now();
    const outcome = await within(run, 30_000, 'a run whose broker was killed');
    assert.ok(Date.now() - killedAt < 20_000, 'seen and ended within seconds, not at the 60 s duration');
    assert.equal(outcome.code, EXIT.failed, outcome.stderr);
    assert.match(outcome.stderr, /connection lost: \S+ at [\d.]+ s into the measured phase/);
    assert.match(outcome.stdout, /FAILED: the bus went away: \d+ agent connection\(s\) lost/);
    const result = await onlyResult(results);
    assert.ok(result.connectionsLost >= 1);
    assert.ok(result.stoppedEarly?.partial);
    assert.equal(result.outcome?.ok, false);
    // No hot loop: each client stops at its first refused send, so the failures stay a handful, not millions.
    const clients = result.groups.filter((g) => g.role === 'client');
    const failures = clients.reduce((sum, g) => sum + g.counters.errors + g.counters.unsent, 0);
    assert.ok(failures <= 20, `failures after the kill: ${failures}`);
    for (const g of clients)
      assert.equal(g.counters.sent, g.counters.ok + g.counters.errors + g.counters.timeouts, `${g.pattern}: sent = ok + errors + timeouts (unsent apart)`);
  });

  for (const [signal, code] of [
    ['SIGINT', EXIT.sigint],
    ['SIGTERM', EXIT.sigterm],
  ] as const) {
    it(`${signal} mid-run prints the summary so far and writes result.json marked partial, then exits ${code}`, async () => {
      const results = join(scratch, signal);
      const run = startBusbench([
        'run',
        '--url',
        broker.transportUrl,
        '--clients',
        '2',
        '--servers',
        '1',
        '--topic',
        `sig_${signal}`,
        '--duration',
        '2m',
        '--results-dir',
        results,
      ]);
      await run.waitForOutput(/\bmeasuring\b/, 60_000);
      run.child.kill(signal);
      const outcome = await within(run, 30_000, `a run stopped by ${signal}`);
      assert.equal(outcome.code, code, outcome.stderr);
      assert.match(outcome.stdout, new RegExp(`PARTIAL: the run stopped early — interrupted \\(${signal}\\)`));
      assert.match(outcome.stdout, /client\s*│\s*call-anycast/);
      const result = await onlyResult(results);
      assert.match(result.stoppedEarly?.reason ?? '', new RegExp(signal));
      assert.ok(result.phases.measuredMs < 60_000);
      assert.ok(group(result, 'client', 'call-anycast').counters.ok > 0, 'what was measured is kept');
      assert.match(await readFile(join(result.directory!, 'busbench.log'), 'utf8'), /results written/);
    });
  }

  it('every run flag overrides the scenario file, before validation', async () => {
    const args = ['run', 'scenarios/quickstart.yaml', '--url', broker.transportUrl, '--clients', '3', '--servers', '1', '--topic', 'flags'];
    const outcome = await busbench([
      ...args,
      '--payload-bytes',
      '4KiB',
      '--rate',
      '50',
      '--messages',
      '30',
      '--warmup',
      '0',
      '--timeout',
      '5s',
      '--set',
      'load.concurrency=2',
      '--json',
      '--no-results',
    ]);
    assert.equal(outcome.code, 0, outcome.stderr);
    const result = JSON.parse(outcome.stdout) as RunResult;
    const s = result.scenario;
    assert.deepEqual(
      {
        clients: s.agents.clients,
        servers: s.agents.servers,
        topic: s.agents.topic,
        payload: s.load.payload,
        arrival: s.load.arrival,
        rate: s.load.ratePerClient,
        messages: s.load.messages,
        timeoutMs: s.load.timeoutMs,
        concurrency: s.load.concurrency,
        warmupMs: s.load.warmupMs,
      },
      {
        clients: 3,
        servers: 1,
        topic: 'flags',
        payload: { kind: 'fixed', bytes: 4096 },
        arrival: 'fixed',
        rate: 50,
        messages: 30,
        timeoutMs: 5000,
        concurrency: 2,
        warmupMs: 0,
      },
    );
    assert.equal(group(result, 'client', 'call-anycast').counters.sent, 30);
    assert.equal(group(result, 'client', 'call-anycast').counters.bytes, 30 * 4096);
    // The file's rules still apply to what the flags made of it, and the message names the flag.
    const contradiction = await busbench([...args, '--rate', '10', '--set', 'load.arrival=closed', '--no-results']);
    assert.equal(contradiction.code, EXIT.usage);
    assert.match(contradiction.stderr, /load\.rate: load\.rate sets an open loop.*\(set by --rate\)/);
    const typo = await busbench(['run', 'scenarios/quickstart.yaml', '--set', 'load.rat=100']);
    assert.equal(typo.code, EXIT.usage);
    assert.match(typo.stderr, /did you mean "rate"\? \(set by --set load\.rat=100\)/);
  });

  it('one table of exit codes, in --help and the README, and each command keeps to it', async () => {
    const help = await busbench(['--help']);
    assert.equal(help.code, EXIT.ok);
    const readme = await readFile(join(REPO, 'README.md'), 'utf8');
    for (const [code, meaning] of EXIT_CODE_TABLE) {
      assert.match(help.stdout, new RegExp(`\\b${code}  ${meaning.slice(0, 30).replace(/[().]/g, '\\$&')}`));
      assert.match(readme, new RegExp(`\\| ${code} \\| ${meaning.slice(0, 30).replace(/[().]/g, '\\$&')}`), `README lists exit code ${code}`);
    }
    // 2: bad input, for every command.
    for (const bad of [
      ['run', '--clients', 'x'],
      ['run', '--duration', '0'],
      ['run', '--timeout', '0'],
      ['run', '--bogus'],
      ['limit', '--rate', '5'],
      ['campaign', join(scratch, 'nope.yaml')],
      ['rpc-client', '--url', broker.transportUrl, '--args', '[1]'],
      ['rpc-server'],
      ['bus', 'up', join(scratch, 'nope.yaml')],
    ]) {
      const outcome = await busbench(bad);
      assert.equal(outcome.code, EXIT.usage, `${bad.join(' ')}: ${outcome.stderr}`);
    }
    // 3: the bus could not be used.
    const vhost = await busbench(['run', '--url', `${broker.transportUrl}nosuchvhost`, '--clients', '1', '--servers', '1', '--no-results']);
    assert.equal(vhost.code, EXIT.busUnavailable, vhost.stderr);
    assert.match(vhost.stderr, /refused the virtual host: check the URL's path/);
    assert.doesNotMatch(vhost.stderr, /bus: unknown/);
    // 1: it ran and nothing worked — every call timed out (nobody serves the topic).
    const unserved = await busbench([
      'rpc-client',
      '--url',
      broker.transportUrl,
      '--topic',
      'nobody_here',
      '--calls',
      '2',
      '--timeout',
      '1s',
      '--warmup',
      '0',
      '--no-results',
    ]);
    assert.equal(unserved.code, EXIT.failed, unserved.stderr);
    assert.match(unserved.stdout, /FAILED: every call-anycast call failed: 0 error\(s\), 2 timeout\(s\) of 2/);
  });

  it('reads the bus from the URL scheme as oslo does, and refuses a contradiction', async () => {
    const amqp1 = resolveScenario({ bus: { kind: 'amqp1', url: 'amqp://127.0.0.1:5672/' }, agents: { servers: 1, clients: 1 } }, 'test');
    assert.equal(amqp1.bus.kind, 'amqp1');
    assert.throws(
      () => resolveScenario({ bus: { kind: 'rabbitmq', url: 'amqp://127.0.0.1:5672/' }, agents: { servers: 1, clients: 1 } }, 'test'),
      (error: unknown) => error instanceof ScenarioError && /amqp:\/\/ URL, which oslo\.messaging speaks as AMQP 1\.0/.test(error.message),
    );
    const contradiction = await busbench(['run', '--bus', 'rabbitmq', '--url', 'amqp://127.0.0.1:1/', '--no-results']);
    assert.equal(contradiction.code, EXIT.usage);
    // Without --bus, amqp:// means AMQP 1.0: nothing listens on port 1, so the AMQP 1.0 connection is what fails.
    const inferred = await busbench(['run', '--url', 'amqp://127.0.0.1:1/', '--clients', '1', '--servers', '1', '--no-results']);
    assert.equal(inferred.code, EXIT.busUnavailable, inferred.stderr);
    assert.match(inferred.stderr, /AMQP 1\.0 connection/);
  });

  it('rejects what cannot be run and unreadable files, in words', async () => {
    const bad = (text: string): string => {
      try {
        resolveScenario(JSON.parse(text), 'test');
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    assert.match(
      bad('{"bus": {"kind": "rabbitmq"}, "agents": {"servers": 1, "clients": 1}, "load": {"duration": 0}}'),
      /load\.duration: must be longer than 0/,
    );
    assert.match(
      bad('{"bus": {"kind": "rabbitmq"}, "agents": {"servers": 1, "clients": 1}, "load": {"timeout": "0s"}}'),
      /load\.timeout: must be longer than 0/,
    );
    await assert.rejects(loadScenario(join(REPO, 'scenarios')), /scenarios: is a directory; give a scenario file inside it/);
    const empty = join(scratch, 'empty.yaml');
    await writeFile(empty, '');
    const emptyCampaign = await busbench(['campaign', empty]);
    assert.equal(emptyCampaign.code, EXIT.usage);
    assert.match(emptyCampaign.stderr, /a campaign file is a mapping with at least "scenario: <scenario file>".*got an empty file/);
    const missing = await busbench(['campaign', join(scratch, 'missing.yaml')]);
    assert.match(missing.stderr, /missing\.yaml: no such campaign file/);
    assert.doesNotMatch(missing.stderr, /ENOENT/);
  });

  it('bus errors short of a failed call are counted by kind and reach the results, not swallowed', async () => {
    const topic = 'incidents';
    const raw = await amqplib.connect(amqpUrl(broker.transportUrl));
    const channel = await raw.createChannel();
    try {
      // Through a run: a server gets a delivery that is not oslo JSON.
      const scenario = resolveScenario(
        {
          bus: { kind: 'rabbitmq', url: broker.transportUrl },
          agents: { servers: 1, clients: 1, topic },
          load: { patterns: ['cast/anycast'], rate: 50, duration: '2s', warmup: '200ms' },
          runner: { workers: 1 },
        },
        'test',
      );
      let measuring = false;
      const running = runScenario(scenario, { resultsRoot: null, onEvent: (e) => void (e.type === 'phase' && e.phase === 'measure' && (measuring = true)) });
      await until(() => measuring, 30_000);
      channel.sendToQueue(topic, Buffer.from('not json at all'));
      const result = await running;
      assert.equal(result.busIncidents.malformedMessages, 1, JSON.stringify(result.busIncidents));
      // On one connection: a channel error the broker raises (an exchange redeclared with another type).
      await channel.assertExchange('incidents_direct', 'direct', { durable: false, autoDelete: true });
      const driver = new RabbitDriver({ url: broker.transportUrl, exchange: 'openstack' });
      const connection = await driver.connect({ name: 'incidents' });
      const said: string[] = [];
      connection.incidents.onFirst = (kind, message) => said.push(`${kind}: ${message}`);
      await assert.rejects(connection.call({ topic, exchange: 'incidents_direct' }, 'bench', {}, {}, 2000));
      assert.match(connection.incidents.errors['channel error']?.first ?? '', /PRECONDITION_FAILED/);
      assert.match(said.join('\n'), /channel error: .*PRECONDITION_FAILED/, 'the first of a kind is said');
      await connection.close();
      await driver.close();
    } finally {
      await raw.close().catch(() => undefined);
    }
  });

  it('progress of servers and listeners alone counts what they receive, not "sent 0"', () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (text: string) => lines.push(text) } as unknown as NodeJS.WriteStream;
    const print = progressPrinter(stream);
    print({ type: 'tick', elapsedMs: 6000, measuring: true, worker: 0, totals: { 'server/call-anycast': { ...emptyCounters(), ok: 1234 } } });
    assert.match(lines.join(''), /measuring {2}received 1,234/);
    assert.doesNotMatch(lines.join(''), /sent 0/);
  });

  it('a standalone rpc-server whose broker goes away says so and retries with a backoff', async () => {
    const own = await startLocalRabbit();
    const server = startBusbench(['rpc-server', '--url', own.transportUrl, '--topic', 'retry', '--no-results']);
    try {
      await server.waitForOutput(/agents started: 1/);
      await own.stop();
      await server.waitForOutput(/connection lost: server/, 20_000);
      await server.waitForOutput(/server: reconnecting in 1 s \(attempt 1\)/, 10_000);
      await server.waitForOutput(/server: reconnecting in 2 s \(attempt 2\)/, 10_000);
      server.child.kill('SIGINT');
      const outcome = await within(server, 30_000, 'the rpc-server after Ctrl-C');
      assert.match(outcome.stdout, /FAILED: the bus went away/);
      assert.equal(outcome.code, EXIT.failed, 'its bus went away: the exit says so too');
    } finally {
      server.child.kill('SIGKILL');
      await own.stop();
    }
  });
});
