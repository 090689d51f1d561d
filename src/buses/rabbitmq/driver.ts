/**
 * RabbitMQ (AMQP 0-9-1) driver on amqplib, speaking the oslo.messaging
 * `rabbit://` wire exactly (../shared/REFERENCE.md §1, impl_rabbit.py and
 * amqpdriver.py of oslo.messaging 14): same exchanges, queue names and
 * arguments, properties and envelope, so a Python oslo peer cannot tell a
 * busbench agent from an OpenStack service.
 */
import amqplib from 'amqplib';
import type { Channel, ChannelModel, ConsumeMessage, Options } from 'amqplib';
import { randomUUID } from 'node:crypto';
import {
  BusError,
  BusIncidents,
  NotSentError,
  type BusConnection,
  type BusDriver,
  type BusInfo,
  type ConnectOptions,
  type NotificationHandler,
  type RequestHandler,
  type RpcContext,
  type RpcTarget,
  type Subscription,
} from '../driver.js';
import type { Delivery, QueueBacklog } from '../../model/index.js';
import {
  HexIdGenerator,
  decodeEnvelope,
  deserializeFailure,
  encodeEnvelope,
  packContext,
  pythonUtcTimestamp,
  randomHex32,
  serializeFailure,
  unpackContext,
} from '../oslo-wire.js';
import { PendingCalls } from '../pending-calls.js';

/** oslo's rabbit_transient_queues_ttl default (1800 s): reply and fanout queues expire when unused. */
const TRANSIENT_QUEUE_ARGS = { 'x-expires': 1_800_000 };
/** Topic exchange and queues as oslo declares them with amqp_durable_queues=False, amqp_auto_delete=False. */
const TOPIC_EXCHANGE_OPTIONS: Options.AssertExchange = { durable: false, autoDelete: false };
const TOPIC_QUEUE_OPTIONS: Options.AssertQueue = { durable: false, autoDelete: false };
/**
 * oslo's rabbit_quorum_queue=True: server and notification queues become
 * quorum queues, which must be durable; reply and fanout queues stay
 * classic (a quorum queue cannot expire or be exclusive).
 */
const QUORUM_QUEUE_OPTIONS: Options.AssertQueue = { durable: true, autoDelete: false, arguments: { 'x-queue-type': 'quorum' } };
const TRANSIENT_QUEUE_OPTIONS: Options.AssertQueue = { durable: false, autoDelete: false, arguments: TRANSIENT_QUEUE_ARGS };
const FANOUT_EXCHANGE_OPTIONS: Options.AssertExchange = { durable: false, autoDelete: true };
/** Channels per shared connection: well under RabbitMQ's default channel_max of 2047. */
const CHANNELS_PER_SHARED_CONNECTION = 1000;
/** oslo's default RPC version; servers check compatibility against it. */
const RPC_VERSION = '1.0';

const RESOLVED: Promise<void> = Promise.resolve();
/** What oslo's rabbit driver sets on every message; shared, since amqplib only reads it. */
const MESSAGE_PROPERTIES: Options.Publish = { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2 };
/** oslo's direct_mandatory_flag: a reply to a vanished caller comes back instead of vanishing. */
const REPLY_PROPERTIES: Options.Publish = { ...MESSAGE_PROPERTIES, mandatory: true };

export interface RabbitDriverOptions {
  /** oslo transport URL (rabbit://user:pass@host:port/vhost) or amqp:// URL; several: one per endpoint */
  url: string | string[];
  /** oslo control exchange */
  exchange: string;
  /** consumer prefetch (oslo rabbit_qos_prefetch_count; 0 = unlimited, oslo's default) */
  prefetch?: number;
  /** AMQP heartbeat in seconds; undefined = the broker's suggestion */
  heartbeat?: number;
  /** server and notification queues as quorum queues (oslo rabbit_quorum_queue) */
  quorumQueues?: boolean;
  /** which cluster node a server's queues go to: RabbitMQ's queue (leader) locator; absent, the broker's default */
  queueLocator?: 'client-local' | 'balanced';
}

/**
 * `options` with the queue locator argument RabbitMQ reads for the queue's type: quorum queues
 * take x-queue-leader-locator (client-local, balanced), classic ones x-queue-master-locator,
 * where min-masters is the balanced one.
 */
function withLocator(options: Options.AssertQueue, locator: 'client-local' | 'balanced' | undefined): Options.AssertQueue {
  if (!locator) return options;
  const quorum = options.arguments?.['x-queue-type'] === 'quorum';
  const argument = quorum ? { 'x-queue-leader-locator': locator } : { 'x-queue-master-locator': locator === 'balanced' ? 'min-masters' : 'client-local' };
  return { ...options, arguments: { ...options.arguments, ...argument } };
}

/** oslo transport URL → an amqplib URL. A list of hosts (rabbit://a,b/) uses the first. */
export function toAmqpUrl(transportUrl: string): string {
  const match = /^(rabbit|amqp|amqps):\/\/([^/]*)(\/.*)?$/.exec(transportUrl);
  if (!match) throw new BusError(`not a RabbitMQ transport URL: ${transportUrl} (expected rabbit://user:pass@host:port/vhost)`);
  const scheme = match[1] === 'amqps' ? 'amqps' : 'amqp';
  const firstHost = match[2]!.split(',')[0]!;
  return `${scheme}://${firstHost}${match[3] ?? '/'}`;
}

export class RabbitDriver implements BusDriver {
  readonly kind = 'rabbitmq';
  private readonly amqpUrls: string[];
  private readonly shared: { model: ChannelModel; channels: number }[] = [];
  private sharedOpening: Promise<{ model: ChannelModel; channels: number }> | undefined;

  constructor(private readonly options: RabbitDriverOptions) {
    this.amqpUrls = (Array.isArray(options.url) ? options.url : [options.url]).map(toAmqpUrl);
  }

  private open(name: string, endpoint = 0): Promise<ChannelModel> {
    return amqplib.connect(this.amqpUrls[endpoint % this.amqpUrls.length]!, {
      // Without it Nagle's algorithm adds ~40 ms to every round trip (REFERENCE §5).
      noDelay: true,
      clientProperties: { connection_name: name, product: 'busbench' },
      ...(this.options.heartbeat !== undefined ? { heartbeat: this.options.heartbeat } : {}),
    } as object);
  }

  async connect(options: ConnectOptions): Promise<BusConnection> {
    if (!options.shared) {
      const model = await this.open(options.name, options.endpoint);
      try {
        const channel = await model.createChannel();
        return await RabbitConnection.create(model, channel, this.options, true);
      } catch (error) {
        await model.close().catch(() => undefined);
        throw error;
      }
    }
    const entry = await this.sharedEntry(options.name);
    entry.channels++;
    const channel = await entry.model.createChannel();
    return RabbitConnection.create(entry.model, channel, this.options, false);
  }

  private async sharedEntry(name: string): Promise<{ model: ChannelModel; channels: number }> {
    const last = this.shared[this.shared.length - 1];
    if (last && last.channels < CHANNELS_PER_SHARED_CONNECTION) return last;
    // One opening at a time, so concurrent connects fill a connection instead of opening many.
    if (!this.sharedOpening) {
      this.sharedOpening = this.open(`${name}-shared`).then((model) => {
        model.on('error', () => undefined);
        const entry = { model, channels: 0 };
        this.shared.push(entry);
        return entry;
      });
      this.sharedOpening.finally(() => (this.sharedOpening = undefined)).catch(() => undefined);
    }
    const entry = await this.sharedOpening;
    return entry.channels < CHANNELS_PER_SHARED_CONNECTION ? entry : this.sharedEntry(name);
  }

  async close(): Promise<void> {
    const models = this.shared.splice(0);
    await Promise.all(models.map((entry) => entry.model.close().catch(() => undefined)));
  }
}

class RabbitConnection implements BusConnection {
  /** server (anycast, unicast) and notification queues, and each server's fanout queue, with the locator asked for */
  private readonly topicQueueOptions: Options.AssertQueue;
  private readonly fanoutQueueOptions: Options.AssertQueue;

  private readonly ids = new HexIdGenerator();
  private readonly declaredExchanges = new Set<string>();
  private readonly declaredNotifyQueues = new Set<string>();
  private readonly pending = new PendingCalls();
  private replyQueue: string | undefined;
  private replyQueueReady: Promise<void> | undefined;
  private closed = false;
  /** close() was called: what follows is no loss */
  private closing = false;
  private readonly lostListeners: ((error: Error) => void)[] = [];
  private drainWaiter: Promise<void> | undefined;
  private expiring: { ms: number; properties: Options.Publish } | undefined;
  /** fails the senders waiting for 'drain' when the connection goes: no drain comes then */
  private failDrainWaiters: ((error: Error) => void) | undefined;
  readonly incidents = new BusIncidents();

  private constructor(
    private readonly model: ChannelModel,
    private readonly channel: Channel,
    private readonly options: RabbitDriverOptions,
    private readonly ownsConnection: boolean,
    readonly info: BusInfo,
  ) {
    this.topicQueueOptions = withLocator(options.quorumQueues ? QUORUM_QUEUE_OPTIONS : TOPIC_QUEUE_OPTIONS, options.queueLocator);
    this.fanoutQueueOptions = withLocator(TRANSIENT_QUEUE_OPTIONS, options.queueLocator);
    channel.on('error', (error: Error) => {
      this.incidents.error('channel error', error.message);
      this.fail(new BusError(`channel error: ${error.message}`));
    });
    channel.on('close', () => this.fail(new BusError('channel closed')));
    channel.on('return', () => this.incidents.returnedMessages++);
    // The connection's own error says why (a broker gone: ECONNRESET, a forced close: 320 CONNECTION_FORCED); its channel closes right after.
    // A shared connection's channels close with it: one listener per channel on the connection would pile up.
    if (ownsConnection) {
      model.on('error', (error: Error) => {
        this.incidents.error('connection error', error.message);
        this.fail(new BusError(`connection error: ${error.message}`));
      });
      model.on('close', () => this.fail(new BusError('connection closed by the broker')));
    }
  }

  static async create(model: ChannelModel, channel: Channel, options: RabbitDriverOptions, owns: boolean): Promise<RabbitConnection> {
    if (options.prefetch) await channel.prefetch(options.prefetch);
    const props = model.connection.serverProperties as unknown as Record<string, unknown>;
    const info: BusInfo = {
      product: String(props['product'] ?? 'RabbitMQ'),
      version: String(props['version'] ?? 'unknown'),
      protocol: 'AMQP 0-9-1',
    };
    return new RabbitConnection(model, channel, options, owns, info);
  }

  get pendingCalls(): number {
    return this.pending.size;
  }

  get lateReplies(): number {
    return this.pending.lateReplies;
  }

  get unmatchedReplies(): number {
    return this.pending.unmatchedReplies;
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.failAll(error);
    this.failDrainWaiters?.(new BusError(`the connection went before its buffered messages were written: ${error.message}`));
    if (!this.closing) for (const listener of this.lostListeners.splice(0)) listener(error);
  }

  onLost(listener: (error: Error) => void): void {
    this.lostListeners.push(listener);
  }

  private notSent(): Promise<never> {
    return Promise.reject(new NotSentError('not sent: the connection is closed'));
  }

  private ensureExchange(name: string, type: 'topic' | 'fanout'): Promise<void> {
    if (this.declaredExchanges.has(name)) return RESOLVED;
    return this.channel.assertExchange(name, type, type === 'topic' ? TOPIC_EXCHANGE_OPTIONS : FANOUT_EXCHANGE_OPTIONS).then(() => {
      this.declaredExchanges.add(name);
    });
  }

  /** oslo creates the caller's reply queue lazily, on its first call. */
  private ensureReplyQueue(): Promise<void> {
    if (!this.replyQueueReady) {
      const name = `reply_${randomHex32()}`;
      this.replyQueueReady = (async () => {
        await this.channel.assertQueue(name, TRANSIENT_QUEUE_OPTIONS);
        await this.channel.consume(name, (msg) => this.onReply(msg), { noAck: false });
        this.replyQueue = name;
      })();
    }
    return this.replyQueueReady;
  }

  /**
   * Acknowledge a delivery (oslo acknowledges before handling) and decode
   * it; a body that is not oslo JSON is counted, not handled.
   */
  private take(msg: ConsumeMessage): Record<string, unknown> | undefined {
    this.channel.ack(msg);
    try {
      return decodeEnvelope(msg.content);
    } catch {
      this.incidents.malformedMessages++;
      return undefined;
    }
  }

  private onReply(msg: ConsumeMessage | null): void {
    if (!msg) return this.fail(new BusError('reply consumer cancelled by the broker'));
    const reply = this.take(msg);
    if (!reply) return;
    // Without ending: true a reply is a heartbeat of a long call (oslo call monitor): keep waiting.
    if (reply['ending'] !== true) return;
    const msgId = reply['_msg_id'] as string;
    const failure = reply['failure'];
    if (failure !== null && failure !== undefined) this.pending.reject(msgId, deserializeFailure(failure));
    else this.pending.resolve(msgId, reply['result']);
  }

  /** Properties with the call timeout as TTL: an agent uses one timeout, so this is built once, not per message. */
  private expiringProperties(expirationMs: number): Options.Publish {
    if (this.expiring?.ms !== expirationMs) this.expiring = { ms: expirationMs, properties: { ...MESSAGE_PROPERTIES, expiration: String(expirationMs) } };
    return this.expiring.properties;
  }

  private publish(exchange: string, routingKey: string, inner: Record<string, unknown>, expirationMs?: number): Promise<void> {
    if (this.closed) return this.notSent();
    let ok: boolean;
    try {
      ok = this.channel.publish(
        exchange,
        routingKey,
        encodeEnvelope(inner),
        expirationMs === undefined ? MESSAGE_PROPERTIES : this.expiringProperties(expirationMs),
      );
    } catch (error) {
      // amqplib throws on a channel that closed before its 'close' event reached us.
      return Promise.reject(new NotSentError(`not sent: ${(error as Error).message}`));
    }
    // amqplib buffers without limit; a full write buffer makes the sender wait for 'drain'.
    if (ok) return RESOLVED;
    return (this.drainWaiter ??= new Promise<void>((resolve, reject) => {
      this.failDrainWaiters = reject;
      this.channel.once('drain', () => {
        this.drainWaiter = undefined;
        this.failDrainWaiters = undefined;
        resolve();
      });
    }));
  }

  private rpcMessage(method: string, args: Record<string, unknown>, context: RpcContext): Record<string, unknown> {
    const message: Record<string, unknown> = { method, args, version: RPC_VERSION };
    packContext(message, context);
    return message;
  }

  call(target: RpcTarget, method: string, args: Record<string, unknown>, context: RpcContext, timeoutMs: number): Promise<unknown> {
    if (this.closed) return this.notSent();
    const exchange = target.exchange ?? this.options.exchange;
    // The first call declares what calls need; every later one takes the path below, with no await.
    if (!this.replyQueue || !this.declaredExchanges.has(exchange)) return this.callAfterDeclaring(target, method, args, context, timeoutMs);
    const msgId = this.ids.next();
    const message = this.rpcMessage(method, args, context);
    message['_msg_id'] = msgId;
    message['_reply_q'] = this.replyQueue;
    message['_timeout'] = null;
    message['_unique_id'] = this.ids.next();
    const result = this.pending.add(msgId, timeoutMs);
    const routingKey = target.server ? `${target.topic}.${target.server}` : target.topic;
    // kombu sends the call timeout as the message TTL: a request nobody takes in time is dropped.
    const sent = this.publish(exchange, routingKey, message, timeoutMs);
    // The call fails with the send's error, now, instead of timing out later.
    if (sent !== RESOLVED) sent.catch((error: Error) => this.pending.fail(msgId, error));
    return result;
  }

  private async callAfterDeclaring(target: RpcTarget, method: string, args: Record<string, unknown>, context: RpcContext, timeoutMs: number): Promise<unknown> {
    if (!this.replyQueue) await this.ensureReplyQueue();
    const exchange = target.exchange ?? this.options.exchange;
    if (!this.declaredExchanges.has(exchange)) await this.ensureExchange(exchange, 'topic');
    return this.call(target, method, args, context, timeoutMs);
  }

  async cast(target: RpcTarget, method: string, args: Record<string, unknown>, context: RpcContext): Promise<void> {
    if (this.closed) return this.notSent();
    const exchange = target.exchange ?? this.options.exchange;
    if (!this.declaredExchanges.has(exchange)) await this.ensureExchange(exchange, 'topic');
    const message = this.rpcMessage(method, args, context);
    message['_unique_id'] = this.ids.next();
    const routingKey = target.server ? `${target.topic}.${target.server}` : target.topic;
    return this.publish(exchange, routingKey, message);
  }

  async fanout(target: RpcTarget, method: string, args: Record<string, unknown>, context: RpcContext): Promise<void> {
    if (this.closed) return this.notSent();
    const exchange = `${target.topic}_fanout`;
    if (!this.declaredExchanges.has(exchange)) await this.ensureExchange(exchange, 'fanout');
    const message = this.rpcMessage(method, args, context);
    message['_unique_id'] = this.ids.next();
    return this.publish(exchange, target.topic, message);
  }

  async serve(target: RpcTarget & { server: string }, handler: RequestHandler): Promise<Subscription> {
    const exchange = target.exchange ?? this.options.exchange;
    const ch = this.channel;
    await this.ensureExchange(exchange, 'topic');
    const unicastQueue = `${target.topic}.${target.server}`;
    const fanoutExchange = `${target.topic}_fanout`;
    const fanoutQueue = `${target.topic}_fanout_${randomHex32()}`;
    await ch.assertQueue(target.topic, this.topicQueueOptions);
    await ch.bindQueue(target.topic, exchange, target.topic);
    await ch.assertQueue(unicastQueue, this.topicQueueOptions);
    await ch.bindQueue(unicastQueue, exchange, unicastQueue);
    await this.ensureExchange(fanoutExchange, 'fanout');
    await ch.assertQueue(fanoutQueue, this.fanoutQueueOptions);
    await ch.bindQueue(fanoutQueue, fanoutExchange, target.topic);
    const queues = [
      [target.topic, 'anycast'],
      [unicastQueue, 'unicast'],
      [fanoutQueue, 'multicast'],
    ] as const;
    const consumers = await Promise.all(queues.map(([queue, via]) => ch.consume(queue, (msg) => this.onRequest(msg, via, handler), { noAck: false })));
    const pause = this.cancelOnce(consumers.map((c) => c.consumerTag));
    return {
      pause,
      backlog: () => this.backlog(queues),
      close: async () => {
        await pause();
        // oslo leaves its fanout queue to expire; ours is gone at once so a run leaves nothing behind.
        await ch.deleteQueue(fanoutQueue).catch(() => undefined);
      },
    };
  }

  private onRequest(msg: ConsumeMessage | null, via: Delivery, handler: RequestHandler): void {
    if (!msg) return;
    const message = this.take(msg);
    if (!message) return;
    const msgId = message['_msg_id'] as string | undefined;
    const replyQueue = message['_reply_q'] as string | undefined;
    const isCall = msgId !== undefined && replyQueue !== undefined;
    const context = unpackContext(message);
    let result: unknown;
    try {
      result = handler({
        method: message['method'] as string,
        args: (message['args'] ?? {}) as Record<string, unknown>,
        context,
        isCall,
        via,
      });
    } catch (error) {
      if (isCall) this.reply(replyQueue!, msgId!, null, serializeFailure(error));
      return;
    }
    if (!isCall) return;
    if (result instanceof Promise) {
      result.then(
        (value) => this.reply(replyQueue!, msgId!, value, null),
        (error) => this.reply(replyQueue!, msgId!, null, serializeFailure(error)),
      );
    } else {
      this.reply(replyQueue!, msgId!, result, null);
    }
  }

  private reply(replyQueue: string, msgId: string, result: unknown, failure: string | null): void {
    if (this.closed) return;
    const reply = { result: result ?? null, failure, ending: true, _msg_id: msgId, _unique_id: this.ids.next() };
    this.channel.publish('', replyQueue, encodeEnvelope(reply), REPLY_PROPERTIES);
  }

  async notify(topic: string, priority: string, eventType: string, payload: unknown, context: RpcContext, publisherId: string): Promise<void> {
    const exchange = this.options.exchange;
    if (this.closed) return this.notSent();
    const routingKey = `${topic}.${priority.toLowerCase()}`;
    if (!this.declaredNotifyQueues.has(routingKey)) {
      // oslo's notifier declares the default queue so notifications wait for a listener instead of vanishing.
      await this.ensureExchange(exchange, 'topic');
      await this.channel.assertQueue(routingKey, this.topicQueueOptions);
      await this.channel.bindQueue(routingKey, exchange, routingKey);
      this.declaredNotifyQueues.add(routingKey);
    }
    const message: Record<string, unknown> = {
      message_id: randomUUID(),
      publisher_id: publisherId,
      event_type: eventType,
      priority: priority.toUpperCase(),
      payload,
      timestamp: pythonUtcTimestamp(),
      _unique_id: this.ids.next(),
    };
    packContext(message, context);
    return this.publish(exchange, routingKey, message);
  }

  async listen(topic: string, priority: string, handler: NotificationHandler, pool?: string): Promise<Subscription> {
    const exchange = this.options.exchange;
    const routingKey = `${topic}.${priority.toLowerCase()}`;
    const queue = pool ?? routingKey;
    await this.ensureExchange(exchange, 'topic');
    await this.channel.assertQueue(queue, this.topicQueueOptions);
    await this.channel.bindQueue(queue, exchange, routingKey);
    const { consumerTag } = await this.channel.consume(
      queue,
      (msg) => {
        if (!msg) return;
        const message = this.take(msg);
        if (!message) return;
        const context = unpackContext(message);
        handler({
          publisherId: String(message['publisher_id'] ?? ''),
          eventType: String(message['event_type'] ?? ''),
          priority: String(message['priority'] ?? priority).toLowerCase(),
          payload: message['payload'],
          context,
          messageId: String(message['message_id'] ?? ''),
          timestamp: String(message['timestamp'] ?? ''),
        });
      },
      { noAck: false },
    );
    const pause = this.cancelOnce([consumerTag]);
    return { pause, backlog: () => this.backlog([[queue, 'notify']]), close: pause };
  }

  /**
   * Cancels the consumers, once. The broker sends basic.cancel-ok after every
   * delivery it had already pushed on the channel, and amqplib dispatches in
   * order, so when this resolves those deliveries have been handled.
   */
  private cancelOnce(consumerTags: string[]): () => Promise<void> {
    let cancelled: Promise<void> | undefined;
    return () =>
      (cancelled ??= (async () => {
        for (const tag of consumerTags) await this.channel.cancel(tag).catch(() => undefined);
      })());
  }

  /** Ready messages per queue (passive declare): what no consumer has been handed yet. */
  private async backlog(queues: readonly (readonly [string, QueueBacklog['via']])[]): Promise<QueueBacklog[]> {
    const out: QueueBacklog[] = [];
    for (const [queue, via] of queues) {
      const { messageCount } = await this.channel.checkQueue(queue);
      out.push({ queue, via, messages: messageCount });
    }
    return out;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.fail(new BusError('connection closed'));
    await this.channel.close().catch(() => undefined);
    if (this.ownsConnection) await this.model.close().catch(() => undefined);
  }
}
