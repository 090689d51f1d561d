/**
 * Thresholds: the expression language (every metric, scopes, units, and
 * errors that say what to write instead), thresholds files with their line
 * numbers, judging a real run's results (through a real RabbitMQ), judging
 * a run under way, and `busbench run --threshold` exiting 99 with a ✓/✗
 * line per threshold, or stopping early with --threshold-abort.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { decodeHistogram, newHistogram } from '../src/metrics/histogram.js';
import { emptyCounters } from '../src/metrics/stats.js';
import type { RunResult } from '../src/index.js';
import { latencySeenBySenders, measure, METRIC_NAMES } from '../src/analysis/metrics.js';
import { evaluateLive, evaluateRun, parseThreshold, parseThresholds, readThresholdsFile, type LiveSnapshot } from '../src/analysis/thresholds.js';
import { reportThresholds, runThresholds } from '../src/cli/run-thresholds.js';
import { busbench } from './helpers/cli.js';
import { group, runOn } from './helpers/results.js';

/** The message a parse fails with. */
function refusal(text: string, relative = false): string {
  try {
    parseThresholds(text, { relative, source: '--threshold' });
  } catch (error) {
    assert.equal((error as Error).name, 'UsageError', `${text}: ${(error as Error).message}`);
    return (error as Error).message;
  }
  assert.fail(`"${text}" was accepted`);
}

describe('threshold expressions', () => {
  it('reads every metric name, with its units, scopes and operators', () => {
    const one = (text: string, relative = false) => parseThreshold(text, { relative });
    assert.deepEqual(one('p99<50ms').value, { kind: 'absolute', value: 50_000 });
    assert.deepEqual(one('p99.9 <= 1.5s').value, { kind: 'absolute', value: 1_500_000 });
    assert.deepEqual(one('p50<800us').value, { kind: 'absolute', value: 800 });
    assert.deepEqual(one('p95<800µs').value, { kind: 'absolute', value: 800 });
    assert.equal(one('p42<1ms').metric.name, 'p42');
    assert.deepEqual(one('max<1s').metric.source, { family: 'latency', stat: { kind: 'max' } });
    assert.deepEqual(one('throughput>=2000/s').value, { kind: 'absolute', value: 2000 });
    assert.deepEqual(one('error_rate<0.5%').value, { kind: 'absolute', value: 0.5 });
    assert.deepEqual(one('error_rate==0').value, { kind: 'absolute', value: 0 });
    assert.deepEqual(one('bus_rss<512MiB').value, { kind: 'absolute', value: 512 * 1024 * 1024 });
    assert.deepEqual(one('bus_cpu<1.5').value, { kind: 'absolute', value: 1.5 });
    assert.equal(one('timeouts=0').op, '==', '= is read as ==');
    for (const op of ['<', '<=', '>', '>=', '==', '!=']) assert.equal(one(`lost${op}0`).op, op);
    // Every name the errors list is one the parser takes.
    for (const name of METRIC_NAMES) {
      const value = name.startsWith('p') || ['max', 'mean', 'min'].includes(name) ? '1ms' : name === 'bus_rss' ? '1GiB' : name === 'error_rate' ? '1%' : '1';
      assert.equal(one(`${name}<${value}`).metric.name, name);
    }
    // Relative values, in compare.
    assert.deepEqual(one('p99<+10%', true).value, { kind: 'relative', percent: 10 });
    assert.deepEqual(one('throughput>-5%', true).value, { kind: 'relative', percent: -5 });
    // Scopes, with patterns also written as in scenarios.
    assert.deepEqual(one('p99{role=server,pattern=call/anycast}<5ms').metric.scope, { role: 'server', pattern: 'call-anycast' });
    assert.deepEqual(one('p99{leg=reply}<5ms').metric.scope, { leg: 'reply' });
    assert.deepEqual(one('throughput{pattern=cast-multicast}>10').metric.scope, { pattern: 'cast-multicast' });
    // Several per text: commas split thresholds, not scopes.
    assert.deepEqual(
      parseThresholds('p99{role=server,pattern=notify}<5ms, lost==0,timeouts==0', { relative: false }).map((t) => t.text),
      ['p99{role=server,pattern=notify}<5ms', 'lost==0', 'timeouts==0'],
    );
  });

  it('refuses a bad threshold, naming it, what is wrong and what to write', () => {
    assert.match(refusal('p99 50ms'), /^--threshold: threshold "p99 50ms": no comparison after p99: write p99 op value, op one of < <= > >= == !=$/);
    assert.match(refusal('thrughput>5'), /unknown metric "thrughput" \(did you mean throughput\?\); metrics: p50 p90 p95 p99 p99\.9 max .* bus_tcp/);
    assert.match(refusal('p999<5ms'), /a percentile is above 0 and at most 100 .*got p999; did you mean p99\.9\?/);
    assert.match(
      refusal('p99<+10%'),
      /"p99<\+10%": \+10% is relative to a baseline, which only busbench compare has; on a run give an absolute value: a latency with its unit/,
    );
    assert.match(refusal('p99<50'), /a latency needs its unit: write 50ms or 50us/);
    assert.match(refusal('p99<10%', true), /10%: a relative value has a sign \(\+10% or -5%/);
    assert.match(refusal('error_rate<0.1'), /error_rate is a percentage of the messages sent: write 0\.1% \(or 0\), not a fraction/);
    assert.match(refusal('bus_rss<512'), /a size needs its unit/);
    assert.match(refusal('p99{patern=call-anycast}<5ms'), /p99 takes the scope keys role, pattern, leg; "patern" is not one \(did you mean pattern\?\)/);
    assert.match(refusal('p99{pattern=cal-anycast}<5ms'), /pattern=cal-anycast is not a pattern: one of call-unicast, .* \(did you mean call-anycast\?\)/);
    assert.match(refusal('lost{role=server}==0'), /lost takes the scope keys pattern; "role" is not one/);
    assert.match(refusal('late{pattern=notify}==0'), /late takes no scope/);
    assert.match(refusal('p99{leg=reply,role=server}<5ms'), /the reply leg is measured at clients, not servers/);
    assert.match(refusal('p99<'), /no value after <: a latency with its unit: 800us, 50ms, 1\.5s/);
    assert.match(refusal(' , '), /an empty threshold/);
  });

  it('reads a thresholds file, and names the file and line of a bad one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'busbench-thresholds-'));
    try {
      await writeFile(join(dir, 'list.yaml'), '- p99<+10%\n- "throughput>-5%, timeouts==0"\n');
      assert.deepEqual(
        (await readThresholdsFile(join(dir, 'list.yaml'), { relative: true })).map((t) => t.text),
        ['p99<+10%', 'throughput>-5%', 'timeouts==0'],
      );
      await writeFile(join(dir, 'map.yaml'), '# gates\nthresholds:\n  - p99{pattern=call-anycast}<20ms\n  - lost==0\n');
      assert.equal((await readThresholdsFile(join(dir, 'map.yaml'), { relative: true })).length, 2);
      const refused = async (text: string): Promise<string> => {
        await writeFile(join(dir, 'bad.yaml'), text);
        return readThresholdsFile(join(dir, 'bad.yaml'), { relative: true }).then(
          () => assert.fail('accepted'),
          (e: Error) => e.message,
        );
      };
      assert.match(await refused('thresholds:\n  - p99<+10%\n  - p99<fast\n'), /bad\.yaml:3: threshold "p99<fast": "fast" is not a value: write a latency/);
      assert.match(await refused('- p99<+10%\n- 5\n'), /bad\.yaml:2: each item is a threshold text such as "p99<50ms", got 5/);
      assert.match(
        await refused('gates: [p99<1ms]\n'),
        /bad\.yaml: a thresholds file is a list of thresholds, or a mapping with only "thresholds:"; found gates/,
      );
      assert.match(await refused('- [p99<1ms\n'), /bad\.yaml:\d+: YAML: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('judges a run under way on what can be judged live, and says when a failure is final', () => {
    const latency = newHistogram();
    for (let i = 1; i <= 200; i++) latency.recordValue(i * 100); // 0.1 … 20 ms
    const snapshot: LiveSnapshot = {
      groups: [
        { role: 'client', pattern: 'call-anycast', counters: { ...emptyCounters(), sent: 200, ok: 197, timeouts: 3 }, latency },
        { role: 'server', pattern: 'call-anycast', counters: { ...emptyCounters(), ok: 200 } },
      ],
    };
    const byText = Object.fromEntries(
      evaluateLive(snapshot, parseThresholds('timeouts==0, timeouts<10, ok>1000, p99<5ms, p50<50ms, lost==0, throughput>1', { relative: false })).map((e) => [
        e.threshold.text,
        e,
      ]),
    );
    assert.deepEqual([byText['timeouts==0']!.status, byText['timeouts==0']!.final, byText['timeouts==0']!.value], ['failed', true, 3]);
    assert.deepEqual([byText['timeouts<10']!.status, byText['timeouts<10']!.final], ['passed', false]);
    // Not there yet, but it may be by the end: failing, not final.
    assert.deepEqual([byText['ok>1000']!.status, byText['ok>1000']!.final], ['failed', false]);
    assert.deepEqual([byText['p99<5ms']!.status, byText['p99<5ms']!.final, byText['p99<5ms']!.value], ['failed', true, latency.getValueAtPercentile(99)]);
    assert.equal(byText['p50<50ms']!.status, 'passed');
    assert.equal(byText['lost==0']!.status, 'not-judged');
    assert.equal(byText['throughput>1']!.status, 'not-judged');
    // Too few latency values to say anything about a percentile.
    const few = newHistogram();
    few.recordValue(90_000);
    const early = evaluateLive({ groups: [{ role: 'client', pattern: 'call-anycast', counters: emptyCounters(), latency: few }] }, [
      parseThreshold('p99<5ms', { relative: false }),
    ]);
    assert.equal(early[0]!.status, 'not-judged');
    assert.match(early[0]!.explanation, /1 latency values so far, judged from 100/);
  });

  describe('through a real RabbitMQ', { timeout: 150_000 }, () => {
    let broker: LocalRabbit;
    let result: RunResult;
    before(async () => {
      broker = await startLocalRabbit();
      result = await runOn(broker.transportUrl, 'thresholds', {
        agents: { servers: 2, clients: 4, topic: 'thresholds' },
        load: { patterns: ['call/anycast', 'cast/multicast'], duration: '2s', warmup: '200ms' },
        runner: { workers: 1 },
      });
    });
    after(async () => {
      await broker?.stop();
    });

    it('judges the run from its results: worst pattern, scopes, counts, and what was not measured', () => {
      const evaluations = evaluateRun(
        result,
        parseThresholds(
          'p99<1us, p99<60s, timeouts==0, lost==0, duplicated==0, error_rate==0, throughput>0, p99{role=server,pattern=cast-multicast}<60s, p99{leg=reply}<60s, bus_cpu<64, p99{pattern=notify}<1s',
          { relative: false },
        ),
      );
      const byText = Object.fromEntries(evaluations.map((e) => [e.threshold.text, e]));
      // The default latency: what senders see, worst over the patterns (the clients' round trip of calls, the servers' one-way of multicast casts).
      const worst = Math.max(...latencySeenBySenders(result).map((part) => decodeHistogram(part.encoded).getValueAtPercentile(99)));
      assert.equal(byText['p99<1us']!.value, worst);
      assert.equal(byText['p99<1us']!.passed, false);
      assert.match(byText['p99<1us']!.explanation, /^p99 [\d.]+ (µs|ms|s) is not below 1 µs \((call-anycast|cast-multicast), .*worst of 2 patterns/);
      assert.equal(byText['p99<60s']!.passed, true);
      for (const text of ['timeouts==0', 'lost==0', 'duplicated==0', 'error_rate==0', 'throughput>0', 'p99{leg=reply}<60s']) {
        assert.equal(byText[text]!.passed, true, byText[text]!.explanation);
      }
      assert.equal(
        byText['p99{role=server,pattern=cast-multicast}<60s']!.value,
        group(result, 'server', 'cast-multicast').latency!.p99Us,
        "a scope picks the group's own latency",
      );
      const throughput = result.groups.filter((g) => g.role === 'client').reduce((sum, g) => sum + g.throughputPerSec, 0);
      assert.equal(measure(byText['throughput>0']!.threshold.metric, [result]).value, throughput, "throughput is the senders' own, summed");
      // Not measured is said, and fails: a gate cannot pass on a figure nobody took.
      assert.equal(byText['p99{pattern=notify}<1s']!.passed, false);
      assert.match(byText['p99{pattern=notify}<1s']!.explanation, /not measured: no latency recorded for notify \(recorded: client\/call-anycast/);
      if (byText['bus_cpu<64']!.value === undefined) assert.match(byText['bus_cpu<64']!.explanation, /bus_cpu not measured: /);
    });

    it('prints a ✓/✗ line per threshold and says whether all passed', () => {
      let out = '';
      const stream = { write: (chunk: string) => ((out += chunk), true) } as unknown as NodeJS.WritableStream;
      const passed = reportThresholds(result, runThresholds({ threshold: ['p99<1us', 'lost==0'] }), stream);
      assert.equal(passed, false);
      assert.match(
        out,
        /^thresholds:\n {2}✗ p99<1us +p99 .* is not below 1 µs .*\n {2}✓ lost==0 +lost 0 is equal to 0 .*\n1 of 2 thresholds FAILED \(exit 99\)\n$/,
      );
      assert.throws(() => runThresholds({ threshold: ['p99<+5%'] }), {
        name: 'UsageError',
        message: /--threshold: threshold "p99<\+5%": \+5% is relative to a baseline/,
      });
      assert.throws(() => runThresholds({ threshold: ['lost==0'], thresholdAbort: true }), /--threshold-abort: none of lost==0 can be judged during the run/);
    });

    it('busbench run --threshold exits 99 when one fails, with a ✓/✗ line each, and writes JUnit', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'busbench-run-thresholds-'));
      try {
        const junit = join(dir, 'run.xml');
        const quick = ['run', '--url', broker.transportUrl, '--clients', '2', '--servers', '1', '--duration', '1s', '--warmup', '200ms', '--topic', 'rt'];
        const run = await busbench([...quick, '--no-results', '--no-progress', '--threshold', 'p99<1us', '--threshold', 'lost==0', '--junit', junit]);
        assert.equal(run.code, 99, run.stderr);
        assert.match(run.stdout, /✗ p99<1us +p99 .* is not below 1 µs/);
        assert.match(run.stdout, /✓ lost==0 +lost 0 is equal to 0/);
        const xml = await readFile(junit, 'utf8');
        assert.match(xml, /<testsuites name="busbench run" tests="2" failures="1" errors="0" skipped="0">/);
        assert.match(xml, /<testcase name="p99&lt;1us" classname="busbench\.[^"]+">\n\s+<failure message="p99 /);

        // --threshold-abort: a failure that the rest of the run cannot undo stops it there.
        const quickLong = quick.map((arg) => (arg === '1s' ? '30s' : arg));
        const aborted = await busbench([...quickLong, '--no-results', '--no-progress', '--threshold', 'p99<1us', '--threshold-abort']);
        assert.equal(aborted.code, 99, aborted.stderr);
        assert.match(
          aborted.stderr,
          /busbench: threshold p99<1us failed: p99 .* so far \(client\/call-anycast\) is not below 1 µs: stopping the run \(--threshold-abort\)/,
        );
        assert.match(aborted.stdout, /^PARTIAL: the run stopped early — interrupted \(threshold p99<1us failed/m);

        const passing = await busbench([...quick, '--no-results', '--no-progress', '--threshold', 'p99<60s,timeouts==0']);
        assert.equal(passing.code, 0, passing.stderr);
        assert.match(passing.stdout, /all 2 thresholds passed/);

        // A relative value has no baseline here: refused before anything runs.
        const relative = await busbench([...quick, '--no-results', '--threshold', 'p99<+10%']);
        assert.equal(relative.code, 2);
        assert.match(relative.stderr, /--threshold: threshold "p99<\+10%": \+10% is relative to a baseline, which only busbench compare has/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
