/**
 * Campaigns: the grid expands as written, ids depend on the parameters
 * only, bad campaign files are explained, and a campaign killed with
 * SIGKILL in the middle resumes without losing or redoing a finished run
 * (through a real RabbitMQ).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { loadCampaign } from '../src/index.js';
import { canonicalJson, expandGrid, runId } from '../src/campaign/grid.js';
import type { DoneRecord } from '../src/index.js';
import { DONE_SCHEMA_VERSION } from '../src/index.js';
import { busbench, startBusbench } from './helpers/cli.js';

describe('campaigns', () => {
  it('expands grid × zip minus exclusions, in order, with ids from the parameters alone', () => {
    const runs = expandGrid({
      grid: { 'agents.clients': [10, 100], 'load.patterns': [['call/anycast'], ['cast/multicast']] },
      zip: { 'agents.servers': [2, 4], 'agents.topic': ['a', 'b'] },
      exclude: [{ 'agents.clients': 100, 'load.patterns': ['cast/multicast'] }],
    });
    assert.equal(runs.length, 2 * 2 * 2 - 2);
    assert.deepEqual(runs[0]!.parameters, { 'agents.clients': 10, 'load.patterns': ['call/anycast'], 'agents.servers': 2, 'agents.topic': 'a' });
    assert.deepEqual(runs[1]!.parameters, { 'agents.clients': 10, 'load.patterns': ['call/anycast'], 'agents.servers': 4, 'agents.topic': 'b' });
    assert.ok(runs.every((r) => !(r.parameters['agents.clients'] === 100 && canonicalJson(r.parameters['load.patterns']) === '["cast/multicast"]')));
    assert.deepEqual(
      runs.map((r) => r.index),
      [0, 1, 2, 3, 4, 5],
    );
    assert.equal(new Set(runs.map((r) => r.id)).size, runs.length);
    // The same parameters written in another order give the same id; another value, another id.
    assert.equal(runId({ a: 1, b: { y: 2, x: [1, 2] } }), runId({ b: { x: [1, 2], y: 2 }, a: 1 }));
    assert.notEqual(runId({ a: 1 }), runId({ a: 2 }));
    assert.match(runs[0]!.id, /^[0-9a-f]{12}$/);
    assert.deepEqual(
      expandGrid({}).map((r) => r.parameters),
      [{}],
    );
  });

  it('runs each grid point `repeat` times, round by round, with ids and parameters that tell repeats from points', async () => {
    const runs = expandGrid({ grid: { 'agents.clients': [1, 2] }, repeat: 3 });
    assert.deepEqual(
      runs.map((r) => [r.parameters['agents.clients'], r.parameters['repeat']]),
      [
        [1, 1],
        [2, 1],
        [1, 2],
        [2, 2],
        [1, 3],
        [2, 3],
      ],
    );
    assert.deepEqual(
      runs.map((r) => r.index),
      [0, 1, 2, 3, 4, 5],
    );
    // The first repeat keeps the point's own id (so adding `repeat` keeps finished runs); the others add -r<k>.
    const one = runId({ 'agents.clients': 1 });
    assert.deepEqual(
      runs.filter((r) => r.parameters['agents.clients'] === 1).map((r) => r.id),
      [one, `${one}-r2`, `${one}-r3`],
    );
    assert.equal(new Set(runs.map((r) => r.id)).size, 6);
    assert.deepEqual(
      expandGrid({ grid: { 'agents.clients': [1] } }).map((r) => r.parameters),
      [{ 'agents.clients': 1 }],
      'without repeat, parameters and ids are as before',
    );

    const dir = await mkdtemp(join(tmpdir(), 'busbench-campaign-repeat-'));
    try {
      await writeFile(join(dir, 'base.yaml'), 'bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\n');
      await writeFile(join(dir, 'r.yaml'), 'name: r\nscenario: base.yaml\ngrid: {agents.clients: [1, 2]}\nrepeat: 2\n');
      const campaign = await loadCampaign(join(dir, 'r.yaml'));
      assert.equal(campaign.runs.length, 4);
      // `repeat` is not a scenario field: the repeats of a point run the same scenario, under names of their own.
      const [first, , again] = campaign.runs;
      assert.equal(again!.parameters['repeat'], 2);
      assert.deepEqual({ ...again!.scenario, name: '', source: '' }, { ...first!.scenario, name: '', source: '' });
      assert.notEqual(again!.scenario.name, first!.scenario.name);
      assert.match(again!.scenario.name, /-r2$/);

      await writeFile(join(dir, 'bad.yaml'), 'scenario: base.yaml\ngrid: {agents.clients: [1]}\nrepeat: 0\n');
      const error = await loadCampaign(join(dir, 'bad.yaml')).then(
        () => undefined,
        (e: Error) => e,
      );
      assert.match(error?.message ?? '', /bad\.yaml:3:9: repeat: repeat is how many times each grid point runs: a whole number >= 1, got 0/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loads every campaign shipped in campaigns/', async () => {
    const sweep = await loadCampaign(fileURLToPath(new URL('../../campaigns/clients-sweep.yaml', import.meta.url)));
    assert.equal(sweep.runs.length, 5);
    assert.equal(sweep.budgetMs, 30 * 60_000);
    assert.ok(sweep.runs.every((run) => run.scenario.load.messages === 5000));
  });

  it('explains a bad campaign file by file, line, field and run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'busbench-campaign-bad-'));
    try {
      await writeFile(join(dir, 'base.yaml'), 'bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\n');
      const problems = async (text: string): Promise<string> => {
        await writeFile(join(dir, 'c.yaml'), text);
        const error = await loadCampaign(join(dir, 'c.yaml')).then(
          () => undefined,
          (e: Error) => e,
        );
        assert.ok(error, 'expected the campaign to be refused');
        return error.message;
      };
      assert.match(
        await problems('scenario: base.yaml\nzip: {load.messages: [1, 2], load.warmup: [0]}\n'),
        /c\.yaml:2:6: zip: zipped lists advance together and must be equally long: load\.messages \(2\), load\.warmup \(1\)/,
      );
      assert.match(
        await problems('scenario: base.yaml\ngrid: {agents.clients: [1, 2]}\nexclude: [{agents.servers: 1}]\n'),
        /exclude\[0\]\.agents\.servers: agents\.servers is not swept by grid or zip/,
      );
      assert.match(await problems('scenario: base.yaml\ngrid: {agents.clients: [1, -2]}\n'), /run 2 \(clients=-2\): agents\.clients: must be >= 0, got -2/);
      assert.match(await problems('scenario: nope.yaml\n'), /scenario: no scenario file at .*nope\.yaml \(the path is relative to the campaign file\)/);
      assert.match(await problems('scenario: base.yaml\ngrid: {clients: [1]}\n'), /"clients" is not a scenario field: write it dotted/);
      assert.match(await problems('scenario: base.yaml\nbudjet: 1h\n'), /unknown field "budjet"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('resumes done.json from before it had a version as version 1, and refuses one of a version it does not know', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'busbench-campaign-versions-'));
    try {
      // Every run is finished already, so nothing connects to the bus.
      await writeFile(join(dir, 'base.yaml'), 'bus: {kind: rabbitmq, url: "rabbit://guest:guest@127.0.0.1:1/"}\nagents: {servers: 1, clients: 1}\n');
      await writeFile(join(dir, 'two.yaml'), 'name: two\nscenario: base.yaml\ngrid: {agents.clients: [1, 2]}\n');
      const campaign = await loadCampaign(join(dir, 'two.yaml'));
      const runsDir = join(dir, 'results', 'two', 'runs');
      const doneFile = (id: string): string => join(runsDir, id, 'done.json');
      // done.json as busbench wrote it before it carried schemaVersion.
      const older = campaign.runs.map((run) => ({
        id: run.id,
        index: run.index,
        parameters: run.parameters,
        results: `runs/${run.id}/base-20260101-000000`,
        startedAt: '2026-01-01T00:00:00.000Z',
        finishedAt: '2026-01-01T00:00:03.000Z',
        durationMs: 3000,
        summary: [{ role: 'client', pattern: 'call-anycast', throughputPerSec: 100, p50Us: 500, p99Us: 900, timeouts: 0, errors: 0 }],
      }));
      for (const record of older) {
        await mkdir(join(runsDir, record.id), { recursive: true });
        await writeFile(doneFile(record.id), JSON.stringify(record, null, 2));
      }
      const resumed = await busbench(['campaign', 'two.yaml', '--no-progress'], dir);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, /2\/2 runs finished \(0 now, 2 before\), 0 failed/);
      const index = JSON.parse(await readFile(join(dir, 'results', 'two', 'runs.json'), 'utf8')) as { runs: DoneRecord[] };
      assert.deepEqual(
        index.runs,
        older.map((record) => ({ schemaVersion: DONE_SCHEMA_VERSION, ...record })),
      );
      for (const record of older)
        assert.equal(await readFile(doneFile(record.id), 'utf8'), JSON.stringify(record, null, 2), 'an older done.json is read, not rewritten');

      // A newer busbench's record: refused, naming the file and what to do, before anything is rewritten.
      const first = older[0]!;
      await writeFile(doneFile(first.id), JSON.stringify({ schemaVersion: DONE_SCHEMA_VERSION + 1, ...first }));
      const before = await readFile(join(dir, 'results', 'two', 'runs.json'), 'utf8');
      const newer = await busbench(['campaign', 'two.yaml', '--no-progress'], dir);
      assert.equal(newer.code, 2, newer.stderr);
      assert.match(
        newer.stderr,
        new RegExp(
          `results/two/runs/${first.id}/done\\.json: schemaVersion ${DONE_SCHEMA_VERSION + 1} is newer than this busbench \\(.*\\) reads done\\.json version ${DONE_SCHEMA_VERSION}: resume this campaign with the busbench that wrote it, or move results/two away`,
        ),
      );
      assert.equal(await readFile(join(dir, 'results', 'two', 'runs.json'), 'utf8'), before);
      // Something that is no version at all.
      await writeFile(doneFile(first.id), JSON.stringify({ ...first, schemaVersion: '1' }));
      const unknown = await busbench(['campaign', 'two.yaml', '--no-progress'], dir);
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.match(unknown.stderr, /done\.json: schemaVersion "1" is not a done\.json version .*: delete that file to have its run redone/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('through a real RabbitMQ', { timeout: 240_000 }, () => {
    let broker: LocalRabbit;
    before(async () => {
      broker = await startLocalRabbit();
    });
    after(async () => {
      await broker?.stop();
    });

    it('resumes after kill -9 without losing or redoing a finished run', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'busbench-campaign-'));
      try {
        await writeFile(
          join(dir, 'base.yaml'),
          `bus: {kind: rabbitmq, url: "${broker.transportUrl}"}\nagents: {servers: 1, clients: 1, topic: camp}\nload: {duration: 2s, warmup: 200ms}\nrunner: {workers: 1}\n`,
        );
        await writeFile(
          join(dir, 'four.yaml'),
          'name: four\nscenario: base.yaml\ngrid:\n  agents.clients: [1, 2]\n  load.patterns: [[call/anycast], [cast/anycast]]\n',
        );
        const runsDir = join(dir, 'results', 'four', 'runs');
        const finished = async (): Promise<string[]> => {
          if (!existsSync(runsDir)) return [];
          const ids = await readdir(runsDir);
          return ids.filter((id) => existsSync(join(runsDir, id, 'done.json')));
        };

        const first = startBusbench(['campaign', 'four.yaml', '--results-dir', 'results'], dir);
        const deadline = Date.now() + 120_000;
        while ((await finished()).length < 2) {
          assert.ok(Date.now() < deadline, 'two runs did not finish in time');
          assert.equal(first.child.exitCode, null, 'the campaign ended before it could be killed');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        first.child.kill('SIGKILL');
        const killed = await first.done;
        assert.equal(killed.signal, 'SIGKILL');
        const before = await finished();
        assert.ok(before.length >= 2 && before.length < 4, `finished at the kill: ${before.length}`);
        const records = new Map<string, string>();
        for (const id of before) records.set(id, await readFile(join(runsDir, id, 'done.json'), 'utf8'));

        const second = await startBusbench(['campaign', 'four.yaml', '--results-dir', 'results'], dir).done;
        assert.equal(second.code, 0, second.stderr);
        assert.match(second.stdout, new RegExp(`4/4 runs finished \\(${4 - before.length} now, ${before.length} before\\), 0 failed`));
        assert.match(second.stderr, new RegExp(`campaign: 4 runs, ${before.length} already finished \\(skipped\\)`));
        // The runs finished before the kill are untouched: same record, same single results directory.
        for (const [id, text] of records) {
          assert.equal(await readFile(join(runsDir, id, 'done.json'), 'utf8'), text, `run ${id} was redone`);
          const record = JSON.parse(text) as DoneRecord;
          assert.ok(existsSync(join(dir, 'results', 'four', record.results, 'result.json')));
          assert.equal((await readdir(join(runsDir, id))).filter((name) => name.startsWith('base-')).length, 1);
        }
        const all = JSON.parse(await readFile(join(dir, 'results', 'four', 'runs.json'), 'utf8')) as { finished: number; runs: DoneRecord[] };
        assert.equal(all.finished, 4);
        assert.deepEqual(
          all.runs.map((r) => r.index),
          [0, 1, 2, 3],
        );
        for (const record of all.runs) assert.ok(record.summary[0]!.throughputPerSec > 0, JSON.stringify(record.summary));
        // And a third invocation has nothing left to do.
        const third = await startBusbench(['campaign', 'four.yaml', '--results-dir', 'results', '--no-progress'], dir).done;
        assert.equal(third.code, 0);
        assert.match(third.stdout, /4\/4 runs finished \(0 now, 4 before\)/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('stops between runs when the next would not fit the budget, and says how to go on', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'busbench-campaign-budget-'));
      try {
        await writeFile(
          join(dir, 'base.yaml'),
          `bus: {kind: rabbitmq, url: "${broker.transportUrl}"}\nagents: {servers: 1, clients: 1, topic: budget}\nload: {duration: 2s, warmup: 200ms}\nrunner: {workers: 1}\n`,
        );
        await writeFile(join(dir, 'three.yaml'), 'scenario: base.yaml\ngrid: {agents.clients: [1, 2, 3]}\n');
        // The first run has no estimate and goes; it takes over 2 s, so with a 3 s budget the second would not fit.
        const outcome = await startBusbench(['campaign', 'three.yaml', '--budget', '3s'], dir).done;
        assert.equal(outcome.code, 5, outcome.stderr);
        assert.match(outcome.stdout, /1\/3 runs finished \(1 now, 0 before\), 0 failed, 2 left for the budget/);
        assert.match(outcome.stderr, /budget: .* left, a run takes about .*; stopping with 2 run\(s\) to go \(rerun to continue\)/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
