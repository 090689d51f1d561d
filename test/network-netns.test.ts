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
});
