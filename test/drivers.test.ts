/**
 * Every driver against a real peer, through the one BusConnection
 * interface: each pattern reaches exactly the servers it should (unicast
 * the named one, anycast exactly one, multicast all), failures and
 * timeouts surface as errors, notifications reach listeners. RabbitMQ over
 * AMQP 0-9-1 and over AMQP 1.0 (its plugin) always; Qpid Dispatch Router
 * or skupper-router when installed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { RemoteError, RpcTimeoutError, type BusConnection, type BusDriver, type Delivery, type IncomingNotification } from '../src/index.js';
import { createDriver } from '../src/index.js';
import { toAmqpUrl } from '../src/buses/rabbitmq/driver.js';
import { parseAmqp1Url } from '../src/buses/amqp1/driver.js';
import { findRouter, ROUTER_MISSING_HELP, startLocalMesh } from '../src/buses/amqp1/router/local.js';
import { until } from './helpers/wait.js';
import { suite } from './helpers/suite.js';

interface Received {
  server: string;
  method: string;
  seq: number;
  isCall: boolean;
  via: Delivery;
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 300));

describe('transport URLs', () => {
  it('converts oslo rabbit:// URLs to amqplib URLs', () => {
    assert.equal(toAmqpUrl('rabbit://guest:guest@127.0.0.1:5672/'), 'amqp://guest:guest@127.0.0.1:5672/');
    assert.equal(toAmqpUrl('rabbit://a:b@h1:5672,a:b@h2:5672/vh'), 'amqp://a:b@h1:5672/vh');
    assert.throws(() => toAmqpUrl('http://x'), /not a RabbitMQ transport URL/);
  });

  it('reads oslo amqp:// URLs for rhea', () => {
    assert.deepEqual(parseAmqp1Url('amqp://guest:s%40cret@10.0.0.1:5672/'), {
      host: '10.0.0.1',
      port: 5672,
      username: 'guest',
      password: 's@cret',
      transport: 'tcp',
    });
    assert.deepEqual(parseAmqp1Url('amqps://h'), { host: 'h', port: 5671, transport: 'tls' });
    assert.throws(() => parseAmqp1Url('rabbit://h'), /not an AMQP 1.0 transport URL/);
  });
});

interface Peer {
  /** one URL, or one per router of a mesh: server i connects to endpoint i, the client to endpoint 0 */
  url: string | string[];
  stop(): Promise<void>;
}

function semantics(name: string, kind: 'rabbitmq' | 'amqp1', product: RegExp, startPeer: () => Promise<Peer>, skip: string | false = false): void {
  suite(`${name}: delivery semantics`, { timeout: 120_000, skip }, () => {
    let broker: Peer;
    let driver: BusDriver;
    const connections: BusConnection[] = [];
    let received: Received[] = [];
    let client: BusConnection;
    const servers = ['s0', 's1', 's2'];

    before(async () => {
      broker = await startPeer();
      driver = createDriver({ kind, url: broker.url, exchange: 'openstack' });
      for (const [index, server] of servers.entries()) {
        const connection = await driver.connect({ name: server, endpoint: index });
        connections.push(connection);
        await connection.serve({ topic: 'semantics', server }, (request) => {
          received.push({ server, method: request.method, seq: request.args['seq'] as number, isCall: request.isCall, via: request.via });
          if (request.method === 'fail') throw new Error('requested failure');
          return { server, seq: request.args['seq'] };
        });
      }
      client = await driver.connect({ name: 'client', endpoint: 0 });
      connections.push(client);
    });

    after(async () => {
      for (const connection of connections) await connection.close();
      await driver?.close();
      await broker?.stop();
    });

    it('reports what the peer is', () => {
      assert.match(client.info.product, product);
      assert.match(client.info.version, /^\d+\.\d+/);
    });

    it('unicast call reaches only the named server', async () => {
      received = [];
      for (let seq = 0; seq < 10; seq++) {
        const result = (await client.call({ topic: 'semantics', server: 's1' }, 'bench', { seq }, {}, 5000)) as { server: string };
        assert.equal(result.server, 's1');
      }
      await settle();
      assert.equal(received.length, 10);
      assert.ok(received.every((r) => r.server === 's1' && r.via === 'unicast' && r.isCall));
    });

    it('anycast call reaches exactly one server per message', async () => {
      received = [];
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, seq) => client.call({ topic: 'semantics' }, 'bench', { seq }, {}, 5000) as Promise<{ server: string; seq: number }>),
      );
      await settle();
      assert.equal(received.length, 30);
      assert.deepEqual(new Set(received.map((r) => r.seq)).size, 30);
      assert.ok(received.every((r) => r.via === 'anycast'));
      // Round-robin over consumers of the shared queue: more than one server takes part.
      assert.ok(new Set(results.map((r) => r.server)).size > 1);
    });

    it('multicast (fanout) cast reaches every server', async () => {
      received = [];
      for (let seq = 0; seq < 5; seq++) await client.fanout({ topic: 'semantics' }, 'bench', { seq }, {});
      await until(() => received.length >= 15);
      await settle();
      assert.equal(received.length, 15);
      for (const server of servers) {
        const mine = received.filter((r) => r.server === server);
        assert.deepEqual(mine.map((r) => r.seq).sort(), [0, 1, 2, 3, 4]);
        assert.ok(mine.every((r) => r.via === 'multicast' && !r.isCall));
      }
    });

    it('unicast and anycast casts are delivered once, without replies', async () => {
      received = [];
      for (let seq = 0; seq < 5; seq++) await client.cast({ topic: 'semantics', server: 's2' }, 'bench', { seq }, {});
      for (let seq = 5; seq < 14; seq++) await client.cast({ topic: 'semantics' }, 'bench', { seq }, {});
      await until(() => received.length >= 14);
      await settle();
      assert.equal(received.length, 14);
      assert.ok(received.filter((r) => r.seq < 5).every((r) => r.server === 's2' && r.via === 'unicast'));
      assert.ok(received.filter((r) => r.seq >= 5).every((r) => r.via === 'anycast'));
      assert.ok(received.every((r) => !r.isCall));
      assert.equal(client.pendingCalls, 0);
    });

    it('a server failure comes back as a RemoteError', async () => {
      await assert.rejects(client.call({ topic: 'semantics', server: 's0' }, 'fail', { seq: 1 }, {}, 5000), (error: unknown) => {
        assert.ok(error instanceof RemoteError);
        assert.match(error.message, /requested failure/);
        return true;
      });
    });

    it('a call nobody answers times out', async () => {
      const started = Date.now();
      await assert.rejects(client.call({ topic: 'nobody-serves-this' }, 'bench', {}, {}, 300), RpcTimeoutError);
      assert.ok(Date.now() - started >= 290);
      assert.equal(client.pendingCalls, 0);
    });

    it('a call to an unserved topic does not hold back the calls after it', async () => {
      // Routers grant no credit to an address nobody consumes; the stuck call
      // must wait on its own link, not in front of everything else the connection sends.
      const stuck = client.call({ topic: 'still-nobody-serves-this' }, 'bench', {}, {}, 4000);
      const served = await Promise.all(Array.from({ length: 10 }, (_, seq) => client.call({ topic: 'semantics', server: 's1' }, 'bench', { seq }, {}, 2000)));
      assert.equal(served.length, 10);
      await assert.rejects(stuck, RpcTimeoutError);
    });

    it('notifications reach a listener with their fields', async () => {
      const listener = await driver.connect({ name: 'listener' });
      connections.push(listener);
      const got: IncomingNotification[] = [];
      await listener.listen('notifications', 'info', (n) => got.push(n));
      for (let seq = 0; seq < 5; seq++)
        await client.notify('notifications', 'info', 'compute.instance.create.end', { seq }, { request_id: 'req-1' }, 'busbench.test');
      await until(() => got.length >= 5);
      assert.equal(got.length, 5);
      assert.equal(got[0]!.eventType, 'compute.instance.create.end');
      assert.equal(got[0]!.priority, 'info');
      assert.equal(got[0]!.publisherId, 'busbench.test');
      assert.equal(got[0]!.context['request_id'], 'req-1');
      assert.deepEqual(
        got.map((n) => (n.payload as { seq: number }).seq),
        [0, 1, 2, 3, 4],
      );
    });
  });
}

semantics('RabbitMQ, AMQP 0-9-1', 'rabbitmq', /^RabbitMQ$/, async () => {
  const broker: LocalRabbit = await startLocalRabbit();
  return { url: broker.transportUrl, stop: () => broker.stop() };
});

semantics('RabbitMQ, AMQP 1.0 plugin', 'amqp1', /^RabbitMQ$/, async () => {
  const broker: LocalRabbit = await startLocalRabbit({ plugins: ['rabbitmq_amqp1_0'] });
  return { url: broker.amqp1Url, stop: () => broker.stop() };
});

// Real routers run only where one is installed; the skip says how to get one.
const router = findRouter();
const noRouter = router ? false : `no router installed. ${ROUTER_MISSING_HELP}`;

semantics(
  `${router?.flavor ?? 'router'}, one router`,
  'amqp1',
  /router/,
  async () => {
    const mesh = await startLocalMesh({ routers: 1 });
    return { url: mesh.routers[0]!.url, stop: () => mesh.stop() };
  },
  noRouter,
);

semantics(
  `${router?.flavor ?? 'router'}, 3-router mesh (servers on every router, replies cross the mesh)`,
  'amqp1',
  /router/,
  async () => {
    const mesh = await startLocalMesh({ routers: 3, shape: 'chain' });
    return { url: mesh.routers.map((r) => r.url), stop: () => mesh.stop() };
  },
  noRouter,
);
