/** Placement of agents over worker threads and shares of the messages: pure data, no bus. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignByWeight, planWorkers, shareOf } from '../src/runner/plan.js';
import { resolveScenario } from '../src/index.js';

const driver = { kind: 'rabbitmq' as const, url: 'rabbit://guest:guest@127.0.0.1:5672/', exchange: 'openstack' };

describe('placement', () => {
  it('spreads messages over senders without losing any', () => {
    for (const [messages, senders] of [
      [10, 3],
      [7, 7],
      [3, 5],
      [20000, 50],
    ] as const) {
      let total = 0;
      for (let i = 0; i < senders; i++) total += shareOf(messages, senders, i);
      assert.equal(total, messages);
      assert.ok(shareOf(messages, senders, 0) - shareOf(messages, senders, senders - 1) <= 1);
    }
  });

  it('puts agents round-robin on workers, patterns round-robin on clients', () => {
    const scenario = resolveScenario(
      {
        name: 'p',
        bus: { kind: 'rabbitmq' },
        agents: { servers: 3, clients: 6, notifiers: 1, listeners: 1 },
        load: { patterns: ['call/unicast', 'cast/multicast'], messages: 70 },
      },
      'test',
    );
    const inits = planWorkers(scenario, { workers: 2, driver });
    assert.equal(inits.length, 2);
    assert.deepEqual(inits[0]!.servers, ['server-0', 'server-2']);
    assert.deepEqual(inits[1]!.servers, ['server-1']);
    const clients = inits.flatMap((w) => w.clients).sort((a, b) => Number(a.name.split('-')[1]) - Number(b.name.split('-')[1]));
    assert.deepEqual(
      clients.map((c) => c.routes.map((r) => r.pattern)),
      [['call-unicast'], ['cast-multicast'], ['call-unicast'], ['cast-multicast'], ['call-unicast'], ['cast-multicast']],
    );
    // Unicast clients address the servers in turn; multicast ones address none.
    assert.deepEqual(
      clients.map((c) => c.routes[0]!.server),
      ['server-0', undefined, 'server-2', undefined, 'server-1', undefined],
    );
    const quotas = [...clients.map((c) => c.quota!), ...inits.flatMap((w) => w.notifiers).map((n) => n.quota!)];
    assert.equal(
      quotas.reduce((a, b) => a + b, 0),
      70,
    );
  });

  it('never starts more workers than agents', () => {
    const scenario = resolveScenario({ bus: { kind: 'rabbitmq' }, agents: { servers: 1, clients: 1 } }, 'test');
    assert.equal(planWorkers(scenario, { workers: 8, driver }).length, 2);
  });

  it('names servers as told, and addresses servers elsewhere', () => {
    const scenario = resolveScenario({ bus: { kind: 'rabbitmq' }, agents: { servers: 1, clients: 2 }, load: { patterns: ['call/unicast'] } }, 'test');
    const inits = planWorkers(scenario, { workers: 1, driver, serverNames: ['alpha', 'beta'] });
    assert.deepEqual(inits[0]!.servers, ['alpha']);
    assert.deepEqual(
      inits[0]!.clients.map((c) => c.routes[0]!.server),
      ['alpha', 'beta'],
    );
  });

  it('splits the clients over weighted patterns in proportion, interleaved', () => {
    const scenario = resolveScenario(
      {
        bus: { kind: 'rabbitmq' },
        agents: { servers: 1, clients: 10 },
        load: {
          patterns: [
            { method: 'call', target: 'anycast', weight: 4 },
            { method: 'cast', target: 'anycast' },
          ],
        },
      },
      'test',
    );
    const clients = planWorkers(scenario, { workers: 1, driver })[0]!.clients;
    const patterns = clients.map((c) => c.routes.map((r) => r.pattern).join());
    assert.equal(patterns.filter((p) => p === 'call-anycast').length, 8);
    assert.equal(patterns.filter((p) => p === 'cast-anycast').length, 2);
    // Interleaved, not 8 then 2: a short run or a subset of clients still sees the mix.
    assert.ok(patterns.slice(0, 5).includes('cast-anycast'), patterns.join(' '));
  });

  it('gives every client every pattern with its weight when the mix is per message', () => {
    const scenario = resolveScenario(
      {
        bus: { kind: 'rabbitmq' },
        agents: { servers: 2, clients: 3 },
        load: { mix: 'messages', patterns: [{ method: 'call', target: 'unicast', weight: 3 }, 'cast/multicast'] },
      },
      'test',
    );
    const clients = planWorkers(scenario, { workers: 1, driver })[0]!.clients;
    for (const [i, client] of clients.entries()) {
      assert.deepEqual(client.routes, [
        { pattern: 'call-unicast', weight: 3, server: `server-${i % 2}` },
        { pattern: 'cast-multicast', weight: 1 },
      ]);
    }
  });

  it('assigns by weight exactly where whole slots allow', () => {
    assert.deepEqual(assignByWeight([1, 1, 1], 6), [0, 1, 2, 0, 1, 2]);
    const slots = assignByWeight([5, 3, 2], 100);
    assert.deepEqual(
      [0, 1, 2].map((i) => slots.filter((s) => s === i).length),
      [50, 30, 20],
    );
  });
});
