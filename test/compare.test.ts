/**
 * busbench compare through the real CLI, on real runs against a real
 * RabbitMQ: a campaign with `repeat: 3` as the baseline; a run against
 * itself passes (0); servers slowed by 2 ms of CPU per message fail (99)
 * with a JUnit file that parses; a run whose difference from the baseline
 * lies inside the repeats' noise is inconclusive (98), and the test checks
 * that the noise interval does straddle the bound.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import type { Comparison } from '../src/analysis/compare.js';
import type { LatencyStat } from '../src/analysis/metrics.js';
import { bucketsOf, bucketStat, multinomial, prng } from '../src/analysis/noise.js';
import { decodeHistogram } from '../src/metrics/histogram.js';
import type { DoneRecord, RunResult } from '../src/index.js';
import { busbench } from './helpers/cli.js';

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescape(text: string, where: string): string {
  return text.replace(/&([^;]*);/g, (_, entity: string) => {
    if (entity in ENTITIES) return ENTITIES[entity]!;
    const code = /^#(\d+)$/.exec(entity)?.[1] ?? (/^#x([0-9a-f]+)$/i.exec(entity) ? String(parseInt(entity.slice(2), 16)) : undefined);
    assert.ok(code !== undefined, `unknown entity &${entity}; in ${where}`);
    return String.fromCodePoint(Number(code));
  });
}

/** A small, strict XML reader: the prolog, elements, attributes in double quotes, escaped text; anything else is an error. */
function parseXml(xml: string): XmlElement {
  let at = 0;
  const prolog = /^<\?xml version="1\.0" encoding="UTF-8"\?>\s*/.exec(xml);
  assert.ok(prolog, 'an XML declaration first');
  at = prolog[0].length;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (at < xml.length) {
    if (xml[at] === '<') {
      const close = /^<\/([A-Za-z][\w.-]*)\s*>/.exec(xml.slice(at));
      if (close) {
        const open = stack.pop();
        assert.equal(close[1], open?.name, `</${close[1]}> closes <${open?.name}> at ${at}`);
        at += close[0].length;
        continue;
      }
      const tag = /^<([A-Za-z][\w.-]*)((?:\s+[A-Za-z][\w.-]*="[^"<]*")*)\s*(\/?)>/.exec(xml.slice(at));
      assert.ok(tag, `a malformed tag at ${at}: ${xml.slice(at, at + 60)}`);
      const attributes: Record<string, string> = {};
      for (const [, key, value] of tag[2]!.matchAll(/([A-Za-z][\w.-]*)="([^"]*)"/g)) {
        assert.ok(!(key! in attributes), `attribute ${key} twice`);
        assert.ok(!/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(value!), `a raw & in ${key}="${value}"`);
        attributes[key!] = unescape(value!, `${tag[1]}@${key}`);
      }
      const element: XmlElement = { name: tag[1]!, attributes, children: [], text: '' };
      if (stack.length > 0) stack[stack.length - 1]!.children.push(element);
      else {
        assert.equal(root, undefined, 'one root element');
        root = element;
      }
      if (!tag[3]) stack.push(element);
      at += tag[0].length;
      continue;
    }
    const end = xml.indexOf('<', at);
    const text = xml.slice(at, end === -1 ? xml.length : end);
    assert.ok(!/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(text), `a raw & in text: ${text}`);
    if (stack.length > 0) stack[stack.length - 1]!.text += unescape(text, 'text');
    else assert.match(text, /^\s*$/, 'nothing but whitespace outside the root');
    at += text.length;
  }
  assert.equal(stack.length, 0, `unclosed: ${stack.map((e) => e.name).join(', ')}`);
  assert.ok(root);
  return root;
}

describe('busbench compare', { timeout: 200_000 }, () => {
  let broker: LocalRabbit;
  let dir: string;
  let campaignDir: string;
  let repeats: DoneRecord[];
  let slowRun: string;

  before(async () => {
    broker = await startLocalRabbit();
    dir = await mkdtemp(join(tmpdir(), 'busbench-compare-'));
    await writeFile(
      join(dir, 'base.yaml'),
      `bus: {kind: rabbitmq, url: "${broker.transportUrl}"}\nagents: {servers: 2, clients: 4, topic: cmp}\nload: {duration: 2s, warmup: 300ms}\nrunner: {workers: 1}\n`,
    );
    await writeFile(join(dir, 'three.yaml'), 'name: three\nscenario: base.yaml\nrepeat: 3\n');
    const campaign = await busbench(['campaign', 'three.yaml', '--results-dir', 'results', '--no-progress'], dir);
    assert.equal(campaign.code, 0, campaign.stderr);
    campaignDir = join(dir, 'results', 'three');
    const runs = join(campaignDir, 'runs');
    repeats = await Promise.all((await readdir(runs)).map(async (id) => JSON.parse(await readFile(join(runs, id, 'done.json'), 'utf8')) as DoneRecord));
    repeats.sort((a, b) => a.index - b.index);
    // The same servers, each burning 2 ms of CPU per message: a regression by construction.
    const slow = await busbench(['run', 'base.yaml', '--set', 'faults.server_burn=2ms', '--results-dir', 'slow', '--no-progress'], dir);
    assert.equal(slow.code, 0, slow.stderr);
    slowRun = /^results: (.+)$/m.exec(slow.stdout)![1]!;
  });
  after(async () => {
    await broker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const runDir = (record: DoneRecord): string => join(campaignDir, record.results);

  it('a campaign with repeat: 3 runs its point three times, the repeats told apart', () => {
    assert.equal(repeats.length, 3);
    const [first, second, third] = repeats;
    assert.deepEqual(
      repeats.map((r) => r.parameters),
      [{ repeat: 1 }, { repeat: 2 }, { repeat: 3 }],
    );
    assert.equal(second!.id, `${first!.id}-r2`);
    assert.equal(third!.id, `${first!.id}-r3`);
  });

  it("resamples histograms bucket by bucket, and computes each statistic as the runs' own summaries do", async () => {
    for (const record of repeats) {
      const result = JSON.parse(await readFile(join(runDir(record), 'result.json'), 'utf8')) as RunResult;
      const groups = result.groups.filter((g) => g.histogram && g.latency);
      assert.ok(groups.length >= 2);
      for (const g of groups) {
        const buckets = bucketsOf(decodeHistogram(g.histogram!));
        const stat = (s: LatencyStat): number => bucketStat(buckets, buckets.counts, s);
        const p = (percentile: number): number => stat({ kind: 'percentile', percentile });
        const l = g.latency!;
        assert.deepEqual(
          [p(50), p(90), p(99), p(99.9), stat({ kind: 'max' }), stat({ kind: 'min' }), Math.round(stat({ kind: 'mean' }))],
          [l.p50Us, l.p90Us, l.p99Us, l.p999Us, l.maxUs, l.minUs, l.meanUs],
        );
        // A resample draws as many values as the histogram holds, only where it holds some.
        const draw = multinomial(buckets.counts, buckets.total, prng(7));
        assert.equal(
          draw.reduce((a, b) => a + b, 0),
          l.count,
        );
        assert.ok(draw.every((n, i) => n === 0 || buckets.counts[i]! > 0));
      }
    }
  });

  it('passes a run compared with itself, and a campaign with itself (exit 0)', async () => {
    const run = await busbench(['compare', runDir(repeats[0]!), runDir(repeats[0]!)], dir);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /│ p99 +│ +[\d.]+ (ms|µs) │ +[\d.]+ (ms|µs) │ +0 µs │ +0 % │ +none: same runs │/);
    assert.match(run.stdout, /✓ p99<\+10% /);
    assert.match(
      run.stdout,
      /^verdict: PASS \(exit 0\): 5 passed, 0 failed, 0 inconclusive over 1 comparison\(s\); default thresholds p99<\+10% throughput>-5% errors==0 timeouts==0 lost==0$/m,
    );
    const campaign = await busbench(['compare', campaignDir, campaignDir, '--format', 'md'], dir);
    assert.equal(campaign.code, 0, campaign.stdout + campaign.stderr);
    assert.match(campaign.stdout, /^## busbench compare: ✓ pass$/m);
    assert.match(campaign.stdout, /Baseline: `three \(base scenario\) \(3 repeats\)`/);
    assert.match(campaign.stdout, /^\| p99 \| [\d.]+ (ms|µs) \| [\d.]+ (ms|µs) \| 0 µs \| 0 % \| none: same runs \|$/m);
  });

  it('fails a constructed regression (exit 99), and writes JUnit XML that parses', async () => {
    const junit = join(dir, 'regression.xml');
    const outcome = await busbench(
      ['compare', campaignDir, slowRun, '--junit', junit, '--threshold', 'p99<+10%, throughput>-5%', '--threshold', 'timeouts==0'],
      dir,
    );
    assert.equal(outcome.code, 99, outcome.stdout + outcome.stderr);
    assert.match(
      outcome.stdout,
      /✗ p99<\+10% +p99 .* → .*, \+\d+ % \(noise \+\d+ % … \+\d+ %\): not below \+10 % of the baseline anywhere in its noise interval/,
    );
    assert.match(outcome.stdout, /✗ throughput>-5% /);
    assert.match(outcome.stdout, /✓ timeouts==0 /);
    assert.match(outcome.stdout, /^verdict: FAIL \(exit 99\): 1 passed, 2 failed, 0 inconclusive over 1 comparison\(s\)$/m);

    const root = parseXml(await readFile(junit, 'utf8'));
    assert.equal(root.name, 'testsuites');
    assert.deepEqual([root.attributes['tests'], root.attributes['failures'], root.attributes['skipped']], ['3', '2', '0']);
    const [suite] = root.children;
    assert.equal(suite!.name, 'testsuite');
    assert.equal(suite!.attributes['name'], '(base scenario)');
    const cases = suite!.children.filter((c) => c.name === 'testcase');
    assert.deepEqual(
      cases.map((c) => c.attributes['name']),
      ['p99<+10%', 'throughput>-5%', 'timeouts==0'],
    );
    const failure = cases[0]!.children.find((c) => c.name === 'failure');
    assert.match(failure?.attributes['message'] ?? '', /^p99 .* not below \+10 % of the baseline/);
    assert.equal(
      cases[2]!.children.find((c) => c.name === 'failure'),
      undefined,
    );
    const properties = suite!.children.find((c) => c.name === 'properties')!.children;
    assert.deepEqual(
      properties.map((p) => p.attributes['name']),
      ['baseline', 'candidate', 'verdict'],
    );
  });

  it('is inconclusive (exit 98) when the difference lies within the repeats’ noise', async () => {
    // The third repeat against all three: it differs from their pooled figures only by the noise the three spread over.
    const junit = join(dir, 'noise.xml');
    const outcome = await busbench(['compare', campaignDir, runDir(repeats[2]!), '--threshold', 'p99<+1%', '--format', 'json', '--junit', junit], dir);
    assert.equal(outcome.code, 98, outcome.stdout + outcome.stderr);
    const comparison = JSON.parse(outcome.stdout) as Comparison;
    assert.equal(comparison.verdict, 'inconclusive');
    const [pair] = comparison.pairs;
    assert.match(pair!.baseline.label, /\(3 repeats\)$/);
    const [verdict] = pair!.thresholds;
    assert.equal(verdict!.verdict, 'inconclusive');
    assert.equal(verdict!.compared, 'relative');
    // Not by accident: the interval really straddles +1 %, and the figure itself is inside it.
    const { low, high } = verdict!.interval!;
    assert.ok(low < 1 && high >= 1, `noise interval ${low} … ${high} % does not straddle +1 %`);
    assert.ok(low <= verdict!.value! && verdict!.value! <= high);
    assert.match(verdict!.explanation, /the noise interval straddles the bound \(below \+1 % of the baseline\).*min–max of 3 repeats/);
    const p99 = pair!.rows.find((r) => r.metric === 'p99')!;
    assert.deepEqual(p99.relativeInterval, { low, high });
    // The bootstrap's draws are seeded: the same comparison gives the same figures.
    const again = await busbench(['compare', campaignDir, runDir(repeats[2]!), '--threshold', 'p99<+1%', '--format', 'json'], dir);
    assert.equal(again.stdout, outcome.stdout);
    const root = parseXml(await readFile(junit, 'utf8'));
    assert.equal(root.attributes['skipped'], '1');
    const skipped = root.children[0]!.children.find((c) => c.name === 'testcase')!.children[0]!;
    assert.equal(skipped.name, 'skipped');
    assert.match(skipped.attributes['message']!, /^inconclusive: p99 /);
  });

  it('refuses bad input with exit 2, naming what to give instead', async () => {
    const missing = await busbench(['compare', join(dir, 'nope'), campaignDir], dir);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope: no such file or directory \(give a run directory, a result\.json, or a campaign directory\)/);
    const bad = await busbench(['compare', campaignDir, campaignDir, '--threshold', 'p99<+10'], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--threshold: threshold "p99<\+10": /);
    await writeFile(join(dir, 'gates.yaml'), 'thresholds:\n  - p99<+10%\n  - lsot==0\n');
    const file = await busbench(['compare', campaignDir, campaignDir, '--thresholds-file', 'gates.yaml'], dir);
    assert.equal(file.code, 2);
    assert.match(file.stderr, /gates\.yaml:3: threshold "lsot==0": unknown metric "lsot" \(did you mean lost\?\)/);
  });
});
