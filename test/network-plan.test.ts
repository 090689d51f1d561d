/**
 * The tc / nft plan for a 3-site matrix, checked command by command: with
 * netem (real testbeds) and without (these machines: rate on htb, loss on
 * nft, delay left to a user-space relay).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildNetworkPlan, type NetworkHost } from '../src/network/plan.js';
import type { LinkConstraint } from '../src/model/index.js';

const hosts: NetworkHost[] = [
  { name: 'a1', site: 'a', device: 'eth0', address: '10.0.1.1' },
  { name: 'b1', site: 'b', device: 'eth0', address: '10.0.2.1' },
  { name: 'b2', site: 'b', device: 'eth0', address: '10.0.2.2' },
  { name: 'c1', site: 'c', device: 'veth-c1', address: '10.0.3.1' },
];

const matrix: LinkConstraint[] = [
  { from: 'a', to: 'b', delayMs: 10, lossPercent: 1 },
  { from: 'b', to: 'a', delayMs: 10, lossPercent: 1 },
  { from: 'a', to: 'c', delayMs: 50, jitterMs: 5, rateMbit: 100 },
  { from: 'c', to: 'a', delayMs: 50, jitterMs: 5, rateMbit: 100 },
  { from: 'b', to: 'c', lossPercent: 0.5 },
];

const argv = (plan: ReturnType<typeof buildNetworkPlan>, host: string): string[] => plan.hosts.find((h) => h.host === host)!.apply.map((c) => c.argv.join(' '));

describe('network plan', () => {
  it('builds the EnOSlib htb + netem + u32 plan for a 3-site matrix', () => {
    const plan = buildNetworkPlan(hosts, matrix, { netem: true, nft: true });
    assert.deepEqual(argv(plan, 'a1'), [
      'tc qdisc replace dev eth0 root handle 1: htb default 1',
      'tc class add dev eth0 parent 1: classid 1:1 htb rate 10gbit quantum 60000',
      'tc class add dev eth0 parent 1: classid 1:10 htb rate 10gbit ceil 10gbit quantum 60000',
      'tc qdisc add dev eth0 parent 1:10 handle 10: netem delay 10ms loss 1%',
      'tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.0.2.1/32 flowid 1:10',
      'tc class add dev eth0 parent 1: classid 1:11 htb rate 10gbit ceil 10gbit quantum 60000',
      'tc qdisc add dev eth0 parent 1:11 handle 11: netem delay 10ms loss 1%',
      'tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.0.2.2/32 flowid 1:11',
      'tc class add dev eth0 parent 1: classid 1:12 htb rate 100mbit ceil 100mbit',
      'tc qdisc add dev eth0 parent 1:12 handle 12: netem delay 50ms 5ms',
      'tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.0.3.1/32 flowid 1:12',
    ]);
    // b2 constrains towards a (10 ms, 1 %) and towards c (0.5 % loss only).
    assert.deepEqual(argv(plan, 'b2'), [
      'tc qdisc replace dev eth0 root handle 1: htb default 1',
      'tc class add dev eth0 parent 1: classid 1:1 htb rate 10gbit quantum 60000',
      'tc class add dev eth0 parent 1: classid 1:10 htb rate 10gbit ceil 10gbit quantum 60000',
      'tc qdisc add dev eth0 parent 1:10 handle 10: netem delay 10ms loss 1%',
      'tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.0.1.1/32 flowid 1:10',
      'tc class add dev eth0 parent 1: classid 1:11 htb rate 10gbit ceil 10gbit quantum 60000',
      'tc qdisc add dev eth0 parent 1:11 handle 11: netem loss 0.5%',
      'tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.0.3.1/32 flowid 1:11',
    ]);
    assert.deepEqual(argv(plan, 'c1').slice(2, 4), [
      'tc class add dev veth-c1 parent 1: classid 1:10 htb rate 100mbit ceil 100mbit',
      'tc qdisc add dev veth-c1 parent 1:10 handle 10: netem delay 50ms 5ms',
    ]);
    for (const host of plan.hosts)
      assert.deepEqual(
        host.undo.map((c) => c.argv.join(' ')),
        [`tc qdisc del dev ${hosts.find((h) => h.name === host.host)!.device} root`],
      );
    assert.equal(plan.relayed.length, 0);
    assert.ok(plan.mechanisms.every((m) => (m.property === 'rate' ? m.mechanism === 'htb' : m.mechanism === 'netem')));
  });

  it('without netem: rate on htb, loss on nft, delay left to a relay, and says so', () => {
    const plan = buildNetworkPlan(hosts, matrix, { netem: false, nft: true });
    assert.deepEqual(argv(plan, 'a1'), [
      'tc qdisc replace dev eth0 root handle 1: htb default 1',
      'tc class add dev eth0 parent 1: classid 1:1 htb rate 10gbit quantum 60000',
      'tc class add dev eth0 parent 1: classid 1:10 htb rate 100mbit ceil 100mbit',
      'tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.0.3.1/32 flowid 1:10',
      'nft add table inet busbench',
      'nft add chain inet busbench output { type filter hook output priority 0 ; }',
      'nft add rule inet busbench output ip daddr 10.0.2.1 numgen random mod 1000000 < 10000 drop',
      'nft add rule inet busbench output ip daddr 10.0.2.2 numgen random mod 1000000 < 10000 drop',
    ]);
    assert.deepEqual(
      plan.hosts.find((h) => h.host === 'a1')!.undo.map((c) => c.argv.join(' ')),
      ['tc qdisc del dev eth0 root', 'nft delete table inet busbench'],
    );
    // b1 has loss only: no tc at all.
    assert.deepEqual(argv(plan, 'b1'), [
      'nft add table inet busbench',
      'nft add chain inet busbench output { type filter hook output priority 0 ; }',
      'nft add rule inet busbench output ip daddr 10.0.1.1 numgen random mod 1000000 < 10000 drop',
      'nft add rule inet busbench output ip daddr 10.0.3.1 numgen random mod 1000000 < 5000 drop',
    ]);
    assert.deepEqual(plan.relayed, [
      { from: 'a', to: 'b', delayMs: 10, jitterMs: 0 },
      { from: 'b', to: 'a', delayMs: 10, jitterMs: 0 },
      { from: 'a', to: 'c', delayMs: 50, jitterMs: 5 },
      { from: 'c', to: 'a', delayMs: 50, jitterMs: 5 },
    ]);
    const mechanism = (from: string, to: string, property: string): string | undefined =>
      plan.mechanisms.find((m) => m.from === from && m.to === to && m.property === property)?.mechanism;
    assert.equal(mechanism('a', 'b', 'loss'), 'nft');
    assert.equal(mechanism('a', 'b', 'delay'), 'userspace-relay');
    assert.equal(mechanism('a', 'c', 'rate'), 'htb');
    assert.equal(mechanism('a', 'c', 'jitter'), 'userspace-relay');
  });

  it('refuses values it would otherwise paste into a command, naming the field', () => {
    const plan = (h: NetworkHost[], c: LinkConstraint[]): unknown => buildNetworkPlan(h, c, { netem: true, nft: true });
    assert.throws(() => plan([{ ...hosts[0]!, device: 'eth0; reboot' }], []), /host a1: device "eth0; reboot" is not an interface name/);
    assert.throws(() => plan([{ ...hosts[0]!, address: '10.0.0.300' }], []), /host a1: address "10.0.0.300" is not an IPv4 address/);
    assert.throws(() => plan(hosts, [{ from: 'a', to: 'x', delayMs: 1 }]), /link a → x: both ends must be sites with hosts/);
    assert.throws(() => plan(hosts, [{ from: 'a', to: 'b', lossPercent: 101 }]), /link a → b: loss \(%\) must be between 0 and 100, got 101/);
    assert.throws(() => plan(hosts, [{ from: 'a', to: 'b', jitterMs: 3 }]), /jitter varies a delay; give delay too/);
    assert.throws(() => plan(hosts, [matrix[0]!, matrix[0]!]), /link a → b is constrained twice/);
    assert.throws(() => buildNetworkPlan(hosts, [matrix[0]!], { netem: false, nft: false }), /loss needs netem or nft, and this kernel has neither/);
  });
});
