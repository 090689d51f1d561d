/**
 * Phases: settle, then stop receiving. Settling waits for what is still on
 * its way to the receivers, for as long as it keeps arriving; then the
 * consumers stop, and what the bus still holds is read as the backlog at
 * stop (undelivered, not lost).
 */
import { PATTERNS, type Counters, type QueueBacklog, type WorkerInit } from '../../model/index.js';
import type { AgentsUp } from './start-agents.js';
import { sleep } from '../../util/process.js';
import type { RunContext } from './context.js';
import { sumTotals, type LoadOutcome } from './load.js';

const SETTLE_POLL_MS = 200;
/** settling ends when nothing at all has arrived for this long (a backlog that drains keeps it going) */
const SETTLE_STALL_MS = 2000;
/** after Ctrl-C, what is in flight gets this long to arrive */
const INTERRUPTED_SETTLE_MS = 1000;
const DEFAULT_SETTLE_LIMIT_MS = 10_000;

export interface Settled {
  settleMs: number;
  /** whether every worker with consumers could read its queues' depths */
  backlogKnown: boolean;
  backlog: QueueBacklog[];
}

/** Measured deliveries the receivers should get per pattern: casts once per receiver (every server for multicast), notifications once. */
function expectedDeliveries(sent: Record<string, Counters>, servers: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pattern of PATTERNS) {
    if (pattern.startsWith('call')) continue; // a call's reply is its receipt: the drain waited for those
    const c = sent[`${pattern === 'notify' ? 'notifier' : 'client'}/${pattern}`];
    if (c && c.ok > 0) out[pattern] = c.ok * (pattern === 'cast-multicast' ? servers : 1);
  }
  return out;
}

function hasConsumers(init: WorkerInit): boolean {
  return init.servers.length + init.listeners.length > 0;
}

/** Queues reported by several workers (an anycast queue every server consumes) count once. */
function dedupeQueues(queues: QueueBacklog[]): QueueBacklog[] {
  return [...new Map(queues.map((q) => [q.queue, q])).values()];
}

export async function settle(run: RunContext, agents: AgentsUp, load: LoadOutcome): Promise<Settled> {
  const { emit } = run;
  const { pool, inits } = agents;
  emit({ type: 'phase', phase: 'settle' });
  const settleBegan = performance.now();
  const settleLimit = run.options.settleTimeoutMs ?? DEFAULT_SETTLE_LIMIT_MS;
  const expected = expectedDeliveries(sumTotals(load.totals), agents.startedByRole.server);
  let lastDeliveries = -1;
  let lastProgressAt = performance.now();
  let heldBefore = -1;
  for (;;) {
    const counts = await pool.gather('counts', { type: 'counts' });
    const received: Record<string, number> = {};
    for (const c of counts) for (const [pattern, n] of Object.entries(c.received)) received[pattern] = (received[pattern] ?? 0) + n;
    const deliveries = counts.reduce((sum, c) => sum + c.deliveries, 0);
    // Replies a fault holds back are still in flight: their late arrival is what is measured.
    const held = counts.reduce((sum, c) => sum + c.delayedReplies, 0);
    const outstanding = Object.entries(expected).reduce((sum, [pattern, n]) => sum + Math.max(0, n - (received[pattern] ?? 0)), 0);
    const now = performance.now();
    if (deliveries !== lastDeliveries) lastProgressAt = now;
    emit({ type: 'settle', elapsedMs: now - settleBegan, outstanding, deliveries });
    // Done when every expected delivery is in (held replies just released need a poll's time to reach their callers),
    // when nothing has arrived for a while, when the connections are gone, or at the limit.
    const complete = outstanding === 0 && held === 0 && heldBefore === 0;
    const stalled = held === 0 && now - lastProgressAt > SETTLE_STALL_MS;
    if (
      complete ||
      stalled ||
      load.losses.length > 0 ||
      now - settleBegan > settleLimit ||
      (run.options.abort?.aborted && now - settleBegan > INTERRUPTED_SETTLE_MS)
    )
      break;
    lastDeliveries = deliveries;
    heldBefore = held;
    await sleep(SETTLE_POLL_MS);
  }
  const settleMs = performance.now() - settleBegan;
  // Consumers stop; what the bus still holds is undelivered at stop, not lost.
  const stopped = await pool.gather('receiving-stopped', { type: 'stop-receiving' });
  const backlogKnown = stopped.every((s, i) => s.queues !== undefined || !hasConsumers(inits[i]!));
  const backlog = dedupeQueues(stopped.flatMap((s) => s.queues ?? []));
  return { settleMs, backlogKnown, backlog };
}
