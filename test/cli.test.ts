/**
 * The busbench command as a user runs it: quick runs on the embedded broker,
 * the standalone agent modes against a shared broker, clear errors, and
 * cleanup (no RabbitMQ process, epmd or temp dir left) on success, on
 * failure and on Ctrl-C.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { busbench, startBusbench } from './helpers/cli.js';

/** Node names of running RabbitMQ nodes busbench started (beam.smp command lines carry the node's home dir). */
function busbenchBrokerProcesses(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (/busbench-rabbit-/.test(cmdline) && /beam|epmd|rabbitmq-server/.test(cmdline)) found.push(`${pid} ${cmdline.slice(0, 120)}`);
    } catch {
      // gone
    }
  }
  return found;
}

async function brokerTempDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('busbench-rabbit-'));
}

describe('busbench CLI', { timeout: 400_000 }, () => {
  let resultsDir: string;
  let tempDirsBefore: Set<string>;
  let processesBefore: Set<string>;

  before(async () => {
    resultsDir = await mkdtemp(join(tmpdir(), 'busbench-cli-'));
    tempDirsBefore = new Set(await brokerTempDirs());
    processesBefore = new Set(busbenchBrokerProcesses());
  });
  after(async () => {
    await rm(resultsDir, { recursive: true, force: true });
  });

  async function assertNothingLeft(): Promise<void> {
    assert.deepEqual(
      busbenchBrokerProcesses().filter((p) => !processesBefore.has(p)),
      [],
      'no broker process left',
    );
    const left = (await brokerTempDirs()).filter((d) => !tempDirsBefore.has(d));
    assert.deepEqual(left, [], 'no broker temp dir left');
  }

  it('teaches with --help', async () => {
    const top = await busbench(['--help']);
    assert.equal(top.code, 0);
    for (const command of ['run', 'rpc-server', 'rpc-client', 'notifier', 'listener']) assert.match(top.stdout, new RegExp(`\\b${command}\\b`));
    const run = await busbench(['run', '--help']);
    assert.match(run.stdout, /--clients <n>.*\(default: 10\)/s);
    assert.match(run.stdout, /Examples:/);
  });

  it('runs a quick scenario on the embedded broker and leaves nothing behind', async () => {
    const outcome = await busbench(['run', '--clients', '4', '--servers', '2', '--messages', '400', '--warmup', '0', '--results-dir', resultsDir]);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.stdout, /client\s*│\s*call-anycast\s*│\s*4\s*│\s*400\s*│\s*400\s*│\s*0\s*│\s*0/);
    assert.match(outcome.stdout, /p99\.9 ms/);
    assert.match(outcome.stderr, /embedded, started by busbench/);
    const runs = await readdir(resultsDir);
    assert.equal(runs.length, 1);
    assert.match(runs[0]!, /^cli-\d{8}-\d{6}$/);
    const result = JSON.parse(await readFile(join(resultsDir, runs[0]!, 'result.json'), 'utf8')) as { provenance: { bus: { embedded: boolean } } };
    assert.equal(result.provenance.bus.embedded, true);
    await assertNothingLeft();
  });

  it('runs a scenario file', async () => {
    const outcome = await busbench(['run', 'scenarios/quickstart.yaml', '--messages', '200', '--no-results', '--json']);
    assert.equal(outcome.code, 0, outcome.stderr);
    const result = JSON.parse(outcome.stdout) as {
      scenario: { name: string; load: { messages: number } };
      groups: { role: string; counters: { ok: number } }[];
    };
    assert.equal(result.scenario.name, 'quickstart');
    assert.equal(result.scenario.load.messages, 200);
    assert.equal(result.groups.find((g) => g.role === 'client')!.counters.ok, 200);
    await assertNothingLeft();
  });

  it('stops the broker and exits 130 on Ctrl-C', async () => {
    const run = startBusbench(['run', '--clients', '2', '--servers', '1', '--duration', '2m', '--no-results']);
    await run.waitForOutput(/measuring|warming up/);
    run.child.kill('SIGINT');
    const outcome = await run.done;
    assert.equal(outcome.code, 130, outcome.stderr);
    await assertNothingLeft();
  });

  it('explains a bad scenario file without a stack trace', async () => {
    const bad = join(resultsDir, 'bad.yaml');
    await import('node:fs/promises').then((fs) => fs.writeFile(bad, 'bus:\n  kind: rabbitmq\nagents:\n  clients: lots\n'));
    const outcome = await busbench(['run', bad]);
    assert.equal(outcome.code, 2);
    assert.match(outcome.stderr, /bad\.yaml:4:12: agents\.clients: must be a whole number, got "lots"/);
    assert.doesNotMatch(outcome.stderr, /\n\s+at /);
  });

  it('explains a bus it cannot reach', async () => {
    const outcome = await busbench(['run', '--url', 'rabbit://guest:guest@127.0.0.1:1/', '--clients', '1', '--servers', '1', '--no-results']);
    assert.equal(outcome.code, 3, 'exit 3: the bus could not be used');
    assert.match(outcome.stderr, /busbench: no agent could connect to rabbit:\/\/guest:\*\*\*@127\.0\.0\.1:1\/: .*ECONNREFUSED.*is the broker running/);
    assert.doesNotMatch(outcome.stderr, /bus: unknown/, 'a bus nobody reached is not named');
    assert.doesNotMatch(outcome.stderr, /\n\s+at /);
  });

  describe('standalone agents against one broker', () => {
    let broker: LocalRabbit;
    before(async () => {
      broker = await startLocalRabbit();
    });
    after(async () => {
      await broker?.stop();
    });

    it('rpc-server serves until Ctrl-C what rpc-client calls, casts and fans out', async () => {
      const server = startBusbench(['rpc-server', '--url', broker.transportUrl, '--topic', 'standalone', '--server', 's1', '--no-results']);
      await server.waitForOutput(/agents started: 1/);
      const call = await busbench([
        'rpc-client',
        '--url',
        broker.transportUrl,
        '--topic',
        'standalone',
        '--calls',
        '50',
        '--warmup',
        '0',
        '--no-results',
        '--json',
      ]);
      assert.equal(call.code, 0, call.stderr);
      const calls = JSON.parse(call.stdout) as { groups: { role: string; pattern: string; counters: { ok: number } }[] };
      assert.deepEqual(
        calls.groups.map((g) => [g.role, g.pattern, g.counters.ok]),
        [['client', 'call-anycast', 50]],
      );
      const cast = await busbench([
        'rpc-client',
        '--url',
        broker.transportUrl,
        '--topic',
        'standalone',
        '--server',
        's1',
        '--cast',
        '--calls',
        '20',
        '--warmup',
        '0',
        '--no-results',
      ]);
      assert.equal(cast.code, 0, cast.stderr);
      assert.match(cast.stdout, /cast-unicast/);
      const fanout = await busbench([
        'rpc-client',
        '--url',
        broker.transportUrl,
        '--topic',
        'standalone',
        '--fanout',
        '--calls',
        '10',
        '--warmup',
        '0',
        '--no-results',
      ]);
      assert.equal(fanout.code, 0, fanout.stderr);
      server.child.kill('SIGINT');
      const served = await server.done;
      assert.equal(served.code, 0, served.stderr);
      assert.match(served.stdout, /server\s*│\s*call-anycast\s*│\s*1\s*│\s*-\s*│\s*50\s/);
      assert.match(served.stdout, /server\s*│\s*cast-unicast\s*│\s*1\s*│\s*-\s*│\s*20\s/);
      assert.match(served.stdout, /server\s*│\s*cast-multicast\s*│\s*1\s*│\s*-\s*│\s*10\s/);
      // Its senders ran elsewhere: no accounting by sequence to get wrong, no "0 sent … unexpected".
      assert.match(served.stdout, /received 80 message\(s\) from senders elsewhere: no per-message delivery accounting/);
      assert.doesNotMatch(served.stdout, /unexpected/);
      assert.match(served.stdout, /no senders in this run: servers and listeners measure/);
    });

    it('listener receives what notifier sends', async () => {
      const listener = startBusbench(['listener', '--url', broker.transportUrl, '--topic', 'standalone_notes', '--no-results']);
      await listener.waitForOutput(/agents started: 1/);
      const notify = await busbench([
        'notifier',
        '--url',
        broker.transportUrl,
        '--topic',
        'standalone_notes',
        '--messages',
        '30',
        '--warmup',
        '0',
        '--no-results',
      ]);
      assert.equal(notify.code, 0, notify.stderr);
      assert.match(notify.stdout, /notifier\s*│\s*notify\s*│\s*1\s*│\s*30\s*│\s*30\s/);
      // The header says what ran: a notifier, not clients of an empty pattern list.
      // A broker on this machine: the agents get half the cores, and a single agent one worker.
      assert.match(notify.stdout, /agents: 1 notifiers in 1 \(auto: half of \d+ cores: the bus runs on this machine[^)]*\) worker/);
      assert.match(notify.stdout, /1 notifier\(s\) on standalone_notes\.info/);
      assert.doesNotMatch(notify.stdout, /clients split over ;|pattern call\/anycast/);
      assert.match(notify.stdout, /no per-message delivery accounting for notify: the receivers run elsewhere/);
      listener.child.kill('SIGINT');
      const heard = await listener.done;
      assert.equal(heard.code, 0, heard.stderr);
      assert.match(heard.stdout, /listener\s*│\s*notify\s*│\s*1\s*│\s*-\s*│\s*30\s/);
    });

    it('requires --url for standalone agents', async () => {
      const outcome = await busbench(['rpc-client', '--calls', '5']);
      assert.equal(outcome.code, 2, 'a missing flag is bad input');
      assert.match(outcome.stderr, /required option '--url <url>' not specified/);
    });
  });
});
