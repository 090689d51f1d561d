/**
 * Every bus connection turns Nagle's algorithm off, also one that only
 * sends (a caster, a notifier): with it on, a small message written while
 * an earlier one is unacknowledged waits for the peer's delayed ACK. The
 * state is read from each TCP socket to the broker, as Node applied it to
 * the socket's handle. rhea's option is tcp_no_delay; it used to be given
 * noDelay, which rhea ignores, and then rhea turned Nagle off only when a
 * receiver attached — so a sender-only connection kept it on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Socket } from 'node:net';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { createDriver, type BusDriver } from '../src/index.js';

/** Node records what setNoDelay gave the handle under this symbol (lib/net.js); absent or false: Nagle on. */
function noDelayOf(socket: Socket): boolean | undefined {
  const symbol = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kSetNoDelay');
  assert.ok(symbol, "this Node keeps a socket's no-delay state under kSetNoDelay");
  return (socket as unknown as Record<symbol, boolean | undefined>)[symbol];
}

/** This process's open TCP sockets to `port`. */
function socketsTo(port: number): Socket[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h): h is Socket => typeof (h as Socket).remotePort === 'number' && (h as Socket).remotePort === port);
}

describe('Nagle is off on every bus connection', { timeout: 120_000 }, () => {
  let broker: LocalRabbit;
  before(async () => {
    broker = await startLocalRabbit({ plugins: ['rabbitmq_amqp1_0'] });
  });
  after(async () => {
    await broker?.stop();
  });

  for (const kind of ['amqp1', 'rabbitmq'] as const) {
    it(`${kind}: a connection that only casts and notifies`, async () => {
      const url = kind === 'amqp1' ? broker.amqp1Url : broker.transportUrl;
      const port = Number(new URL(url.replace(/^rabbit:/, 'amqp:')).port);
      const driver: BusDriver = createDriver({ kind, url, exchange: 'openstack' });
      // RabbitMQ's AMQP 1.0 plugin listens on the AMQP port: the sockets this connection added are its own.
      const before = new Set(socketsTo(port));
      const connection = await driver.connect({ name: `nagle-${kind}` });
      try {
        await connection.cast({ topic: 'nagle' }, 'bench', { payload: 'x' }, {});
        await connection.notify('nagle_notifications', 'info', 'nagle.test', {}, {}, 'nagle');
        const sockets = socketsTo(port).filter((s) => !before.has(s));
        assert.equal(sockets.length, 1, `one connection to the broker's ${kind} port`);
        assert.equal(noDelayOf(sockets[0]!), true, 'TCP_NODELAY set on the socket');
      } finally {
        await connection.close();
        await driver.close();
      }
    });
  }
});
