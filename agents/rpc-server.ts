/**
 * An RPC server agent: serves (topic, server) on its connection and answers
 * every call at once, by method:
 *   - `bench` (busbench's own): its name, the sequence number and two
 *     timestamps (request arrived, reply left: the client derives processing
 *     time and the reply's one-way trip from them);
 *   - `echo` (ombt's `echo(ctxt, data, timestamp, msgid)`): `args.data`, or
 *     the arguments themselves when there is no `data` (e.g. `echo(i=1)`);
 *   - `noop` (ombt's cast/fanout endpoint): null;
 *   - any other method: its arguments beside the two timestamps.
 * Whatever the method, it records what reached it through which delivery
 * (unicast / anycast / multicast), the one-way latency, and which (client,
 * sequence) it got — the sequence from the context (SEQ_KEY), or from
 * `args.seq` for older senders — for the loss / duplicate / reorder
 * accounting. Optional faults (stall, drop, late replies, a rate limit) come
 * from the scenario.
 */
import type { IncomingRequest, Subscription, BusConnection } from '../src/buses/driver.js';
import { ReceiptLog } from '../src/metrics/accounting.js';
import { PATTERNS, type Faults, type ServerReceipts } from '../src/model/index.js';
import { AgentRecorder, PATTERN_INDEX } from '../src/metrics/stats.js';
import { CLIENT_KEY, HOST_FIELD, HOST_KEY, RECEIVED_AT_FIELD, REPLIED_AT_FIELD, SENT_AT_KEY, SEQ_KEY, WARMUP_KEY, burnCpu, epochMs } from './phase.js';

/** [isCall][via] → pattern index, so the hot path does no string work. */
const PATTERN_BY_DELIVERY = {
  call: { unicast: PATTERN_INDEX['call-unicast'], anycast: PATTERN_INDEX['call-anycast'], multicast: PATTERN_INDEX['cast-multicast'] },
  cast: { unicast: PATTERN_INDEX['cast-unicast'], anycast: PATTERN_INDEX['cast-anycast'], multicast: PATTERN_INDEX['cast-multicast'] },
} as const;

const NEVER = new Promise<never>(() => undefined);

/** How a method is answered (see the file's doc comment). */
const BENCH = 0;
const ECHO = 1;
const NOOP = 2;
const OTHER = 3;
type Answer = typeof BENCH | typeof ECHO | typeof NOOP | typeof OTHER;

function answerKind(method: string): Answer {
  switch (method) {
    case 'bench':
      return BENCH;
    case 'echo':
      return ECHO;
    case 'noop':
      return NOOP;
    default:
      return OTHER;
  }
}

/** A reply that carries the arrival and departure stamps (REPLIED_AT_FIELD is filled in as it leaves). */
type Stamped = Record<string, unknown> & { [REPLIED_AT_FIELD]: number };

export class RpcServerAgent {
  readonly recorder = new AgentRecorder('server');
  /** the bus subscription: the worker pauses it and asks its backlog at the end of a run */
  subscription: Subscription | undefined;
  /** every request taken, warm-up ones too: shows a backlog draining */
  deliveries = 0;
  private readonly receipts: (ReceiptLog | undefined)[] = new Array(PATTERNS.length);
  private measuredSeen = 0;
  private callsSeen = 0;
  /** replies held back by a fault, still to go out */
  delayedReplies = 0;
  /** rate-limit fault: when the next answer may leave (performance.now()) */
  private nextFreeAt = 0;
  /** performance.now() when the measured phase began (the stall fault is timed from it) */
  measureStartedAt = 0;
  /** whether any fault holds replies back: without, calls skip replyDelay altogether */
  private readonly delaysReplies: boolean;

  constructor(
    private readonly connection: BusConnection,
    readonly name: string,
    private readonly topic: string,
    private readonly faults: Faults = {},
    private readonly bookkeeping = true,
  ) {
    this.delaysReplies = Boolean(faults.lateReplyEvery || faults.serverStall || faults.serverRate);
  }

  async start(): Promise<void> {
    this.subscription = await this.connection.serve({ topic: this.topic, server: this.name }, (request) => {
      this.deliveries++;
      return this.handle(request);
    });
  }

  /** Messages received in the measured phase (all patterns). */
  get received(): number {
    let total = 0;
    for (const counters of this.recorder.counters) total += counters?.ok ?? 0;
    return total;
  }

  exportReceipts(): ServerReceipts[] {
    const out: ServerReceipts[] = [];
    this.receipts.forEach((log, p) => {
      if (log) out.push({ server: this.name, pattern: PATTERNS[p]!, receipts: log.export() });
    });
    return out;
  }

  private readonly handle = (request: IncomingRequest): unknown => {
    const context = request.context;
    const args = request.args;
    const receivedAt = epochMs();
    const kind = answerKind(request.method);
    const seq = context[SEQ_KEY] ?? args['seq'];
    if (context[WARMUP_KEY] === true) {
      if (!request.isCall) return undefined;
      if (kind === BENCH) return { server: this.name, seq: seq ?? null };
      return this.leave(kind, this.answer(kind, args, seq, receivedAt));
    }
    const faults = this.faults;
    this.measuredSeen++;
    // Fault: a slow consumer (busy CPU per message), so a backlog builds in the bus.
    if (faults.serverBurnMs) burnCpu(faults.serverBurnMs);
    // Fault: ignore it altogether, as if the bus had lost it.
    if (faults.dropEvery && this.measuredSeen % faults.dropEvery === 0) return NEVER;
    const pattern = PATTERN_BY_DELIVERY[request.isCall ? 'call' : 'cast'][request.via];
    // busbench's payload, or ombt's (echo/noop carry it as `data`)
    const payload = kind === BENCH ? args['payload'] : (args['payload'] ?? args['data']);
    this.recorder.received(pattern, receivedAt, typeof payload === 'string' ? payload.length : 0);
    const sentAt = context[SENT_AT_KEY];
    // One-way latency in the coordinator's time (each process corrects its clock by its estimated offset).
    if (typeof sentAt === 'number') this.recorder.latency(pattern, receivedAt - sentAt);
    const pairs = this.recorder.pairs;
    if (pairs) {
      // An oslo client stamps no host: its calls still count here, from an unknown host.
      const from = context[HOST_KEY];
      pairs.received('server', pattern, typeof from === 'string' ? from : null, typeof sentAt === 'number' ? receivedAt - sentAt : undefined);
    }
    const client = context[CLIENT_KEY];
    if (!this.bookkeeping) {
      // No reply timestamps without bookkeeping.
      if (!request.isCall) return undefined;
      if (kind === BENCH) return { server: this.name, seq: seq ?? null };
      if (kind === OTHER) return args;
      return this.answer(kind, args, seq, receivedAt);
    }
    if (typeof client === 'number' && Number.isInteger(seq)) (this.receipts[pattern] ??= new ReceiptLog()).record(client, seq as number);
    if (!request.isCall) return undefined;
    this.callsSeen++;
    const answer = this.answer(kind, args, seq, receivedAt);
    const delayMs = this.delaysReplies ? this.replyDelay() : 0;
    if (delayMs <= 0) return this.leave(kind, answer);
    this.delayedReplies++;
    return new Promise((resolve) =>
      setTimeout(() => {
        this.delayedReplies--;
        resolve(this.leave(kind, answer));
      }, delayMs),
    );
  };

  /** The reply to a call, by method; a stamped one still has to get its departure time (leave). */
  private answer(kind: Answer, args: Record<string, unknown>, seq: unknown, receivedAt: number): unknown {
    switch (kind) {
      case BENCH:
        return { server: this.name, seq: seq ?? null, [RECEIVED_AT_FIELD]: receivedAt, [REPLIED_AT_FIELD]: 0 } satisfies Stamped;
      case ECHO:
        return 'data' in args ? args['data'] : args;
      case NOOP:
        return null;
      case OTHER:
        return { ...args, [RECEIVED_AT_FIELD]: receivedAt, [REPLIED_AT_FIELD]: 0 } satisfies Stamped;
    }
  }

  /** Stamps a reply with the time it leaves (and in a run with sites, this host), when its method's replies carry stamps (bench, other methods). */
  private leave(kind: Answer, answer: unknown): unknown {
    if (kind === BENCH || kind === OTHER) {
      (answer as Stamped)[REPLIED_AT_FIELD] = epochMs();
      if (this.recorder.pairs) (answer as Stamped)[HOST_FIELD] = this.recorder.pairs.host;
    }
    return answer;
  }

  /** How long a fault holds this call's reply back (0: none). */
  private replyDelay(): number {
    const faults = this.faults;
    const now = performance.now();
    let delay = 0;
    if (faults.lateReplyEvery && this.callsSeen % faults.lateReplyEvery === 0) delay = faults.lateReplyDelayMs ?? 0;
    if (faults.serverStall && this.measureStartedAt > 0) {
      const stallStart = this.measureStartedAt + faults.serverStall.atMs;
      const stallEnd = stallStart + faults.serverStall.forMs;
      if (now >= stallStart && now < stallEnd) delay = Math.max(delay, stallEnd - now);
    }
    if (faults.serverRate) {
      // A token bucket of one: answers leave at most `serverRate` per second.
      const slot = Math.max(now, this.nextFreeAt);
      this.nextFreeAt = slot + 1000 / faults.serverRate;
      delay = Math.max(delay, slot - now);
    }
    return delay;
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }
}
