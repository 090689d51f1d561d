/**
 * Find the limit: the objective parser, the rate search on its own, and the
 * whole `busbench limit` command converging on a server that answers at
 * most 200 calls/s (the server_rate fault), through the embedded RabbitMQ.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LimitResult } from '../src/index.js';
import { parseObjective } from '../src/index.js';
import { RateSearch, roundRate } from '../src/limit/search.js';
import type { SearchSettings } from '../src/model/index.js';
import { busbench } from './helpers/cli.js';

const execFileAsync = promisify(execFile);

/** Runs a search against a bus that holds the objective up to `limit`. */
function searchAgainst(limit: number, settings: Partial<SearchSettings> = {}): { search: RateSearch; end: string; tried: number[] } {
  const search = new RateSearch({ startRate: 50, factor: 2, precision: 0.05, minRate: 1, maxSteps: 30, ...settings });
  const tried: number[] = [];
  for (;;) {
    tried.push(search.current);
    const next = search.record(search.current <= limit);
    if ('end' in next) return { search, end: next.end, tried };
  }
}

describe('find the limit', () => {
  it('reads objectives as people write them, and says what is wrong with a bad one', () => {
    const objective = parseObjective('p99<50ms, p99.9 < 0.2s, max<1s, timeouts=0, errors<=3, lost=0');
    assert.deepEqual(objective.latency, [
      { percentile: 99, maxMs: 50 },
      { percentile: 99.9, maxMs: 200 },
      { percentile: 100, maxMs: 1000 },
    ]);
    assert.equal(objective.maxTimeouts, 0);
    assert.equal(objective.maxErrors, 3);
    assert.equal(objective.maxLost, 0);
    assert.equal(objective.text, 'p99<50ms,p99.9<200ms,max<1000ms,timeouts=0,errors<=3,lost=0');
    assert.throws(() => parseObjective('p99<fast'), /"p99<fast": "fast" is not a duration/);
    assert.throws(() => parseObjective('p150<5ms'), /between 0 and 100/);
    assert.throws(() => parseObjective('latency<5ms'), /"latency<5ms" is not an objective clause: write pNN<time/);
    assert.throws(() => parseObjective(' , '), /at least one clause/);
  });

  it('brackets the limit within the precision asked for', () => {
    for (const limit of [37, 230, 999, 12_345]) {
      const { search, end, tried } = searchAgainst(limit);
      assert.equal(end, 'bracketed', `limit ${limit}: tried ${tried.join(', ')}`);
      assert.ok(search.holding! <= limit && search.failing! > limit, `limit ${limit}: ${search.holding}…${search.failing}`);
      assert.ok((search.failing! - search.holding!) / search.holding! <= 0.05, `limit ${limit}: ${search.holding}…${search.failing}`);
    }
  });

  it('says when the limit is above the highest rate allowed, below the lowest, or out of steps', () => {
    assert.equal(searchAgainst(10_000, { maxRate: 500 }).end, 'held-at-max-rate');
    assert.deepEqual(searchAgainst(10_000, { maxRate: 500 }).tried, [50, 100, 200, 400, 500]);
    const low = searchAgainst(0.5, { minRate: 5 });
    assert.equal(low.end, 'failed-at-min-rate');
    assert.equal(low.search.holding, undefined);
    assert.deepEqual(searchAgainst(10_000, { maxSteps: 3 }).tried, [50, 100, 200]);
    assert.equal(searchAgainst(10_000, { maxSteps: 3 }).end, 'out-of-steps');
    assert.equal(roundRate(1234.5), 1230);
    assert.equal(roundRate(0.12345), 0.123);
  });

  it('converges on a rate-limited server, writes every step, and fails a CI gate it does not meet', { timeout: 240_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'busbench-limit-test-'));
    try {
      await writeFile(
        join(dir, 'limited.yaml'),
        [
          'name: limited',
          'bus: {kind: rabbitmq}',
          'agents: {servers: 1, clients: 2, topic: limited}',
          'load: {patterns: [call/anycast], warmup: 300ms, timeout: 5s}',
          'runner: {workers: 1}',
          'faults: {server_rate: 200}   # the one server answers at most 200 calls/s',
          '',
        ].join('\n'),
      );
      const outcome = await busbench(
        [
          'limit',
          'limited.yaml',
          '--start-rate',
          '50',
          '--step-duration',
          '2s',
          '--precision',
          '0.1',
          '--objective',
          'p99<100ms,timeouts=0',
          '--require-rate',
          '1000',
          '--json',
          '--no-progress',
        ],
        dir,
      );
      assert.equal(outcome.code, 4, `exit code: the limit is below --require-rate\n${outcome.stderr}`);
      assert.match(outcome.stderr, /the limit found \(\d+(\.\d+)? msg\/s\) is below --require-rate 1000/);
      const result = JSON.parse(outcome.stdout) as LimitResult;
      assert.equal(result.end, 'bracketed', result.conclusion);
      // The server's rate is 200/s: the limit found holds below it and the first failure is not far above it.
      assert.ok(result.limitPerSec! >= 150 && result.limitPerSec! <= 220, `limit ${result.limitPerSec} msg/s, expected near 200`);
      assert.ok(result.failingPerSec! <= 250, `first failure at ${result.failingPerSec} msg/s`);
      for (const step of result.steps) {
        if (step.ratePerSec <= 150) assert.ok(step.held, `step at ${step.ratePerSec} msg/s should hold: ${step.verdict.misses.join('; ')}`);
        if (step.ratePerSec >= 250) assert.ok(!step.held, `step at ${step.ratePerSec} msg/s should fail`);
        // Whatever was offered, the server completed no more than its rate.
        assert.ok(step.completedPerSec <= 200 * 1.1, `step ${step.step} completed ${step.completedPerSec}/s`);
      }
      // Every step has its own run directory, and limit.json holds the search.
      const onDisk = JSON.parse(await readFile(join(dir, result.directory!, 'limit.json'), 'utf8')) as LimitResult;
      assert.equal(onDisk.steps.length, result.steps.length);
      assert.equal(onDisk.end, 'bracketed');
      const stepDirs = (await readdir(join(dir, result.directory!))).filter((name) => name.startsWith('limited-step'));
      assert.equal(stepDirs.length, result.steps.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it(
    'with a topology, deploys the sites once, runs every step on them, and leaves nothing behind',
    { timeout: 240_000, skip: process.getuid?.() === 0 ? false : 'network namespaces need root' },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'busbench-limit-sites-'));
      try {
        await writeFile(
          join(dir, 'sited.yaml'),
          [
            'name: sited',
            'bus: {kind: rabbitmq}',
            'agents: {servers: 1, clients: 1}',
            'load: {patterns: [call/anycast], warmup: 200ms, timeout: 5s}',
            'topology:',
            '  provider: netns',
            '  sites: [{name: a}, {name: b}]',
            '  bus: [a]',
            '  placement: {servers: {a: 1}, clients: {b: 1}}',
            '',
          ].join('\n'),
        );
        const outcome = await busbench(
          ['limit', 'sited.yaml', '--start-rate', '20', '--step-duration', '1s', '--max-steps', '2', '--objective', 'p99<1s', '--json', '--no-progress'],
          dir,
        );
        assert.equal(outcome.code, 0, outcome.stderr);
        const result = JSON.parse(outcome.stdout) as LimitResult;
        assert.equal(result.steps.length, 2, result.conclusion);
        // The sites' bus, not an embedded one nobody uses; and one for all steps.
        assert.match(result.bus.description, /^RabbitMQ \S+ on site a$/);
        const stepUrls = await Promise.all(
          result.steps.map(
            async (step) =>
              (JSON.parse(await readFile(join(dir, step.directory!, 'result.json'), 'utf8')) as { provenance: { bus: { url: string } } }).provenance.bus.url,
          ),
        );
        // Every step on that one bus (a bus deployed per step would be at another port each time).
        assert.deepEqual(stepUrls, [result.bus.urls[0], result.bus.urls[0]]);
        // Nothing left: no namespace, no gateway, no broker of this search.
        const { stdout: spaces } = await execFileAsync('ip', ['netns', 'list']);
        const { stdout: links } = await execFileAsync('ip', ['-o', 'link', 'show']);
        assert.deepEqual(
          spaces.split('\n').filter((line) => /^busbench-/.test(line) && !/^busbench-t\d+-/.test(line)),
          [],
        );
        assert.deepEqual(
          links.split('\n').filter((line) => /bbgw-/.test(line)),
          [],
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it('refuses flags the search sets itself', async () => {
    const outcome = await busbench(['limit', '--rate', '100'], process.cwd());
    assert.equal(outcome.code, 2);
    assert.match(outcome.stderr, /--rate does not apply to limit: the search sets the rate/);
    const bad = await busbench(['limit', '--objective', 'p99 under 5ms'], process.cwd());
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--objective: "p99 under 5ms" is not an objective clause/);
  });
});
