/**
 * An RPC server agent: serves (topic, server) on its connection, answers
 * every call at once with its name, and records what reached it through
 * which delivery (unicast / anycast / multicast).
 */
import type { BusConnection, IncomingRequest, Subscription } from '../src/drivers/driver.js';
import { AgentRecorder, PATTERN_INDEX } from '../src/metrics/stats.js';
import { SENT_AT_KEY, WARMUP_KEY, epochMs } from './phase.js';

/** [isCall][via] → pattern index, so the hot path does no string work. */
const PATTERN_BY_DELIVERY = {
  call: { unicast: PATTERN_INDEX['call-unicast'], anycast: PATTERN_INDEX['call-anycast'], multicast: PATTERN_INDEX['cast-multicast'] },
  cast: { unicast: PATTERN_INDEX['cast-unicast'], anycast: PATTERN_INDEX['cast-anycast'], multicast: PATTERN_INDEX['cast-multicast'] },
} as const;

export class RpcServerAgent {
  readonly recorder = new AgentRecorder('server');
  private subscription: Subscription | undefined;

  constructor(
    private readonly connection: BusConnection,
    readonly name: string,
    private readonly topic: string,
  ) {}

  async start(): Promise<void> {
    this.subscription = await this.connection.serve({ topic: this.topic, server: this.name }, this.handle);
  }

  /** Messages received in the measured phase (all patterns). */
  get received(): number {
    let total = 0;
    for (const counters of this.recorder.counters) total += counters?.ok ?? 0;
    return total;
  }

  private readonly handle = (request: IncomingRequest): unknown => {
    const context = request.context;
    if (context[WARMUP_KEY] !== true) {
      const pattern = PATTERN_BY_DELIVERY[request.isCall ? 'call' : 'cast'][request.via];
      const now = epochMs();
      this.recorder.received(pattern, now);
      const sentAt = context[SENT_AT_KEY];
      // One-way latency: only meaningful when sender and server share a clock (same host here).
      if (typeof sentAt === 'number') this.recorder.latency(pattern, now - sentAt);
    }
    return { server: this.name, seq: request.args['seq'] ?? null };
  };

  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }
}
