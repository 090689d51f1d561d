/**
 * What a person watching a run sees: the live view merges the workers'
 * seconds (a second counts once every worker's part of it is in), keeps the
 * measured latency so far, and the progress line shows the last second's
 * rate, p99 so far, errors, timeouts and the time left; outages under way
 * are named; and off a terminal it prints a plain line at most every few
 * seconds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiveRun } from '../src/live/aggregate.js';
import { encodeHistogram, newRecordingHistogram, recordMs } from '../src/metrics/histogram.js';
import { emptyCounters } from '../src/metrics/stats.js';
import { progressPrinter } from '../src/report/progress.js';
import type { RunEvent } from '../src/runner/run.js';

function histogramOf(...ms: number[]): string {
  const h = newRecordingHistogram();
  for (const value of ms) recordMs(h, value);
  return encodeHistogram(h);
}

function tick(worker: number, second: number, ok: number, latenciesMs: number[], totalOk: number): RunEvent {
  return {
    type: 'tick',
    elapsedMs: 1000 + second * 1000,
    measuring: true,
    worker,
    totals: { 'client/call-anycast': { ...emptyCounters(), sent: totalOk, ok: totalOk, errors: 1, timeouts: 2 } },
    second,
    interval: { groups: { 'client/call-anycast': { ok, errors: 0, timeouts: 0, bytes: ok * 64, histogram: histogramOf(...latenciesMs) } } },
  };
}

describe('the live view of a run', () => {
  it("merges the workers' parts of a second, and counts a second once a later one has begun", () => {
    const live = new LiveRun();
    live.take({ type: 'run-started', id: 'r', scenario: 's', bus: 'rabbitmq', startedAt: new Date().toISOString() });
    live.take(tick(0, 1, 10, [1, 2], 10));
    live.take(tick(1, 1, 5, [3], 15));
    const group = live.groups.get('client/call-anycast')!;
    assert.equal(live.second, 0, 'second 1 is not complete while only it has come in');
    assert.equal(group.latency.totalCount, 3, 'the latency so far has both workers');
    live.take(tick(0, 2, 7, [4], 22));
    assert.equal(live.second, 1);
    assert.deepEqual(group.lastSecondCounts, { ok: 15, errors: 0, timeouts: 0, bytes: 15 * 64 });
    assert.equal(group.lastSecond!.totalCount, 3);
    assert.equal(group.counters.ok, 22, "the counters are the workers' totals as last reported");
    live.take({ type: 'phase', phase: 'drain' });
    assert.equal(live.second, 2, 'the end of the measured phase completes the seconds under way');
    assert.equal(group.latency.totalCount, 4);
  });
});

describe('the progress line', () => {
  const capture = (isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } => {
    const chunks: string[] = [];
    return { stream: { isTTY, write: (chunk: string) => chunks.push(chunk) } as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
  };

  it('shows the rate, p99 so far, errors, timeouts and the time left, and names an outage under way', () => {
    const out = capture(true);
    let clock = 0;
    const print = progressPrinter(out.stream, { now: () => clock });
    print({ type: 'run-started', id: 'r', scenario: 's', bus: 'rabbitmq', startedAt: new Date().toISOString() });
    print({ type: 'load-plan', warmupMs: 1000, durationMs: 30_000 });
    print(tick(0, 1, 1500, [1, 2, 40], 1500));
    clock += 1000;
    print(tick(0, 2, 1600, [1], 3100));
    print({
      type: 'disruption',
      what: 'down',
      record: { kind: 'partition', label: 'a|b', pairs: [['a', 'b']], plannedAtMs: 0, plannedForMs: 1000, startedAtMs: 2000 },
    });
    clock += 1000;
    print(tick(0, 3, 1700, [1], 4800));
    const text = out.text();
    assert.match(
      text,
      /\[ {3}4 s\] measuring {2}1,600 msg\/s {2}p99 40\.\d+ ms {2}sent 4,800 {2}ok 4,800 {2}errors 1 {2}timeouts 2 {2}ETA 27s {2}OUTAGE partition a\|b/,
    );
    assert.ok(text.includes('\r\x1b[K'), 'on a terminal the line is rewritten in place');
  });

  it('says what is still expected while settling', () => {
    const out = capture(true);
    const print = progressPrinter(out.stream);
    print({ type: 'settle', elapsedMs: 1000, outstanding: 1234, deliveries: 10 });
    assert.match(out.text(), /1,234 deliveries still expected at the receivers/);
  });

  it('off a terminal, prints a plain line at most every few seconds', () => {
    const out = capture(false);
    const print = progressPrinter(out.stream);
    print({ type: 'load-plan', warmupMs: 0, messages: 10_000 });
    for (let second = 1; second <= 5; second++) print(tick(0, second, 100, [1], second * 100));
    const lines = out.text().split('\n').filter(Boolean);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.ok(!out.text().includes('\r'), 'no carriage returns in a log');
  });
});
