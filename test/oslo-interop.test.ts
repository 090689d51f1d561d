/**
 * Interop with the real oslo.messaging (Debian python3-oslo.messaging),
 * both ways, through a real RabbitMQ: a Python RPC client calls, casts and
 * fans out to busbench servers; a busbench client calls a Python server;
 * notifications cross in both directions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { spawnSync } from 'node:child_process';
import { findRouter, ROUTER_MISSING_HELP, startLocalMesh, type LocalMesh } from '../src/buses/amqp1/router/local.js';
import { RemoteError, type BusConnection, type BusDriver, type Delivery, type IncomingNotification } from '../src/index.js';
import { createDriver } from '../src/index.js';
import { RabbitDriver } from '../src/buses/rabbitmq/driver.js';
import { OSLO_PYTHON, osloAvailable, startOsloPeer, type OsloPeer, type PeerEvent } from './helpers/oslo-peer.js';
import { until } from './helpers/wait.js';
import { suite } from './helpers/suite.js';

interface Received {
  server: string;
  method: string;
  seq: number;
  isCall: boolean;
  via: Delivery;
  context: Record<string, unknown>;
}

/** Run a one-shot peer command to its end and return its events. */
async function runPeer(args: string[]): Promise<PeerEvent[]> {
  const peer = startOsloPeer(args);
  await peer.waitFor((e) => e.event === 'done', 60_000);
  assert.equal(await peer.exited, 0);
  return peer.events;
}

const skip = osloAvailable() ? false : 'python3-oslo.messaging is not installed (apt-get install python3-oslo.messaging)';

suite('oslo.messaging interop over RabbitMQ', { timeout: 300_000, skip }, () => {
  let broker: LocalRabbit;
  let driver: RabbitDriver;
  const connections: BusConnection[] = [];
  const peers: OsloPeer[] = [];

  before(async () => {
    broker = await startLocalRabbit();
    driver = new RabbitDriver({ url: broker.transportUrl, exchange: 'openstack' });
  });
  after(async () => {
    for (const peer of peers) await peer.stop();
    for (const connection of connections) await connection.close();
    await driver?.close();
    await broker?.stop();
  });

  async function connect(name: string): Promise<BusConnection> {
    const connection = await driver.connect({ name });
    connections.push(connection);
    return connection;
  }

  describe('a Python oslo client and busbench servers', () => {
    const received: Received[] = [];
    const servers = ['bb-0', 'bb-1'];
    const url = (): string => broker.transportUrl;

    before(async () => {
      for (const server of servers) {
        const connection = await connect(server);
        await connection.serve({ topic: 'interop', server }, (request) => {
          received.push({
            server,
            method: request.method,
            seq: request.args['seq'] as number,
            isCall: request.isCall,
            via: request.via,
            context: request.context,
          });
          if (request.method === 'fail') throw new Error('requested failure');
          return { server, seq: request.args['seq'] };
        });
      }
    });

    it('anycast calls get replies from one of the servers', async () => {
      received.length = 0;
      const events = await runPeer(['call', '--url', url(), '--topic', 'interop', '--count', '6']);
      const replies = events.filter((e) => e.event === 'reply');
      assert.equal(replies.length, 6, JSON.stringify(events));
      for (const reply of replies) {
        const result = reply['result'] as { server: string; seq: number };
        assert.ok(servers.includes(result.server));
        assert.equal(result.seq, reply['seq']);
      }
      assert.equal(received.length, 6);
      assert.ok(received.every((r) => r.via === 'anycast' && r.isCall && r.method === 'bench'));
      assert.equal(received[0]!.context['peer'], 'python', 'the oslo context arrives unflattened');
    });

    it('unicast calls reach only the named server', async () => {
      received.length = 0;
      const events = await runPeer(['call', '--url', url(), '--topic', 'interop', '--server', 'bb-1', '--count', '3']);
      assert.deepEqual(
        events.filter((e) => e.event === 'reply').map((e) => (e['result'] as { server: string }).server),
        ['bb-1', 'bb-1', 'bb-1'],
      );
      assert.ok(received.length === 3 && received.every((r) => r.server === 'bb-1' && r.via === 'unicast'));
    });

    it('casts are delivered once, fanout casts to every server', async () => {
      received.length = 0;
      await runPeer(['call', '--url', url(), '--topic', 'interop', '--cast', '--count', '4']);
      await until(() => received.length >= 4);
      assert.ok(received.every((r) => !r.isCall && r.via === 'anycast'));
      received.length = 0;
      await runPeer(['call', '--url', url(), '--topic', 'interop', '--fanout', '--count', '2']);
      await until(() => received.length >= 4);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(received.length, 4);
      for (const server of servers) {
        assert.deepEqual(
          received
            .filter((r) => r.server === server)
            .map((r) => r.seq)
            .sort(),
          [0, 1],
        );
      }
      assert.ok(received.every((r) => r.via === 'multicast' && !r.isCall));
    });

    it('a busbench server failure raises in the Python caller', async () => {
      const events = await runPeer(['call', '--url', url(), '--topic', 'interop', '--method', 'fail', '--count', '1']);
      const error = events.find((e) => e.event === 'error');
      assert.ok(error, JSON.stringify(events));
      assert.match(String(error['message']), /requested failure/);
      assert.notEqual(error['class'], 'MessagingTimeout', 'the failure reply arrived instead of a timeout');
    });
  });

  describe('a busbench client and a Python oslo server', () => {
    let server: OsloPeer;
    let client: BusConnection;

    before(async () => {
      server = startOsloPeer(['serve', '--url', broker.transportUrl, '--topic', 'pyserve', '--server', 'py-1']);
      peers.push(server);
      await server.waitFor((e) => e.event === 'ready', 60_000);
      client = await connect('bb-client');
    });

    it('calls (anycast and unicast) get the Python server result', async () => {
      assert.deepEqual(await client.call({ topic: 'pyserve' }, 'bench', { seq: 1 }, { request_id: 'req-a' }, 10_000), { server: 'py-1', seq: 1 });
      assert.deepEqual(await client.call({ topic: 'pyserve', server: 'py-1' }, 'bench', { seq: 2 }, {}, 10_000), { server: 'py-1', seq: 2 });
      assert.deepEqual(await client.call({ topic: 'pyserve' }, 'echo', { a: [1, 'two'], seq: 3 }, {}, 10_000), { a: [1, 'two'], seq: 3 });
      const first = await server.waitFor((e) => e.event === 'received' && (e['args'] as { seq: number }).seq === 1);
      assert.equal((first['context'] as Record<string, unknown>)['request_id'], 'req-a');
    });

    it('casts and fanouts reach the Python server', async () => {
      await client.cast({ topic: 'pyserve' }, 'bench', { seq: 10 }, {});
      await client.fanout({ topic: 'pyserve' }, 'bench', { seq: 11 }, {});
      await server.waitFor((e) => e.event === 'received' && (e['args'] as { seq: number }).seq === 10);
      await server.waitFor((e) => e.event === 'received' && (e['args'] as { seq: number }).seq === 11);
    });

    it('a Python exception comes back as a RemoteError', async () => {
      await assert.rejects(client.call({ topic: 'pyserve' }, 'fail', {}, {}, 10_000), (error: unknown) => {
        assert.ok(error instanceof RemoteError);
        assert.equal(error.exceptionClass, 'ValueError');
        assert.match(error.message, /requested failure/);
        return true;
      });
    });
  });

  describe('notifications', () => {
    it('a Python notifier reaches a busbench listener', async () => {
      const listener = await connect('bb-listener');
      const got: IncomingNotification[] = [];
      await listener.listen('py2bb', 'info', (n) => got.push(n));
      await runPeer([
        'notify',
        '--url',
        broker.transportUrl,
        '--topic',
        'py2bb',
        '--event-type',
        'compute.instance.create.end',
        '--payload',
        '{"flavor": "m1.small"}',
        '--count',
        '3',
      ]);
      await until(() => got.length >= 3);
      assert.equal(got.length, 3);
      assert.equal(got[0]!.eventType, 'compute.instance.create.end');
      assert.equal(got[0]!.publisherId, 'busbench.peer');
      assert.equal(got[0]!.priority, 'info');
      assert.deepEqual(
        got.map((n) => n.payload),
        [0, 1, 2].map((seq) => ({ flavor: 'm1.small', seq })),
      );
      assert.equal(got[0]!.context['request_id'], 'req-py');
    });

    it('a busbench notifier reaches a Python listener', async () => {
      const listener = startOsloPeer(['listen', '--url', broker.transportUrl, '--topic', 'bb2py']);
      peers.push(listener);
      await listener.waitFor((e) => e.event === 'ready', 60_000);
      const notifier = await connect('bb-notifier');
      for (let seq = 0; seq < 3; seq++) await notifier.notify('bb2py', 'info', 'busbench.bench', { seq }, { request_id: 'req-n' }, 'busbench.notifier');
      for (let seq = 0; seq < 3; seq++) {
        const event = await listener.waitFor((e) => e.event === 'notification' && (e['payload'] as { seq: number }).seq === seq);
        assert.equal(event['event_type'], 'busbench.bench');
        assert.equal(event['publisher_id'], 'busbench.notifier');
        assert.equal(event['priority'], 'info');
        assert.equal((event['context'] as Record<string, unknown>)['request_id'], 'req-n');
      }
    });
  });
});

// oslo.messaging 14's own AMQP 1.0 driver (pyngus + qpid-proton) through a real router.
const router = findRouter();
const amqpDriverAvailable = osloAvailable() && spawnSync(OSLO_PYTHON, ['-c', 'import pyngus, proton'], { stdio: 'ignore' }).status === 0;
const skipAmqp = !router
  ? `no router installed. ${ROUTER_MISSING_HELP}`
  : !amqpDriverAvailable
    ? "oslo's amqp driver needs python3-pyngus and python3-qpid-proton (apt-get install python3-pyngus python3-qpid-proton)"
    : false;

suite(`oslo.messaging's amqp:// driver over ${router?.flavor ?? 'a router'}`, { timeout: 300_000, skip: skipAmqp }, () => {
  let mesh: LocalMesh;
  let driver: BusDriver;
  const connections: BusConnection[] = [];
  const peers: OsloPeer[] = [];
  const received: { method: string; via: Delivery; isCall: boolean; context: Record<string, unknown> }[] = [];

  before(async () => {
    mesh = await startLocalMesh({ routers: 1 });
    driver = createDriver({ kind: 'amqp1', url: mesh.routers[0]!.url, exchange: 'openstack' });
    const server = await driver.connect({ name: 'bb-1' });
    connections.push(server);
    await server.serve({ topic: 'amqp-interop', server: 'bb-1' }, (request) => {
      received.push({ method: request.method, via: request.via, isCall: request.isCall, context: request.context });
      return { server: 'bb-1', seq: request.args['seq'] };
    });
  });
  after(async () => {
    for (const peer of peers) await peer.stop();
    for (const connection of connections) await connection.close();
    await driver?.close();
    await mesh?.stop();
  });

  it('a Python amqp:// client calls and fans out to a busbench server', async () => {
    const events = await runPeer(['call', '--url', mesh.routers[0]!.url, '--topic', 'amqp-interop', '--count', '3', '--retry', '0']);
    assert.deepEqual(
      events.filter((e) => e.event === 'reply').map((e) => e['result']),
      [0, 1, 2].map((seq) => ({ server: 'bb-1', seq })),
    );
    await runPeer(['call', '--url', mesh.routers[0]!.url, '--topic', 'amqp-interop', '--fanout', '--count', '1', '--retry', '0']);
    await until(() => received.some((r) => r.via === 'multicast'));
    assert.ok(received.filter((r) => r.via === 'anycast').every((r) => r.isCall && r.context['request_id'] === 'req-py'));
  });

  it('a busbench amqp1 client calls a Python amqp:// server and gets its exceptions', async () => {
    const server = startOsloPeer(['serve', '--url', mesh.routers[0]!.url, '--topic', 'amqp-pyserve', '--server', 'py-1']);
    peers.push(server);
    await server.waitFor((e) => e.event === 'ready', 60_000);
    const client = await driver.connect({ name: 'bb-client' });
    connections.push(client);
    // The Python server's subscriptions reach the router a moment after it says ready.
    let result: unknown;
    for (let attempt = 0; attempt < 20 && result === undefined; attempt++) {
      result = await client.call({ topic: 'amqp-pyserve' }, 'bench', { seq: 1 }, {}, 1000).catch(() => undefined);
    }
    assert.deepEqual(result, { server: 'py-1', seq: 1 });
    await assert.rejects(client.call({ topic: 'amqp-pyserve', server: 'py-1' }, 'fail', {}, {}, 10_000), (error: unknown) => {
      assert.ok(error instanceof RemoteError);
      assert.equal(error.exceptionClass, 'ValueError');
      return true;
    });
  });
});
