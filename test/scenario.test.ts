/** Scenario files: defaults, mapping, and errors that name file, line, column, field and fix. */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../src/scenario/duration.js';
import { loadScenario, parseScenario, resolveScenario, ScenarioError } from '../src/index.js';

const SCENARIOS = fileURLToPath(new URL('../../scenarios/', import.meta.url));

function problemsOf(text: string): string[] {
  try {
    parseScenario(text, 'bad.yaml');
  } catch (error) {
    assert.ok(error instanceof ScenarioError, `not a ScenarioError: ${String(error)}`);
    assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace in the message');
    return error.message.split('\n');
  }
  assert.fail('the scenario was accepted');
}

describe('durations', () => {
  it('parses units and bare seconds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration(1.5), 1500);
    assert.equal(parseDuration('0.25'), 250);
    assert.throws(() => parseDuration('soon'), /not a duration/);
    assert.equal(formatDuration(90_000), '90s');
    assert.equal(formatDuration(120_000), '2m');
  });
});

describe('scenario files', () => {
  it('fills defaults and maps snake_case to the resolved form', () => {
    const s = parseScenario('bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 2, notification_topic: n}\n', 'scenarios/my-run.yaml');
    assert.equal(s.name, 'my-run');
    assert.equal(s.source, 'scenarios/my-run.yaml');
    assert.equal(s.bus.exchange, 'openstack');
    assert.equal(s.bus.url, undefined);
    assert.equal(s.agents.topic, 'busbench');
    assert.equal(s.agents.notificationTopic, 'n');
    assert.equal(s.agents.notificationPriority, 'info');
    assert.equal(s.agents.sharedConnections, false);
    assert.deepEqual(s.load.patterns, [{ method: 'call', target: 'anycast' }]);
    assert.equal(s.load.messages, 10_000);
    assert.equal(s.load.durationMs, undefined);
    assert.equal(s.load.warmupMs, 1000);
    assert.equal(s.load.concurrency, 1);
    assert.equal(s.load.timeoutMs, 30_000);
    assert.deepEqual(s.load.payload, { kind: 'fixed', bytes: 64 });
    assert.equal(s.load.mix, 'clients');
    assert.equal(s.runner.workers, 0);
    assert.equal(s.runner.connectConcurrency, 64);
  });

  it('reads durations, rates and both pattern spellings', () => {
    const s = parseScenario(
      [
        'name: x',
        'bus: {kind: rabbitmq, url: "rabbit://u:p@h:5672/"}',
        'agents: {servers: 2, clients: 4}',
        'load:',
        '  patterns: [cast/multicast, {method: call, target: unicast}]',
        '  duration: 2m',
        '  warmup: 500ms',
        '  pause: 0.1',
        '  rate: 50',
        'runner: {workers: 3}',
      ].join('\n'),
      'x.yaml',
    );
    assert.deepEqual(s.load.patterns, [
      { method: 'cast', target: 'multicast' },
      { method: 'call', target: 'unicast' },
    ]);
    assert.equal(s.load.durationMs, 120_000);
    assert.equal(s.load.messages, undefined);
    assert.equal(s.load.warmupMs, 500);
    assert.equal(s.load.pauseMs, 100);
    assert.equal(s.load.ratePerClient, 50);
    assert.equal(s.runner.workers, 3);
    assert.equal(s.bus.url, 'rabbit://u:p@h:5672/');
  });

  it('locates a wrong type on its line and column, with what is allowed and what was given', () => {
    const lines = problemsOf('bus:\n  kind: rabbitmq\nagents:\n  servers: 1\n  clients: 2\nload:\n  concurrency: abc\n');
    assert.deepEqual(lines, ['bad.yaml:7:16: load.concurrency: must be a whole number, got "abc"']);
  });

  it('lists the allowed values of an enum', () => {
    const [line] = problemsOf('bus:\n  kind: kafka\n');
    assert.match(line!, /^bad\.yaml:2:9: bus\.kind: must be one of rabbitmq, amqp1; got "kafka"$/);
  });

  it('reports every problem at once', () => {
    const lines = problemsOf('bus: {kind: rabbitmq}\nagents: {servers: -1, clients: 2.5}\nload: {concurrency: 0}\n');
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines[0]!, /^bad\.yaml:2:19: agents\.servers: must be >= 0, got -1$/);
    assert.match(lines[1]!, /^bad\.yaml:2:32: agents\.clients: must be a whole number, got 2\.5$/);
    assert.match(lines[2]!, /^bad\.yaml:3:21: load\.concurrency: must be >= 1, got 0$/);
  });

  it('reads payload sizes: fixed with units, uniform, weighted', () => {
    const payload = (text: string): unknown =>
      parseScenario(`bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\nload: {payload_bytes: ${text}}\n`, 'p.yaml').load.payload;
    assert.deepEqual(payload('4KiB'), { kind: 'fixed', bytes: 4096 });
    assert.deepEqual(payload('"1.5 MB"'), { kind: 'fixed', bytes: 1_500_000 });
    assert.deepEqual(payload('{min: 64, max: 2KiB}'), { kind: 'uniform', min: 64, max: 2048 });
    assert.deepEqual(payload('[{bytes: 512, weight: 90}, {bytes: 256KiB, weight: 1}]'), {
      kind: 'weighted',
      choices: [
        { bytes: 512, weight: 90 },
        { bytes: 262144, weight: 1 },
      ],
    });
  });

  it('names the payload field and the fix when a size is wrong', () => {
    const [tooBig] = problemsOf('bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\nload: {payload_bytes: 99999999999}\n');
    assert.match(tooBig!, /^bad\.yaml:3:23: load\.payload_bytes: 99999999999 bytes is over the 16MiB a message may carry here; use a smaller size$/);
    const [reversed] = problemsOf('bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\nload: {payload_bytes: {min: 900, max: 100}}\n');
    assert.match(reversed!, /load\.payload_bytes: min \(900\) is above max \(100\); swap them$/);
    const [badUnit] = problemsOf('bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\nload: {payload_bytes: 4 GB}\n');
    assert.match(badUnit!, /load\.payload_bytes: must be a size \(64, "4KiB"\), \{min, max\} .*; got "4 GB"$/);
    const [lonely] = problemsOf('bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\nload: {mix: messages}\n');
    assert.match(lonely!, /load\.mix: mix: messages draws each message from several patterns/);
  });

  it('points at an unknown key and suggests the known one', () => {
    const [line] = problemsOf('bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\nload:\n  concurency: 4\n');
    assert.match(line!, /^bad\.yaml:4:3: load\.concurency: unknown field "concurency" \(allowed: .*concurrency.*\); did you mean "concurrency"\?$/);
  });

  it('names a missing required field', () => {
    const [line] = problemsOf('agents: {servers: 1, clients: 1}\n');
    assert.match(line!, /^bad\.yaml:1:1: missing required field "bus"$/);
  });

  it('explains bad durations and patterns', () => {
    const lines = problemsOf('bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\nload:\n  warmup: soon\n  patterns: [call/sideways]\n');
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, /^bad\.yaml:5:14: load\.patterns\[0\]: must be "method\/target" .*got "call\/sideways"$/);
    assert.match(lines[1]!, /^bad\.yaml:4:11: load\.warmup: must be a duration: "500ms", "30s", "2m", "1h", or a number of seconds; got "soon"$/);
  });

  it('reports YAML syntax errors with their position', () => {
    const [line] = problemsOf('bus: {kind: rabbitmq\nagents: [\n');
    assert.match(line!, /^bad\.yaml:\d+:\d+: YAML: /);
  });

  it('rejects what the schema allows but oslo does not', () => {
    assert.match(
      problemsOf('bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\nload: {patterns: [cast/anycast, call/multicast]}\n')[0]!,
      /^bad\.yaml:3:33: load\.patterns\[1\]: call\/multicast does not exist: oslo fanout has no replies; use cast\/multicast$/,
    );
    assert.match(problemsOf('bus: {kind: rabbitmq}\nagents: {clients: 3}\n')[0]!, /^bad\.yaml:2:9: agents\.servers: .*need servers; set agents\.servers >= 1$/);
    assert.match(problemsOf('bus: {kind: rabbitmq}\nagents: {notifiers: 3}\n')[0]!, /agents\.listeners: notifiers send to listeners/);
    assert.match(problemsOf('bus: {kind: rabbitmq}\nagents: {servers: 3}\n')[0]!, /nothing sends/);
    assert.match(
      problemsOf('bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\nload: {messages: 5, duration: 3s}\n')[0]!,
      /either load\.messages or load\.duration, not both/,
    );
  });

  it('validates quick flags the same way, without positions', () => {
    assert.throws(
      () => resolveScenario({ bus: { kind: 'rabbitmq' }, agents: { clients: 'many' } }, '<command line>'),
      /^ScenarioError: <command line>: agents\.clients: must be a whole number, got "many"/,
    );
    const s = resolveScenario({ bus: { kind: 'rabbitmq' }, agents: { clients: 1 } }, '<command line>', { crossFieldChecks: false });
    assert.equal(s.name, 'cli');
  });

  it("takes a router address distribution, defaulting the kind not given to oslo's, and names a wrong one", () => {
    const s = parseScenario('bus: {kind: amqp1, router: {routers: 2, distribution: {anycast: closest}}}\nagents: {clients: 1, servers: 1}\n', 'dist.yaml');
    assert.deepEqual(s.bus.router?.distribution, { unicast: 'closest', anycast: 'closest' });
    assert.throws(
      () => parseScenario('bus: {kind: amqp1, router: {routers: 2, distribution: {anycast: nearest}}}\nagents: {clients: 1, servers: 1}\n', 'dist.yaml'),
      /dist\.yaml:1:\d+: bus\.router\.distribution\.anycast: .*closest.*balanced/,
    );
  });

  it('takes a RabbitMQ queue locator, and refuses it for another bus', () => {
    const s = parseScenario('bus: {kind: rabbitmq, queue_locator: balanced}\nagents: {clients: 1, servers: 1}\n', 'locator.yaml');
    assert.equal(s.bus.queueLocator, 'balanced');
    assert.throws(
      () => parseScenario('bus: {kind: amqp1, queue_locator: balanced}\nagents: {clients: 1, servers: 1}\n', 'locator.yaml'),
      /locator\.yaml:1:\d+: bus\.queue_locator: queue_locator places RabbitMQ queues on cluster nodes: set bus\.kind: rabbitmq/,
    );
  });

  it('says when the file does not exist', async () => {
    await assert.rejects(loadScenario('scenarios/nope.yaml'), /scenarios\/nope\.yaml: no such scenario file/);
  });

  it('accepts every scenario shipped in scenarios/', async () => {
    const files = (await readdir(SCENARIOS)).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.includes('quickstart.yaml') && files.includes('seed-anycast-call.yaml'));
    for (const file of files) await loadScenario(join(SCENARIOS, file));
  });
});
