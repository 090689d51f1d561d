/**
 * Per site pair figures: what two workers on different hosts record, merged
 * by host and by site as the coordinator does, and the console's matrix.
 * The end-to-end check (real agents on three sites) is in geo-netns.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeHistogram } from '../src/metrics/histogram.js';
import { SitePairRecorder } from '../src/metrics/site-pairs.js';
import { PATTERN_INDEX } from '../src/metrics/stats.js';
import type { RunResult } from '../src/model/index.js';
import { sitePairLines } from '../src/report/site-pairs-summary.js';
import { callLocality, mergeSitePairs, siteHops, unicastPaths } from '../src/results/site-pairs.js';

const ANYCAST = PATTERN_INDEX['call-anycast'];
/** a ↔ b: 20 ms each way */
const LINKS = [
  { from: 'a', to: 'b', delayMs: 20 },
  { from: 'b', to: 'a', delayMs: 20 },
];
const MULTICAST = PATTERN_INDEX['cast-multicast'];

describe('site pairs', () => {
  // Hosts a-1 and a-2 on site a, b-1 on site b.
  const siteOf = new Map([
    ['a-1', 'a'],
    ['a-2', 'a'],
    ['b-1', 'b'],
  ]);

  function recorded() {
    const onA1 = new SitePairRecorder('a-1');
    const onA2 = new SitePairRecorder('a-2');
    const onB1 = new SitePairRecorder('b-1');
    // Clients on a-1: 3 calls answered in their own site (a-2), 2 across (b-1, 40 ms further).
    for (let i = 0; i < 3; i++) onA1.answered(ANYCAST, 'a-2', 1 + i, 0.5);
    for (let i = 0; i < 2; i++) onA1.answered(ANYCAST, 'b-1', 41 + i, 20);
    // An oslo server answered one (its reply carries no stamp).
    onA1.answered(ANYCAST, null, 5, undefined);
    // The servers' side of the same calls, and a multicast cast from b-1 that reached both a hosts and b-1.
    for (let i = 0; i < 3; i++) onA2.received('server', ANYCAST, 'a-1', 0.5);
    for (let i = 0; i < 2; i++) onB1.received('server', ANYCAST, 'a-1', 20);
    for (const receiver of [onA1, onA2, onB1]) receiver.received('server', MULTICAST, 'b-1', 10);
    // An oslo client's call, which carries no host.
    onB1.received('server', ANYCAST, null, undefined);
    return [...onA1.export(), ...onA2.export(), ...onB1.export()];
  }

  it('merges the workers by host and by site, counts adding up, unstamped ends kept as unknown', () => {
    const pairs = mergeSitePairs(recorded(), siteOf, 2000, LINKS);
    const find = (rows: typeof pairs.bySite, role: string, pattern: string, from: string | null, to: string | null) =>
      rows.find((r) => r.role === role && r.pattern === pattern && r.from === from && r.to === to);

    const inSite = find(pairs.bySite, 'client', 'call-anycast', 'a', 'a')!;
    assert.equal(inSite.count, 3);
    assert.equal(inSite.throughputPerSec, 1.5);
    assert.equal(inSite.legs.roundTrip!.count, 3);
    assert.ok(inSite.legs.roundTrip!.maxUs < 3_100, `in-site round trips are 1–3 ms, max ${inSite.legs.roundTrip!.maxUs} µs`);
    assert.equal(inSite.legs.reply!.p50Us, 500);
    const across = find(pairs.bySite, 'client', 'call-anycast', 'a', 'b')!;
    assert.equal(across.count, 2);
    assert.ok(across.legs.roundTrip!.minUs >= 40_900);
    // The reply leg is kept with its histogram, mergeable later.
    assert.equal(decodeHistogram(across.legs.reply!.histogram).totalCount, 2);
    const unstampedReply = find(pairs.bySite, 'client', 'call-anycast', 'a', null)!;
    assert.equal(unstampedReply.count, 1);
    assert.equal(unstampedReply.legs.reply, undefined);

    // Every call the clients had answered is in exactly one client row.
    const clientRows = pairs.bySite.filter((r) => r.role === 'client');
    assert.equal(
      clientRows.reduce((sum, r) => sum + r.count, 0),
      6,
    );
    // Servers: by host the two in-site receivers stay apart, by site they merge.
    assert.equal(find(pairs.byHost, 'server', 'call-anycast', 'a-1', 'a-2')!.count, 3);
    assert.equal(find(pairs.bySite, 'server', 'call-anycast', 'a', 'a')!.count, 3);
    // HDR keeps 3 significant digits: 20 ms reads back within 0.1 %.
    assert.ok(Math.abs(find(pairs.bySite, 'server', 'call-anycast', 'a', 'b')!.legs.request!.p50Us - 20_000) <= 20);
    assert.equal(find(pairs.bySite, 'server', 'call-anycast', null, 'b')!.count, 1);
    // A multicast cast counts once per receiver: b → a twice (a-1 and a-2), b → b once.
    assert.equal(find(pairs.bySite, 'server', 'cast-multicast', 'b', 'a')!.count, 2);
    assert.equal(find(pairs.bySite, 'server', 'cast-multicast', 'b', 'b')!.count, 1);
    assert.equal(find(pairs.byHost, 'server', 'cast-multicast', 'b-1', 'a-1')!.count, 1);
    assert.match(pairs.note, /multicast cast once per receiver/);
    // Locality: of a's 5 calls answered by a known site, 3 stayed in a; the unstamped one is apart.
    const fromA = pairs.locality.find((l) => l.pattern === 'call-anycast' && l.callerSite === 'a')!;
    // Configured delay: 3 calls in a (0 ms), 2 to b (20 ms each way): 80 ms over 5 calls.
    assert.deepEqual(fromA, {
      pattern: 'call-anycast',
      callerSite: 'a',
      calls: 5,
      ownSite: 0.6,
      otherSite: 0.4,
      oneHop: 0.4,
      fartherHops: 0,
      unknownSite: 1,
      meanConfiguredDelayMs: 16,
    });
    assert.equal(pairs.locality.find((l) => l.callerSite === 'all')!.calls, 5);
  });

  it('counts hops along the links, a site no chain of links reaches being one hop away', () => {
    const hops = siteHops([
      { from: 'a', to: 'b' },
      { from: 'c', to: 'b' },
      { from: 'c', to: 'd' },
    ]);
    assert.deepEqual(
      ['a', 'b', 'c', 'd', 'e'].map((to) => hops('a', to)),
      [0, 1, 2, 3, 1],
    );
    assert.equal(siteHops([])('a', 'b'), 1);
    // Calls from a: 2 answered in a, 1 in b (one hop), 1 in c (two hops).
    const row = (to: string, count: number) => ({ role: 'client', pattern: 'call-anycast', from: 'a', to, count, throughputPerSec: 0, legs: {} }) as const;
    const [fromA] = callLocality([row('a', 2), row('b', 1), row('c', 1)], () => 0, hops);
    assert.deepEqual([fromA!.ownSite, fromA!.oneHop, fromA!.fartherHops, fromA!.otherSite], [0.5, 0.25, 0.25, 0.5]);
  });

  it("gives each unicast call's path: along a mesh's links, and through its queue's site when that is known", () => {
    const row = (from: string, to: string, count: number) =>
      ({ role: 'client', pattern: 'call-unicast', from, to, count, throughputPerSec: 0, legs: {} }) as const;
    const hosts = new Map([
      ['a-1', 'a'],
      ['b-1', 'b'],
      ['c-1', 'c'],
    ]);
    const rows = [row('a-1', 'c-1', 3), row('a-1', 'a-1', 2), row('b-1', 'c-1', 1)];
    // A chain a–b–c: a's calls to c cross b.
    assert.deepEqual(
      unicastPaths(rows, hosts, {
        siteEdges: [
          ['a', 'b'],
          ['b', 'c'],
        ],
      }).map((p) => [p.sites.join(' '), p.calls]),
      [
        ['a', 2],
        ['a b c', 3],
        ['b c', 1],
      ],
    );
    // A cluster, every node reaching every other: a's calls to its own site's server whose queue is on c go to c and back.
    const viaQueue = unicastPaths(rows, hosts, { queueSiteOfHost: () => 'c' });
    assert.deepEqual(
      viaQueue.map((p) => [p.sites.join(' '), p.queueSite, p.calls]),
      [
        ['a c a', 'c', 2],
        ['a c', 'c', 3],
        ['b c', 'c', 1],
      ],
    );
    // Casts and calls answered by an unknown host have no path.
    assert.deepEqual(unicastPaths([{ ...row('a-1', 'c-1', 1), to: null }], hosts), []);
  });

  it('prints a site × site matrix per role and pattern with the share that stayed in its own site', () => {
    const sitePairs = mergeSitePairs(recorded(), siteOf, 2000, LINKS);
    const result = {
      sitePairs,
      topology: {
        sites: [
          { name: 'a', hosts: 2 },
          { name: 'b', hosts: 1 },
        ],
        busSites: ['a', 'b'],
        network: { mechanisms: [{ from: 'a', to: 'b', property: 'delay', value: 20, mechanism: 'userspace-relay' }] },
      },
    } as unknown as RunResult;
    const text = sitePairLines(result).join('\n');
    assert.match(text, /where messages went, by site/);
    assert.match(text, /call-anycast calls answered, caller's site → answering server's site/);
    // Calls from a: 3 of the 5 answered by a server of known site stayed in a (a sixth was answered by an unstamped server).
    const callRow = text.split('\n').find((line) => /^│ a /.test(line))!;
    assert.match(callRow, /3 · 2\.00/);
    assert.match(callRow, /2 · 41\.0/);
    assert.match(callRow, /60\.0 %/);
    assert.match(text, /\(unstamped\)/);
    assert.match(text, /delay here is added in user space on the agents' connections to their bus node, not between bus nodes/);
    const relayed = {
      ...result,
      topology: {
        ...result.topology!,
        network: { ...result.topology!.network!, busLinks: [{ what: 'Erlang distribution' }, { what: 'Erlang distribution' }] },
      },
    } as unknown as RunResult;
    assert.match(sitePairLines(relayed).join('\n'), /and on 2 of the bus's own connections between sites, Erlang distribution\)/);
    assert.match(text, /cast-multicast received at servers/);
    assert.match(
      text,
      /locality of call-anycast calls: 60\.0 % answered in the caller's own site \(a 60\.0 %\), 40\.0 % in another \(40\.0 % one hop away\); 16\.0 ms of configured delay between caller's and server's site, both ways, on average; 1 answered by servers that stamp no host/,
    );
    assert.deepEqual(sitePairLines({ groups: [] } as unknown as RunResult), []);
  });
});
