/**
 * A notification listener agent: consumes `<topic>.<priority>`, records
 * one-way latency, and which (notifier, sequence) it got for the delivery
 * accounting.
 */
import type { BusConnection, IncomingNotification, Subscription } from '../src/buses/driver.js';
import { ReceiptLog } from '../src/metrics/accounting.js';
import { AgentRecorder, PATTERN_INDEX } from '../src/metrics/stats.js';
import type { ServerReceipts } from '../src/model/index.js';
import { CLIENT_KEY, HOST_KEY, SENT_AT_KEY, SEQ_KEY, WARMUP_KEY, epochMs } from './phase.js';

const NOTIFY = PATTERN_INDEX['notify'];

export class ListenerAgent {
  readonly recorder = new AgentRecorder('listener');
  subscription: Subscription | undefined;
  private receipts: ReceiptLog | undefined;
  /** every notification taken, warm-up ones too: shows a backlog draining */
  deliveries = 0;

  constructor(
    private readonly connection: BusConnection,
    readonly name: string,
    private readonly topic: string,
    private readonly priority: string,
    private readonly bookkeeping = true,
  ) {}

  async start(): Promise<void> {
    this.subscription = await this.connection.listen(this.topic, this.priority, this.handle);
  }

  get received(): number {
    return this.recorder.counters[NOTIFY]?.ok ?? 0;
  }

  exportReceipts(): ServerReceipts[] {
    return this.receipts ? [{ server: this.name, pattern: 'notify', receipts: this.receipts.export() }] : [];
  }

  private readonly handle = (notification: IncomingNotification): void => {
    this.deliveries++;
    const context = notification.context;
    if (context[WARMUP_KEY] === true) return;
    const now = epochMs();
    const payload = (notification.payload as { payload?: unknown } | null)?.payload;
    this.recorder.received(NOTIFY, now, typeof payload === 'string' ? payload.length : 0);
    const sentAt = context[SENT_AT_KEY];
    if (typeof sentAt === 'number') this.recorder.latency(NOTIFY, now - sentAt);
    const pairs = this.recorder.pairs;
    if (pairs) {
      const from = context[HOST_KEY];
      pairs.received('listener', NOTIFY, typeof from === 'string' ? from : null, typeof sentAt === 'number' ? now - sentAt : undefined);
    }
    if (!this.bookkeeping) return;
    const sender = context[CLIENT_KEY];
    const seq = context[SEQ_KEY];
    if (typeof sender === 'number' && Number.isInteger(seq)) (this.receipts ??= new ReceiptLog()).record(sender, seq as number);
  };

  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }
}
