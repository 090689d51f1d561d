/**
 * The published JSON schemas (schemas/): generated from the TypeScript
 * types, they must be what `npm run schemas` writes today, and the files a
 * real busbench writes — a run, a limit search and a campaign through the
 * command line, against a real RabbitMQ on loopback — must follow them.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { CAMPAIGN_INDEX_SCHEMA_VERSION, DONE_SCHEMA_VERSION, LIMIT_SCHEMA_VERSION, RESULT_SCHEMA_VERSION } from '../src/index.js';
import { generateSchemas, PUBLISHED_SCHEMAS, ROOT } from '../scripts/schemas.js';
import { startBusbench, type Outcome } from './helpers/cli.js';

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new Map<string, ValidateFunction>();

async function committed(file: string): Promise<string> {
  return readFile(join(ROOT, 'schemas', file), 'utf8');
}

async function validator(file: string): Promise<ValidateFunction> {
  let validate = validators.get(file);
  if (!validate) {
    validate = ajv.compile(JSON.parse(await committed(file)) as object);
    validators.set(file, validate);
  }
  return validate;
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `  ${e.instancePath || '/'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`).join('\n');
}

/** Asserts that the JSON file at `path` follows schemas/<schema>, listing ajv's errors when it does not; returns what it read. */
async function assertValid(schema: string, path: string): Promise<Record<string, unknown>> {
  const value = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  const validate = await validator(schema);
  assert.ok(validate(value), `${path} does not follow schemas/${schema}:\n${describeErrors(validate.errors)}`);
  return value;
}

async function assertInvalid(schema: string, value: unknown, why: string, expected: RegExp): Promise<void> {
  const validate = await validator(schema);
  assert.equal(validate(value), false, `${why}: schemas/${schema} accepted it`);
  assert.match(describeErrors(validate.errors), expected, `${why}: not refused for the expected reason`);
}

/** Every file called `name` under `dir`, at any depth. */
async function filesNamed(dir: string, name: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries
    .filter((entry) => entry === name || entry.endsWith(`/${name}`))
    .map((entry) => join(dir, entry))
    .sort();
}

/** busbench on the command line, stopped (SIGTERM, then SIGKILL) if it runs past `timeoutMs`, so a hang fails the test and leaves no process. */
async function busbench(args: string[], cwd: string, timeoutMs: number): Promise<Outcome> {
  const running = startBusbench(args, cwd);
  let timedOut = false;
  const term = setTimeout(() => {
    timedOut = true;
    running.child.kill('SIGTERM');
  }, timeoutMs);
  const kill = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs + 15_000);
  const outcome = await running.done.finally(() => {
    clearTimeout(term);
    clearTimeout(kill);
  });
  assert.ok(!timedOut, `busbench ${args.join(' ')}: still running after ${timeoutMs} ms\n${outcome.stderr}`);
  return outcome;
}

describe('published result schemas', () => {
  it('are what the TypeScript types generate (else: npm run schemas)', async () => {
    const generated = generateSchemas();
    assert.deepEqual([...generated.keys()].sort(), PUBLISHED_SCHEMAS.map((s) => s.file).sort());
    for (const schema of PUBLISHED_SCHEMAS) {
      const expected = generated.get(schema.file)!;
      const actual = await committed(schema.file).catch(() => '');
      if (actual === expected) continue;
      const a = actual.split('\n');
      const e = expected.split('\n');
      const line = e.findIndex((text, i) => text !== a[i]);
      assert.fail(
        `schemas/${schema.file} is not what ${schema.type} (${schema.source}) generates: run \`npm run schemas\` and commit schemas/ ` +
          `(and bump the format's version in src/model/results.ts if the change is incompatible).\n` +
          `first difference, line ${line + 1}:\n  committed: ${a[line] ?? '(end of file)'}\n  generated: ${e[line] ?? '(end of file)'}`,
      );
    }
  });

  it("carry each format's version", async () => {
    const versions: Record<string, number> = {
      'result.schema.json': RESULT_SCHEMA_VERSION,
      'limit.schema.json': LIMIT_SCHEMA_VERSION,
      'campaign-runs.schema.json': CAMPAIGN_INDEX_SCHEMA_VERSION,
      'campaign-done.schema.json': DONE_SCHEMA_VERSION,
    };
    for (const schema of PUBLISHED_SCHEMAS) {
      const text = JSON.parse(await committed(schema.file)) as {
        $schema: string;
        $ref: string;
        definitions: Record<string, { properties: Record<string, unknown>; required: string[] }>;
      };
      assert.equal(text.$schema, 'http://json-schema.org/draft-07/schema#');
      const root = text.definitions[schema.type]!;
      assert.deepEqual(root.properties['schemaVersion'], { type: 'number', const: versions[schema.file] }, schema.file);
      assert.ok(root.required.includes('schemaVersion'), `${schema.file}: schemaVersion is not required`);
    }
  });

  describe('and the files busbench writes follow them', { timeout: 300_000 }, () => {
    let broker: LocalRabbit;
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'busbench-schema-test-'));
      broker = await startLocalRabbit();
    });
    after(async () => {
      await broker?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('result.json of a run, and not one with a field missing, extra or of another version', async () => {
      await writeFile(
        join(dir, 'mixed.yaml'),
        [
          'name: mixed',
          `bus: {kind: rabbitmq, url: "${broker.transportUrl}"}`,
          'agents: {servers: 2, clients: 3, notifiers: 1, listeners: 1, topic: schema-mixed}',
          'load: {patterns: [call/unicast, call/anycast, cast/multicast], duration: 2s, warmup: 200ms, rate: 50}',
          'runner: {workers: 1}',
          '',
        ].join('\n'),
      );
      const outcome = await busbench(['run', 'mixed.yaml', '--results-dir', 'runs', '--no-progress'], dir, 60_000);
      assert.equal(outcome.code, 0, outcome.stderr);
      const files = await filesNamed(join(dir, 'runs'), 'result.json');
      assert.equal(files.length, 1, files.join(', '));
      const result = await assertValid('result.schema.json', files[0]!);
      assert.equal(result['schemaVersion'], RESULT_SCHEMA_VERSION);

      // The schema refuses what a reader could not rely on.
      const { provenance: _provenance, ...withoutProvenance } = result;
      await assertInvalid('result.schema.json', withoutProvenance, 'a result.json without provenance', /must have required property 'provenance'/);
      const groups = structuredClone(result['groups']) as Record<string, unknown>[];
      delete groups[0]!['counters'];
      await assertInvalid('result.schema.json', { ...result, groups }, 'a group without counters', /\/groups\/0: must have required property 'counters'/);
      await assertInvalid(
        'result.schema.json',
        { ...result, schemaVersion: RESULT_SCHEMA_VERSION + 1 },
        'a result.json of the next version',
        /\/schemaVersion: must be equal to constant/,
      );
      await assertInvalid(
        'result.schema.json',
        { ...result, throughput: 1 },
        'a result.json with a field the type does not have',
        /must NOT have additional properties \{"additionalProperty":"throughput"\}/,
      );
    });

    it("limit.json of a limit search, and each step's result.json", async () => {
      await writeFile(
        join(dir, 'search.yaml'),
        [
          'name: search',
          `bus: {kind: rabbitmq, url: "${broker.transportUrl}"}`,
          'agents: {servers: 1, clients: 2, topic: schema-search}',
          'load: {patterns: [call/anycast], warmup: 200ms, timeout: 5s}',
          'runner: {workers: 1}',
          '',
        ].join('\n'),
      );
      // Two steps of a second: 20 msg/s, then 40, the highest allowed; both hold an objective this loose.
      const outcome = await busbench(
        [
          'limit',
          'search.yaml',
          '--start-rate',
          '20',
          '--max-rate',
          '40',
          '--step-duration',
          '1s',
          '--objective',
          'p99<2s',
          '--results-dir',
          'limits',
          '--no-progress',
        ],
        dir,
        90_000,
      );
      assert.equal(outcome.code, 0, outcome.stderr);
      const [file, ...others] = await filesNamed(join(dir, 'limits'), 'limit.json');
      assert.ok(file && others.length === 0);
      const limit = await assertValid('limit.schema.json', file);
      assert.equal(limit['schemaVersion'], LIMIT_SCHEMA_VERSION);
      assert.equal(limit['end'], 'held-at-max-rate', String(limit['conclusion']));
      const steps = await filesNamed(join(dir, 'limits'), 'result.json');
      assert.equal(steps.length, 2, steps.join(', '));
      for (const step of steps) await assertValid('result.schema.json', step);

      await assertInvalid(
        'limit.schema.json',
        { ...limit, end: 'found-it' },
        'a limit.json with an end the search does not have',
        /\/end: must be equal to constant/,
      );
    });

    it("runs.json and done.json of a campaign, and each run's result.json", async () => {
      await writeFile(
        join(dir, 'base.yaml'),
        `bus: {kind: rabbitmq, url: "${broker.transportUrl}"}\nagents: {servers: 1, clients: 1, topic: schema-campaign}\nload: {duration: 1s, warmup: 200ms}\nrunner: {workers: 1}\n`,
      );
      await writeFile(join(dir, 'sweep.yaml'), 'name: sweep\nscenario: base.yaml\ngrid:\n  agents.clients: [1, 2]\n');
      const outcome = await busbench(['campaign', 'sweep.yaml', '--results-dir', 'campaigns', '--no-progress'], dir, 90_000);
      assert.equal(outcome.code, 0, outcome.stderr);
      const index = await assertValid('campaign-runs.schema.json', join(dir, 'campaigns', 'sweep', 'runs.json'));
      assert.equal(index['schemaVersion'], CAMPAIGN_INDEX_SCHEMA_VERSION);
      assert.equal(index['finished'], 2);
      const done = await filesNamed(join(dir, 'campaigns', 'sweep', 'runs'), 'done.json');
      assert.equal(done.length, 2, done.join(', '));
      for (const file of done) {
        const record = await assertValid('campaign-done.schema.json', file);
        assert.equal(record['schemaVersion'], DONE_SCHEMA_VERSION);
        const { summary: _summary, ...withoutSummary } = record;
        await assertInvalid('campaign-done.schema.json', withoutSummary, 'a done.json without its summary', /must have required property 'summary'/);
      }
      for (const file of await filesNamed(join(dir, 'campaigns', 'sweep', 'runs'), 'result.json')) await assertValid('result.schema.json', file);
    });
  });
});
