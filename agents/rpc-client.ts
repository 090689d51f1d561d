/**
 * An RPC client agent: calls or casts to one target, closed loop (ombt's
 * model: N outstanding, optional pause) or at a fixed rate.
 */
import { RpcTimeoutError, type BusConnection, type RpcTarget } from '../src/drivers/driver.js';
import { AgentRecorder, PATTERN_INDEX, type PatternName } from '../src/metrics/stats.js';
import { LoadPhase, SENT_AT_KEY, WARMUP_KEY, epochMs, sleep, yieldToEventLoop } from './phase.js';

export interface ClientPlan {
  name: string;
  pattern: PatternName;
  target: RpcTarget;
  /** measured messages this client sends; undefined: until the phase stops */
  quota: number | undefined;
  concurrency: number;
  pauseMs: number;
  /** messages per second; undefined: closed loop */
  rate: number | undefined;
  timeoutMs: number;
  method: string;
  payload: string;
}

const STOP = 0;
const WARMUP = 1;
const MEASURED = 2;

export class RpcClientAgent {
  readonly recorder = new AgentRecorder('client');
  private measuredSent = 0;
  private readonly patternIndex: number;
  private readonly isCall: boolean;
  private readonly fanout: boolean;
  private seq = 0;

  constructor(
    private readonly connection: BusConnection,
    private readonly plan: ClientPlan,
    private readonly phase: LoadPhase,
  ) {
    this.patternIndex = PATTERN_INDEX[plan.pattern];
    this.isCall = plan.pattern.startsWith('call');
    this.fanout = plan.pattern === 'cast-multicast';
  }

  /** Resolves when the client has sent its share and every send has settled. */
  async run(): Promise<void> {
    if (this.plan.rate !== undefined) return this.runAtRate(this.plan.rate);
    const lanes: Promise<void>[] = [];
    for (let i = 0; i < this.plan.concurrency; i++) lanes.push(this.lane());
    await Promise.all(lanes);
  }

  private next(): number {
    const phase = this.phase;
    if (phase.stopping) return STOP;
    if (!phase.measuring) return WARMUP;
    if (this.plan.quota !== undefined && this.measuredSent >= this.plan.quota) return STOP;
    this.measuredSent++;
    return MEASURED;
  }

  private async lane(): Promise<void> {
    for (let state = this.next(); state !== STOP; state = this.next()) {
      const ok = await this.sendOne(state === MEASURED);
      if (this.plan.pauseMs > 0) await sleep(this.plan.pauseMs);
      // Casts and failures settle without I/O: yield, or a lane would spin and starve the worker's control port.
      else if (!this.isCall || !ok) await yieldToEventLoop();
    }
  }

  private async runAtRate(rate: number): Promise<void> {
    const intervalMs = 1000 / rate;
    const inFlight = new Set<Promise<boolean>>();
    let due = performance.now();
    for (let state = this.next(); state !== STOP; state = this.next()) {
      const wait = due - performance.now();
      // Behind schedule (rate above what the bus takes): still yield, so replies and control messages get in.
      if (wait > 0) await sleep(wait);
      else await yieldToEventLoop();
      const send = this.sendOne(state === MEASURED);
      inFlight.add(send);
      void send.finally(() => inFlight.delete(send));
      due += intervalMs;
    }
    await Promise.all(inFlight);
  }

  /** Sends one message and records its outcome; false when it failed. */
  private async sendOne(measured: boolean): Promise<boolean> {
    const sentAt = epochMs();
    const context: Record<string, unknown> = measured ? { [SENT_AT_KEY]: sentAt } : { [SENT_AT_KEY]: sentAt, [WARMUP_KEY]: true };
    const args = { payload: this.plan.payload, seq: this.seq++ };
    const counters = measured ? this.recorder.countersFor(this.patternIndex) : undefined;
    if (counters) {
      counters.sent++;
      if (counters.firstAt === 0) counters.firstAt = sentAt;
    }
    const started = performance.now();
    try {
      if (this.isCall) {
        await this.connection.call(this.plan.target, this.plan.method, args, context, this.plan.timeoutMs);
        if (counters) {
          counters.ok++;
          this.recorder.latency(this.patternIndex, performance.now() - started);
        }
      } else if (this.fanout) {
        await this.connection.fanout(this.plan.target, this.plan.method, args, context);
        if (counters) counters.ok++;
      } else {
        await this.connection.cast(this.plan.target, this.plan.method, args, context);
        if (counters) counters.ok++;
      }
    } catch (error) {
      if (counters) {
        if (error instanceof RpcTimeoutError) counters.timeouts++;
        else counters.errors++;
        counters.lastAt = epochMs();
      }
      return false;
    }
    if (counters) counters.lastAt = epochMs();
    return true;
  }
}
