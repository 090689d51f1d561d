/**
 * Live metrics for Prometheus: the exposition text parsed back line by
 * line; a real run against a real RabbitMQ scraped by the real Prometheus
 * server (Debian's prometheus), whose query API must give the run's own
 * counts and a p99 in the run's p99 bucket; and `bus up --prometheus`,
 * whose keeper serves the broker's resource figures until `bus down`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { newHistogram } from '../src/metrics/histogram.js';
import { LiveRun } from '../src/live/aggregate.js';
import { startLiveExporters, type LiveExporters } from '../src/live/exporters.js';
import { FAMILIES, LATENCY_BUCKETS_SECONDS, SeriesSet, bucketCounts, renderExposition } from '../src/live/prometheus.js';
import { prometheusAddress } from '../src/cli/live-options.js';
import { freePort } from '../src/util/process.js';
import { runScenario, resolveScenario, type RunResult } from '../src/index.js';
import { busbench } from './helpers/cli.js';
import { group } from './helpers/results.js';
import { suite } from './helpers/suite.js';

const PROMETHEUS = '/usr/bin/prometheus';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text format 0.0.4: fails on any line it does not understand, and on a family whose lines are not together. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const closed = new Set<string>();
  let open: string | undefined;
  assert.ok(text === '' || text.endsWith('\n'), 'the page ends with a line feed');
  for (const line of text.split('\n').slice(0, -1)) {
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment as unknown as [string, string, string, string];
      if (kind === 'TYPE') {
        assert.ok(!types.has(name), `TYPE of ${name} once`);
        assert.match(rest, /^(counter|gauge|histogram|summary|untyped)$/);
        types.set(name, rest);
        if (open) closed.add(open);
        open = name;
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(sample, `a sample line: ${line}`);
    const name = sample[1]!;
    const labels: Record<string, string> = {};
    const labelText = sample[3] ?? '';
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)/y;
    for (let at = 0; at < labelText.length;) {
      label.lastIndex = at;
      const m = label.exec(labelText);
      assert.ok(m, `labels of ${line} at ${at}`);
      labels[m[1]!] = m[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
      at = label.lastIndex;
    }
    const family = name.replace(/_(bucket|sum|count)$/, '');
    const familyName = types.has(name) ? name : family;
    assert.equal(familyName, open, `${name} belongs to the family open above it (${open})`);
    assert.ok(!closed.has(familyName));
    const value = sample[4] === '+Inf' ? Infinity : Number(sample[4]);
    assert.ok(!Number.isNaN(value), `a number: ${line}`);
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

/** Every histogram's buckets rise with le, and +Inf is its _count. */
function checkHistograms(parsed: ReturnType<typeof parseExposition>): number {
  let checked = 0;
  for (const [name, type] of parsed.types) {
    if (type !== 'histogram') continue;
    const byKey = new Map<string, { buckets: [number, number][]; count?: number }>();
    const keyOf = (labels: Record<string, string>): string =>
      JSON.stringify(
        Object.entries(labels)
          .filter(([k]) => k !== 'le')
          .sort(),
      );
    for (const s of parsed.samples) {
      const entry = byKey.get(keyOf(s.labels)) ?? { buckets: [] };
      byKey.set(keyOf(s.labels), entry);
      if (s.name === `${name}_bucket`) entry.buckets.push([s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']), s.value]);
      if (s.name === `${name}_count`) entry.count = s.value;
    }
    for (const [key, { buckets, count }] of byKey) {
      if (buckets.length === 0) continue;
      for (let i = 1; i < buckets.length; i++) {
        assert.ok(buckets[i]![0] > buckets[i - 1]![0], `${name} ${key}: le rises`);
        assert.ok(buckets[i]![1] >= buckets[i - 1]![1], `${name} ${key}: cumulative counts`);
      }
      assert.equal(buckets.at(-1)![0], Infinity);
      assert.equal(buckets.at(-1)![1], count, `${name} ${key}: +Inf is the count`);
      checked++;
    }
  }
  return checked;
}

describe('Prometheus exposition text', () => {
  it('counts an HDR histogram into the fixed buckets, in seconds', () => {
    const histogram = newHistogram();
    histogram.recordValueWithCount(30, 10); // 30 µs
    histogram.recordValueWithCount(150, 5); // 150 µs
    histogram.recordValueWithCount(1500, 3); // 1.5 ms
    histogram.recordValueWithCount(70_000_000, 1); // 70 s: beyond the last bound
    const counts = bucketCounts(histogram);
    const at = (le: number): number => counts[LATENCY_BUCKETS_SECONDS.indexOf(le)]!;
    assert.equal(at(0.00005), 10);
    assert.equal(at(0.0001), 10);
    assert.equal(at(0.0002), 15);
    assert.equal(at(0.001), 15);
    assert.equal(at(0.002), 18);
    assert.equal(at(60), 18);

    const set = new SeriesSet();
    set.addHistogram(FAMILIES.latency, { role: 'client', pattern: 'call-anycast', leg: 'round_trip' }, histogram);
    set.addHistogram(FAMILIES.latency, { role: 'server', pattern: 'call-anycast', leg: 'one_way' }, newHistogram());
    const parsed = parseExposition(renderExposition([set]));
    assert.equal(checkHistograms(parsed), 1, 'the empty histogram is left out: no latency is not 0 s');
    const sum = parsed.samples.find((s) => s.name === 'busbench_latency_seconds_sum')!;
    assert.ok(Math.abs(sum.value - (histogram.mean * 19) / 1e6) < 1e-9);
  });

  it('escapes label values and keeps each family together over several runs', () => {
    const awkward = 'a "quoted" back\\slash\nand a new line';
    const runs = [0, 1].map((i) => {
      const set = new SeriesSet();
      set.add(FAMILIES.runActive, { run_id: `r${i}`, scenario: awkward }, 1);
      set.add(FAMILIES.messages, { run_id: `r${i}`, role: 'client', pattern: 'notify', outcome: 'sent' }, 10 + i);
      set.add(FAMILIES.runInfo, { run_id: `r${i}`, phase: 'measure' }, 1);
      return set;
    });
    const text = renderExposition(runs);
    const parsed = parseExposition(text);
    assert.deepEqual(
      [...parsed.types],
      [
        ['busbench_run_info', 'gauge'],
        ['busbench_run_active', 'gauge'],
        ['busbench_messages_total', 'counter'],
      ],
    );
    assert.deepEqual(
      parsed.samples.filter((s) => s.name === 'busbench_run_active').map((s) => s.labels['scenario']),
      [awkward, awkward],
    );
    assert.deepEqual(
      parsed.samples.filter((s) => s.name === 'busbench_messages_total').map((s) => s.value),
      [10, 11],
    );
  });

  it('reads --prometheus as [host:]port', () => {
    assert.deepEqual(prometheusAddress('9750'), { port: 9750 });
    assert.deepEqual(prometheusAddress('127.0.0.1:9750'), { host: '127.0.0.1', port: 9750 });
    assert.deepEqual(prometheusAddress('[::1]:0'), { host: '::1', port: 0 });
    for (const bad of ['', 'host', '99999', 'http://x:9750', '1.2.3.4:'])
      assert.throws(() => prometheusAddress(bad), /is not \[host:\]port; e\.g\. 9750/, JSON.stringify(bad));
  });
});

/** Prometheus's query API: the vector's samples. */
async function query(prometheusUrl: string, promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  assert.equal(body.status, 'success', `${promql}: ${body.error}`);
  return body.data.result;
}

/** Polls until `check` gives a value (bounded), returning the last reason when it never does. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

suite(
  'live metrics scraped by a real Prometheus',
  { timeout: 300_000, skip: existsSync(PROMETHEUS) ? false : `${PROMETHEUS} is missing: apt-get install prometheus` },
  () => {
    let dir: string;
    let prometheus: ChildProcess | undefined;
    let prometheusUrl: string;
    let prometheusLog = '';
    let exporters: LiveExporters | undefined;
    let broker: LocalRabbit | undefined;
    let busUpPort: number;
    let stateDir: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'busbench-prometheus-'));
      stateDir = join(dir, 'bus-state');
      exporters = await startLiveExporters({ prometheus: { host: '127.0.0.1', port: 0 }, say: () => undefined });
      const exporterPort = new URL(exporters.prometheusUrl!).port;
      busUpPort = await freePort();
      const listen = await freePort();
      prometheusUrl = `http://127.0.0.1:${listen}`;
      const config = join(dir, 'prometheus.yml');
      await writeFile(
        config,
        'global: {scrape_interval: 1s, evaluation_interval: 1s}\n' +
          'scrape_configs:\n' +
          `  - {job_name: busbench, static_configs: [{targets: ['127.0.0.1:${exporterPort}']}]}\n` +
          `  - {job_name: bus-up, static_configs: [{targets: ['127.0.0.1:${busUpPort}']}]}\n`,
      );
      prometheus = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${listen}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      prometheus.stderr!.on('data', (chunk: Buffer) => (prometheusLog = (prometheusLog + chunk.toString()).slice(-4000)));
      broker = await startLocalRabbit();
      // The exporter serves an empty page until a run is attached: Prometheus takes it, and the target is up.
      await eventually('Prometheus scrapes the exporter', async () => {
        const response = await fetch(`${prometheusUrl}/api/v1/targets`);
        const body = (await response.json()) as { data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] } };
        const target = body.data.activeTargets.find((t) => t.labels.job === 'busbench');
        if (target?.health === 'up') return true;
        throw new Error(`target ${target?.health ?? 'not listed yet'} ${target?.lastError ?? ''}`);
      });
    });

    after(async () => {
      await exporters?.close();
      await busbench(['bus', 'down', '--state-dir', stateDir]).catch(() => undefined);
      if (prometheus && prometheus.exitCode === null) {
        const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
        prometheus.kill('SIGTERM');
        await exited;
      }
      await broker?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it("gives Prometheus a run's counts, and latency buckets whose p99 is the run's", async () => {
      const live = new LiveRun();
      exporters!.attach(live);
      const scenario = resolveScenario(
        {
          name: 'prom-live',
          bus: { kind: 'rabbitmq', url: broker!.transportUrl },
          agents: { servers: 2, clients: 4, topic: 'prom-live' },
          load: { patterns: ['call/anycast'], duration: '6s', warmup: '500ms' },
          runner: { workers: 1 },
        },
        'test/prom-live',
      );
      const result: RunResult = await runScenario(scenario, { resultsRoot: null, onEvent: live.take });
      const calls = group(result, 'client', 'call-anycast');
      assert.ok(calls.counters.ok > 0);
      const run = `run_id="${result.id}"`;

      // The final scrape: the exporter serves the finished run's figures, which are the result's.
      const ok = await eventually('the client ok count in Prometheus', async () => {
        const [sample] = await query(prometheusUrl, `busbench_messages_total{${run},outcome="ok",role="client"}`);
        return sample && Number(sample.value[1]) === calls.counters.ok ? sample : undefined;
      });
      assert.equal(ok.metric['pattern'], 'call-anycast');
      assert.equal(ok.metric['scenario'], 'prom-live');
      assert.equal(ok.metric['bus'], 'rabbitmq');
      const received = await query(prometheusUrl, `busbench_messages_total{${run},outcome="received",role="server"}`);
      assert.equal(Number(received[0]?.value[1]), group(result, 'server', 'call-anycast').counters.ok);

      // Scraped while it ran, not only at the end.
      const active = await query(prometheusUrl, `max_over_time(busbench_run_active{${run}}[10m])`);
      assert.equal(active[0]?.value[1], '1', 'a scrape saw the run under way');
      // The counts are final from the drain on: the end of the run may come a scrape later.
      await eventually('the run seen ended', async () => {
        const series = await query(prometheusUrl, `busbench_run_info{${run}}`);
        return series.length === 1 && series[0]!.metric['phase'] === 'ended' ? true : undefined;
      });

      const p99Seconds = calls.latency!.p99Us / 1e6;
      const upper = LATENCY_BUCKETS_SECONDS.findIndex((le) => p99Seconds <= le);
      assert.ok(upper >= 0, `p99 ${p99Seconds} s within the buckets`);
      const lower = upper === 0 ? 0 : LATENCY_BUCKETS_SECONDS[upper - 1]!;
      const [quantile] = await query(
        prometheusUrl,
        `histogram_quantile(0.99, sum by (le) (busbench_latency_seconds_bucket{${run},role="client",leg="round_trip"}))`,
      );
      const q = Number(quantile?.value[1]);
      assert.ok(Number.isFinite(q), `histogram_quantile gave ${quantile?.value[1]}`);
      assert.ok(
        q >= lower && q <= LATENCY_BUCKETS_SECONDS[upper]!,
        `p99 ${q} s from the buckets, in the run's p99 bucket (${lower}, ${LATENCY_BUCKETS_SECONDS[upper]}]`,
      );

      // What Prometheus parsed, the strict reader reads too: every family together, histograms cumulative.
      const parsed = parseExposition(await fetch(exporters!.prometheusUrl!).then((r) => r.text()));
      assert.ok(checkHistograms(parsed) >= 3, 'round trip, one way, processing, reply');
      assert.ok(!parsed.types.has('busbench_process_rss_bytes'), 'a finished run shows no gauges of the processes it stopped');
    });

    it("serves a bus's resource figures from bus up until bus down", async () => {
      const up = await busbench(['bus', 'up', 'scenarios/quickstart.yaml', '--json', '--state-dir', stateDir, '--prometheus', `127.0.0.1:${busUpPort}`]);
      assert.equal(up.code, 0, up.stderr);
      const state = JSON.parse(up.stdout) as { name: string; metrics: string };
      assert.equal(state.metrics, `http://127.0.0.1:${busUpPort}/metrics`);

      const [rss] = await eventually('the broker in Prometheus', async () => {
        const found = await query(prometheusUrl, `busbench_process_rss_bytes{job="bus-up",kind="broker"}`);
        return found.length > 0 ? found : undefined;
      });
      assert.ok(Number(rss!.value[1]) > 10 * 1024 * 1024, `a broker takes memory: ${rss!.value[1]} bytes`);
      assert.equal(rss!.metric['scenario'], 'quickstart');
      assert.equal(rss!.metric['bus'], 'rabbitmq');
      assert.equal(rss!.metric['run_id'], undefined, 'no run: no run id');

      const down = await busbench(['bus', 'down', state.name, '--state-dir', stateDir]);
      assert.equal(down.code, 0, down.stderr);
      await assert.rejects(fetch(state.metrics), 'the keeper stopped serving');
    });

    it('says a port in use as a usage error', async () => {
      const again = await busbench([
        'bus',
        'up',
        'scenarios/quickstart.yaml',
        '--state-dir',
        stateDir,
        '--prometheus',
        `127.0.0.1:${new URL(exporters!.prometheusUrl!).port}`,
      ]);
      assert.equal(again.code, 2, again.stderr);
      assert.match(again.stderr, /--prometheus 127\.0\.0\.1:\d+: the port is in use; choose another port/);
    });
  },
);
