/** A notifier agent: sends oslo notifications closed loop or at a fixed rate, like a cast client. */
import type { BusConnection } from '../src/drivers/driver.js';
import { AgentRecorder, PATTERN_INDEX } from '../src/metrics/stats.js';
import type { PayloadSource } from './payload.js';
import { LoadPhase, SENT_AT_KEY, WARMUP_KEY, epochMs, sleep, yieldToEventLoop } from './phase.js';

export interface NotifierPlan {
  name: string;
  topic: string;
  priority: string;
  eventType: string;
  quota: number | undefined;
  pauseMs: number;
  rate: number | undefined;
  payload: PayloadSource;
}

const NOTIFY = PATTERN_INDEX['notify'];

export class NotifierAgent {
  readonly recorder = new AgentRecorder('notifier');
  private measuredSent = 0;
  private seq = 0;

  constructor(
    private readonly connection: BusConnection,
    private readonly plan: NotifierPlan,
    private readonly phase: LoadPhase,
  ) {}

  async run(): Promise<void> {
    const intervalMs = this.plan.rate ? 1000 / this.plan.rate : 0;
    let due = performance.now();
    for (;;) {
      if (this.phase.stopping) return;
      const measured = this.phase.measuring;
      if (measured) {
        if (this.plan.quota !== undefined && this.measuredSent >= this.plan.quota) return;
        this.measuredSent++;
      }
      if (intervalMs > 0) {
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        due += intervalMs;
      }
      await this.sendOne(measured);
      // A notification settles without I/O: yield, or the loop would starve the worker's control port.
      if (this.plan.pauseMs > 0) await sleep(this.plan.pauseMs);
      else await yieldToEventLoop();
    }
  }

  private async sendOne(measured: boolean): Promise<void> {
    const sentAt = epochMs();
    const context: Record<string, unknown> = measured ? { [SENT_AT_KEY]: sentAt } : { [SENT_AT_KEY]: sentAt, [WARMUP_KEY]: true };
    const counters = measured ? this.recorder.countersFor(NOTIFY) : undefined;
    const payload = this.plan.payload.next();
    if (counters) {
      counters.sent++;
      counters.bytes += payload.length;
      if (counters.firstAt === 0) counters.firstAt = sentAt;
    }
    try {
      await this.connection.notify(this.plan.topic, this.plan.priority, this.plan.eventType, { payload, seq: this.seq++ }, context, this.plan.name);
      if (counters) counters.ok++;
    } catch {
      if (counters) counters.errors++;
    }
    if (counters) counters.lastAt = epochMs();
  }
}
