/**
 * The baseline busbench is measured against: a bare amqplib request/reply
 * loop doing the same oslo exchange on the wire (topic exchange, anycast
 * queue, reply queue, enveloped JSON both ways, manual acks, one
 * connection per client and per server), with no harness around it.
 * Written plainly on purpose: it shares no code with busbench.
 */
import amqplib from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { randomBytes } from 'node:crypto';
import * as hdr from 'hdr-histogram-js';
import { measureWindow } from './measure-window.js';

export interface LoopResult {
  calls: number;
  elapsedMs: number;
  /** user+system CPU of this whole process during the measured phase */
  cpuUs: number;
  p50Us: number;
  p99Us: number;
}

const PROPS = { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2 };

function envelope(inner: object): Buffer {
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }));
}

function unwrap(body: Buffer): Record<string, unknown> {
  return JSON.parse((JSON.parse(body.toString()) as { 'oslo.message': string })['oslo.message']) as Record<string, unknown>;
}

export async function rawRpcLoop(options: {
  url: string;
  clients: number;
  servers: number;
  warmupMs: number;
  measureMs: number;
  payloadBytes: number;
}): Promise<LoopResult> {
  const url = options.url.replace(/^rabbit:/, 'amqp:');
  const topic = `rawloop_${randomBytes(4).toString('hex')}`;
  const models: ChannelModel[] = [];
  const open = async (): Promise<Channel> => {
    const model = await amqplib.connect(url, { noDelay: true });
    models.push(model);
    return model.createChannel();
  };

  for (let s = 0; s < options.servers; s++) {
    const ch = await open();
    await ch.assertExchange('openstack', 'topic', { durable: false, autoDelete: false });
    await ch.assertQueue(topic, { durable: false, autoDelete: false });
    await ch.bindQueue(topic, 'openstack', topic);
    let n = 0;
    await ch.consume(topic, (msg) => {
      if (!msg) return;
      ch.ack(msg);
      const request = unwrap(msg.content);
      const reply = {
        result: { server: `s${s}`, seq: (request['args'] as { seq: number }).seq },
        failure: null,
        ending: true,
        _msg_id: request['_msg_id'],
        _unique_id: `${s}-${n++}`,
      };
      ch.publish('', request['_reply_q'] as string, envelope(reply), { ...PROPS, mandatory: true });
    });
  }

  const histogram = hdr.build({ bitBucketSize: 'packed', lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  const payload = 'x'.repeat(options.payloadBytes);
  let measuring = false;
  let stopping = false;
  let calls = 0;
  const loops: Promise<void>[] = [];
  for (let c = 0; c < options.clients; c++) {
    const ch = await open();
    const replyQueue = `reply_${randomBytes(16).toString('hex')}`;
    await ch.assertQueue(replyQueue, { durable: false, autoDelete: false, arguments: { 'x-expires': 1_800_000 } });
    const waiting = new Map<string, () => void>();
    await ch.consume(replyQueue, (msg) => {
      if (!msg) return;
      ch.ack(msg);
      const reply = unwrap(msg.content);
      const done = waiting.get(reply['_msg_id'] as string);
      waiting.delete(reply['_msg_id'] as string);
      done?.();
    });
    const prefix = randomBytes(8).toString('hex');
    loops.push(
      (async () => {
        for (let seq = 0; !stopping; seq++) {
          const msgId = `${prefix}${seq.toString(16).padStart(16, '0')}`;
          const started = performance.now();
          const answered = new Promise<void>((resolve) => waiting.set(msgId, resolve));
          const request = {
            method: 'bench',
            args: { payload, seq },
            version: '1.0',
            _context_busbench_sent: performance.timeOrigin + started,
            _msg_id: msgId,
            _reply_q: replyQueue,
            _timeout: null,
            _unique_id: `${msgId}u`,
          };
          ch.publish('openstack', topic, envelope(request), { ...PROPS, expiration: '30000' });
          await answered;
          if (measuring) {
            calls++;
            histogram.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
          }
        }
      })(),
    );
  }

  const { elapsedMs, cpuUs } = await measureWindow(options.warmupMs, options.measureMs, (on) => (measuring = on));
  stopping = true;
  await Promise.all(loops);
  for (const model of models) await model.close().catch(() => undefined);
  return {
    calls,
    elapsedMs,
    cpuUs,
    p50Us: histogram.getValueAtPercentile(50),
    p99Us: histogram.getValueAtPercentile(99),
  };
}
