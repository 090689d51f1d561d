/**
 * A notifier agent: sends oslo notifications closed loop or at a fixed rate,
 * like a cast client, numbering its measured ones (context busbench_client /
 * busbench_seq) so the listeners' receipts account for every one of them.
 */
import { NotSentError, type BusConnection } from '../src/buses/driver.js';
import { AgentRecorder, PATTERN_INDEX, countNotSent } from '../src/metrics/stats.js';
import type { PayloadSource } from './payload.js';
import type { SentRange } from '../src/model/index.js';
import { CLIENT_KEY, HOST_KEY, LoadPhase, SENT_AT_KEY, SEQ_KEY, WARMUP_KEY, epochMs, yieldToEventLoop } from './phase.js';

export interface NotifierPlan {
  name: string;
  /** this notifier's number across the run: its sequence numbers are its own */
  id: number;
  topic: string;
  priority: string;
  eventType: string;
  quota: number | undefined;
  pauseMs: number;
  rate: number | undefined;
  payload: PayloadSource;
  /** per-message accounting (off only to measure its cost) */
  bookkeeping?: boolean;
}

const NOTIFY = PATTERN_INDEX['notify'];

export class NotifierAgent {
  readonly recorder = new AgentRecorder('notifier');
  private measuredSent = 0;
  private seq = 0;
  private firstMeasuredSeq = -1;
  private unsent = 0;
  /** why the connection was lost, once it was: the notifier stops */
  lostBecause: Error | undefined;

  constructor(
    private readonly connection: BusConnection,
    private readonly plan: NotifierPlan,
    private readonly phase: LoadPhase,
  ) {
    connection.onLost((error) => (this.lostBecause ??= error));
  }

  /** What this notifier sent in the measured phase, for the listeners' accounting. */
  get sent(): SentRange[] {
    if (this.firstMeasuredSeq < 0) return [];
    return [{ client: this.plan.id, pattern: 'notify', firstSeq: this.firstMeasuredSeq, count: Math.max(0, this.seq - this.firstMeasuredSeq - this.unsent) }];
  }

  async run(): Promise<void> {
    const intervalMs = this.plan.rate ? 1000 / this.plan.rate : 0;
    let due = performance.now();
    for (;;) {
      // Wait for the due time first, then decide: a notification due after the phase ended is not sent,
      // nor counted in the phase it was scheduled in.
      if (intervalMs > 0) {
        const wait = due - performance.now();
        if (wait > 0) await this.phase.sleep(wait);
        due += intervalMs;
      }
      if (this.phase.stopping || this.lostBecause) return;
      const measured = this.phase.measuring;
      if (measured) {
        if (this.plan.quota !== undefined && this.measuredSent >= this.plan.quota) return;
        this.measuredSent++;
      }
      await this.sendOne(measured);
      // A notification settles without I/O: yield, or the loop would starve the worker's control port.
      if (this.plan.pauseMs > 0) await this.phase.sleep(this.plan.pauseMs);
      else await yieldToEventLoop();
    }
  }

  private async sendOne(measured: boolean): Promise<void> {
    const sentAt = epochMs();
    const seq = this.seq++;
    const context: Record<string, unknown> = { [SENT_AT_KEY]: sentAt };
    if (this.plan.bookkeeping !== false) {
      context[CLIENT_KEY] = this.plan.id;
      context[SEQ_KEY] = seq;
    }
    if (this.recorder.pairs) context[HOST_KEY] = this.recorder.pairs.host;
    if (!measured) context[WARMUP_KEY] = true;
    const counters = measured ? this.recorder.countersFor(NOTIFY) : undefined;
    const payload = this.plan.payload.next();
    if (counters) {
      if (this.firstMeasuredSeq < 0) this.firstMeasuredSeq = seq;
      counters.sent++;
      counters.bytes += payload.length;
      if (counters.firstAt === 0) counters.firstAt = sentAt;
    }
    try {
      await this.connection.notify(this.plan.topic, this.plan.priority, this.plan.eventType, { payload }, context, this.plan.name);
      if (counters) counters.ok++;
    } catch (error) {
      if (counters && error instanceof NotSentError) {
        countNotSent(counters, payload.length);
        this.unsent++;
      } else if (counters) counters.errors++;
    }
    if (counters) counters.lastAt = epochMs();
  }
}
