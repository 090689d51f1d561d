/**
 * Whole runs across sites with the netns provider: every host a network
 * namespace, the bus and the agents inside them, agent hosts spoken to over
 * their stdio. A 3-node RabbitMQ cluster with a node per site serves agents
 * on every site; a single node on one site serves clients two sites away
 * through a delayed link, while loss on another link is applied and
 * measured. Afterwards nothing busbench made is left: no namespace, no
 * gateway interface, no broker, no agent host.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { runScenario } from '../src/index.js';
import { parseScenario } from '../src/index.js';
import { group } from './helpers/results.js';
import { osloAvailable, startOsloPeer, type OsloPeer } from './helpers/oslo-peer.js';

const run = promisify(execFile);

async function leftovers(): Promise<string[]> {
  const { stdout: spaces } = await run('ip', ['netns', 'list']);
  const { stdout: links } = await run('ip', ['-o', 'link', 'show']);
  const { stdout: procs } = await run('ps', ['-eo', 'args']);
  return [
    ...spaces.split('\n').filter((line) => /^busbench-/.test(line) && !/^busbench-t\d+-/.test(line)),
    ...links.split('\n').filter((line) => /bbgw-/.test(line)),
    ...procs.split('\n').filter((line) => /agents\/host\.js|ip netns exec busbench-/.test(line)),
  ];
}

describe('runs across sites in network namespaces', { timeout: 420_000 }, () => {
  it('runs a scenario on a 3-node RabbitMQ cluster, quorum server queues, a node and agents on every site', async () => {
    const scenario = parseScenario(
      `
name: geo-cluster
bus: {kind: rabbitmq, queues: quorum}
agents: {servers: 1, clients: 2}
load: {patterns: [call/anycast, cast/multicast], messages: 600, warmup: 0, concurrency: 2}
topology:
  provider: netns
  sites: [{name: a}, {name: b}, {name: c}]
  placement: {servers: per-site, clients: per-site}
`,
      'geo-cluster.yaml',
    );
    const result = await runScenario(scenario, { resultsRoot: null });
    assert.equal(result.agents.started.server, 3);
    assert.equal(result.agents.started.client, 6);
    const calls = group(result, 'client', 'call-anycast');
    assert.equal(calls.counters.ok, 300);
    assert.equal(calls.counters.timeouts + calls.counters.errors, 0);
    // Multicast through the cluster: every server, on every node, got every cast.
    const multicast = result.delivery['cast-multicast']!;
    assert.equal(multicast.lost, 0);
    assert.equal(multicast.duplicated, 0);
    assert.equal(group(result, 'server', 'cast-multicast').counters.ok, 3 * 300);
    assert.equal(Object.keys(result.receivedByAgent).length, 3);
    // Where the messages went, per site pair: the counts add up to what was sent and received.
    const bySite = result.sitePairs!.bySite;
    const sum = (role: string, pattern: string): number => bySite.filter((r) => r.role === role && r.pattern === pattern).reduce((n, r) => n + r.count, 0);
    assert.equal(sum('client', 'call-anycast'), 300, 'every answered call in one client row');
    assert.equal(sum('server', 'call-anycast'), 300, 'every call in one server row');
    for (const r of bySite) {
      assert.ok(['a', 'b', 'c'].includes(r.from!) && ['a', 'b', 'c'].includes(r.to!), `a pair between known sites: ${r.from} → ${r.to}`);
      if (r.role === 'client') assert.equal(r.legs.roundTrip!.count, r.count);
      else assert.equal(r.legs.request!.count, r.count);
    }
    // Each site's two clients sent 100 casts and every server got them all: 100 per (sender site, receiver site).
    for (const from of ['a', 'b', 'c'])
      for (const to of ['a', 'b', 'c'])
        assert.equal(
          bySite.find((r) => r.role === 'server' && r.pattern === 'cast-multicast' && r.from === from && r.to === to)?.count,
          100,
          `${from} → ${to}`,
        );
    assert.equal(result.sitePairs!.byHost.length, result.sitePairs!.bySite.length, 'one host per site: by host is by site');
    const locality = result.sitePairs!.locality.find((l) => l.pattern === 'call-anycast' && l.callerSite === 'all')!;
    assert.equal(locality.calls, 300);
    assert.ok(Math.abs(locality.ownSite + locality.otherSite - 1) < 1e-9);
    const t = result.topology!;
    assert.equal(t.provider, 'netns');
    assert.deepEqual(t.busSites, ['a', 'b', 'c']);
    assert.equal(t.hosts.length, 3);
    assert.match(result.provenance.bus.product, /RabbitMQ/);
    // What each host's processes cost: a broker and an agent host on every site, and the coordinator.
    const rows = result.resources!.rows;
    assert.deepEqual(
      rows
        .filter((r) => r.kind === 'broker')
        .map((r) => r.host)
        .sort(),
      ['a-1', 'b-1', 'c-1'],
    );
    assert.deepEqual(
      rows
        .filter((r) => r.kind === 'agents')
        .map((r) => r.host)
        .sort(),
      ['a-1', 'b-1', 'c-1'],
    );
    for (const row of rows.filter((r) => r.kind === 'agents'))
      assert.ok(row.peakTcpConnections >= 3, `${row.name}: ${row.peakTcpConnections} TCP connections for 3 agents`);
    assert.ok(rows.some((r) => r.kind === 'coordinator'));
    assert.deepEqual(await leftovers(), []);
  });

  it('delays a far site through a relay, loses packets on another link, and records both as asked and as measured', async () => {
    const scenario = parseScenario(
      `
name: geo-links
bus: {kind: rabbitmq}
agents: {servers: 2, clients: 2}
load: {patterns: [call/anycast], messages: 80, warmup: 0}
topology:
  provider: netns
  sites: [{name: core}, {name: edge}, {name: far}]
  bus: [core]
  links:
    - {between: [core, far], delay: 30ms}
    - {from: core, to: edge, loss: 20}
  placement:
    servers: {core: 1, edge: 1}
    clients: {far: 2}
`,
      'geo-links.yaml',
    );
    const result = await runScenario(scenario, { resultsRoot: null });
    const calls = group(result, 'client', 'call-anycast');
    assert.equal(calls.counters.ok, 80);
    // Clients on far reach the broker on core across 30 ms each way: no call returns sooner than 60 ms.
    assert.ok(calls.latency!.minUs >= 60_000, `fastest call ${calls.latency!.minUs} µs, expected ≥ 60 ms`);
    const network = result.topology!.network!;
    const relayed = network.mechanisms.filter((m) => (m as { property: string }).property === 'delay');
    assert.equal(relayed.length, 2);
    assert.ok(relayed.every((m) => ['netem', 'userspace-relay'].includes((m as { mechanism: string }).mechanism)));
    const coreToEdge = network.measured.find((m) => m.from === 'core' && m.to === 'edge')!;
    assert.equal(coreToEdge.requested.lossPercent, 20);
    // 50 echoes at 20 % loss: 20 ± 17 % is three standard deviations (sd ≈ 5.7 %).
    assert.ok(
      coreToEdge.measured.lossPercent > 2 && coreToEdge.measured.lossPercent < 40,
      `core → edge lost ${coreToEdge.measured.lossPercent} % of echoes, asked 20 %`,
    );
    const edgeToFar = network.measured.find((m) => m.from === 'edge' && m.to === 'far')!;
    assert.equal(edgeToFar.measured.lossPercent, 0);
    const coreToFar = network.measured.find((m) => m.from === 'core' && m.to === 'far')!;
    assert.equal(coreToFar.requested.delayMs, 30);
    if (relayed.every((m) => (m as { mechanism: string }).mechanism === 'userspace-relay')) {
      assert.equal(coreToFar.relayedDelayMs, 60, 'both directions of the delay are carried by the relay, which ping cannot see');
      assert.equal(network.relays.length, 1, 'one relay: on the host of site far, to the broker on core');
    }
    assert.deepEqual(await leftovers(), []);
  });

  it('cuts a site off on schedule: its calls stall for the outage, and the outage is on record', async () => {
    const scenario = parseScenario(
      `
name: geo-partition
bus: {kind: rabbitmq}
agents: {servers: 1, clients: 1}
load: {patterns: [call/anycast], duration: 4s, warmup: 0}
topology:
  provider: netns
  sites: [{name: core}, {name: edge}]
  bus: [core]
  placement:
    servers: {core: 1}
    clients: {edge: 1}
  partitions:
    - {at: 1s, for: 1500ms, isolate: [edge]}
`,
      'geo-partition.yaml',
    );
    const result = await runScenario(scenario, { resultsRoot: null });
    const [cut] = result.topology!.disruptions;
    assert.ok(cut, 'the partition is recorded');
    assert.equal(cut.kind, 'partition');
    assert.deepEqual(cut.pairs, [['edge', 'core']]);
    assert.equal(cut.error, undefined);
    assert.ok(cut.startedAtMs! >= 1000 && cut.startedAtMs! < 1500, `down at ${cut.startedAtMs} ms, planned 1000 ms`);
    assert.ok(cut.endedAtMs! - cut.startedAtMs! >= 1400, `down for ${cut.endedAtMs! - cut.startedAtMs!} ms, planned 1500 ms`);
    const calls = group(result, 'client', 'call-anycast');
    // The call in flight when the site was cut waited for the whole outage: no reply crossed it.
    assert.ok(calls.latency!.maxUs >= 1_400_000, `slowest call ${calls.latency!.maxUs} µs, the outage lasted 1.5 s`);
    assert.equal(calls.counters.errors, 0);
    assert.deepEqual(await leftovers(), []);
  });

  it('records which node held each server queue, and places the queues as queue_locator says', async () => {
    // All three servers on site b, clients on every site: with client-local every quorum queue's
    // leader is b's node, with balanced the leaders spread over the nodes.
    const runWith = async (locator: 'client-local' | 'balanced') =>
      runScenario(
        parseScenario(
          `
name: geo-queues
bus: {kind: rabbitmq, queues: quorum, management: true, queue_locator: ${locator}}
agents: {servers: 3, clients: 1}
load: {patterns: [call/anycast, call/unicast], messages: 120, warmup: 0}
topology:
  provider: netns
  sites: [{name: a}, {name: b}, {name: c}]
  placement: {servers: {b: 3}, clients: per-site}
`,
          'geo-queues.yaml',
        ),
        { resultsRoot: null },
      );
    const local = await runWith('client-local');
    const queues = local.sitePairs!.queues!;
    const serverQueues = queues.filter((q) => !q.queue.includes('_fanout_'));
    assert.equal(serverQueues.length, 4, `the anycast queue and a unicast queue per server: ${JSON.stringify(queues)}`);
    assert.ok(
      queues.every((q) => q.site === 'b' && /^rabbit@/.test(q.node)),
      `client-local: every queue on the servers' site b: ${JSON.stringify(queues)}`,
    );
    assert.ok(serverQueues.every((q) => q.type === 'quorum'));
    // Every call crossed to b, where both the servers and their queues are.
    for (const site of ['a', 'c']) assert.equal(local.sitePairs!.locality.find((l) => l.pattern === 'call-anycast' && l.callerSite === site)?.ownSite, 0);
    assert.equal(local.scenario.bus.queueLocator, 'client-local');

    const balanced = await runWith('balanced');
    const leaders = new Set(balanced.sitePairs!.queues!.filter((q) => q.type === 'quorum').map((q) => q.site));
    assert.ok(leaders.size >= 2, `balanced: the quorum queues' leaders spread over the nodes: ${JSON.stringify(balanced.sitePairs!.queues)}`);
    assert.deepEqual(await leftovers(), []);
  });

  it("delays the cluster's own links, so that calls whose queue lives on another site show that site's delay", async () => {
    // Lower bounds less 1 ms: the relay writes up to 0.5 ms early. Delay only on the links, user space on this kernel: the Erlang distribution between the nodes is relayed
    // (topology.network.busLinks), the agents' connections to their own site's node are not.
    const runWith = async (locator: 'client-local' | 'balanced', servers: string, pattern: string) =>
      runScenario(
        parseScenario(
          `
name: geo-queue-delay
bus: {kind: rabbitmq, management: true, queue_locator: ${locator}}
agents: {servers: 1, clients: 1}
load: {patterns: [${pattern}], messages: 90, warmup: 0}
topology:
  provider: netns
  sites: [{name: a}, {name: b}, {name: c}]
  links:
    - {between: [a, b], delay: 10ms}
    - {between: [b, c], delay: 20ms}
    - {between: [a, c], delay: 30ms}
  placement: {servers: ${servers}, clients: per-site}
`,
          'geo-queue-delay.yaml',
        ),
        { resultsRoot: null },
      );
    const delay = (x: string, y: string): number => (x === y ? 0 : ({ ab: 10, ba: 10, bc: 20, cb: 20, ac: 30, ca: 30 } as Record<string, number>)[x + y]!);
    const roundTrips = (result: Awaited<ReturnType<typeof runWith>>, pattern: string, from: string) => {
      const rows = result.sitePairs!.bySite.filter((r) => r.role === 'client' && r.pattern === pattern && r.from === from);
      assert.equal(rows.length, 1, `${from}'s calls: ${JSON.stringify(rows.map((r) => [r.from, r.to, r.count]))}`);
      return rows[0]!.legs.roundTrip!;
    };

    // The server and its queue on b: a's calls cross a–b both ways, c's cross b–c, b's stay in b.
    const local = await runWith('client-local', '{b: 1}', 'call/anycast');
    assert.equal(group(local, 'client', 'call-anycast').counters.ok, 90);
    const links = local.topology!.network!.busLinks;
    assert.equal(links.length, 6, `every node dials the other two through a relay: ${JSON.stringify(links)}`);
    assert.ok(links.every((l) => l.what === 'Erlang distribution' && l.forwardDelayMs === delay(l.from, l.to) && l.backwardDelayMs === delay(l.to, l.from)));
    assert.ok(links.reduce((sum, l) => sum + l.forwardBytes, 0) > 0, 'the nodes talked through the relays');
    const anycastQueue = local.sitePairs!.queues!.find((q) => q.queue === 'busbench');
    assert.equal(anycastQueue?.site, 'b', JSON.stringify(local.sitePairs!.queues));
    assert.ok(roundTrips(local, 'call-anycast', 'a').minUs >= 2 * 10 * 1000 - 1000, 'a ↔ b both ways');
    assert.ok(roundTrips(local, 'call-anycast', 'c').minUs >= 2 * 20 * 1000 - 1000, 'c ↔ b both ways');
    assert.ok(roundTrips(local, 'call-anycast', 'b').p50Us < 10 * 1000, `b's calls cross no link: ${JSON.stringify(roundTrips(local, 'call-anycast', 'b'))}`);

    // Balanced: each client calls the server of its own site, whose queue may live anywhere; the call goes
    // caller's node → queue's node → server's node and at least back, so it takes at least the queue's detour.
    const balanced = await runWith('balanced', 'per-site', 'call/unicast');
    assert.equal(group(balanced, 'client', 'call-unicast').counters.ok, 90);
    const queues = balanced.sitePairs!.queues!;
    for (const [i, site] of ['a', 'b', 'c'].entries()) {
      const queue = queues.find((q) => q.queue === `busbench.server-${i}`);
      assert.ok(queue?.site, `server-${i}'s queue and its site: ${JSON.stringify(queues)}`);
      const trip = roundTrips(balanced, 'call-unicast', site);
      assert.ok(
        trip.minUs >= 2 * delay(site, queue.site!) * 1000 - 1000,
        `${site}'s calls to its own site's server, queue on ${queue.site}: at least ${2 * delay(site, queue.site!)} ms, min ${trip.minUs / 1000} ms`,
      );
      // The path says so: through the queue's site and back, or within the site.
      const path = balanced.sitePairs!.paths!.find((p) => p.from === site);
      assert.deepEqual(path?.sites, queue.site === site ? [site] : [site, queue.site, site], JSON.stringify(balanced.sitePairs!.paths));
    }
    assert.deepEqual(await leftovers(), []);
  });

  it("counts a real oslo.messaging client's calls, which carry no busbench stamps, at the servers that answered them", async (t) => {
    if (!osloAvailable()) return t.skip('python3-oslo.messaging is not installed');
    let url: string | undefined;
    let peer: OsloPeer | undefined;
    const scenario = parseScenario(
      `
name: geo-oslo
bus: {kind: rabbitmq}
agents: {servers: 1, clients: 1}
load: {patterns: [call/anycast], rate: 20, duration: 8s, warmup: 1s}
topology:
  provider: netns
  sites: [{name: a}, {name: b}]
  bus: [a]
  placement: {servers: per-site, clients: {a: 1}}
`,
      'geo-oslo.yaml',
    );
    const result = await runScenario(scenario, {
      resultsRoot: null,
      onEvent: (event) => {
        // The node busbench deployed takes guest/guest; the event's URL has the password redacted.
        if (event.type === 'bus-ready') url = event.url.replace(':***@', ':guest@');
        // From this machine's own namespace, as an OpenStack service elsewhere would call in, once measuring.
        if (event.type === 'phase' && event.phase === 'measure' && url) peer = startOsloPeer(['call', '--url', url, '--topic', 'busbench', '--count', '40']);
      },
    });
    assert.ok(peer, 'the oslo client was started');
    const done = await peer.waitFor((e) => e.event === 'done', 30_000);
    assert.equal(done['ok'], 40, JSON.stringify(peer.events.filter((e) => e.event === 'error').slice(0, 2)));
    const fromOslo = result.sitePairs!.bySite.filter((r) => r.role === 'server' && r.pattern === 'call-anycast' && r.from === null);
    assert.equal(
      fromOslo.reduce((sum, r) => sum + r.count, 0),
      40,
      `the oslo calls, from an unknown place: ${JSON.stringify(result.sitePairs!.bySite.filter((r) => r.role === 'server'))}`,
    );
    assert.ok(fromOslo.every((r) => r.to === 'a' || r.to === 'b'));
    // busbench's own client's calls are still attributed to site a.
    assert.ok(result.sitePairs!.bySite.some((r) => r.role === 'server' && r.from === 'a' && r.count > 0));
    assert.ok(result.sitePairs!.bySite.every((r) => r.role !== 'client' || r.from === 'a'));
    assert.deepEqual(await leftovers(), []);
  });
});
