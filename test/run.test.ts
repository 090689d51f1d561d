/**
 * Whole runs through the library API against a real local RabbitMQ that
 * each run starts and stops itself: patterns mixed over clients, results
 * on disk, notifications, and start-up of 1,000 agents in one process.
 */
import assert from 'node:assert/strict';
import * as hdr from 'hdr-histogram-js';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { decodeHistogram } from '../src/metrics/histogram.js';
import type { RunResult } from '../src/index.js';
import { group } from './helpers/results.js';
import { runScenario } from '../src/index.js';
import { resolveScenario } from '../src/index.js';

describe('runScenario', { timeout: 300_000 }, () => {
  let resultsRoot: string;
  let broker: LocalRabbit;

  before(async () => {
    resultsRoot = await mkdtemp(join(tmpdir(), 'busbench-results-'));
    broker = await startLocalRabbit();
  });
  after(async () => {
    await broker?.stop();
    await rm(resultsRoot, { recursive: true, force: true });
  });

  it('runs a mix of patterns and accounts for every message', async () => {
    const scenario = resolveScenario(
      {
        name: 'mix',
        bus: { kind: 'rabbitmq', url: broker.transportUrl },
        agents: { servers: 3, clients: 8, notifiers: 2, listeners: 2, topic: 'mix' },
        load: { patterns: ['call/unicast', 'call/anycast', 'cast/anycast', 'cast/multicast'], messages: 1000, warmup: '200ms', concurrency: 2 },
        runner: { workers: 2 },
      },
      'test',
    );
    const result = await runScenario(scenario, { resultsRoot });

    assert.equal(result.agents.failed, 0);
    assert.deepEqual(result.agents.started, { server: 3, client: 8, notifier: 2, listener: 2 });
    // 1000 messages over 10 senders: 100 each, 2 clients per pattern.
    for (const pattern of ['call-unicast', 'call-anycast']) {
      const calls = group(result, 'client', pattern);
      assert.equal(calls.counters.sent, 200);
      assert.equal(calls.counters.ok, 200);
      assert.equal(calls.counters.errors + calls.counters.timeouts, 0);
      assert.equal(calls.latency?.count, 200);
      assert.equal(group(result, 'server', pattern).counters.ok, 200, `servers received every ${pattern} call once`);
    }
    assert.equal(group(result, 'client', 'cast-anycast').counters.sent, 200);
    assert.equal(group(result, 'server', 'cast-anycast').counters.ok, 200, 'anycast casts: each received exactly once');
    assert.equal(group(result, 'client', 'cast-multicast').counters.sent, 200);
    assert.equal(group(result, 'server', 'cast-multicast').counters.ok, 600, 'multicast casts: each received by all 3 servers');
    assert.equal(group(result, 'notifier', 'notify').counters.sent, 200);
    assert.equal(group(result, 'listener', 'notify').counters.ok, 200, 'notifications: each consumed by one listener of the pool');
    // Unicast clients 0 and 4 address server-0 and server-1: server-2 gets no unicast, but anycast/multicast.
    assert.equal(Object.keys(result.receivedByAgent).length, 5);
    assert.ok(result.groups.every((g) => g.throughputPerSec >= 0));
    assert.ok(result.phases.measuredMs > 0);
    assert.equal(result.perWorker.length, 2);

    // On disk: result.json (atomic, complete), an HDR log, the broker's logs when embedded.
    assert.ok(result.directory);
    const files = await readdir(result.directory);
    assert.ok(files.includes('result.json') && files.includes('histograms.hlog') && files.includes('busbench.log'), files.join(','));
    assert.ok(!files.some((f) => f.includes('.tmp-')), 'no temp files left');
    const saved = JSON.parse(await readFile(join(result.directory, 'result.json'), 'utf8')) as RunResult;
    assert.equal(saved.schemaVersion, 3);
    // Every measured message accounted for by (client, sequence).
    for (const pattern of ['call-unicast', 'call-anycast', 'cast-anycast'] as const) {
      assert.deepEqual(
        { ...saved.delivery[pattern], receiversPerMessage: undefined },
        {
          sent: 200,
          delivered: 200,
          expectedDeliveries: 200,
          receivedDeliveries: 200,
          undeliveredAtStop: 0,
          lost: 0,
          backlogReported: true,
          duplicated: 0,
          reordered: saved.delivery[pattern]!.reordered,
          unexpected: 0,
          complete: 200,
          receiversPerMessage: undefined,
        },
      );
    }
    assert.equal(saved.delivery['cast-multicast']!.complete, 200);
    assert.deepEqual(saved.delivery['cast-multicast']!.receiversPerMessage, [0, 0, 0, 200]);
    assert.equal(saved.provenance.bus.product, 'RabbitMQ');
    assert.match(saved.provenance.bus.version, /^\d+\.\d+/);
    assert.equal(saved.provenance.node, process.version);
    assert.equal(saved.scenario.agents.clients, 8);
    // Histograms round-trip from their encoded form.
    const saved_calls = saved.groups.find((g) => g.role === 'client' && g.pattern === 'call-anycast')!;
    assert.equal(decodeHistogram(saved_calls.histogram!).totalCount, 200);
    const hlog = await readFile(join(result.directory, 'histograms.hlog'), 'utf8');
    assert.match(hlog, /Tag=client\/call-anycast/);
    // The per-second series adds up to the run, and the log holds its seconds: HdrHistogram's reader takes them back.
    const seconds = saved.timeSeries.filter((point) => point.groups['client/call-anycast']);
    assert.equal(
      seconds.reduce((sum, point) => sum + point.groups['client/call-anycast']!.ok, 0),
      200,
    );
    assert.equal(
      seconds.reduce((sum, point) => sum + point.groups['client/call-anycast']!.bytes, 0),
      saved_calls.counters.bytes,
    );
    for (const point of seconds) {
      const g = point.groups['client/call-anycast']!;
      assert.ok(g.p50Us! <= g.p90Us! && g.p90Us! <= g.p99Us! && g.p99Us! <= g.p999Us! && g.p999Us! <= g.maxUs!, JSON.stringify(g));
    }
    const reader = new hdr.HistogramLogReader(hlog);
    let logged = 0;
    let intervals = 0;
    for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) {
      if (h.tag !== 'client/call-anycast') continue;
      logged += h.totalCount;
      intervals++;
    }
    assert.equal(logged, 200, 'every call in one of the per-second intervals');
    assert.equal(intervals, seconds.filter((point) => point.groups['client/call-anycast']!.histogram).length);
  });

  it('starts 1,000 agents in one process and runs them', async () => {
    const scenario = resolveScenario(
      {
        name: 'thousand',
        bus: { kind: 'rabbitmq', url: broker.transportUrl },
        agents: { servers: 10, clients: 990, topic: 'thousand' },
        load: { patterns: ['call/anycast'], messages: 1980, warmup: 0 },
      },
      'test',
    );
    const result = await runScenario(scenario, { resultsRoot: null });
    assert.equal(result.agents.failed, 0, JSON.stringify(result.agents.failures.slice(0, 3)));
    assert.equal(result.agents.started.client + result.agents.started.server, 1000);
    const calls = group(result, 'client', 'call-anycast');
    assert.equal(calls.counters.ok, 1980);
    assert.equal(calls.agents, 990);
    assert.ok(result.agents.startedPerSec > 0);
  });

  it('runs for a duration instead of a message count', async () => {
    const scenario = resolveScenario(
      {
        name: 'timed',
        bus: { kind: 'rabbitmq', url: broker.transportUrl },
        agents: { servers: 1, clients: 2, topic: 'timed' },
        load: { patterns: ['call/anycast'], duration: '1s', warmup: '200ms' },
      },
      'test',
    );
    const result = await runScenario(scenario, { resultsRoot: null });
    const calls = group(result, 'client', 'call-anycast');
    assert.ok(calls.counters.ok > 10, `only ${calls.counters.ok} calls in 1 s`);
    assert.ok(result.phases.measuredMs >= 1000 && result.phases.measuredMs < 5000, String(result.phases.measuredMs));
  });

  it('holds a fixed rate per client instead of the closed loop', async () => {
    const scenario = resolveScenario(
      {
        name: 'rate',
        bus: { kind: 'rabbitmq', url: broker.transportUrl },
        agents: { servers: 1, clients: 2, topic: 'rate' },
        load: { patterns: ['call/anycast'], duration: '1s', warmup: 0, rate: 20 },
      },
      'test',
    );
    const result = await runScenario(scenario, { resultsRoot: null });
    const calls = group(result, 'client', 'call-anycast');
    // The schedule allows at most one send per 50 ms per client: 2 × (1 s / 50 ms + 1).
    assert.ok(calls.counters.sent <= 42, `sent ${calls.counters.sent}, more than the rate allows`);
    assert.ok(calls.counters.sent >= 2);
    assert.equal(calls.counters.ok, calls.counters.sent);
  });

  it('shares connections when asked, with the same results', async () => {
    const scenario = resolveScenario(
      {
        name: 'shared',
        bus: { kind: 'rabbitmq', url: broker.transportUrl },
        agents: { servers: 2, clients: 20, topic: 'shared', shared_connections: true },
        load: { patterns: ['call/unicast', 'cast/multicast'], messages: 400, warmup: 0 },
        runner: { workers: 1 },
      },
      'test',
    );
    const result = await runScenario(scenario, { resultsRoot: null });
    assert.equal(result.agents.failed, 0);
    assert.equal(group(result, 'client', 'call-unicast').counters.ok, 200);
    assert.equal(group(result, 'server', 'cast-multicast').counters.ok, 400);
  });

  it('counts what fails when the broker goes away mid-run, and ends the run saying so', async () => {
    const doomed = await startLocalRabbit();
    const scenario = resolveScenario(
      {
        name: 'broker-dies',
        bus: { kind: 'rabbitmq', url: doomed.transportUrl },
        agents: { servers: 1, clients: 2, topic: 'doomed' },
        load: { patterns: ['call/anycast', 'cast/anycast'], duration: '3s', warmup: 0, timeout: '1s' },
      },
      'test',
    );
    const running = runScenario(scenario, { resultsRoot: null });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await doomed.stop();
    const result = await running;
    const calls = group(result, 'client', 'call-anycast');
    const casts = group(result, 'client', 'cast-anycast');
    assert.ok(calls.counters.ok > 0, 'calls went through before the broker stopped');
    // Calls in flight at the loss fail (one per client at most); the clients then stop instead of failing on.
    assert.ok(calls.counters.errors + calls.counters.timeouts + calls.counters.unsent <= 2, `calls stopped at the loss: ${JSON.stringify(calls.counters)}`);
    // The clients stop at the loss: at most the send in flight fails, no loop of refused sends.
    assert.ok(casts.counters.errors + casts.counters.unsent <= 2, `casts stopped at the loss: ${JSON.stringify(casts.counters)}`);
    assert.equal(calls.counters.sent, calls.counters.ok + calls.counters.errors + calls.counters.timeouts, 'every call is accounted for');
    assert.ok(result.connectionsLost > 0, 'the lost connections are in the result');
    assert.ok(result.stoppedEarly?.partial, 'the run ended early, before its 3 s');
    assert.equal(result.outcome?.ok, false);
  });

  it('counts calls to a topic nobody serves as timeouts, not latency', async () => {
    const scenario = resolveScenario(
      {
        name: 'timeouts',
        bus: { kind: 'rabbitmq', url: broker.transportUrl },
        agents: { servers: 1, clients: 2, topic: 'served' },
        load: { patterns: ['call/unicast'], messages: 4, warmup: 0, timeout: '300ms' },
      },
      'test',
    );
    // The clients address a server that does not exist.
    const result = await runScenario(scenario, { resultsRoot: null, serverNames: ['server-0', 'ghost'] });
    const calls = group(result, 'client', 'call-unicast');
    assert.equal(calls.counters.sent, 4);
    assert.equal(calls.counters.ok, 2);
    assert.equal(calls.counters.timeouts, 2);
    assert.equal(calls.latency?.count, 2, 'timeouts are not in the latency histogram');
  });
});
