/**
 * Routers across sites with the netns provider: a router per bus site, in
 * the namespace of the site's first host, the inter-router links along the
 * site links (a chain here), every site's agents on their own router. Calls
 * are answered across the mesh, multicast reaches the servers behind every
 * router, each router's statistics are recorded, and nothing is left
 * behind. How the links are derived from the sites is tested without a
 * router; the run is skipped, with how to get one, when none is installed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { siteMeshEdges } from '../src/buses/amqp1/router/sites.js';
import { siteMeshWarmupMs } from '../src/buses/amqp1/deploy.js';
import { sitePairLines } from '../src/report/site-pairs-summary.js';
import { findRouter, ROUTER_MISSING_HELP } from '../src/buses/amqp1/router/local.js';
import { runScenario } from '../src/index.js';
import { parseScenario } from '../src/index.js';
import { group } from './helpers/results.js';
import { suite } from './helpers/suite.js';

const run = promisify(execFile);
const router = findRouter();

const both = (a: string, b: string): { from: string; to: string }[] => [
  { from: a, to: b },
  { from: b, to: a },
];

describe('inter-router links from the site links', () => {
  it('follows the links between bus sites, in either direction, once each', () => {
    const graph = siteMeshEdges(['a', 'b', 'c'], [...both('a', 'b'), { from: 'c', to: 'b' }]);
    assert.deepEqual(graph, {
      edges: [
        [0, 1],
        [1, 2],
      ],
      basis: 'links',
    });
  });

  it('ignores links to sites without a router', () => {
    const graph = siteMeshEdges(['a', 'c'], [...both('a', 'b'), ...both('b', 'c')]);
    assert.equal(graph.basis, 'full');
    assert.deepEqual(graph.edges, [[0, 1]]);
  });

  it('is a full mesh when no link joins two bus sites', () => {
    const graph = siteMeshEdges(['a', 'b', 'c', 'd'], []);
    assert.equal(graph.basis, 'full');
    assert.deepEqual(graph.edges, [
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 3],
    ]);
    assert.match(graph.reason!, /no link in topology\.links joins two bus sites/);
  });

  it('is a full mesh, and says why, when the links leave a router cut off', () => {
    const graph = siteMeshEdges(['a', 'b', 'c', 'd'], [...both('a', 'b'), { from: 'c', to: 'd' }]);
    assert.equal(graph.basis, 'full');
    assert.equal(graph.edges.length, 6);
    assert.match(graph.reason!, /a–b, c–d\) leave c, d cut off from a/);
  });

  it('warms a mesh up for a second per hop of its longest path, and one more', () => {
    assert.equal(
      siteMeshWarmupMs(3, [
        [0, 1],
        [1, 2],
      ]),
      3000,
    );
    assert.equal(
      siteMeshWarmupMs(4, [
        [0, 1],
        [0, 2],
        [0, 3],
        [1, 2],
        [1, 3],
        [2, 3],
      ]),
      2000,
      'a full mesh: one hop, and the floor',
    );
    assert.equal(
      siteMeshWarmupMs(5, [
        [0, 1],
        [1, 2],
        [2, 3],
        [3, 4],
      ]),
      5000,
    );
  });

  it('is a single router without links on one site', () => {
    assert.deepEqual(siteMeshEdges(['a'], both('a', 'b')), { edges: [], basis: 'single' });
  });
});

/** What a netns run may leave behind: namespaces, gateway interfaces, agent hosts, routers of sites a, b, c. */
async function busbenchThings(): Promise<string[]> {
  const { stdout: spaces } = await run('ip', ['netns', 'list']);
  const { stdout: links } = await run('ip', ['-o', 'link', 'show']);
  const { stdout: procs } = await run('ps', ['-eo', 'args']);
  return [
    ...spaces
      .split('\n')
      .filter((line) => /^busbench-/.test(line) && !/^busbench-t\d+-/.test(line))
      .map((line) => line.split(' ')[0]!),
    ...links.split('\n').flatMap((line) => /(bbgw-[a-z0-9]+)/.exec(line)?.[1] ?? []),
    ...procs.split('\n').filter((line) => /agents\/host\.js|ip netns exec busbench-|(qdrouterd|skrouterd) -c \S*\/Router\.[abc]\.conf/.test(line)),
  ];
}

/**
 * What is there now and was not before the run. Others on this machine (a benchmark, a colleague's
 * run) may make namespaces of their own meanwhile: what is left is asked again for up to 15 s, so
 * only what stays counts; this run's teardown is over when runScenario returns, so its leftovers stay.
 */
async function leftovers(before: string[]): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const now = (await busbenchThings()).filter((thing) => !before.includes(thing));
    if (now.length === 0 || Date.now() > deadline) return now;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

suite('routers across sites in network namespaces', { timeout: 200_000, skip: router ? false : `no router installed. ${ROUTER_MISSING_HELP}` }, () => {
  it('runs a scenario on a router per site, linked along a chain of sites', async () => {
    // Warm-up 0 asked: a router learns of subscribers behind the others about 1 s after they attach
    // (qdrouterd's mobile-address sync runs on a 1 s tick), so casts sent sooner would reach only the
    // servers on the sender's own router. The runner raises the warm-up for a mesh: nothing is lost.
    const scenario = parseScenario(
      `
name: geo-routers
bus: {kind: amqp1, router: {flavor: auto}}
agents: {servers: 1, clients: 1}
load: {patterns: [call/anycast, cast/multicast], messages: 300, warmup: 0}
topology:
  provider: netns
  sites: [{name: a}, {name: b}, {name: c}]
  links:
    - {between: [a, b], delay: 5ms}
    - {between: [b, c], delay: 5ms}
  placement: {servers: per-site, clients: per-site}
`,
      'geo-routers.yaml',
    );
    const before = await busbenchThings();
    const result = await runScenario(scenario, { resultsRoot: null });
    assert.equal(result.phases.warmupMs, 3000, 'warm-up raised for the mesh: a second per hop of the chain, and one more');
    assert.equal(result.agents.started.server, 3);
    assert.equal(result.agents.started.client, 3);
    // The clients share the 300 messages; each sends one pattern (mix: clients).
    const calls = group(result, 'client', 'call-anycast');
    const casts = group(result, 'client', 'cast-multicast').counters.ok;
    assert.ok(calls.counters.sent > 0 && casts > 0, `calls ${calls.counters.sent}, casts ${casts}`);
    assert.equal(calls.counters.sent + casts, 300);
    assert.equal(calls.counters.ok, calls.counters.sent, 'every call answered');
    assert.equal(calls.counters.timeouts + calls.counters.errors, 0);
    // Multicast across the mesh: every server, behind every router, got every cast.
    const multicast = result.delivery['cast-multicast']!;
    assert.equal(multicast.lost, 0);
    assert.equal(multicast.duplicated, 0);
    assert.equal(group(result, 'server', 'cast-multicast').counters.ok, 3 * casts);
    // A router per site, each seeing the other two; provenance names their sites, addresses and links.
    const stats = result.busStatistics as { routers: { id: string; nodes: number; error?: string }[] };
    assert.deepEqual(stats.routers.map((r) => r.id).sort(), ['Router.a', 'Router.b', 'Router.c'], JSON.stringify(stats.routers.map((r) => r.error ?? r.id)));
    for (const r of stats.routers) assert.equal(r.nodes, 2, `${r.id} knows ${r.nodes} other routers`);
    const facts = result.provenance.bus as unknown as { router: { mesh: string; links: string; routers: { site: string; url: string }[] } };
    assert.equal(facts.router.mesh, 'links');
    assert.equal(facts.router.links, 'a–b, b–c');
    assert.deepEqual(
      facts.router.routers.map((r) => [r.site, r.url.replace(/:\d+\/$/, '')]),
      [
        ['a', 'amqp://10.200.1.1'],
        ['b', 'amqp://10.200.2.1'],
        ['c', 'amqp://10.200.3.1'],
      ],
    );
    assert.deepEqual(await leftovers(before), []);
  });

  it("keeps every call to a same-site server in its caller's site with distribution closest, below the inter-site delay, and records what each router counted", async () => {
    // Delay on the links of a chain a–b–c, in user space on this kernel: the inter-router links go through
    // relays (topology.network.busLinks), so a message between routers crosses the delay, one within a site none.
    const scenario = parseScenario(
      `
name: geo-closest
bus: {kind: amqp1, router: {flavor: auto, distribution: {anycast: closest}}}
agents: {servers: 1, clients: 1}
load: {patterns: [call/unicast, call/anycast, cast/multicast], mix: messages, messages: 450, warmup: 0}
topology:
  provider: netns
  sites: [{name: a}, {name: b}, {name: c}]
  links:
    - {between: [a, b], delay: 20ms}
    - {between: [b, c], delay: 20ms}
  placement: {servers: per-site, clients: per-site}
`,
      'geo-closest.yaml',
    );
    const before = await busbenchThings();
    const result = await runScenario(scenario, { resultsRoot: null });
    const facts = result.provenance.bus as unknown as { router: { distribution: Record<string, string> } };
    assert.deepEqual(facts.router.distribution, { unicast: 'closest', anycast: 'closest', multicast: 'multicast' });
    const links = result.topology!.network!.busLinks;
    assert.deepEqual(
      links.map((l) => [l.from, l.to, l.what, l.forwardDelayMs, l.backwardDelayMs]),
      [
        ['b', 'a', 'inter-router link', 20, 20],
        ['c', 'b', 'inter-router link', 20, 20],
      ],
      'the higher router dials the lower, through a relay with the link delay',
    );
    const pairs = result.sitePairs!;
    for (const pattern of ['call-unicast', 'call-anycast']) {
      const calls = group(result, 'client', pattern).counters;
      assert.equal(calls.ok, calls.sent, `${pattern}: every call answered`);
      for (const site of ['a', 'b', 'c']) {
        // Strict locality: unicast client i calls server i, of its own site; anycast has a server on every site.
        const locality = pairs.locality.find((l) => l.pattern === pattern && l.callerSite === site)!;
        assert.ok(locality.calls > 0, `${site} made ${pattern} calls`);
        assert.equal(locality.ownSite, 1, `${site}: ${JSON.stringify(pairs.bySite.filter((r) => r.from === site && r.role === 'client'))}`);
        const trip = pairs.bySite.find((r) => r.role === 'client' && r.pattern === pattern && r.from === site && r.to === site)!.legs.roundTrip!;
        assert.ok(trip.p99Us < 20_000, `${site}'s ${pattern} calls stay below the 20 ms between sites: p99 ${trip.p99Us / 1000} ms`);
      }
    }
    // Unicast paths along the chain: each stayed in its site.
    assert.deepEqual(
      pairs.paths!.map((p) => p.sites),
      [['a'], ['b'], ['c']],
    );
    // Multicast reaches every router: from another site it took the delay of every link on the way
    // (less 1 ms: a one-way leg is good to the clock offsets' uncertainty, and the relay writes up to 0.5 ms early).
    const hops = (x: string, y: string): number => Math.abs(x.charCodeAt(0) - y.charCodeAt(0));
    const received = pairs.bySite.filter((r) => r.role === 'server' && r.pattern === 'cast-multicast' && r.from !== null && r.from !== r.to);
    assert.equal(received.length, 6, JSON.stringify(received.map((r) => [r.from, r.to])));
    for (const r of received) {
      assert.ok(
        r.legs.request!.minUs >= hops(r.from!, r.to!) * 20_000 - 1000,
        `${r.from} → ${r.to}: min ${r.legs.request!.minUs / 1000} ms, ${hops(r.from!, r.to!)} links`,
      );
    }
    // The routers applied it: each one's anycast address is closest, and each delivered its own site's calls itself.
    const stats = result.busStatistics as {
      routers: { id: string; addresses: { address: string; distribution: string; egress: number; transit: number }[] }[];
    };
    for (const r of stats.routers) {
      const anycast = r.addresses.find((a) => a.address.includes('openstack.org/om/rpc/anycast'));
      assert.ok(anycast, `${r.id} has the anycast address: ${JSON.stringify(r.addresses.map((a) => a.address))}`);
      assert.equal(anycast.distribution, 'closest');
      assert.equal(anycast.transit, 0, `${r.id}: no call passed through it to another router`);
    }
    assert.deepEqual(await leftovers(before), []);
  });

  it('says where balanced anycast calls went, the matrix adding up to the calls sent', async () => {
    const scenario = parseScenario(
      `
name: geo-balanced
bus: {kind: amqp1, router: {flavor: auto}}
agents: {servers: 1, clients: 1}
load: {patterns: [call/anycast], messages: 300, warmup: 0, concurrency: 4}
topology:
  provider: netns
  sites: [{name: a}, {name: b}, {name: c}]
  placement: {servers: per-site, clients: per-site}
`,
      'geo-balanced.yaml',
    );
    const before = await busbenchThings();
    const result = await runScenario(scenario, { resultsRoot: null });
    const calls = group(result, 'client', 'call-anycast');
    assert.equal(calls.counters.sent, 300);
    const facts = result.provenance.bus as unknown as { router: { distribution: Record<string, string> } };
    assert.equal(facts.router.distribution['anycast'], 'balanced', "oslo's default");
    const rows = result.sitePairs!.bySite.filter((r) => r.role === 'client' && r.pattern === 'call-anycast');
    assert.equal(
      rows.reduce((sum, r) => sum + r.count, 0),
      calls.counters.ok,
      'every answered call in one cell',
    );
    assert.equal(calls.counters.ok, 300);
    for (const site of ['a', 'b', 'c']) {
      const fromSite = rows.filter((r) => r.from === site).reduce((sum, r) => sum + r.count, 0);
      assert.equal(fromSite, 100, `site ${site}'s client's calls`);
    }
    const text = sitePairLines(result).join('\n');
    assert.match(text, /locality of call-anycast calls: [\d.]+ % answered in the caller's own site \(a [\d.]+ %, b [\d.]+ %, c [\d.]+ %\)/);
    assert.deepEqual(await leftovers(before), []);
  });
});
