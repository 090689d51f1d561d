/**
 * `busbench export` of a real run: the CSV summary says what the console
 * table said, row for row; the per-second series adds up to the run; the
 * resource table has every sample; the .hlog holds one interval per second
 * and group, read back by HdrHistogram's own reader.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as hdr from 'hdr-histogram-js';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import type { RunResult } from '../src/index.js';
import { csvField } from '../src/results/export.js';
import { formatMs } from '../src/report/summary.js';
import { startBusbench } from './helpers/cli.js';

/** RFC 4180, enough for what export writes. */
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  const [header, ...body] = rows;
  return body.map((cells) => Object.fromEntries(header!.map((name, i) => [name, cells[i] ?? ''])));
}

/** The console summary's group rows: role, pattern, then the cells as printed. */
function tableRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((line) => /^│ (client|server|notifier|listener) /.test(line))
    .map((line) =>
      line
        .split('│')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

describe('busbench export', { timeout: 180_000 }, () => {
  let broker: LocalRabbit;
  let dir: string;
  before(async () => {
    broker = await startLocalRabbit();
    dir = await mkdtemp(join(tmpdir(), 'busbench-export-'));
  });
  after(async () => {
    await broker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes a CSV summary that matches the console table, a series that adds up, every resource sample, and a per-second hlog', async () => {
    const run = startBusbench([
      'run',
      '--url',
      broker.transportUrl,
      '--patterns',
      'call/anycast,cast/multicast',
      '--clients',
      '4',
      '--servers',
      '2',
      '--duration',
      '3s',
      '--topic',
      'export',
      '--results-dir',
      join(dir, 'results'),
      '--no-progress',
    ]);
    const ran = await run.done;
    assert.equal(ran.code, 0, ran.stderr);
    const [runDir] = await readdir(join(dir, 'results'));
    const result = JSON.parse(await readFile(join(dir, 'results', runDir!, 'result.json'), 'utf8')) as RunResult;

    const exported = await startBusbench(['export', join(dir, 'results', runDir!), '-o', join(dir, 'out')]).done;
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /1 run\(s\) exported/);
    const files = (await readdir(join(dir, 'out'))).sort();
    assert.deepEqual(files, [`${result.id}.hlog`, 'resources.csv', 'series.csv', 'summary.csv'].sort());

    // The summary: for every group row of the console table, a CSV row that prints the same.
    const summary = parseCsv(await readFile(join(dir, 'out', 'summary.csv'), 'utf8'));
    const printed = tableRows(ran.stdout);
    assert.equal(printed.length, result.groups.length + 2, `the groups and a total per role (two patterns each): ${JSON.stringify(printed)}`);
    for (const cells of printed) {
      const [role, pattern, agents, sent, ok, errors, timeouts, rate, , kind, p50, p90, p99, p999, max] = cells;
      const row = summary.find((r) => r['role'] === role && r['pattern'] === pattern && (r['latency'] === kind || (kind === '-' && r['latency'] === '')));
      assert.ok(row, `no CSV row for ${role}/${pattern}: ${JSON.stringify(summary)}`);
      const count = (text: string | undefined): string => (text === '-' ? '' : text!.replace(/,/g, ''));
      assert.equal(row['agents'], agents);
      assert.equal(row['sent'], count(sent));
      assert.equal(row['ok'], count(ok));
      assert.equal(row['errors'], count(errors));
      assert.equal(row['timeouts'], count(timeouts));
      assert.equal(Number(row['msg_per_s']).toFixed(1), rate);
      const asPrinted = (ms: string | undefined): string => (ms === '' || ms === undefined ? '-' : formatMs(Number(ms) * 1000));
      assert.deepEqual(
        [row['p50_ms'], row['p90_ms'], row['p99_ms'], row['p99_9_ms'], row['max_ms']].map(asPrinted),
        [p50, p90, p99, p999, max],
        `${role}/${pattern}`,
      );
    }
    const calls = summary.find((r) => r['role'] === 'client' && r['pattern'] === 'call-anycast' && r['latency'] === 'round trip')!;
    assert.equal(calls['lost'], String(result.delivery['call-anycast']!.lost));
    assert.ok(
      summary.some((r) => r['latency'] === 'reply one-way'),
      'the legs of calls have rows of their own',
    );

    // The series: per group, the seconds add up to the run's counts.
    const series = parseCsv(await readFile(join(dir, 'out', 'series.csv'), 'utf8'));
    for (const group of result.groups) {
      const seconds = series.filter((r) => r['role'] === group.role && r['pattern'] === group.pattern);
      assert.equal(
        seconds.reduce((sum, r) => sum + Number(r['ok']), 0),
        group.counters.ok,
        `${group.role}/${group.pattern}: ${JSON.stringify(seconds)}`,
      );
    }

    // Resources: one row per sample and process.
    const resources = parseCsv(await readFile(join(dir, 'out', 'resources.csv'), 'utf8'));
    const samples = (result.resources?.processes ?? []).reduce((sum, p) => sum + p.samples.length, 0);
    assert.ok(samples > 0, 'resources were sampled');
    assert.equal(resources.length, samples);
    assert.ok(resources.every((r) => Number(r['rss_bytes']) > 0));

    // The hlog: HdrHistogram's reader takes back one interval per second and group, summing to the run's histogram.
    const reader = new hdr.HistogramLogReader(await readFile(join(dir, 'out', `${result.id}.hlog`), 'utf8'));
    const byTag = new Map<string, { intervals: number; count: number }>();
    for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) {
      const entry = byTag.get(h.tag!) ?? { intervals: 0, count: 0 };
      entry.intervals++;
      entry.count += h.totalCount;
      byTag.set(h.tag!, entry);
    }
    const clientCalls = result.groups.find((g) => g.role === 'client' && g.pattern === 'call-anycast')!;
    assert.equal(byTag.get('client/call-anycast')?.count, clientCalls.latency!.count);
    assert.ok(byTag.get('client/call-anycast')!.intervals >= 3, `one interval per second: ${JSON.stringify([...byTag])}`);
  });

  it('quotes what needs quoting', () => {
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField(['x', 1]), '"[""x"",1]"');
    assert.equal(csvField(undefined), '');
    assert.equal(csvField(2.5), '2.5');
  });
});
