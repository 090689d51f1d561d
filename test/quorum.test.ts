/** bus.queues: quorum — server queues declared as oslo's rabbit_quorum_queue does: durable quorum queues, on a real broker. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqplib from 'amqplib';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { runScenario } from '../src/index.js';
import { parseScenario } from '../src/index.js';
import { group } from './helpers/results.js';

describe('quorum queues', { timeout: 90_000 }, () => {
  let broker: LocalRabbit;
  before(async () => {
    broker = await startLocalRabbit();
  });
  after(async () => {
    await broker?.stop();
  });

  it('runs calls through quorum server queues, which the broker then holds as quorum queues', async () => {
    const scenario = parseScenario(
      `bus: {kind: rabbitmq, url: "${broker.transportUrl}", queues: quorum}\nagents: {servers: 2, clients: 2, topic: qtopic}\nload: {messages: 200, warmup: 0}\n`,
      'quorum.yaml',
    );
    const result = await runScenario(scenario, { resultsRoot: null });
    assert.equal(group(result, 'client', 'call-anycast').counters.ok, 200);
    const connection = await amqplib.connect(broker.url);
    connection.on('error', () => undefined);
    try {
      const channel = await connection.createChannel();
      // The same declaration again is accepted; a classic one is refused as inequivalent.
      await channel.assertQueue('qtopic', { durable: true, autoDelete: false, arguments: { 'x-queue-type': 'quorum' } });
      const classic = await connection.createChannel();
      classic.on('error', () => undefined);
      await assert.rejects(classic.assertQueue('qtopic', { durable: false, autoDelete: false }), /PRECONDITION_FAILED/);
    } finally {
      await connection.close().catch(() => undefined);
    }
  });

  it('refuses quorum queues on an AMQP 1.0 bus, naming the field', () => {
    assert.throws(
      () => parseScenario('bus: {kind: amqp1, queues: quorum}\nagents: {servers: 1, clients: 1}\n', 'q.yaml'),
      /bus\.queues: quorum queues are RabbitMQ over AMQP 0-9-1/,
    );
  });
});
