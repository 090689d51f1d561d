/**
 * Network constraints on real namespaces: three sites, the plan this
 * kernel can carry applied (loss with nft, rate with htb; this kernel has
 * no netem), the loss measured with ping from the namespaces, and nothing
 * left behind afterwards: no qdisc, no nft table, no namespace.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { applyNetworkPlan, detectKernel, namespaceExecutor } from '../src/network/apply.js';
import { createSiteNamespaces } from '../src/network/netns-sites.js';
import { buildNetworkPlan } from '../src/network/plan.js';
import { redirectCommands, relayBusLinks } from '../src/network/bus-link-relays.js';
import { cutCommands } from '../src/network/cuts.js';

const run = promisify(execFile);

async function pingLoss(namespace: string, address: string, count: number): Promise<number> {
  // ping exits 1 when some replies are missing: read its summary either way.
  const { stdout } = await run('ip', ['netns', 'exec', namespace, 'ping', '-c', String(count), '-i', '0.005', '-W', '1', '-q', address]).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  const match = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
  assert.ok(match, `no ping summary in: ${stdout}`);
  return 1 - Number(match[2]) / Number(match[1]);
}

async function namespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter(Boolean);
}

/**
 * Round trips of a 1-byte ping over one TCP connection dialed from `namespace` to address:port,
 * in a node of its own there: the milliseconds of each, or "timeout" when it cannot connect.
 */
async function tcpRoundTrips(namespace: string, address: string, port: number, count: number): Promise<number[] | 'timeout'> {
  const script = `
    const s = require('node:net').connect({ host: ${JSON.stringify(address)}, port: ${port}, noDelay: true, timeout: 1500 });
    const times = []; let sentAt = 0;
    s.on('timeout', () => { console.log('"timeout"'); process.exit(0); });
    s.on('error', (e) => { console.log(JSON.stringify(e.code)); process.exit(0); });
    const ping = () => { sentAt = performance.now(); s.write('x'); };
    s.on('connect', () => { s.setTimeout(0); ping(); });
    s.on('data', () => { times.push(performance.now() - sentAt); if (times.length < ${count}) ping(); else { console.log(JSON.stringify(times)); s.end(); } });`;
  const { stdout } = await run('ip', ['netns', 'exec', namespace, process.execPath, '-e', script]);
  return JSON.parse(stdout) as number[] | 'timeout';
}

describe('network constraints in namespaces', { timeout: 120_000 }, () => {
  it('applies loss between sites as planned, measures it, and removes every trace', async () => {
    const kernel = await detectKernel();
    const sites = await createSiteNamespaces(
      [
        { site: 'a', hosts: 1 },
        { site: 'b', hosts: 1 },
        { site: 'c', hosts: 1 },
      ],
      `t${process.pid % 100000}`,
    );
    try {
      const ns = (name: string): string => sites.hosts.find((h) => h.name === name)!.namespace;
      const address = (name: string): string => sites.hosts.find((h) => h.name === name)!.address;
      const plan = buildNetworkPlan(
        sites.hosts,
        [
          { from: 'a', to: 'b', lossPercent: 25 },
          { from: 'a', to: 'c', rateMbit: 5 },
        ],
        kernel,
      );
      const applied = await applyNetworkPlan(
        plan,
        namespaceExecutor((host) => ns(host)),
      );
      // Echo requests from a to b lose 25 %: binomial over 400, sd ~2.2 %, so 25 ± 9 % is four sd.
      const ab = await pingLoss(ns('a-1'), address('b-1'), 400);
      assert.ok(ab > 0.16 && ab < 0.34, `loss a → b ${(ab * 100).toFixed(1)} %, planned 25 %`);
      // Unconstrained directions are untouched.
      assert.equal(await pingLoss(ns('b-1'), address('c-1'), 50), 0);
      assert.equal(await pingLoss(ns('a-1'), address('c-1'), 50), 0, 'rate alone drops no pings');
      const { stdout: qdiscs } = await run('ip', ['netns', 'exec', ns('a-1'), 'tc', 'qdisc', 'show', 'dev', 'eth0']);
      assert.match(qdiscs, /htb 1: root/);
      const { failures } = await applied.remove();
      assert.deepEqual(failures, []);
      const { stdout: after } = await run('ip', ['netns', 'exec', ns('a-1'), 'tc', 'qdisc', 'show', 'dev', 'eth0']);
      assert.doesNotMatch(after, /htb/);
      const { stdout: tables } = await run('ip', ['netns', 'exec', ns('a-1'), 'nft', 'list', 'tables']);
      assert.doesNotMatch(tables, /busbench/);
      assert.equal(await pingLoss(ns('a-1'), address('b-1'), 50), 0, 'loss gone with the plan');
      // The mechanism for each part is on record: this kernel's, or netem's on a testbed.
      const loss = plan.mechanisms.find((m) => m.property === 'loss')!;
      assert.equal(loss.mechanism, kernel.netem ? 'netem' : 'nft');
    } finally {
      await sites.destroy();
    }
    assert.deepEqual(
      (await namespaces()).filter((name) => name.startsWith(`busbench-t${process.pid % 100000}-`)),
      [],
    );
  });

  it("puts a bus node's connection to another site through a delay relay, which a cut still stops, and takes the redirect away", async () => {
    assert.throws(() => redirectCommands({ address: '10.0.0.1; reboot', port: 1 }, { address: '10.200.0.254', port: 2 }, true), /not an IPv4 address/);
    assert.throws(() => redirectCommands({ address: '10.0.0.1', port: 70_000 }, { address: '10.200.0.254', port: 2 }, false), /port must be/);
    const tag = `r${process.pid % 100000}`;
    const sites = await createSiteNamespaces(
      [
        { site: 'a', hosts: 1 },
        { site: 'b', hosts: 1 },
      ],
      tag,
      { gateway: true },
    );
    const ns = (name: string): string => sites.hosts.find((h) => h.name === name)!.namespace;
    const b = sites.hosts.find((h) => h.name === 'b-1')!;
    // An echo server in b, as a bus node's listener.
    const echo = execFile('ip', [
      'netns',
      'exec',
      ns('b-1'),
      process.execPath,
      '-e',
      `require('node:net').createServer({ noDelay: true }, (c) => c.pipe(c)).listen(7100, '${b.address}', () => console.log('up'))`,
    ]);
    try {
      await new Promise<void>((resolve, reject) => {
        echo.stdout!.once('data', () => resolve());
        echo.once('exit', (code) => reject(new Error(`echo server exited ${code}`)));
      });
      const direct = await tcpRoundTrips(ns('a-1'), b.address, 7100, 5);
      assert.ok(Array.isArray(direct) && Math.max(...direct) < 20, `direct round trips ${JSON.stringify(direct)} ms`);
      const runIn = (host: string, argv: string[]): Promise<string> => run('ip', ['netns', 'exec', ns(host), ...argv]).then((r) => r.stdout);
      const relays = await relayBusLinks([{ from: 'a', fromHost: 'a-1', to: 'b', address: b.address, port: 7100, what: 'test link' }], {
        relayed: [
          { from: 'a', to: 'b', delayMs: 30, jitterMs: 0 },
          { from: 'b', to: 'a', delayMs: 10, jitterMs: 0 },
        ],
        gateway: sites.gatewayAddress!,
        run: runIn,
      });
      try {
        assert.equal(relays.relayed.length, 1);
        assert.equal(relays.relayed[0]!.via.split(':')[0], sites.gatewayAddress);
        // Dialed to b's own address and port, as the node would: 30 ms there, 10 ms back.
        const relayed = await tcpRoundTrips(ns('a-1'), b.address, 7100, 5);
        assert.ok(Array.isArray(relayed) && Math.min(...relayed) >= 39, `relayed round trips ${JSON.stringify(relayed)} ms`);
        assert.equal(relays.relayed[0]!.stats.connections, 1);
        assert.equal(relays.relayed[0]!.stats.forwardBytes, 5);
        // A cut between a and b silences the relayed connection too, though it goes to the gateway.
        const cut = cutCommands(sites.hosts, [['a', 'b']], 'busbench_cut_t')[0]!;
        for (const c of cut.apply) await runIn(cut.host, c.argv);
        assert.equal(await tcpRoundTrips(ns('a-1'), b.address, 7100, 1), 'timeout');
        for (const c of cut.undo) await runIn(cut.host, c.argv);
      } finally {
        await relays.stop();
      }
      const { stdout: tables } = await run('ip', ['netns', 'exec', ns('a-1'), 'nft', 'list', 'tables']);
      assert.doesNotMatch(tables, /busbench_links/, 'the redirect went with the relays');
      const after = await tcpRoundTrips(ns('a-1'), b.address, 7100, 3);
      assert.ok(Array.isArray(after) && Math.max(...after) < 20, `direct again: ${JSON.stringify(after)} ms`);
    } finally {
      echo.kill();
      await sites.destroy();
    }
  });
});
