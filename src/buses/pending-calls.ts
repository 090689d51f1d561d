/**
 * Calls waiting for their reply, by correlation id, with their timeouts.
 * Shared by the drivers: one timer per connection, armed for the oldest
 * call. An agent uses one timeout for all its calls, so insertion order is
 * deadline order and expiry is exact; with mixed timeouts a longer one can
 * delay a shorter one's expiry until it reaches the head.
 */
import { RpcTimeoutError } from './driver.js';

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  deadline: number;
  timeoutMs: number;
}

const MAX_EXPIRED = 100_000;

export class PendingCalls {
  private readonly calls = new Map<string, PendingCall>();
  private timer: NodeJS.Timeout | undefined;
  /** replies that came after their call had timed out */
  lateReplies = 0;
  /** replies matching no call that is waiting or timed out: a second reply to a call, or a stray */
  unmatchedReplies = 0;
  /** ids of calls that timed out, so their replies count as late (bounded: the oldest are forgotten) */
  private readonly expired = new Set<string>();

  get size(): number {
    return this.calls.size;
  }

  /** The promise of call `id`'s result; rejects with RpcTimeoutError after `timeoutMs`. */
  add(id: string, timeoutMs: number): Promise<unknown> {
    const result = new Promise<unknown>((resolve, reject) => {
      this.calls.set(id, { resolve, reject, deadline: performance.now() + timeoutMs, timeoutMs });
    });
    this.arm();
    return result;
  }

  /** Whether call `id` still waits (has not timed out, failed or been answered). */
  has(id: string): boolean {
    return this.calls.has(id);
  }

  resolve(id: string, value: unknown): void {
    const call = this.take(id);
    if (call) call.resolve(value);
  }

  reject(id: string, error: Error): void {
    const call = this.take(id);
    if (call) call.reject(error);
  }

  /** Fail call `id` from this side (a refused send, a closed link): not a reply, so nothing late or unmatched is counted. */
  fail(id: string, error: Error): void {
    const call = this.calls.get(id);
    if (!call) return;
    this.calls.delete(id);
    call.reject(error);
  }

  /** Reject every pending call (the connection is gone). */
  failAll(error: Error): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const call of this.calls.values()) call.reject(error);
    this.calls.clear();
  }

  private take(id: string): PendingCall | undefined {
    const call = this.calls.get(id);
    if (!call) {
      if (this.expired.delete(id)) this.lateReplies++;
      else this.unmatchedReplies++;
      return undefined;
    }
    this.calls.delete(id);
    return call;
  }

  private arm(): void {
    if (this.timer || this.calls.size === 0) return;
    const head = this.calls.values().next().value as PendingCall;
    this.timer = setTimeout(() => this.expire(), Math.max(0, head.deadline - performance.now()) + 1);
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    for (const [id, call] of this.calls) {
      if (call.deadline > now) break;
      this.calls.delete(id);
      this.expired.add(id);
      if (this.expired.size > MAX_EXPIRED) this.expired.delete(this.expired.values().next().value as string);
      call.reject(new RpcTimeoutError(call.timeoutMs));
    }
    this.arm();
  }
}
