/**
 * An RPC client agent: calls or casts to one target, or to several drawn
 * per message by weight (a mix of patterns), closed loop (ombt's
 * model: N outstanding, optional pause) or open loop (fixed or Poisson
 * arrivals at a rate, at most N outstanding). In the open loop every message
 * has an intended send time and its latency is also counted from that time,
 * so a stalled bus shows in the percentiles instead of silently lowering the
 * send rate (coordinated omission); the round trip from the actual send is
 * kept beside it as the service time.
 */
import { NotSentError, RpcTimeoutError, type BusConnection, type RpcTarget } from '../src/buses/driver.js';
import { AgentRecorder, LEG_CORRECTED, LEG_PROCESSING, LEG_REPLY, PATTERN_INDEX, countNotSent } from '../src/metrics/stats.js';
import type { PatternName, SentRange } from '../src/model/index.js';
import { WeightedChoice } from '../src/util/draw.js';
import type { PayloadSource } from './payload.js';
import {
  CLIENT_KEY,
  HOST_FIELD,
  HOST_KEY,
  LoadPhase,
  RECEIVED_AT_FIELD,
  REPLIED_AT_FIELD,
  SENT_AT_KEY,
  SEQ_KEY,
  WARMUP_KEY,
  burnCpu,
  epochMs,
  yieldToEventLoop,
} from './phase.js';

/** A pattern this client sends and where to. */
export interface ClientRoutePlan {
  pattern: PatternName;
  target: RpcTarget;
  /** share of this client's messages (several routes only) */
  weight: number;
}

export interface ClientPlan {
  name: string;
  /** this client's number across the run: sequence numbers are per (client, pattern) */
  id: number;
  routes: ClientRoutePlan[];
  /** draws of the pattern mix (seeded: the same scenario draws the same sequence) */
  random: () => number;
  /** draws of Poisson gaps, seeded the same way (a stream of its own, so the mix draws the same with either arrival) */
  arrivals?: () => number;
  /** measured messages this client sends; undefined: until the phase stops */
  quota: number | undefined;
  /** closed loop: outstanding messages; open loop: the most outstanding at once */
  concurrency: number;
  pauseMs: number;
  arrival: 'closed' | 'fixed' | 'poisson';
  /** open loop: messages per second */
  rate: number | undefined;
  timeoutMs: number;
  /** the RPC method called: busbench's own `bench`, ombt's `echo`, or any method a peer serves */
  method: string;
  /**
   * the call's arguments exactly as given (a peer's own method); undefined:
   * `bench` sends {payload}, `echo` ombt's {data, timestamp, msgid}
   */
  args?: Record<string, unknown>;
  payload: PayloadSource;
  /** per-message accounting and per-leg timestamps (off only to measure their cost) */
  bookkeeping?: boolean;
  /** fault: send every n-th cast twice with the same sequence number */
  duplicateSendEvery?: number;
  /** fault: busy CPU per send */
  burnMs?: number;
  /** open loop: called per measured send with how late it started behind its schedule (ms), less the waits on `concurrency` */
  scheduleLag?: (lateMs: number) => void;
}

const STOP = 0;
const WARMUP = 1;
const MEASURED = 2;

/** An error as the summary shows it: oslo's exception class and message for a remote failure. */
function describeError(error: unknown): string {
  const e = error as { name?: string; exceptionClass?: string; message?: string };
  return `${e.exceptionClass ?? e.name ?? 'Error'}: ${(e.message ?? String(error)).split('\n')[0]!.slice(0, 300)}`;
}

/** One route's state: its own sequence numbers, so each (client, pattern) numbers its messages without gaps. */
class Route {
  readonly patternIndex: number;
  readonly isCall: boolean;
  readonly fanout: boolean;
  seq = 0;
  firstMeasuredSeq = -1;
  /** measured messages the bus never took: the last ones numbered (nothing is sent once the connection is gone) */
  unsent = 0;

  constructor(readonly plan: ClientRoutePlan) {
    this.patternIndex = PATTERN_INDEX[plan.pattern];
    this.isCall = plan.pattern.startsWith('call');
    this.fanout = plan.pattern === 'cast-multicast';
  }
}

export class RpcClientAgent {
  readonly recorder = new AgentRecorder('client');
  private measuredSent = 0;
  private readonly routes: Route[];
  private readonly mix: WeightedChoice | undefined;
  /** every route is a call: a lane waits on replies, and need not yield after each send */
  private readonly callsOnly: boolean;
  /** why the connection was lost, once it was: the client stops sending */
  lostBecause: Error | undefined;
  /** the first error each pattern met (not timeouts): the summary shows why calls failed, not only how many */
  readonly firstErrors: Partial<Record<PatternName, string>> = {};

  constructor(
    private readonly connection: BusConnection,
    private readonly plan: ClientPlan,
    private readonly phase: LoadPhase,
  ) {
    this.routes = plan.routes.map((route) => new Route(route));
    this.mix = this.routes.length > 1 ? new WeightedChoice(plan.routes.map((r) => r.weight)) : undefined;
    this.callsOnly = this.routes.every((route) => route.isCall);
    connection.onLost((error) => (this.lostBecause ??= error));
  }

  /** What this client sent in the measured phase, per pattern. */
  get sent(): SentRange[] {
    // Measured messages are the last ones sent on each route: after the warm-up, until the phase stops.
    return this.routes
      .filter((route) => route.firstMeasuredSeq >= 0)
      .map((route) => ({
        client: this.plan.id,
        pattern: route.plan.pattern,
        firstSeq: route.firstMeasuredSeq,
        count: Math.max(0, route.seq - route.firstMeasuredSeq - route.unsent),
      }));
  }

  private route(): Route {
    return this.mix ? this.routes[this.mix.pick(this.plan.random())]! : this.routes[0]!;
  }

  /** Resolves when the client has sent its share and every send has settled. */
  async run(): Promise<void> {
    if (this.plan.arrival !== 'closed' && this.plan.rate !== undefined) return this.runOpenLoop(this.plan.rate, this.plan.arrival === 'poisson');
    const lanes: Promise<void>[] = [];
    for (let i = 0; i < this.plan.concurrency; i++) lanes.push(this.lane());
    await Promise.all(lanes);
  }

  private next(): number {
    const phase = this.phase;
    // A lost connection ends the client: retrying into it would only spin.
    if (phase.stopping || this.lostBecause) return STOP;
    if (!phase.measuring) return WARMUP;
    if (this.plan.quota !== undefined && this.measuredSent >= this.plan.quota) return STOP;
    this.measuredSent++;
    return MEASURED;
  }

  private async lane(): Promise<void> {
    for (let state = this.next(); state !== STOP; state = this.next()) {
      const ok = await this.sendOne(state === MEASURED, undefined);
      if (this.plan.pauseMs > 0) await this.phase.sleep(this.plan.pauseMs);
      // Casts and failures settle without I/O: yield, or a lane would spin and starve the worker's control port.
      else if (!this.callsOnly || !ok) await yieldToEventLoop();
    }
  }

  /**
   * Sends on schedule: the n-th message is due at its intended time whatever
   * happened to the ones before. When `concurrency` messages are already
   * outstanding the send waits for one to finish — late, and its corrected
   * latency says by how much.
   */
  private async runOpenLoop(rate: number, poisson: boolean): Promise<void> {
    const meanGapMs = 1000 / rate;
    const arrivals = this.plan.arrivals ?? this.plan.random;
    // Outstanding sends as a count and one waiter, rather than a set raced whenever the cap is hit.
    let outstanding = 0;
    let onSettled: (() => void) | undefined;
    let allSettled: (() => void) | undefined;
    let failure: { error: unknown } | undefined;
    const settled = (): void => {
      outstanding--;
      const wake = onSettled;
      onSettled = undefined;
      wake?.();
      if (outstanding === 0) allSettled?.();
    };
    // Made once, not per send.
    const failed = (error: unknown): void => {
      failure ??= { error };
      settled();
    };
    let due = performance.now();
    /** how much of the current slip behind schedule is the bus's: time spent waiting for an outstanding message */
    let busSlipMs = 0;
    for (;;) {
      const wait = due - performance.now();
      // Behind schedule (rate above what the bus takes): still yield, so replies and control messages get in.
      if (wait > 0) await this.phase.sleep(wait);
      else await yieldToEventLoop();
      // Decided at the due time, not before the wait: a message due after the phase ended is not sent,
      // and one due after the warm-up counts as measured.
      const state = this.next();
      if (state === STOP) break;
      if (outstanding >= this.plan.concurrency) {
        const blockedAt = performance.now();
        while (outstanding >= this.plan.concurrency) await new Promise<void>((resolve) => (onSettled = resolve));
        busSlipMs += performance.now() - blockedAt;
      }
      // The slip left once the bus's share is taken out is the generator's own: it could not keep up.
      const slipMs = Math.max(0, performance.now() - due);
      busSlipMs = Math.min(busSlipMs, slipMs);
      if (state === MEASURED) this.plan.scheduleLag?.(slipMs - busSlipMs);
      outstanding++;
      // sendOne records the bus's outcomes itself; a rejection is a fault of the generator's, raised once all have settled.
      void this.sendOne(state === MEASURED, due).then(settled, failed);
      // Poisson arrivals: exponential gaps with the same mean, from a seeded stream (the same gaps on every run).
      due += poisson ? -Math.log(1 - arrivals()) * meanGapMs : meanGapMs;
    }
    if (outstanding > 0) await new Promise<void>((resolve) => (allSettled = resolve));
    if (failure) throw failure.error;
  }

  /** Sends one message and records its outcome; false when it failed. `intendedAt`: performance.now() of its due time (open loop). */
  private async sendOne(measured: boolean, intendedAt: number | undefined): Promise<boolean> {
    if (this.plan.burnMs) burnCpu(this.plan.burnMs);
    const route = this.route();
    const target = route.plan.target;
    const patternIndex = route.patternIndex;
    const sentAt = epochMs();
    const seq = route.seq++;
    const context: Record<string, unknown> = { [SENT_AT_KEY]: sentAt };
    if (this.plan.bookkeeping !== false) {
      context[CLIENT_KEY] = this.plan.id;
      context[SEQ_KEY] = seq;
    }
    const pairs = this.recorder.pairs;
    if (pairs) context[HOST_KEY] = pairs.host;
    if (!measured) context[WARMUP_KEY] = true;
    let args = this.plan.args;
    let bytes = 0;
    if (!args) {
      const payload = this.plan.payload.next();
      bytes = payload.length;
      // ombt's echo and noop(data, timestamp, msgid): an ombt or oslo endpoint takes no other keyword.
      args =
        this.plan.method === 'echo' || this.plan.method === 'noop' ? { data: payload, timestamp: sentAt / 1000, msgid: `${this.plan.id}-${seq}` } : { payload };
    }
    const counters = measured ? this.recorder.countersFor(patternIndex) : undefined;
    if (counters) {
      if (route.firstMeasuredSeq < 0) route.firstMeasuredSeq = seq;
      counters.sent++;
      counters.bytes += bytes;
      if (counters.firstAt === 0) counters.firstAt = sentAt;
    }
    const started = performance.now();
    try {
      if (route.isCall) {
        const reply = await this.connection.call(target, this.plan.method, args, context, this.plan.timeoutMs);
        if (counters) {
          counters.ok++;
          const now = performance.now();
          this.recorder.latency(patternIndex, now - started);
          if (intendedAt !== undefined) this.recorder.leg(LEG_CORRECTED, patternIndex, now - intendedAt);
          if (this.plan.bookkeeping !== false) this.recordReplyLegs(patternIndex, reply, now - started);
        }
      } else if (route.fanout) {
        await this.connection.fanout(target, this.plan.method, args, context);
        if (counters) counters.ok++;
      } else {
        await this.connection.cast(target, this.plan.method, args, context);
        if (counters) counters.ok++;
      }
      if (!route.isCall && this.plan.duplicateSendEvery && measured && (seq - route.firstMeasuredSeq + 1) % this.plan.duplicateSendEvery === 0) {
        // Fault: the same message again, as a bus that redelivers would.
        if (route.fanout) await this.connection.fanout(target, this.plan.method, args, context);
        else await this.connection.cast(target, this.plan.method, args, context);
      }
    } catch (error) {
      if (counters && error instanceof NotSentError) {
        // The bus never had it: not sent, not an error of the bus's, not in the delivery accounting.
        countNotSent(counters, bytes);
        route.unsent++;
      } else if (counters) {
        if (error instanceof RpcTimeoutError) {
          counters.timeouts++;
          // A call that never came back was still late by its whole timeout: the open loop must not forget it.
          if (intendedAt !== undefined) this.recorder.leg(LEG_CORRECTED, patternIndex, performance.now() - intendedAt);
        } else {
          counters.errors++;
          this.firstErrors[route.plan.pattern] ??= describeError(error);
        }
        counters.lastAt = epochMs();
      }
      return false;
    }
    if (counters) counters.lastAt = epochMs();
    return true;
  }

  /**
   * A busbench server stamps its reply (when it arrived, when it left, and in a run with sites its
   * host); an oslo server's reply has no stamps, and then there are no legs and the pair's server end
   * is unknown.
   */
  private recordReplyLegs(patternIndex: number, reply: unknown, roundTripMs: number): void {
    const stamped = reply && typeof reply === 'object' ? (reply as Record<string, unknown>) : undefined;
    const received = stamped?.[RECEIVED_AT_FIELD];
    const replied = stamped?.[REPLIED_AT_FIELD];
    let replyMs: number | undefined;
    if (typeof received === 'number' && typeof replied === 'number') {
      this.recorder.leg(LEG_PROCESSING, patternIndex, replied - received);
      replyMs = epochMs() - replied;
      this.recorder.leg(LEG_REPLY, patternIndex, replyMs);
    }
    const pairs = this.recorder.pairs;
    if (pairs) {
      const by = stamped?.[HOST_FIELD];
      pairs.answered(patternIndex, typeof by === 'string' ? by : null, roundTripMs, replyMs);
    }
  }
}
