/**
 * Payload sizes and pattern mixes through a real local RabbitMQ: every
 * client draws each message's pattern and size by weight, and every message
 * and byte is accounted for at the receivers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLocalRabbit, type LocalRabbit } from '../deploy/rabbitmq-local.js';
import type { RunResult } from '../src/results/model.js';
import { group } from './helpers/results.js';
import { runScenario } from '../src/runner/run.js';
import { resolveScenario } from '../src/scenario/load.js';

describe('payload sizes and pattern mixes', { timeout: 180_000 }, () => {
  let broker: LocalRabbit;
  const run = (name: string, rest: Record<string, unknown>): Promise<RunResult> =>
    runScenario(resolveScenario({ name, bus: { kind: 'rabbitmq', url: broker.transportUrl }, ...rest }, `test/${name}`), { resultsRoot: null });

  before(async () => {
    broker = await startLocalRabbit();
  });
  after(async () => {
    await broker?.stop();
  });

  it('draws patterns and sizes per message by weight, and accounts for every message and byte', async () => {
    const result = await run('mix', {
      agents: { servers: 2, clients: 3, topic: 'mix' },
      load: {
        mix: 'messages',
        patterns: [{ method: 'call', target: 'anycast', weight: 3 }, 'cast/multicast'],
        payload_bytes: [{ bytes: 100, weight: 3 }, { bytes: '20000B', weight: 1 }],
        messages: 1200,
        warmup: '200ms',
      },
      runner: { workers: 2 },
    });
    const calls = result.delivery['call-anycast']!;
    const casts = result.delivery['cast-multicast']!;
    assert.equal(calls.sent + casts.sent, 1200);
    // Binomial(1200, 3/4): mean 900, sigma 15.
    assert.ok(Math.abs(calls.sent - 900) < 75, `${calls.sent} calls of 1200 messages, expected about 900`);
    for (const account of [calls, casts]) {
      assert.equal(account.lost, 0);
      assert.equal(account.duplicated, 0);
      assert.equal(account.unexpected, 0);
    }
    assert.equal(casts.complete, casts.sent, 'every multicast reached both servers');

    const clientCalls = group(result, 'client', 'call-anycast').counters;
    const clientCasts = group(result, 'client', 'cast-multicast').counters;
    // Every byte sent arrived: once per call, at both servers per multicast.
    assert.equal(group(result, 'server', 'call-anycast').counters.bytes, clientCalls.bytes);
    assert.equal(group(result, 'server', 'cast-multicast').counters.bytes, 2 * clientCasts.bytes);
    // Sizes are 100 or 20000 B at 3:1, mean 5075 B; per-message sd ~8.6 KB, so ±1500 B is over five standard errors.
    for (const counters of [clientCalls, clientCasts]) {
      const mean = counters.bytes / counters.sent;
      assert.ok(Math.abs(mean - 5075) < (counters === clientCalls ? 1500 : 2600), `mean payload ${mean} B`);
      assert.equal((counters.bytes - 100 * counters.sent) % 19_900, 0, `${counters.bytes} B are not made of 100 B and 20000 B messages`);
    }
    assert.match(result.loadModel.description, /payload 100 B ×3, 20000 B ×1/);
  });
});
