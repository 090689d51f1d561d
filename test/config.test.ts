/**
 * The one configuration loader (src/config): scenarios, campaigns and
 * inventories report problems the same way (file:line:column, field, what
 * is allowed, did-you-mean, every problem at once), and a kind's raw type is
 * derived from its schema, also when the schema is put together from const
 * fragments (as each bus plugin's part of the bus schema will be).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FromSchema } from 'json-schema-to-ts';
import { CampaignError, loadCampaign } from '../src/campaign/file.js';
import { ConfigError, defineConfig, plainSource, unreadable } from '../src/config/load.js';
import { InventoryError, loadInventory, parseInventory } from '../deploy/providers/inventory.js';
import { parseScenario, ScenarioError } from '../src/scenario/load.js';

/** Compile-time equality of two types: `true` only when each is assignable to the other, exactly. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function typeIs<T extends true>(): T | undefined {
  return undefined;
}

function linesOf(run: () => unknown, kind: new (...args: never[]) => ConfigError): string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof kind, `not a ${kind.name}: ${String(error)}`);
    assert.ok(error instanceof ConfigError);
    assert.ok(
      error.problems.every((p) => p.line !== undefined && p.column !== undefined),
      `a problem without its place:\n${error.message}`,
    );
    return error.message.split('\n');
  }
  assert.fail('the file was accepted');
}

describe('one loader for scenarios, campaigns and inventories', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'busbench-config-'));
    await writeFile(join(dir, 'base.yaml'), 'bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function campaignLines(text: string): Promise<string[]> {
    const file = join(dir, 'c.yaml');
    await writeFile(file, text);
    const error = await loadCampaign(file).then(
      () => assert.fail('the campaign was accepted'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof CampaignError, `not a CampaignError: ${String(error)}`);
    return error.message.split(`${dir}/`).join('').split('\n');
  }

  it('an unknown field: file:line:column, the field, what is allowed and did-you-mean, in each kind alike', async () => {
    assert.deepEqual(
      linesOf(() => parseScenario('bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\nload:\n  concurency: 4\n', 's.yaml'), ScenarioError),
      [
        's.yaml:4:3: load.concurency: unknown field "concurency" (allowed: patterns, mix, messages, duration, warmup, concurrency, pause, arrival, rate, payload_bytes, timeout, method, args); did you mean "concurrency"?',
      ],
    );
    assert.deepEqual(
      linesOf(() => parseInventory('sites:\n  paris:\n    - {host: 192.0.2.10, usr: bench}\n', 'inventory.yaml'), InventoryError),
      [
        'inventory.yaml:3:26: sites.paris[0].usr: unknown field "usr" (allowed: host, address, user, port, identity, known_hosts, busbench_dir); did you mean "user"?',
      ],
    );
    assert.deepEqual(await campaignLines('scenario: base.yaml\nbudjet: 1h\ngrid: {agents.clients: [1, 2]}\n'), [
      'c.yaml:2:1: budjet: unknown field "budjet" (allowed: name, scenario, budget, grid, zip, exclude, repeat); did you mean "budget"?',
    ]);
  });

  it('an inventory reports several problems at once, each at its place', () => {
    const lines = linesOf(
      () =>
        parseInventory(
          ['defaults: {port: 0, idenity: ~/.ssh/key}', 'sites:', '  paris: [{host: 192.0.2.10, user: Bench}, {adress: 10.0.0.1}]', '  lyon: []'].join('\n'),
          'inventory.yaml',
        ),
      InventoryError,
    );
    assert.deepEqual(lines, [
      'inventory.yaml:1:21: defaults.idenity: unknown field "idenity" (allowed: user, port, identity, known_hosts, busbench_dir); did you mean "identity"?',
      'inventory.yaml:1:18: defaults.port: must be a whole number from 1 to 65535, got 0',
      'inventory.yaml:3:36: sites.paris[0].user: must be a user name: a lowercase letter or "_", then up to 31 lowercase letters, digits, "_" or "-"; got "Bench"',
      'inventory.yaml:3:44: sites.paris[1]: missing required field "host": the name or IPv4 address busbench connects to',
      'inventory.yaml:3:45: sites.paris[1].adress: unknown field "adress" (allowed: host, address, user, port, identity, known_hosts, busbench_dir); did you mean "address"?',
      "inventory.yaml:4:9: sites.lyon: must list the site's hosts, e.g. [{host: 192.0.2.10}], got a list",
    ]);
  });

  it('a campaign file reports several problems at once, each at its place', async () => {
    assert.deepEqual(
      await campaignLines('name: my sweep\nscenario: base.yaml\ngrid:\n  clients: [1, 2]\n  agents.servers: []\nzip: {load.mesages: [1]}\nexclude: 5\n'),
      [
        'c.yaml:1:7: name: may contain only letters, digits, "_", "." and "-", got "my sweep"',
        'c.yaml:4:3: grid.clients: "clients" is not a scenario field: write it dotted as in a scenario file, e.g. agents.clients or load.payload_bytes',
        'c.yaml:5:19: grid.agents.servers: must list at least 1 item(s)',
        'c.yaml:7:10: exclude: must be a array, got 5',
      ],
    );
    // The rules between fields come once the schema holds, all of them too.
    assert.deepEqual(
      await campaignLines('scenario: base.yaml\ngrid: {agents.clients: [1]}\nzip: {agents.clients: [2], load.messages: [1, 2]}\nbudget: soon\n'),
      [
        'c.yaml:3:6: zip: zipped lists advance together and must be equally long: agents.clients (1), load.messages (2)',
        'c.yaml:3:23: zip.agents.clients: agents.clients is in grid already; sweep it in one of them',
        'c.yaml:4:9: budget: "soon" is not a duration: write e.g. 500ms, 30s, 2m, 1h, or a number of seconds',
      ],
    );
    assert.deepEqual(await campaignLines('scenario: base.yaml\ngrid: {agents.clients: [1, 2]\n'), [
      'c.yaml:3:1: YAML: Flow map in block collection must be sufficiently indented and end with a }',
    ]);
  });

  it('says in words when a file cannot be read, for each kind', async () => {
    await assert.rejects(
      loadInventory(join(dir, 'nope.yaml')),
      /nope\.yaml: no such inventory file \(topology\.inventory names it, relative to the scenario file\)/,
    );
    await assert.rejects(loadCampaign(dir), /: is a directory; give a campaign file inside it, such as campaigns\/clients-sweep\.yaml/);
    assert.equal(unreadable(Object.assign(new Error('x'), { code: 'EACCES' }), 'scenario file', 'a.yaml'), 'cannot be read (permission denied)');
  });
});

// A kind made of const fragments, as the bus schema will be from each bus plugin's part: the fields
// of every kind merged into one mapping, the rules between them in the check hook.
const COMMON = { kind: { enum: ['rabbitmq', 'amqp1'] }, exchange: { type: 'string', default: 'openstack' } } as const;
const RABBITMQ_FIELDS = { queues: { enum: ['classic', 'quorum'], default: 'classic' } } as const;
const AMQP1_FIELDS = { credit: { type: 'integer', minimum: 1, default: 100 } } as const;
const testSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['bus'],
  message: 'a test file is a mapping with "bus", got {got}',
  properties: {
    bus: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      missing: 'which bus, e.g. {kind: rabbitmq}',
      properties: { ...COMMON, ...RABBITMQ_FIELDS, ...AMQP1_FIELDS },
    },
    sites: {
      type: 'object',
      default: {},
      propertyNames: { pattern: '^[a-z]+$', message: '{got} cannot be a site name: lowercase letters only' },
      additionalProperties: { type: 'integer', minimum: 1, message: 'must be a number of hosts >= 1, got {got}' },
    },
    peer: {
      description: 'a host name, or {host, port}',
      anyOf: [
        { type: 'string' },
        { type: 'object', additionalProperties: false, required: ['host'], properties: { host: { type: 'string' }, port: { type: 'integer' } } },
      ],
    },
    label: { type: 'string' },
  },
} as const;
type TestFile = FromSchema<typeof testSchema>;
const testFiles = defineConfig(testSchema, { error: ConfigError, unreadable: (error) => unreadable(error, 'test file', 't.yaml') });

describe('defineConfig', () => {
  it('derives the raw type from a schema composed of const fragments, and fills in the defaults', () => {
    typeIs<Equal<TestFile['bus'], { kind: 'rabbitmq' | 'amqp1'; exchange: string; queues: 'classic' | 'quorum'; credit: number }>>();
    typeIs<Equal<TestFile['sites'], { [site: string]: number }>>();
    typeIs<Equal<TestFile['peer'], string | { host: string; port?: number } | undefined>>();
    const { data } = testFiles.parse('bus: {kind: amqp1}\n', 't.yaml');
    assert.deepEqual(data, { bus: { kind: 'amqp1', exchange: 'openstack', queues: 'classic', credit: 100 }, sites: {} });
    // An unknown field of the merged mapping is told the fields of every fragment.
    assert.deepEqual(
      linesOf(() => testFiles.parse('bus: {kind: amqp1, credits: 5}\n', 't.yaml'), ConfigError),
      ['t.yaml:1:20: bus.credits: unknown field "credits" (allowed: kind, exchange, queues, credit); did you mean "credit"?'],
    );
  });

  it('types alternatives made of fragments as a union, and refuses defaults inside them, which ajv would not fill in', () => {
    const RABBITMQ_BUS = { type: 'object', required: ['kind'], properties: { kind: { const: 'rabbitmq' }, queues: { enum: ['classic', 'quorum'] } } } as const;
    const AMQP1_BUS = { type: 'object', required: ['kind'], properties: { kind: { const: 'amqp1' }, credit: { type: 'integer', default: 100 } } } as const;
    const union = { type: 'object', properties: { bus: { anyOf: [RABBITMQ_BUS, AMQP1_BUS] } } } as const;
    typeIs<
      Equal<
        FromSchema<typeof union>['bus'],
        { kind: 'rabbitmq'; queues?: 'classic' | 'quorum'; [x: string]: unknown } | { kind: 'amqp1'; credit: number; [x: string]: unknown } | undefined
      >
    >();
    assert.throws(
      () => defineConfig(union, { error: ConfigError, unreadable: String }),
      /^Error: schema: ajv does not fill in a default inside anyOf, oneOf, not or if; move it out \(\/properties\/bus\/anyOf\/1\/properties\/credit\)$/,
    );
  });

  it('words come from the schema: message with {got}, missing; a key name comes before the next keys, as in the file', () => {
    assert.deepEqual(
      linesOf(() => testFiles.parse('bus: {kind: kafka}\nsites: {paris: 0, Lyon: 2, nice: x}\npeer: {port: 1}\n', 't.yaml'), ConfigError),
      [
        't.yaml:1:13: bus.kind: must be one of rabbitmq, amqp1; got "kafka"',
        't.yaml:2:16: sites.paris: must be a number of hosts >= 1, got 0',
        't.yaml:2:19: sites.Lyon: "Lyon" cannot be a site name: lowercase letters only',
        't.yaml:2:34: sites.nice: must be a number of hosts >= 1, got "x"',
        't.yaml:3:7: peer: must be a host name, or {host, port}; got a mapping',
      ],
    );
    assert.deepEqual(
      linesOf(() => testFiles.parse('- bus\n', 't.yaml'), ConfigError),
      ['t.yaml:1:1: a test file is a mapping with "bus", got a list'],
    );
    assert.deepEqual(
      linesOf(() => testFiles.parse('label: x\n', 't.yaml'), ConfigError),
      ['t.yaml:1:1: missing required field "bus": which bus, e.g. {kind: rabbitmq}'],
    );
  });

  it('runs the check hook once the schema holds, and blames a flag for a problem in the field it set', () => {
    const check = (data: TestFile, add: (path: (string | number)[], message: string) => void): void => {
      if (data.bus.queues === 'quorum' && data.bus.kind !== 'rabbitmq') add(['bus', 'queues'], 'quorum queues are RabbitMQ: set bus.kind: rabbitmq');
      if (data.label === undefined) add(['label'], 'give the run a label');
    };
    const text = 'bus:\n  kind: amqp1\n  queues: quorum\n';
    assert.deepEqual(
      linesOf(() => testFiles.parse(text, 't.yaml', { check }), ConfigError),
      ['t.yaml:3:11: bus.queues: quorum queues are RabbitMQ: set bus.kind: rabbitmq', 't.yaml:1:1: label: give the run a label'],
    );
    const overrides = [
      { field: 'label', value: 'x', from: '--label' },
      { field: 'bus.queues', value: 'quorum', from: '--quorum' },
    ];
    assert.throws(
      () => testFiles.parse(text, 't.yaml', { check, overrides }),
      (error: ConfigError) => {
        assert.deepEqual(error.problems, [
          { file: 't.yaml', path: 'bus.queues', message: 'quorum queues are RabbitMQ: set bus.kind: rabbitmq (set by --quorum)' },
        ]);
        return true;
      },
    );
    // Without a file: the same checks, no positions.
    assert.throws(
      () => testFiles.load(plainSource({ bus: { kind: 'amqp1', credit: 0 } }, '<command line>')),
      /^ConfigError: <command line>: bus\.credit: must be >= 1, got 0$/,
    );
  });
});
