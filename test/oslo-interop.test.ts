/**
 * Interop with the real oslo.messaging (Debian python3-oslo.messaging),
 * both ways, through a real RabbitMQ: a Python RPC client calls, casts and
 * fans out to busbench servers; a busbench client calls a Python server;
 * notifications cross in both directions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLocalRabbit, type LocalRabbit } from '../deploy/rabbitmq-local.js';
import { RemoteError, type BusConnection, type Delivery, type IncomingNotification } from '../src/drivers/driver.js';
import { RabbitDriver } from '../src/drivers/rabbitmq.js';
import { osloAvailable, startOsloPeer, type OsloPeer, type PeerEvent } from './helpers/oslo-peer.js';

interface Received {
  server: string;
  method: string;
  seq: number;
  isCall: boolean;
  via: Delivery;
  context: Record<string, unknown>;
}

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Run a one-shot peer command to its end and return its events. */
async function runPeer(args: string[]): Promise<PeerEvent[]> {
  const peer = startOsloPeer(args);
  await peer.waitFor((e) => e.event === 'done', 60_000);
  assert.equal(await peer.exited, 0);
  return peer.events;
}

const skip = osloAvailable() ? false : 'python3-oslo.messaging is not installed (apt-get install python3-oslo.messaging)';

describe('oslo.messaging interop over RabbitMQ', { timeout: 300_000, skip }, () => {
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
          received.push({ server, method: request.method, seq: request.args['seq'] as number, isCall: request.isCall, via: request.via, context: request.context });
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
      assert.deepEqual(events.filter((e) => e.event === 'reply').map((e) => (e['result'] as { server: string }).server), ['bb-1', 'bb-1', 'bb-1']);
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
        assert.deepEqual(received.filter((r) => r.server === server).map((r) => r.seq).sort(), [0, 1]);
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
      await runPeer(['notify', '--url', broker.transportUrl, '--topic', 'py2bb', '--event-type', 'compute.instance.create.end', '--payload', '{"flavor": "m1.small"}', '--count', '3']);
      await until(() => got.length >= 3);
      assert.equal(got.length, 3);
      assert.equal(got[0]!.eventType, 'compute.instance.create.end');
      assert.equal(got[0]!.publisherId, 'busbench.peer');
      assert.equal(got[0]!.priority, 'info');
      assert.deepEqual(got.map((n) => n.payload), [0, 1, 2].map((seq) => ({ flavor: 'm1.small', seq })));
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
