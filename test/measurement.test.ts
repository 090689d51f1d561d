/**
 * The measurements hold up against faults busbench injects into its own
 * agents, through a real local RabbitMQ: a server stall shows in the open
 * loop's corrected latency and not in the service time; dropped, duplicated
 * and late messages are counted exactly; a skewed worker clock is found and
 * corrected; an overloaded generator is flagged and a light one is not;
 * patterns and payload sizes drawn by weight arrive whole, every byte
 * accounted for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import type { RunResult } from '../src/index.js';
import { group, runOn } from './helpers/results.js';

describe('measurement under injected faults', { timeout: 300_000 }, () => {
  let broker: LocalRabbit;
  const run = (name: string, rest: Record<string, unknown>): Promise<RunResult> => runOn(broker.transportUrl, name, rest);

  before(async () => {
    broker = await startLocalRabbit();
  });
  after(async () => {
    await broker?.stop();
  });

  it('a server stall shows in open-loop corrected latency, not in the service time', async () => {
    const result = await run('stall', {
      agents: { servers: 1, clients: 1, topic: 'stall' },
      load: { patterns: ['call/anycast'], arrival: 'fixed', rate: 100, concurrency: 1, duration: '4s', warmup: '500ms', timeout: '5s' },
      faults: { server_stall: { at: '1500ms', for: '800ms' } },
      runner: { workers: 1 },
    });
    const calls = group(result, 'client', 'call-anycast');
    const service = calls.latency!;
    const corrected = calls.legs!.corrected!;
    assert.equal(result.loadModel.arrival, 'fixed');
    assert.equal(calls.counters.timeouts, 0);
    // About 80 of ~400 messages were due while the server stalled: the corrected p99 carries the stall…
    assert.ok(corrected.p99Us > 400_000, `corrected p99 ${corrected.p99Us} µs should show the 800 ms stall`);
    // …while only the one call that was out during the stall waited, so the service time's p99 does not.
    assert.ok(service.p99Us < 100_000, `service-time p99 ${service.p99Us} µs should not show the stall`);
    assert.ok(service.maxUs > 500_000, 'the call out during the stall did wait');
    assert.equal(corrected.count, calls.counters.ok);
  });

  it('a server that drops every tenth message yields the exact loss count', async () => {
    const result = await run('drop', {
      agents: { servers: 1, clients: 1, topic: 'drop' },
      load: { patterns: ['cast/anycast'], messages: 1000, warmup: 0 },
      faults: { drop_every: 10 },
      runner: { workers: 1 },
    });
    const account = result.delivery['cast-anycast']!;
    assert.equal(account.sent, 1000);
    assert.equal(account.lost, 100);
    assert.equal(account.delivered, 900);
    assert.equal(account.duplicated, 0);
    assert.equal(account.unexpected, 0);
    assert.equal(group(result, 'server', 'cast-anycast').counters.ok, 900);
  });

  it('counts duplicated casts and late replies exactly', async () => {
    const result = await run('dup-late', {
      agents: { servers: 1, clients: 2, topic: 'duplate' },
      load: { patterns: ['cast/anycast', 'call/anycast'], messages: 100, warmup: 0, timeout: '200ms' },
      faults: { duplicate_send_every: 7, late_reply_every: 5, late_reply_delay: '400ms' },
      runner: { workers: 1 },
    });
    const casts = result.delivery['cast-anycast']!;
    assert.equal(casts.sent, 50);
    assert.equal(casts.duplicated, 7); // floor(50 / 7)
    assert.equal(casts.lost, 0);
    const calls = group(result, 'client', 'call-anycast');
    assert.equal(calls.counters.timeouts, 10); // every fifth of 50
    assert.equal(calls.counters.ok, 40);
    assert.equal(result.lateReplies, 10);
    assert.equal(result.unmatchedReplies, 0);
    assert.equal(result.delivery['call-anycast']!.delivered, 50);
  });

  it('estimates an injected clock skew within its uncertainty and corrects one-way latency', async () => {
    const skewMs = 40;
    const result = await run('skew', {
      agents: { servers: 2, clients: 2, topic: 'skew' },
      load: { patterns: ['call/anycast'], messages: 400, warmup: '200ms' },
      faults: { clock_skew_ms: [0, skewMs] },
      runner: { workers: 2 },
    });
    const [w0, w1] = result.clocks.workers;
    assert.ok(Math.abs(w0!.offsetMs) <= w0!.uncertaintyMs + 0.5, `worker 0 offset ${w0!.offsetMs} ± ${w0!.uncertaintyMs}`);
    assert.ok(Math.abs(w1!.offsetMs - skewMs) <= w1!.uncertaintyMs + 0.5, `worker 1 offset ${w1!.offsetMs} ± ${w1!.uncertaintyMs}, injected ${skewMs}`);
    assert.ok(w1!.uncertaintyMs < 10, `uncertainty ${w1!.uncertaintyMs} ms is usable`);
    // Requests cross the workers both ways; uncorrected, half would read +40 ms and half -40 ms.
    const oneWay = group(result, 'server', 'call-anycast').latency!;
    assert.ok(oneWay.maxUs < 25_000, `corrected one-way max ${oneWay.maxUs} µs`);
    const reply = group(result, 'client', 'call-anycast').legs!.reply!;
    assert.ok(reply.maxUs < 25_000, `corrected reply one-way max ${reply.maxUs} µs`);
  });

  it('flags an overloaded generator, and not a lightly loaded one', async () => {
    // Eight clients burning 5 ms before each call: the loop idles only while all eight wait on the broker at once,
    // which a slow broker on a busy CI host made happen with two (utilization fell under 0.9).
    const overloaded = await run('burn', {
      agents: { servers: 1, clients: 8, topic: 'burn' },
      load: { patterns: ['call/anycast'], duration: '2s', warmup: '200ms' },
      faults: { client_burn: '5ms' },
      runner: { workers: 1 },
    });
    assert.equal(overloaded.generator.saturated, true);
    assert.ok(overloaded.generator.workers[0]!.utilization > 0.9);
    assert.match(overloaded.generator.reasons.join(' '), /event loop \d+(\.\d+)? % busy/);

    const light = await run('light', {
      agents: { servers: 1, clients: 1, topic: 'light' },
      load: { patterns: ['call/anycast'], arrival: 'poisson', rate: 20, duration: '2s', warmup: '200ms' },
      runner: { workers: 1 },
    });
    assert.equal(light.generator.saturated, false, light.generator.reasons.join('; '));
    assert.ok(light.generator.workers[0]!.utilization < 0.5);
  });

  it('a slow open loop sends only what falls due in the phase, and its stop does not wait for the next due time', async () => {
    // One message every 2.5 s per sender, 1 s of warm-up, 2 s measured: due at 0 s (warm-up), 2.5 s (measured)
    // and 5 s, after the phase ended at 3 s. That one is not sent, and the stop wakes the senders at once:
    // the drain is not held for the 2 s until it falls due.
    for (const [role, agents, pattern] of [
      ['client', { servers: 1, clients: 2, topic: 'slowloop' }, 'call/anycast'],
      ['notifier', { servers: 0, clients: 0, notifiers: 2, listeners: 1, topic: 'slownotes' }, undefined],
    ] as const) {
      const result = await run(`slow-${role}`, {
        agents,
        load: { ...(pattern ? { patterns: [pattern] } : {}), arrival: 'fixed', rate: 0.4, duration: '2s', warmup: '1s' },
        runner: { workers: 1 },
      });
      const sent = group(result, role, role === 'client' ? 'call-anycast' : 'notify').counters.sent;
      assert.equal(sent, 2, `${role}s: one measured message each, due at 2.5 s; ${sent} sent`);
      assert.ok(result.phases.drainMs < 1000, `${role}s: drained in ${result.phases.drainMs} ms, not held until the next due time (2 s after the stop)`);
    }
  });

  it('keeps a per-second time series of the measured phase', async () => {
    const result = await run('series', {
      agents: { servers: 1, clients: 1, topic: 'series' },
      load: { patterns: ['call/anycast'], arrival: 'fixed', rate: 50, duration: '3s', warmup: '200ms' },
      runner: { workers: 1 },
    });
    assert.ok(result.timeSeries.length >= 2, `${result.timeSeries.length} points`);
    const total = result.timeSeries.reduce((sum, point) => sum + (point.groups['client/call-anycast']?.ok ?? 0), 0);
    assert.equal(total, group(result, 'client', 'call-anycast').counters.ok);
    assert.ok(result.timeSeries.every((point) => point.groups['client/call-anycast']?.p99Us !== undefined));
  });

  it('draws patterns and sizes per message by weight, and accounts for every message and byte', async () => {
    const result = await run('mix', {
      agents: { servers: 2, clients: 3, topic: 'mix' },
      load: {
        mix: 'messages',
        patterns: [{ method: 'call', target: 'anycast', weight: 3 }, 'cast/multicast'],
        payload_bytes: [
          { bytes: 100, weight: 3 },
          { bytes: '20000B', weight: 1 },
        ],
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
