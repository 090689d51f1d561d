/**
 * The user-space delay relay (for kernels without netem): round trips
 * through it take at least both one-way delays, a stream arrives whole and
 * in order under jitter, and a peer's reset reaches the other side.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startDelayRelay } from '../src/network/delay-relay.js';

describe('delay relay', { timeout: 60_000 }, () => {
  let echo: Server;
  let echoPort: number;
  before(async () => {
    echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => echo.close(() => resolve())));

  const open = (port: number): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(socket));
      socket.once('error', reject);
    });

  it('delays each direction by its own one-way delay', async () => {
    const relay = await startDelayRelay({ targetHost: '127.0.0.1', targetPort: echoPort, forwardDelayMs: 30, backwardDelayMs: 10 });
    try {
      const socket = await open(relay.port);
      const rtts: number[] = [];
      for (let i = 0; i < 10; i++) {
        const started = performance.now();
        socket.write('ping');
        await new Promise((resolve) => socket.once('data', resolve));
        rtts.push(performance.now() - started);
      }
      socket.destroy();
      // Never quicker than both delays; the median not far above them (timers have ms granularity).
      for (const rtt of rtts) assert.ok(rtt >= 39.5, `round trip ${rtt.toFixed(1)} ms is below the 40 ms of delay`);
      const median = [...rtts].sort((a, b) => a - b)[5]!;
      assert.ok(median < 40 + 40, `median round trip ${median.toFixed(1)} ms`);
      assert.equal(relay.stats.connections, 1);
      assert.equal(relay.stats.forwardBytes, 40);
      assert.equal(relay.stats.backwardBytes, 40);
    } finally {
      await relay.stop();
    }
  });

  it('keeps a stream whole and in order under jitter', async () => {
    const relay = await startDelayRelay({
      targetHost: '127.0.0.1',
      targetPort: echoPort,
      forwardDelayMs: 5,
      backwardDelayMs: 5,
      jitterMs: 5,
      maxHeldBytes: 64 * 1024,
    });
    try {
      const socket = await open(relay.port);
      const sent = randomBytes(2 * 1024 * 1024);
      const received: Buffer[] = [];
      let length = 0;
      const whole = new Promise<void>((resolve) =>
        socket.on('data', (chunk: Buffer) => {
          received.push(chunk);
          length += chunk.length;
          if (length >= sent.length) resolve();
        }),
      );
      for (let offset = 0; offset < sent.length; offset += 16 * 1024) socket.write(sent.subarray(offset, offset + 16 * 1024));
      await whole;
      socket.destroy();
      assert.ok(Buffer.concat(received).equals(sent), 'the echoed stream differs from what was sent');
    } finally {
      await relay.stop();
    }
  });

  it('delivers what is held after the sender half-closes', async () => {
    const relay = await startDelayRelay({ targetHost: '127.0.0.1', targetPort: echoPort, forwardDelayMs: 20, backwardDelayMs: 20 });
    try {
      const socket = connect({ host: '127.0.0.1', port: relay.port, allowHalfOpen: true });
      await new Promise((resolve) => socket.once('connect', resolve));
      let echoed = '';
      socket.on('data', (chunk: Buffer) => (echoed += chunk.toString()));
      const ended = new Promise((resolve) => socket.once('end', resolve));
      socket.end('last words');
      await ended;
      assert.equal(echoed, 'last words');
      socket.destroy();
    } finally {
      await relay.stop();
    }
  });

  it('passes a refused upstream on as a closed connection', async () => {
    const unused = createServer();
    await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
    const deadPort = (unused.address() as AddressInfo).port;
    await new Promise<void>((resolve) => unused.close(() => resolve()));
    const relay = await startDelayRelay({ targetHost: '127.0.0.1', targetPort: deadPort, forwardDelayMs: 1, backwardDelayMs: 1 });
    try {
      const socket = await open(relay.port);
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      assert.equal(socket.destroyed, true);
    } finally {
      await relay.stop();
    }
  });
});
