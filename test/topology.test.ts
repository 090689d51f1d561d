/** The topology section of a scenario: sites, links, bus sites, placement, dropouts, partitions, and their errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScenario, ScenarioError } from '../src/index.js';
import { busSiteFor } from '../src/scenario/topology.js';

function problemsOf(text: string): string[] {
  try {
    parseScenario(text, 'geo.yaml');
  } catch (error) {
    assert.ok(error instanceof ScenarioError, `not a ScenarioError: ${String(error)}`);
    return error.message.split('\n');
  }
  assert.fail('the scenario was accepted');
}

const THREE_SITES = `
bus: {kind: rabbitmq}
agents: {servers: 2, clients: 7}
topology:
  provider: netns
  sites:
    - {name: lyon, hosts: 2}
    - {name: nantes}
    - {name: rennes}
  links:
    - {between: [lyon, nantes], delay: 25ms, jitter: 2ms, loss: "0.5%", rate: 100mbit}
    - {from: lyon, to: rennes, delay: 40, loss: 1}
  bus: [lyon]
  placement:
    servers: per-site
    clients: {lyon: 1, nantes: 2, rennes: 4}
  dropouts:
    - {between: [nantes, rennes], every: 30s, for: 5s}
  partitions:
    - {at: 20s, for: 10s, isolate: [rennes]}
`;

describe('topology', () => {
  it('resolves sites, directed links, placement and schedules', () => {
    const s = parseScenario(THREE_SITES, 'geo.yaml');
    const t = s.topology!;
    assert.equal(t.provider, 'netns');
    assert.deepEqual(t.sites, [
      { name: 'lyon', hosts: 2 },
      { name: 'nantes', hosts: 1 },
      { name: 'rennes', hosts: 1 },
    ]);
    assert.deepEqual(t.links, [
      { from: 'lyon', to: 'nantes', delayMs: 25, jitterMs: 2, lossPercent: 0.5, rateMbit: 100 },
      { from: 'nantes', to: 'lyon', delayMs: 25, jitterMs: 2, lossPercent: 0.5, rateMbit: 100 },
      { from: 'lyon', to: 'rennes', delayMs: 40_000, lossPercent: 1 },
    ]);
    assert.deepEqual(t.busSites, ['lyon']);
    // per-site: the count on every site, so the scenario's total is three times it.
    assert.deepEqual(t.agentsBySite.server, { lyon: 2, nantes: 2, rennes: 2 });
    assert.equal(s.agents.servers, 6);
    assert.deepEqual(t.agentsBySite.client, { lyon: 1, nantes: 2, rennes: 4 });
    assert.equal(s.agents.clients, 7);
    assert.deepEqual(t.agentsBySite.listener, { lyon: 0, nantes: 0, rennes: 0 });
    assert.deepEqual(t.dropouts, [{ sites: ['nantes', 'rennes'], everyMs: 30_000, forMs: 5000, firstMs: 30_000 }]);
    assert.deepEqual(t.partitions, [{ atMs: 20_000, forMs: 10_000, isolate: ['rennes'] }]);
  });

  it('spreads round-robin counts over the sites in order', () => {
    const s = parseScenario('bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 5}\ntopology: {sites: [{name: a}, {name: b}, {name: c}]}\n', 'geo.yaml');
    assert.deepEqual(s.topology!.agentsBySite.client, { a: 2, b: 2, c: 1 });
    assert.deepEqual(s.topology!.agentsBySite.server, { a: 1, b: 0, c: 0 });
    // provider local runs one bus node: on the first site unless told otherwise
    assert.equal(s.topology!.provider, 'local');
    assert.deepEqual(s.topology!.busSites, ['a']);
    const netns = parseScenario(
      'bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\ntopology: {provider: netns, sites: [{name: a}, {name: b}]}\n',
      'geo.yaml',
    );
    assert.deepEqual(netns.topology!.busSites, ['a', 'b']);
    assert.match(
      problemsOf('bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\ntopology: {sites: [{name: a}, {name: b}], bus: all}\n').join('\n'),
      /topology\.bus: provider local runs one bus node on this host: list one site in topology\.bus, or set provider: netns/,
    );
  });

  it('sends agents of a site without a bus node to the nearest bus site', () => {
    const s = parseScenario(
      'bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\ntopology:\n  provider: netns\n  sites: [{name: a}, {name: b}, {name: c}]\n  bus: [a, b]\n  links:\n    - {from: c, to: a, delay: 50ms}\n    - {from: c, to: b, delay: 10ms}\n',
      'geo.yaml',
    );
    assert.equal(busSiteFor(s.topology!, 'a'), 'a');
    assert.equal(busSiteFor(s.topology!, 'c'), 'b');
  });

  it('names the field and the fix for every mistake, all at once', () => {
    const problems = problemsOf(`
bus: {kind: rabbitmq}
agents: {servers: 1, clients: 3}
topology:
  sites: [{name: lyon}, {name: lyon}, {name: nantes}]
  links:
    - {between: [lyon, paris], delay: 10ms}
    - {from: lyon, to: nantes}
    - {from: nantes, to: lyon, jitter: 5ms}
  bus: [brest]
  placement:
    clients: {lyon: 1, nantes: 1}
  dropouts:
    - {between: [lyon, nantes], every: 5s, for: 10s}
  partitions:
    - {at: 1s, for: 1s, isolate: [lyon, nantes]}
`);
    const expect = (pattern: RegExp): void =>
      assert.ok(
        problems.some((p) => pattern.test(p)),
        `no problem matches ${pattern}:\n${problems.join('\n')}`,
      );
    expect(/^geo\.yaml:5:\d+: topology\.sites\[1\]\.name: site "lyon" is listed twice/);
    expect(/topology\.links\[0\]\.between: "paris" is not a site \(sites: lyon, lyon, nantes\)/);
    expect(/topology\.links\[1\]: a link constrains something: give delay, jitter, loss or rate/);
    expect(/topology\.links\[2\]\.jitter: jitter varies a delay: give delay too/);
    expect(/topology\.bus\[0\]: "brest" is not a site/);
    expect(/topology\.placement\.clients: places 2 clients but agents\.clients is 3; make them equal/);
    expect(/topology\.dropouts\[0\]\.for: a dropout must end before the next begins/);
    expect(/topology\.partitions\[0\]\.isolate: a partition cuts some sites off from the rest/);
    // provider local (the default) cannot constrain links
    expect(/topology\.links: constraining links needs hosts with network stacks of their own: set provider: netns/);
  });

  it('rejects unknown fields, bad site names and bad values through the schema', () => {
    const problems = problemsOf(
      'bus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\ntopology:\n  provider: netns\n  sites: [{name: Lyon}]\n  link: []\n  placement: {clients: everywhere}\n',
    );
    const text = problems.join('\n');
    assert.match(text, /topology\.sites\[0\]\.name: must match/);
    assert.match(text, /unknown field "link" \(allowed: provider, inventory, sites, links, bus, placement, dropouts, partitions\); did you mean "links"\?/);
    assert.match(text, /topology\.placement\.clients: must be "round-robin" \(the role's count spread over the sites\), "per-site"/);
  });

  it('asks for an inventory with ssh, and refuses a bus URL with a topology', () => {
    const text = problemsOf(
      'bus: {kind: rabbitmq, url: "rabbit://h:5672/"}\nagents: {servers: 1, clients: 1}\ntopology: {provider: ssh, sites: [{name: a}]}\n',
    ).join('\n');
    assert.match(text, /topology\.inventory: the ssh provider needs an inventory file/);
    assert.match(text, /topology\.bus: bus\.url uses a running bus/);
  });

  it('takes routers with provider netns, one per bus site, and refuses the fields of a local mesh there', () => {
    const s = parseScenario(
      'bus: {kind: amqp1, router: {flavor: qdrouterd, worker_threads: 2}}\nagents: {servers: 1, clients: 1}\ntopology: {provider: netns, sites: [{name: a}, {name: b}]}\n',
      'geo.yaml',
    );
    assert.equal(s.bus.router?.flavor, 'qdrouterd');
    assert.equal(s.bus.router?.workerThreads, 2);
    const text = problemsOf(
      'bus:\n  kind: amqp1\n  router: {routers: 3, shape: chain, edges: [[0, 1]], tree_fanout: 2}\nagents: {servers: 1, clients: 1}\ntopology: {provider: netns, sites: [{name: a}, {name: b}]}\n',
    ).join('\n');
    for (const field of ['routers', 'shape', 'edges', 'tree_fanout']) {
      assert.match(
        text,
        new RegExp(
          `^geo\\.yaml:3:\\d+: bus\\.router\\.${field}: with provider netns there is one router per bus site \\(topology\\.bus\\), linked along topology\\.links: remove bus\\.router\\.${field}`,
          'm',
        ),
      );
    }
    // On this host the count is still needed.
    assert.match(
      problemsOf('bus: {kind: amqp1, router: {flavor: auto}}\nagents: {servers: 1, clients: 1}\n').join('\n'),
      /bus\.router: bus\.router needs routers: how many routers to deploy on this host/,
    );
  });
});
