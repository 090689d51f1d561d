/**
 * Live metrics into InfluxDB: a real run against a real RabbitMQ written
 * through the 1.x API into a real influxd (Debian's influxdb 1.6), read
 * back with InfluxQL and checked against the run's result; a write that
 * fails is counted and said once, and the run goes on. The 2.x API has no
 * server here (no Debian package): its requests are recorded by a plain
 * loopback listener and compared with the 1.x ones, which shows the client
 * is configured right and sends the same points, not that a 2.x server
 * takes them.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { LiveRun } from '../src/live/aggregate.js';
import { startInfluxWriter, type InfluxTarget } from '../src/live/influx.js';
import { influxUrl, liveExportersOptions } from '../src/cli/live-options.js';
import { UsageError } from '../src/errors.js';
import { freePort } from '../src/util/process.js';
import { runScenario, resolveScenario } from '../src/index.js';
import { group } from './helpers/results.js';
import { until } from './helpers/wait.js';
import { suite } from './helpers/suite.js';

const INFLUXD = '/usr/bin/influxd';

/** A run's first events, as a run emits them: enough for points of every kind but seconds. */
function feedSomeEvents(live: LiveRun): void {
  live.take({ type: 'run-started', id: 'r-1', scenario: 'fed', bus: 'rabbitmq', startedAt: new Date().toISOString() });
  live.take({ type: 'phase', phase: 'measure' });
  live.take({
    type: 'resources',
    t: 1000,
    processes: [{ name: 'rabbit@x', kind: 'broker', host: 'local', pid: 1, cpuCores: 0.25, rssBytes: 123456, tcpConnections: 7 }],
  });
  live.take({
    type: 'disruption',
    what: 'down',
    record: { kind: 'dropout', label: 'west', pairs: [['east', 'west']], plannedAtMs: 0, plannedForMs: 1000, startedAtMs: 5 },
  });
}

describe('--influx flags', () => {
  const read = (flags: Record<string, string>, env: NodeJS.ProcessEnv = {}): unknown =>
    liveExportersOptions({ ...flags, ...(flags['influx'] ? { influx: influxUrl(flags['influx']) } : {}) }, env).influx;

  it('takes the database from the path for 1.x, and org, bucket and token for 2.x', () => {
    assert.deepEqual(read({ influx: 'http://u:p%40ss@influx:8086/busbench?rp=week' }), {
      api: 'v1',
      url: 'http://influx:8086',
      database: 'busbench',
      retentionPolicy: 'week',
      username: 'u',
      password: 'p@ss',
    });
    assert.deepEqual(read({ influx: 'https://influx:8086', influxOrg: 'lab', influxBucket: 'bb' }, { INFLUX_TOKEN: 't0k' }), {
      api: 'v2',
      url: 'https://influx:8086',
      org: 'lab',
      bucket: 'bb',
      token: 't0k',
    });
  });

  it('names the flag and the fix when something is missing or mixed', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ influx: 'http://influx:8086' }, /name the database as the URL's path .* or give --influx-bucket and --influx-org/],
      [{ influx: 'http://influx:8086', influxBucket: 'b' }, /--influx-bucket needs --influx-org/],
      [{ influx: 'http://influx:8086', influxBucket: 'b', influxOrg: 'o' }, /needs a token: set INFLUX_TOKEN or give --influx-token/],
      [{ influx: 'http://influx:8086/db', influxOrg: 'o' }, /--influx-org is for the 2\.x API/],
      [{ influxBucket: 'b' }, /--influx-bucket without --influx/],
    ];
    for (const [flags, message] of cases)
      assert.throws(
        () => read(flags),
        (error: Error) => error instanceof UsageError && message.test(error.message),
        JSON.stringify(flags),
      );
    assert.throws(() => influxUrl('influx:8086/db'), /InfluxDB is reached over http:\/\/ or https:\/\//);
    assert.throws(() => influxUrl('not a url'), /is not a URL; e\.g\. http:\/\/influx:8086\/busbench/);
  });
});

describe('the 2.x API, recorded on a loopback listener (no 2.x server here)', () => {
  let server: Server;
  let base: string;
  const requests: { method: string; url: string; authorization: string | undefined; body: string }[] = [];

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        requests.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization, body });
        // As InfluxDB 2.x refuses a bad token.
        if (request.headers.authorization === 'Token wrong')
          response.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"unauthorized","message":"unauthorized access"}');
        else response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('writes the same lines as the 1.x API, to /api/v2/write with the token', async () => {
    const live = new LiveRun();
    const v1 = startInfluxWriter({ target: { api: 'v1', url: base, database: 'busbench' }, flushIntervalMs: 60_000 });
    const v2 = startInfluxWriter({ target: { api: 'v2', url: base, org: 'lab', bucket: 'bb', token: 's3cret' }, flushIntervalMs: 60_000 });
    v1.attach(live);
    v2.attach(live);
    feedSomeEvents(live);
    await Promise.all([v1.close(), v2.close()]);
    const write1 = requests.find((r) => r.url.startsWith('/write'));
    const write2 = requests.find((r) => r.url.startsWith('/api/v2/write'));
    assert.equal(write1?.url, '/write?db=busbench&precision=ms');
    assert.equal(write2?.url, '/api/v2/write?org=lab&bucket=bb&precision=ms');
    assert.equal(write2?.authorization, 'Token s3cret');
    assert.equal(write1?.authorization, undefined);
    const lines = (body: string): string[] => body.split('\n');
    // Each writer stamps the points when it takes the event: the two may differ by a millisecond.
    const untimed = (body: string): string[] => lines(body).map((line) => line.replace(/ \d{13}$/, ' <ms>'));
    assert.ok(
      lines(write1!.body).every((line) => / \d{13}$/.test(line)),
      'millisecond timestamps',
    );
    assert.deepEqual(untimed(write2!.body), untimed(write1!.body));
    assert.deepEqual(
      untimed(write1!.body).map((line) => line.split(/[ ,]/)[0]),
      ['busbench_phase', 'busbench_phase', 'busbench_process', 'busbench_outage'],
    );
    assert.match(
      write1!.body,
      /^busbench_process,bus=rabbitmq,host=local,kind=broker,process=rabbit@x,run_id=r-1,scenario=fed cpu_cores=0\.25,rss_bytes=123456i,tcp_connections=7i \d+$/m,
    );
    assert.deepEqual(v2.status(), {
      target: 'http://127.0.0.1:' + new URL(base).port + ', org lab, bucket bb, 2.x API',
      points: 4,
      written: 4,
      failedWrites: 0,
      lostPoints: 0,
    });
  });

  it('counts a write the 2.x API refuses, without retrying it', async () => {
    const said: string[] = [];
    const live = new LiveRun();
    const writer = startInfluxWriter({
      target: { api: 'v2', url: base, org: 'lab', bucket: 'bb', token: 'wrong' },
      flushIntervalMs: 60_000,
      say: (level, message) => said.push(`${level}: ${message}`),
    });
    writer.attach(live);
    feedSomeEvents(live);
    const before = requests.length;
    await writer.close();
    assert.equal(requests.length - before, 1, 'one request, no retries');
    assert.deepEqual([writer.status().failedWrites, writer.status().lostPoints], [1, 4]);
    assert.match(said[0]!, /^warn: InfluxDB \(.*2\.x API\): a write failed: .*unauthorized access/);
  });
});

suite(
  'live metrics written to a real InfluxDB 1.x',
  { timeout: 240_000, skip: existsSync(INFLUXD) ? false : `${INFLUXD} is missing: apt-get install influxdb` },
  () => {
    let dir: string;
    let influxd: ChildProcess | undefined;
    let influxLog = '';
    let url: string;
    let broker: LocalRabbit | undefined;
    const database = 'busbench_test';

    async function influxQuery(q: string): Promise<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]> {
      const response = await fetch(`${url}/query?db=${database}&q=${encodeURIComponent(q)}`, { method: 'POST' });
      const body = (await response.json()) as {
        results: { error?: string; series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[];
      };
      assert.equal(body.results[0]?.error, undefined, q);
      return body.results[0]?.series ?? [];
    }

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'busbench-influx-'));
      const [http, rpc] = [await freePort(), await freePort()];
      url = `http://127.0.0.1:${http}`;
      for (const sub of ['meta', 'data', 'wal']) await mkdir(join(dir, sub));
      const config = join(dir, 'influxd.conf');
      await writeFile(
        config,
        [
          'reporting-disabled = true',
          `bind-address = "127.0.0.1:${rpc}"`,
          '[meta]',
          `  dir = "${join(dir, 'meta')}"`,
          '[data]',
          `  dir = "${join(dir, 'data')}"`,
          `  wal-dir = "${join(dir, 'wal')}"`,
          '  query-log-enabled = false',
          '[http]',
          `  bind-address = "127.0.0.1:${http}"`,
          '  log-enabled = false',
          '[monitor]',
          '  store-enabled = false',
          '[continuous_queries]',
          '  enabled = false',
          '[logging]',
          '  level = "warn"',
          '',
        ].join('\n'),
      );
      influxd = spawn(INFLUXD, ['-config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      for (const stream of [influxd.stdout!, influxd.stderr!]) stream.on('data', (chunk: Buffer) => (influxLog = (influxLog + chunk.toString()).slice(-4000)));
      const brokerStarting = startLocalRabbit();
      const deadline = Date.now() + 30_000;
      for (;;) {
        const answered = await fetch(`${url}/ping`).then(
          (r) => r.status === 204,
          () => false,
        );
        if (answered) break;
        assert.ok(influxd.exitCode === null, `influxd exited: ${influxLog}`);
        assert.ok(Date.now() < deadline, `influxd did not answer /ping within 30 s: ${influxLog}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await influxQuery(`CREATE DATABASE ${database}`);
      broker = await brokerStarting;
    });

    after(async () => {
      await broker?.stop();
      if (influxd && influxd.exitCode === null) {
        const exited = new Promise((resolve) => influxd!.once('exit', resolve));
        influxd.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    });

    it("writes a run's seconds, processes, phases and result, and they add up to the run's figures", async () => {
      const said: string[] = [];
      const writer = startInfluxWriter({ target: { api: 'v1', url, database }, say: (level, message) => said.push(`${level}: ${message}`) });
      const live = new LiveRun();
      writer.attach(live);
      const scenario = resolveScenario(
        {
          name: 'influx-live',
          bus: { kind: 'rabbitmq', url: broker!.transportUrl },
          agents: { servers: 2, clients: 4, notifiers: 1, listeners: 1, topic: 'influx-live' },
          load: { patterns: ['call/anycast', 'cast/multicast'], duration: '4s', warmup: '500ms' },
          runner: { workers: 2 },
        },
        'test/influx-live',
      );
      const result = await runScenario(scenario, { resultsRoot: null, onEvent: live.take });
      await writer.close();
      const status = writer.status();
      assert.equal(status.failedWrites, 0, status.lastError);
      assert.equal(status.lostPoints, 0);
      assert.equal(status.written, status.points);
      assert.deepEqual(said, [`info: InfluxDB (${url}/${database}, 1.x API): ${status.points} points written`]);

      const run = `run_id = '${result.id}'`;
      const sums = await influxQuery(`SELECT sum(ok) AS ok, sum(bytes) AS bytes FROM busbench_second WHERE ${run} GROUP BY role, pattern`);
      const groups = result.groups.filter((g) => g.pattern !== 'all');
      assert.equal(sums.length, groups.length, `a series per group: ${sums.map((s) => JSON.stringify(s.tags)).join(' ')}`);
      for (const series of sums) {
        const { role, pattern } = series.tags!;
        const key = `${role}/${pattern}`;
        const [ok, bytes] = [series.values[0]![1], series.values[0]![2]];
        // The seconds are the result's time series, second by second.
        const timeSeries = (field: 'ok' | 'bytes'): number => result.timeSeries.reduce((sum, point) => sum + (point.groups[key]?.[field] ?? 0), 0);
        assert.equal(ok, timeSeries('ok'), `${key}: the seconds' ok are the time series'`);
        assert.equal(bytes, timeSeries('bytes'), `${key}: and their bytes`);
        // The workers' last parts, taken at collection, close the series: receivers' seconds add up too.
        assert.equal(ok, group(result, role!, pattern!).counters.ok, `${key}: the seconds add up to the run's count`);
      }
      const [seconds] = await influxQuery(`SELECT count(p99_us) FROM busbench_second WHERE ${run} AND role = 'client' AND pattern = 'call-anycast'`);
      const withLatency = result.timeSeries.filter((point) => point.groups['client/call-anycast']?.p99Us !== undefined).length;
      assert.ok(withLatency > 0);
      assert.equal(seconds?.values[0]![1], withLatency, 'a p99 for each second the time series has one for');

      const results = await influxQuery(`SELECT ok, p99_us FROM busbench_result WHERE ${run} AND role = 'client' AND pattern = 'call-anycast'`);
      const calls = group(result, 'client', 'call-anycast');
      assert.deepEqual(results[0]!.values[0]!.slice(1), [calls.counters.ok, calls.latency!.p99Us]);

      const phases = await influxQuery(`SELECT entered FROM busbench_phase WHERE ${run} GROUP BY phase`);
      assert.deepEqual(phases.map((p) => p.tags!['phase']).sort(), ['collect', 'drain', 'ended', 'measure', 'settle', 'starting', 'teardown', 'warmup']);
      const [outcome] = await influxQuery(`SELECT outcome_ok, stopped_early FROM busbench_run WHERE ${run}`);
      assert.deepEqual(outcome!.values[0]!.slice(1), [true, false]);
      const processes = await influxQuery(`SELECT last(rss_bytes) FROM busbench_process WHERE ${run} GROUP BY process`);
      assert.ok(
        processes.some((p) => p.tags?.['process'] === 'busbench'),
        'busbench itself is sampled',
      );
    });

    it('counts a write the server refuses, says it once with the fix, and goes on', async () => {
      const said: string[] = [];
      const target: InfluxTarget = { api: 'v1', url, database: 'nowhere' };
      const writer = startInfluxWriter({ target, flushIntervalMs: 50, say: (level, message) => said.push(`${level}: ${message}`) });
      const live = new LiveRun();
      writer.attach(live);
      feedSomeEvents(live);
      await until(() => writer.status().failedWrites === 1);
      // A second write, refused too: said no more.
      live.take({ type: 'phase', phase: 'drain' });
      await writer.close();
      const status = writer.status();
      assert.equal(status.failedWrites, 2);
      assert.equal(status.lostPoints, 5);
      assert.equal(status.written, 0);
      assert.equal(said.length, 2, said.join('\n'));
      assert.match(said[0]!, /^warn: InfluxDB .*: a write failed: HTTP 404: database not found: "nowhere"; create it: curl -XPOST .*CREATE DATABASE "nowhere"/);
      assert.match(said[1]!, /^warn: InfluxDB .*: 5 of 5 points not written \(2 failed writes; last: HTTP 404/);
    });
  },
);
