/** A notification listener agent: consumes `<topic>.<priority>` and records one-way latency. */
import type { BusConnection, IncomingNotification, Subscription } from '../src/drivers/driver.js';
import { AgentRecorder, PATTERN_INDEX } from '../src/metrics/stats.js';
import { SENT_AT_KEY, WARMUP_KEY, epochMs } from './phase.js';

const NOTIFY = PATTERN_INDEX['notify'];

export class ListenerAgent {
  readonly recorder = new AgentRecorder('listener');
  private subscription: Subscription | undefined;

  constructor(
    private readonly connection: BusConnection,
    readonly name: string,
    private readonly topic: string,
    private readonly priority: string,
  ) {}

  async start(): Promise<void> {
    this.subscription = await this.connection.listen(this.topic, this.priority, this.handle);
  }

  get received(): number {
    return this.recorder.counters[NOTIFY]?.ok ?? 0;
  }

  private readonly handle = (notification: IncomingNotification): void => {
    const context = notification.context;
    if (context[WARMUP_KEY] === true) return;
    const now = epochMs();
    const payload = (notification.payload as { payload?: unknown } | null)?.payload;
    this.recorder.received(NOTIFY, now, typeof payload === 'string' ? payload.length : 0);
    const sentAt = context[SENT_AT_KEY];
    if (typeof sentAt === 'number') this.recorder.latency(NOTIFY, now - sentAt);
  };

  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }
}
