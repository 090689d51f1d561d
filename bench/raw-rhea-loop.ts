/**
 * The AMQP 1.0 baseline: a bare rhea request/reply loop doing the oslo
 * amqp exchange (JSON body in an AMQP value, message_id / correlation_id,
 * reply_to, unsettled requests, pre-settled replies, one connection per
 * client and per server), with no harness, addressed as oslo addresses
 * that peer: a broker's /queue addresses and a named reply queue, or on a
 * router (it says so in its open frame) oslo's routable anycast address and
 * a dynamic reply source, so that both loops cost the router the same work.
 * It shares no code with busbench.
 */
import rhea from 'rhea';
import type { Connection, EventContext, Sender } from 'rhea';
import { randomBytes } from 'node:crypto';
import * as hdr from 'hdr-histogram-js';
import { measureWindow } from './measure-window.js';
import type { LoopResult } from './raw-rpc-loop.js';

function open(host: string, port: number, user?: string, password?: string): Promise<Connection> {
  const container = rhea.create_container();
  container.on('error', () => undefined);
  const connection = container.connect({
    host,
    port,
    ...(user ? { username: user, password: password ?? '' } : {}),
    reconnect: false,
    tcp_no_delay: true,
  } as never);
  return new Promise((resolve, reject) => {
    connection.once('connection_open', () => resolve(connection));
    connection.once('disconnected', (context: EventContext) => reject(context.error));
  });
}

export async function rawRheaLoop(options: {
  url: string;
  clients: number;
  servers: number;
  warmupMs: number;
  measureMs: number;
  payloadBytes: number;
}): Promise<LoopResult> {
  const match = /^amqp:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^:/]+):(\d+)/.exec(options.url);
  if (!match) throw new Error(`not an amqp:// URL: ${options.url}`);
  const [user, password, host, port] = [match[1], match[2], match[3]!, Number(match[4])];
  const connections: Connection[] = [];
  const probe = await open(host, port, user, password);
  const product = String((probe.properties as Record<string, unknown> | undefined)?.['product'] ?? '');
  const router = /router/i.test(product);
  probe.close();
  const topic = `rawloop_${randomBytes(4).toString('hex')}`;
  const queue = router ? `openstack.org/om/rpc/anycast/openstack/${topic}` : `/queue/${topic}`;

  for (let s = 0; s < options.servers; s++) {
    const connection = await open(host, port, user, password);
    connections.push(connection);
    const replySenders = new Map<string, Sender>();
    const receiver = connection.open_receiver({ source: { address: queue }, credit_window: 100 });
    receiver.on('message', (context: EventContext) => {
      const message = context.message!;
      const request = JSON.parse(message.body as string) as { request: { args: { seq: number } } };
      const to = message.reply_to!;
      let sender = replySenders.get(to);
      if (!sender) replySenders.set(to, (sender = connection.open_sender({ target: { address: to }, snd_settle_mode: 1 })));
      sender.send({ correlation_id: message.message_id!, body: JSON.stringify({ response: { server: `s${s}`, seq: request.request.args.seq } }) });
    });
    await new Promise((resolve) => receiver.once('receiver_open', resolve));
  }

  const histogram = hdr.build({ bitBucketSize: 'packed', lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  const payload = 'x'.repeat(options.payloadBytes);
  let measuring = false;
  let stopping = false;
  let calls = 0;
  const loops: Promise<void>[] = [];
  for (let c = 0; c < options.clients; c++) {
    const connection = await open(host, port, user, password);
    connections.push(connection);
    const waiting = new Map<string, () => void>();
    const replies = connection.open_receiver({
      source: (router ? { dynamic: true } : { address: `/queue/reply_${randomBytes(16).toString('hex')}` }) as never,
      credit_window: 200,
    });
    replies.on('message', (context: EventContext) => {
      const message = context.message!;
      // Decode the reply as any caller must: it is `{"response": …}` or `{"failure": …}`, and only the body says which.
      const reply = JSON.parse(message.body as string) as { response?: unknown; failure?: unknown };
      if (reply.failure != null) throw new Error(`raw loop: the server failed a call: ${String(reply.failure)}`);
      const id = String(message.correlation_id);
      const done = waiting.get(id);
      waiting.delete(id);
      done?.();
    });
    const replyTo = await new Promise<string>((resolve) => replies.once('receiver_open', (context: EventContext) => resolve(context.receiver!.source.address)));
    const sender = connection.open_sender({ target: { address: queue } });
    await new Promise((resolve) => sender.once('sendable', resolve));
    const prefix = randomBytes(8).toString('hex');
    loops.push(
      (async () => {
        for (let seq = 0; !stopping; seq++) {
          const id = `${prefix}${seq.toString(16).padStart(16, '0')}`;
          const started = performance.now();
          const answered = new Promise<void>((resolve) => waiting.set(id, resolve));
          sender.send({
            message_id: id,
            reply_to: replyTo,
            ttl: 30_000,
            body: JSON.stringify({
              request: { method: 'bench', args: { payload, seq }, version: '1.0' },
              context: { busbench_sent: performance.timeOrigin + started },
            }),
          });
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
  for (const connection of connections) connection.close();
  return { calls, elapsedMs, cpuUs, p50Us: histogram.getValueAtPercentile(50), p99Us: histogram.getValueAtPercentile(99) };
}
