/**
 * Delay in user space, for kernels without netem: a TCP relay that holds
 * every chunk it reads for the link's one-way delay (plus jitter) before
 * writing it on, separately in each direction. A stream must stay in
 * order, so jitter never lets a chunk overtake the one before it: it
 * varies the gaps, as netem's jitter does once TCP has put its packets
 * back in order. Reading pauses while a direction holds more than
 * `maxHeldBytes`, so a fast sender is slowed instead of filling memory.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { seededRandom } from '../util/draw.js';

export interface DelayRelayOptions {
  /** where the relay listens (default 127.0.0.1, any free port) */
  listenHost?: string;
  listenPort?: number;
  targetHost: string;
  targetPort: number;
  /** client → target */
  forwardDelayMs: number;
  /** target → client */
  backwardDelayMs: number;
  /** uniform in ±jitter around each delay */
  jitterMs?: number;
  maxHeldBytes?: number;
  /** seed of the jitter draws */
  seed?: number;
}

export interface DelayRelay {
  host: string;
  port: number;
  /** connections relayed so far, and bytes each way */
  stats: { connections: number; forwardBytes: number; backwardBytes: number };
  stop(): Promise<void>;
}

const DEFAULT_MAX_HELD = 4 * 1024 * 1024;

/** One direction of one connection: chunks with their due times, written in order when due. */
class DelayedPipe {
  private readonly held: { chunk: Buffer; dueAt: number }[] = [];
  private heldBytes = 0;
  private lastDueAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private drained: (() => void) | undefined;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly delay: () => number,
    private readonly maxHeldBytes: number,
    private readonly count: (bytes: number) => void,
  ) {
    from.on('data', (chunk: Buffer) => this.hold(chunk));
    from.on('end', () => {
      this.ended = true;
      this.pump();
    });
  }

  private hold(chunk: Buffer): void {
    // Never before the chunk ahead of it: the stream keeps its order.
    const dueAt = Math.max(performance.now() + this.delay(), this.lastDueAt);
    this.lastDueAt = dueAt;
    this.held.push({ chunk, dueAt });
    this.heldBytes += chunk.length;
    if (this.heldBytes > this.maxHeldBytes) this.from.pause();
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.held.length === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(0, this.held[0]!.dueAt - performance.now()),
    );
  }

  private pump(): void {
    const now = performance.now();
    while (this.held.length > 0 && this.held[0]!.dueAt <= now + 0.5) {
      const { chunk } = this.held.shift()!;
      this.heldBytes -= chunk.length;
      this.count(chunk.length);
      if (!this.to.destroyed) this.to.write(chunk);
    }
    if (this.heldBytes <= this.maxHeldBytes / 2 && this.from.isPaused()) this.from.resume();
    if (this.held.length === 0 && this.ended && !this.to.destroyed) this.to.end();
    if (this.held.length === 0 && this.drained) {
      const drained = this.drained;
      this.drained = undefined;
      // After the end has been written: the other side gets its FIN before anything is torn down.
      this.to.once('finish', drained);
      if (this.to.writableFinished || this.to.destroyed) drained();
    }
    this.schedule();
  }

  /** `then` once everything held has been written on */
  onDrained(then: () => void): void {
    this.drained = then;
  }

  /** data still held for the other side */
  get pending(): boolean {
    return this.held.length > 0;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function validDelay(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0 && value <= 60_000))
    throw new Error(`${name} must be between 0 and 60000 ms, got ${value}`);
}

export async function startDelayRelay(options: DelayRelayOptions): Promise<DelayRelay> {
  validDelay('forwardDelayMs', options.forwardDelayMs);
  validDelay('backwardDelayMs', options.backwardDelayMs);
  validDelay('jitterMs', options.jitterMs);
  const random = seededRandom(options.seed ?? 1);
  const jitter = options.jitterMs ?? 0;
  const around = (base: number) => (): number => (jitter > 0 ? Math.max(0, base + (random() * 2 - 1) * jitter) : base);
  const maxHeld = options.maxHeldBytes ?? DEFAULT_MAX_HELD;
  const stats = { connections: 0, forwardBytes: 0, backwardBytes: 0 };
  const open = new Set<{ client: Socket; upstream: Socket; pipes: DelayedPipe[] }>();

  // Half-open: a side that has finished sending may still be owed the other direction's held data.
  const server: Server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    stats.connections++;
    const upstream = connect({ host: options.targetHost, port: options.targetPort, noDelay: true, allowHalfOpen: true });
    const entry = {
      client,
      upstream,
      pipes: [
        new DelayedPipe(client, upstream, around(options.forwardDelayMs), maxHeld, (n) => (stats.forwardBytes += n)),
        new DelayedPipe(upstream, client, around(options.backwardDelayMs), maxHeld, (n) => (stats.backwardBytes += n)),
      ],
    };
    open.add(entry);
    const close = (): void => {
      if (!open.delete(entry)) return;
      for (const pipe of entry.pipes) pipe.stop();
      client.destroy();
      upstream.destroy();
    };
    // A reset on either side resets the other: a relay must not hide a dead peer.
    client.on('error', close);
    upstream.on('error', close);
    // A side that closed cleanly may still have data held for the other: that goes out first, then the end.
    const [forward, backward] = entry.pipes as [DelayedPipe, DelayedPipe];
    client.on('close', () => (forward.pending ? forward.onDrained(close) : close()));
    upstream.on('close', () => (backward.pending ? backward.onDrained(close) : close()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort ?? 0, options.listenHost ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    stats,
    stop: async () => {
      for (const entry of [...open]) {
        entry.client.destroy();
        entry.upstream.destroy();
        for (const pipe of entry.pipes) pipe.stop();
      }
      open.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
