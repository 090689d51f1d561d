/**
 * The one interface every bus implements. Agents, workers and the runner
 * only ever see these types, so they never branch on the bus kind
 * (OpenMessaging Benchmark's shape: the framework does not know which bus
 * it drives).
 */
import type { Delivery, QueueBacklog } from '../model/index.js';

/** Where an RPC goes: oslo's Target reduced to what travels on the wire. */
export interface RpcTarget {
  topic: string;
  /** set: unicast to this server; unset: anycast to one server of the topic */
  server?: string;
  /** oslo control exchange override; default is the driver's */
  exchange?: string;
}

/** oslo's request context, flattened key → value (oslo sends it as `_context_<key>`). */
export type RpcContext = Record<string, unknown>;

export interface IncomingRequest {
  method: string;
  args: Record<string, unknown>;
  context: RpcContext;
  /** true for call (a reply is expected), false for cast/fanout */
  isCall: boolean;
  via: Delivery;
}

/**
 * A server's handler. It returns the result synchronously (busbench servers
 * answer at once; a Promise is accepted for peers that do work). A thrown
 * error becomes an oslo failure reply.
 */
export type RequestHandler = (request: IncomingRequest) => unknown;

export interface IncomingNotification {
  publisherId: string;
  eventType: string;
  priority: string;
  payload: unknown;
  context: RpcContext;
  messageId: string;
  timestamp: string;
}
export type NotificationHandler = (notification: IncomingNotification) => void;

/** What the bus said about itself when we connected (provenance). */
export interface BusInfo {
  product: string;
  version: string;
  /** the protocol spoken, e.g. "AMQP 0-9-1" */
  protocol: string;
}

export interface Subscription {
  /**
   * Stop taking deliveries and keep the subscription's queues; resolves once
   * every delivery the bus had already handed over has been handled, so what
   * a receiver counted and what the bus still holds (backlog) do not overlap.
   */
  pause?(): Promise<void>;
  /** What the bus still holds for this subscription, per queue; absent where the bus cannot say (routers keep no queues). */
  backlog?(): Promise<QueueBacklog[]>;
  close(): Promise<void>;
}

/**
 * What went wrong on a connection without failing a call outright: errors
 * the bus raised on links, channels or the connection (by kind, with the
 * first message of each), deliveries that were not oslo JSON, and replies
 * the broker returned. Workers sum them into the results, so nothing the
 * bus said is swallowed.
 */
export class BusIncidents {
  malformedMessages = 0;
  /** RabbitMQ: mandatory replies returned by the broker (the caller's reply queue was gone) */
  returnedMessages = 0;
  readonly errors: Record<string, { count: number; first: string }> = {};
  /** called with the kind the first time it is seen (the worker says it on the console) */
  onFirst: ((kind: string, message: string) => void) | undefined;

  error(kind: string, message: string): void {
    const known = this.errors[kind];
    if (known) known.count++;
    else {
      this.errors[kind] = { count: 1, first: message };
      this.onFirst?.(kind, message);
    }
  }
}

/** One agent's link to the bus: a connection of its own, or a share of one. */
export interface BusConnection {
  readonly info: BusInfo;
  /** Serve an RPC target: consume its anycast, unicast (topic.server) and fanout subscriptions. */
  serve(target: Required<Pick<RpcTarget, 'topic' | 'server'>> & RpcTarget, handler: RequestHandler): Promise<Subscription>;
  /** Call and wait for the reply; rejects with RpcTimeoutError or RemoteError. */
  call(target: RpcTarget, method: string, args: Record<string, unknown>, context: RpcContext, timeoutMs: number): Promise<unknown>;
  /** Cast to one server (unicast) or one of the topic's servers (anycast); resolves once handed to the bus. */
  cast(target: RpcTarget, method: string, args: Record<string, unknown>, context: RpcContext): Promise<void>;
  /** Cast to every server of the topic (oslo `fanout=True`). */
  fanout(target: RpcTarget, method: string, args: Record<string, unknown>, context: RpcContext): Promise<void>;
  /** Send a notification on `<topic>.<priority>`. */
  notify(topic: string, priority: string, eventType: string, payload: unknown, context: RpcContext, publisherId: string): Promise<void>;
  /** Consume notifications of `<topic>.<priority>`; listeners in the same pool share the queue (oslo default pool = the topic queue). */
  listen(topic: string, priority: string, handler: NotificationHandler, pool?: string): Promise<Subscription>;
  /** Calls still waiting for a reply. */
  readonly pendingCalls: number;
  /** Replies that arrived after their call had timed out. */
  readonly lateReplies: number;
  /** replies that matched no waiting or timed-out call (a second reply, a stray) */
  readonly unmatchedReplies: number;
  /**
   * `listener` is called once if the connection is lost — closed by the bus
   * or the network, not by close() — with what the driver knows of why. Every
   * send after that rejects with NotSentError at once.
   */
  onLost(listener: (error: Error) => void): void;
  /** what went wrong short of failing a call (see BusIncidents) */
  readonly incidents: BusIncidents;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** a name the bus shows for this connection (RabbitMQ's connection_name) */
  name: string;
  /** share an underlying connection with other agents of this process (one channel each) */
  shared?: boolean;
  /**
   * Which of the bus's endpoints to use when it has several (the routers of
   * a mesh): endpoint modulo their number. Agents pass their ordinal, so
   * they spread over the endpoints round-robin.
   */
  endpoint?: number;
}

export interface BusDriver {
  readonly kind: string;
  connect(options: ConnectOptions): Promise<BusConnection>;
  /** close shared connections */
  close(): Promise<void>;
}

/** A call whose reply did not come within its timeout (oslo MessagingTimeout). */
export class RpcTimeoutError extends Error {
  override readonly name = 'RpcTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no reply within ${timeoutMs} ms`);
  }
}

/** The server raised: oslo's serialized remote exception. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    readonly exceptionClass: string,
    readonly exceptionModule: string,
    message: string,
    readonly traceback: string[] = [],
  ) {
    super(message);
  }
}

/** The bus refused or lost the message (connection closed, channel error, unroutable). */
export class BusError extends Error {
  override readonly name: string = 'BusError';
}

/**
 * The bus never took the message: the connection was closed or lost before
 * the send. Unlike a failure after the send, it is not counted as sent.
 */
export class NotSentError extends BusError {
  override readonly name: string = 'NotSentError';
}
