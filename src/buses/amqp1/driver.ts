/**
 * AMQP 1.0 driver on rhea, speaking the oslo.messaging amqp dialect
 * (oslo_messaging/_drivers/impl_amqp1.py of oslo 14, removed in 15): the
 * body of every message is an AMQP value holding a JSON string,
 * `{"request": <msg>, "context": <ctx>}` for requests and notifications,
 * `{"response": <result>}` or `{"failure": <exception>}` for replies; a
 * reply carries the request's message_id as its correlation_id. Casts and
 * replies go pre-settled, calls and notifications wait for their
 * disposition. Against a router each caller's replies come to one receiver
 * with a dynamic source; against a broker to a named reply queue.
 */
import rhea from 'rhea';
import type { Connection, ConnectionOptions, Delivery, EventContext, Message, Receiver, Sender, SenderOptions, Source } from 'rhea';
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
import type { Delivery as Via } from '../../model/index.js';
import { addressPlan, peerKind, type AddressPlan, type Addressing, type Amqp1Peer } from './addresses.js';
import { HexIdGenerator, deserializeFailure, pythonUtcTimestamp, randomHex32, serializeFailure, ENVELOPE_VERSION } from '../oslo-wire.js';
import { PendingCalls } from '../pending-calls.js';
import { quietRheaLogging } from './quiet-rhea.js';

quietRheaLogging();

export interface Amqp1DriverOptions {
  /** amqp://user:pass@host:port/; several: one per endpoint (the routers of a mesh) */
  url: string | string[];
  exchange: string;
  /** what the peer is; 'auto' asks its open frame (routers say so in their product name) */
  peer?: Amqp1Peer | 'auto';
  /** oslo's addressing against routers: routable (oslo's default) or legacy */
  addressing?: Addressing;
  /** credit window of server and listener links (oslo rpc_server_credit / notify_server_credit: 100) */
  serverCredit?: number;
  /** credit window of each caller's reply link (oslo reply_link_credit: 200) */
  replyCredit?: number;
  /** how long to wait for the connection to open */
  connectTimeoutMs?: number;
}

const RPC_VERSION = '1.0';
/** Reply senders kept open per server connection; the least recently opened closes beyond this. */
const MAX_REPLY_SENDERS = 256;
const RESOLVED: Promise<void> = Promise.resolve();
/** Messages held per link while the peer grants it no credit; beyond this the link refuses more. */
const MAX_BACKLOG = 10_000;
const BACKLOG_FULL = (): BusError => new BusError(`the bus grants no credit and ${MAX_BACKLOG} messages already wait on this link`);

interface ParsedUrl {
  host: string;
  port: number;
  username?: string;
  password?: string;
  transport: 'tcp' | 'tls';
}

/** oslo transport URL (amqp://user:pass@host:port/, several hosts: the first) → rhea options. */
export function parseAmqp1Url(transportUrl: string): ParsedUrl {
  const match = /^(amqp|amqps):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^:/,]+)(?::(\d+))?/.exec(transportUrl);
  if (!match) throw new BusError(`not an AMQP 1.0 transport URL: ${transportUrl} (expected amqp://user:pass@host:port/)`);
  const tls = match[1] === 'amqps';
  return {
    host: match[4]!,
    port: match[5] ? Number(match[5]) : tls ? 5671 : 5672,
    ...(match[2] ? { username: decodeURIComponent(match[2]) } : {}),
    ...(match[3] !== undefined ? { password: decodeURIComponent(match[3]) } : {}),
    transport: tls ? 'tls' : 'tcp',
  };
}

/** The JSON text of a message body (an AMQP value string, or bytes from peers that send data sections). */
function bodyText(message: Message): string | undefined {
  const body: unknown = message.body;
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (body && typeof body === 'object' && 'content' in body && Buffer.isBuffer((body as { content: unknown }).content)) {
    return (body as { content: Buffer }).content.toString('utf8');
  }
  return undefined;
}

/** A request's `request` may be enveloped (notifications) or a plain message (RPC). */
function unwrap(request: unknown): Record<string, unknown> {
  if (request && typeof request === 'object' && typeof (request as Record<string, unknown>)['oslo.message'] === 'string') {
    return JSON.parse((request as Record<string, string>)['oslo.message']!) as Record<string, unknown>;
  }
  return (request ?? {}) as Record<string, unknown>;
}

function waitFor<T>(
  emitter: { once(event: string, listener: (context: EventContext) => void): unknown },
  ok: string,
  failures: string[],
  pick: (context: EventContext) => T,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BusError(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    emitter.once(ok, (context) => {
      clearTimeout(timer);
      resolve(pick(context));
    });
    for (const failure of failures) {
      emitter.once(failure, (context) => {
        clearTimeout(timer);
        const error = (context.receiver?.error ?? context.sender?.error ?? context.connection?.error ?? context.error) as
          { description?: string; message?: string } | undefined;
        reject(new BusError(`${what}: ${error?.description ?? error?.message ?? failure}`));
      });
    }
  });
}

export class Amqp1Driver implements BusDriver {
  readonly kind = 'amqp1';
  private readonly container = rhea.create_container();
  private readonly targets: ParsedUrl[];
  private readonly shared: { connection: Connection; peer: Amqp1Peer; info: BusInfo; users: number }[] = [];

  constructor(private readonly options: Amqp1DriverOptions) {
    this.targets = (Array.isArray(options.url) ? options.url : [options.url]).map(parseAmqp1Url);
    // Each link and connection handles its own errors (counted as incidents, or a lost connection);
    // rhea raises on the container only what none of them handled, and must not crash the worker for it.
    this.container.on('error', () => undefined);
  }

  private async open(name: string, endpoint = 0): Promise<{ connection: Connection; peer: Amqp1Peer; info: BusInfo }> {
    const target = this.targets[endpoint % this.targets.length]!;
    const connection = this.container.connect({
      host: target.host,
      port: target.port,
      transport: target.transport,
      ...(target.username !== undefined ? { username: target.username, password: target.password ?? '' } : {}),
      container_id: name,
      reconnect: false,
      // Small RPC messages must not wait for Nagle. rhea's option is tcp_no_delay (it hands its
      // options to net.connect as a third argument, which Node ignores, so noDelay did nothing), and
      // without it rhea turns Nagle off only when a receiver attaches: casts and notifications
      // from an agent with no receiver waited for the peer's delayed ACK.
      tcp_no_delay: true,
    } as ConnectionOptions);
    try {
      await waitFor(
        connection,
        'connection_open',
        ['connection_error', 'disconnected'],
        () => undefined,
        this.options.connectTimeoutMs ?? 30_000,
        `AMQP 1.0 connection to ${target.host}:${target.port}`,
      );
    } catch (error) {
      connection.close();
      throw error;
    }
    const properties = (connection.properties ?? {}) as Record<string, unknown>;
    const product = String(properties['product'] ?? 'unknown');
    const peer = this.options.peer && this.options.peer !== 'auto' ? this.options.peer : peerKind(product);
    const info: BusInfo = { product, version: String(properties['version'] ?? 'unknown'), protocol: 'AMQP 1.0' };
    return { connection, peer, info };
  }

  async connect(options: ConnectOptions): Promise<BusConnection> {
    if (options.shared) {
      let entry = this.shared.find((e) => e.users < 1000);
      if (!entry) {
        entry = { ...(await this.open(`${options.name}-shared`)), users: 0 };
        this.shared.push(entry);
      }
      entry.users++;
      return new Amqp1Connection(entry.connection, entry.peer, entry.info, this.options, false);
    }
    const { connection, peer, info } = await this.open(options.name, options.endpoint);
    return new Amqp1Connection(connection, peer, info, this.options, true);
  }

  async close(): Promise<void> {
    for (const entry of this.shared.splice(0)) entry.connection.close();
  }
}

/** A message waiting for its link's credit. */
interface HeldMessage {
  message: Message;
  /** called with the delivery once the message is handed to rhea */
  sent?: (delivery: Delivery) => void;
  /** checked just before a held message goes out: false drops it (a call that timed out meanwhile) */
  wanted?: () => boolean;
  /** called when the message is dropped instead (connection closed) */
  dropped?: (error: Error) => void;
}

/** A sender and the messages it holds until the peer grants credit (see Amqp1Connection.transmit). */
/** rhea's link bookkeeping, which its typings leave out */
type CreditedSender = Sender & { credit: number; delivery_count: number };

interface Link {
  sender: CreditedSender;
  /** messages handed to rhea on this link since it opened */
  handed: number;
  backlog: HeldMessage[];
}

/** A call's request delivery, carrying the call's id for its disposition handler. */
type CallDelivery = Delivery & { busbenchCall?: string };

interface Outcome {
  resolve: () => void;
  reject: (error: Error) => void;
}

class Amqp1Connection implements BusConnection {
  private readonly addresses: AddressPlan;
  private readonly ids = new HexIdGenerator();
  private readonly pending = new PendingCalls();
  /** senders by mode and address */
  private readonly senders = new Map<string, Link>();
  private readonly replySenders = new Map<string, Link>();
  /**
   * The link each target object was last sent on, per mode: an agent sends
   * to the same few target objects all run long, and building the address
   * string and the map key per message cost about a microsecond a call.
   * Targets are read once, so a caller must not change one after using it.
   */
  private readonly linksByTarget = { call: new WeakMap<RpcTarget, Link>(), presettled: new WeakMap<RpcTarget, Link>(), fanout: new WeakMap<RpcTarget, Link>() };
  private readonly receivers: Receiver[] = [];
  /** deliveries whose disposition someone waits for */
  private readonly outcomes = new WeakMap<Delivery, Outcome>();
  private replyAddress: string | undefined;
  private replyReady: Promise<void> | undefined;
  private closed = false;
  /** close() was called: what follows is no loss */
  private closing = false;
  private readonly lostListeners: ((error: Error) => void)[] = [];
  readonly incidents = new BusIncidents();

  constructor(
    private readonly connection: Connection,
    readonly peer: Amqp1Peer,
    readonly info: BusInfo,
    private readonly options: Amqp1DriverOptions,
    private readonly ownsConnection: boolean,
  ) {
    this.addresses = addressPlan(peer, options.addressing ?? 'routable', options.exchange);
    const lost =
      (why: string) =>
      (context: EventContext): void => {
        const error = (context.connection?.error ?? context.error) as { description?: string; message?: string } | undefined;
        this.fail(new BusError(`AMQP 1.0 connection ${why}${error ? `: ${error.description ?? error.message}` : ''}`));
      };
    connection.on('disconnected', lost('lost'));
    connection.on('connection_close', lost('closed by the peer'));
    connection.on('connection_error', lost('refused by the peer'));
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
    // Held messages never left this process: not sent.
    const unsent = new NotSentError(`not sent: ${error.message}`);
    for (const link of [...this.senders.values(), ...this.replySenders.values()]) {
      for (const held of link.backlog.splice(0)) held.dropped?.(unsent);
    }
    if (!this.closing) for (const listener of this.lostListeners.splice(0)) listener(error);
  }

  onLost(listener: (error: Error) => void): void {
    this.lostListeners.push(listener);
  }

  private linkError(kind: string, target: { address?: string } | string | undefined, error: unknown): void {
    const address = typeof target === 'string' ? target : (target?.address ?? '?');
    const e = error as { condition?: string; description?: string; message?: string } | undefined;
    this.incidents.error(kind, `${address}: ${[e?.condition, e?.description ?? e?.message].filter(Boolean).join(': ') || 'no reason given'}`);
  }

  /**
   * A sender for `address`, one per address and mode: pre-settled (casts,
   * fanouts), confirmed (notifications: each send resolves on `accepted`), or
   * for calls, where only a bad outcome matters: it fails the call at once
   * instead of letting it time out, and an accepted request costs nothing.
   */
  private sender(address: string, mode: 'presettled' | 'confirmed' | 'call'): Link {
    const key = `${mode}:${address}`;
    let link = this.senders.get(key);
    if (link) return link;
    link = this.openLink({ target: { address }, ...(mode === 'presettled' ? { snd_settle_mode: 1 } : {}) });
    const sender = link.sender;
    const failed = (outcome: string): BusError =>
      new BusError(`${address}: message ${outcome}${outcome === 'released' ? ' (no consumer for the address)' : ''}`);
    if (mode === 'confirmed') {
      sender.on('accepted', (context: EventContext) => this.settle(context.delivery, undefined));
      for (const outcome of ['rejected', 'released', 'modified']) sender.on(outcome, (context: EventContext) => this.settle(context.delivery, failed(outcome)));
    } else if (mode === 'call') {
      for (const outcome of ['rejected', 'released', 'modified']) {
        sender.on(outcome, (context: EventContext) => {
          const id = (context.delivery as CallDelivery | undefined)?.busbenchCall;
          if (id !== undefined) this.pending.fail(id, failed(outcome));
        });
      }
    }
    this.senders.set(key, link);
    return link;
  }

  /** A sender on the connection's one session, with its own backlog. */
  private openLink(options: SenderOptions): Link {
    const sender = this.connection.open_sender(options);
    const link: Link = { sender: sender as CreditedSender, handed: 0, backlog: [] };
    // A link error after attach: counted and said (BusIncidents), not swallowed.
    sender.on('sender_error', (context: EventContext) => this.linkError('sender error', options.target, context.sender?.error));
    sender.on('sendable', () => this.flush(link));
    return link;
  }

  /**
   * Credit this link has that no message handed to rhea will use. rhea takes
   * credit only when it writes (after this tick), so `sender.credit` alone
   * would let a burst of sends run past the peer's grant.
   */
  private static available(link: Link): number {
    const sender = link.sender;
    if (!sender.sendable()) return 0;
    // A drain may move delivery_count past what we handed over: nothing is in flight then.
    if (link.handed < sender.delivery_count) link.handed = sender.delivery_count;
    return sender.credit - (link.handed - sender.delivery_count);
  }

  /**
   * Hand a message to rhea only while its link has credit, and hold it on the
   * link otherwise. rhea sends a session's deliveries in order and stops at
   * the first whose link lacks credit, and a router grants none to an
   * address nobody consumes: handed over blindly, one call to an unserved
   * topic (or a reply to a caller that has gone) would hold back everything
   * the connection sends after it. (A session per link avoids that too, but
   * costs some 15 % of throughput: rhea walks every session on each write.)
   * Returns false when the link's backlog is full and the message was not taken.
   */
  private transmit(link: Link, held: HeldMessage): boolean {
    // Not `held.sent?.(this.sendNow(…))`: an optional call skips evaluating its argument, and the send with it.
    const delivery = this.sendNow(link, held.message);
    if (delivery) {
      held.sent?.(delivery);
      return true;
    }
    if (link.backlog.length >= MAX_BACKLOG) return false;
    link.backlog.push(held);
    return true;
  }

  /** Hand `message` to rhea if the link may send now (nothing held before it, credit left); undefined if not. */
  private sendNow(link: Link, message: Message): Delivery | undefined {
    if (link.backlog.length > 0 || Amqp1Connection.available(link) <= 0) return undefined;
    link.handed++;
    return link.sender.send(message);
  }

  /** Send what the link holds, as far as its credit goes (on rhea's 'sendable'). */
  private flush(link: Link): void {
    if (this.closed) return;
    let credit = Amqp1Connection.available(link);
    let sent = 0;
    while (sent < link.backlog.length && credit > 0) {
      const held = link.backlog[sent++]!;
      if (held.wanted && !held.wanted()) continue;
      credit--;
      link.handed++;
      const delivery = link.sender.send(held.message);
      held.sent?.(delivery);
    }
    if (sent > 0) link.backlog.splice(0, sent);
  }

  private settle(delivery: Delivery | undefined, error: Error | undefined): void {
    if (!delivery) return;
    const outcome = this.outcomes.get(delivery);
    if (!outcome) return;
    this.outcomes.delete(delivery);
    if (error) outcome.reject(error);
    else outcome.resolve();
  }

  /** Send and resolve once the message is handed to rhea: at once with credit, else when credit comes. */
  private send(link: Link, message: Message): Promise<void> {
    if (this.closed) return Promise.reject(new NotSentError('not sent: the connection is closed'));
    if (this.sendNow(link, message)) return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      if (!this.transmit(link, { message, sent: () => resolve(), dropped: reject })) reject(BACKLOG_FULL());
    });
  }

  /** Send unsettled and resolve on the peer's `accepted`, reject on any other outcome. */
  private sendConfirmed(link: Link, message: Message): Promise<void> {
    if (this.closed) return Promise.reject(new NotSentError('not sent: the connection is closed'));
    return new Promise<void>((resolve, reject) => {
      const taken = this.transmit(link, { message, sent: (delivery) => this.outcomes.set(delivery, { resolve, reject }), dropped: reject });
      if (!taken) reject(BACKLOG_FULL());
    });
  }

  private ensureReplyReceiver(): Promise<void> {
    this.replyReady ??= (async () => {
      const credit = this.options.replyCredit ?? 200;
      const receiver =
        this.peer === 'router'
          ? this.connection.open_receiver({ source: { dynamic: true } as unknown as Source, credit_window: credit })
          : this.connection.open_receiver({ source: { address: `/queue/reply_${randomHex32()}` }, credit_window: credit });
      receiver.on('receiver_error', (context: EventContext) =>
        this.linkError('reply link error', { address: this.replyAddress ?? 'dynamic' }, context.receiver?.error),
      );
      receiver.on('message', (context: EventContext) => this.onReply(context.message!));
      this.receivers.push(receiver);
      this.replyAddress = await waitFor(
        receiver,
        'receiver_open',
        ['receiver_error', 'receiver_close'],
        (c) => c.receiver!.source.address,
        30_000,
        'reply link',
      );
    })();
    return this.replyReady;
  }

  private onReply(message: Message): void {
    const text = bodyText(message);
    // A message without a body is a call-monitor heartbeat: the call is still being worked on.
    if (text === undefined) return;
    let reply: Record<string, unknown>;
    try {
      reply = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.incidents.malformedMessages++;
      return;
    }
    const id = String(message.correlation_id);
    if (reply['failure'] !== undefined && reply['failure'] !== null) this.pending.reject(id, deserializeFailure(reply['failure']));
    else this.pending.resolve(id, reply['response'] ?? null);
  }

  private requestBody(method: string, args: Record<string, unknown>, context: RpcContext): string {
    return JSON.stringify({ request: { method, args, version: RPC_VERSION }, context });
  }

  private targetAddress(target: RpcTarget): string {
    return target.server ? this.addresses.unicast(target.topic, target.server, target.exchange) : this.addresses.anycast(target.topic, target.exchange);
  }

  private linkFor(target: RpcTarget, use: 'call' | 'presettled' | 'fanout'): Link {
    const cache = this.linksByTarget[use];
    let link = cache.get(target);
    if (!link) {
      link =
        use === 'fanout' ? this.sender(this.addresses.multicast(target.topic, target.exchange), 'presettled') : this.sender(this.targetAddress(target), use);
      cache.set(target, link);
    }
    return link;
  }

  call(target: RpcTarget, method: string, args: Record<string, unknown>, context: RpcContext, timeoutMs: number): Promise<unknown> {
    if (!this.replyAddress) return this.ensureReplyReceiver().then(() => this.call(target, method, args, context, timeoutMs));
    const id = this.ids.next();
    const result = this.pending.add(id, timeoutMs);
    if (this.closed) {
      this.pending.fail(id, new NotSentError('not sent: the connection is closed'));
      return result;
    }
    // Unsettled, as oslo sends calls; the TTL drops a request nobody takes in time.
    const link = this.linkFor(target, 'call');
    const message: Message = { message_id: id, reply_to: this.replyAddress!, ttl: timeoutMs, body: this.requestBody(method, args, context) };
    // On the delivery itself: a WeakMap entry per call costs the garbage collector.
    const delivery = this.sendNow(link, message);
    if (delivery) {
      // The common case, without the closures a held message needs.
      (delivery as CallDelivery).busbenchCall = id;
      return result;
    }
    const taken = this.transmit(link, {
      message,
      sent: (held) => ((held as CallDelivery).busbenchCall = id),
      // A request held for credit past its call's timeout is not sent at all.
      wanted: () => this.pending.has(id),
    });
    if (!taken) this.pending.fail(id, BACKLOG_FULL());
    return result;
  }

  cast(target: RpcTarget, method: string, args: Record<string, unknown>, context: RpcContext): Promise<void> {
    return this.send(this.linkFor(target, 'presettled'), { body: this.requestBody(method, args, context) });
  }

  fanout(target: RpcTarget, method: string, args: Record<string, unknown>, context: RpcContext): Promise<void> {
    return this.send(this.linkFor(target, 'fanout'), { body: this.requestBody(method, args, context) });
  }

  private receive(address: string, onMessage: (message: Message) => void): Promise<Receiver> {
    const receiver = this.connection.open_receiver({ source: { address }, credit_window: this.options.serverCredit ?? 100 });
    receiver.on('receiver_error', (context: EventContext) => this.linkError('receiver error', { address }, context.receiver?.error));
    receiver.on('message', (context: EventContext) => onMessage(context.message!));
    this.receivers.push(receiver);
    return waitFor(receiver, 'receiver_open', ['receiver_error', 'receiver_close'], () => receiver, 30_000, `subscription to ${address}`);
  }

  async serve(target: RpcTarget & { server: string }, handler: RequestHandler): Promise<Subscription> {
    const links = await Promise.all(
      (
        [
          [this.addresses.anycast(target.topic, target.exchange), 'anycast'],
          [this.addresses.unicast(target.topic, target.server, target.exchange), 'unicast'],
          [this.addresses.multicast(target.topic, target.exchange), 'multicast'],
        ] as const
      ).map(([address, via]) => this.receive(address, (message) => this.onRequest(message, via, handler))),
    );
    // Routers keep no queues, so there is no backlog to report; pausing detaches the links.
    let paused = false;
    const pause = async (): Promise<void> => {
      if (!paused) links.forEach((link) => link.close());
      paused = true;
    };
    return { pause, close: pause };
  }

  private onRequest(message: Message, via: Via, handler: RequestHandler): void {
    const text = bodyText(message);
    let body: { request?: unknown; context?: RpcContext };
    try {
      body = JSON.parse(text ?? '') as typeof body;
    } catch {
      this.incidents.malformedMessages++;
      return;
    }
    const request = unwrap(body.request);
    const replyTo = message.reply_to;
    const isCall = typeof replyTo === 'string' && replyTo.length > 0;
    let result: unknown;
    try {
      result = handler({
        method: String(request['method']),
        args: (request['args'] ?? {}) as Record<string, unknown>,
        context: body.context ?? {},
        isCall,
        via,
      });
    } catch (error) {
      if (isCall) this.reply(replyTo, message.message_id, { failure: serializeFailure(error) });
      return;
    }
    if (!isCall) return;
    if (result instanceof Promise) {
      result.then(
        (value) => this.reply(replyTo, message.message_id, { response: value ?? null }),
        (error) => this.reply(replyTo, message.message_id, { failure: serializeFailure(error) }),
      );
    } else {
      this.reply(replyTo, message.message_id, { response: result ?? null });
    }
  }

  private reply(address: string, correlationId: Message['message_id'], body: Record<string, unknown>): void {
    if (this.closed) return;
    let link = this.replySenders.get(address);
    if (!link) {
      if (this.replySenders.size >= MAX_REPLY_SENDERS) {
        const [oldest, old] = this.replySenders.entries().next().value as [string, Link];
        this.replySenders.delete(oldest);
        old.sender.close();
      }
      link = this.openLink({ target: { address }, snd_settle_mode: 1 });
      this.replySenders.set(address, link);
    }
    const reply: Message = { body: JSON.stringify(body) };
    if (correlationId !== undefined) reply.correlation_id = correlationId;
    if (this.sendNow(link, reply)) return;
    // A reply that finds the backlog full is dropped: its caller is gone or hopelessly behind.
    this.transmit(link, { message: reply });
  }

  async notify(topic: string, priority: string, eventType: string, payload: unknown, context: RpcContext, publisherId: string): Promise<void> {
    const level = priority.toLowerCase();
    const notification = {
      message_id: randomUUID(),
      publisher_id: publisherId,
      event_type: eventType,
      priority: priority.toUpperCase(),
      payload,
      timestamp: pythonUtcTimestamp(),
    };
    const request = { 'oslo.version': ENVELOPE_VERSION, 'oslo.message': JSON.stringify(notification) };
    // oslo sends notifications unsettled and waits for the bus to accept each.
    return this.sendConfirmed(this.sender(this.addresses.notify(topic, level), 'confirmed'), { body: JSON.stringify({ request, context }) });
  }

  async listen(topic: string, priority: string, handler: NotificationHandler): Promise<Subscription> {
    const link = await this.receive(this.addresses.notify(topic, priority.toLowerCase()), (message) => {
      let body: { request?: unknown; context?: RpcContext };
      try {
        body = JSON.parse(bodyText(message) ?? '') as typeof body;
      } catch {
        this.incidents.malformedMessages++;
        return;
      }
      const n = unwrap(body.request);
      handler({
        publisherId: String(n['publisher_id'] ?? ''),
        eventType: String(n['event_type'] ?? ''),
        priority: String(n['priority'] ?? priority).toLowerCase(),
        payload: n['payload'],
        context: body.context ?? {},
        messageId: String(n['message_id'] ?? ''),
        timestamp: String(n['timestamp'] ?? ''),
      });
    });
    let paused = false;
    const pause = async (): Promise<void> => {
      if (!paused) link.close();
      paused = true;
    };
    return { pause, close: pause };
  }

  async close(): Promise<void> {
    this.closing = true;
    this.fail(new BusError('connection closed'));
    if (this.ownsConnection) {
      const closed = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        this.connection.once('connection_close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.connection.close();
      await closed;
    } else {
      for (const link of [...this.senders.values(), ...this.replySenders.values()]) link.sender.close();
      for (const receiver of this.receivers) receiver.close();
    }
  }
}
