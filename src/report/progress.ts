/**
 * Progress on the console while a run goes: start-up counts, then what the
 * run is doing — rate, p99 so far, errors and timeouts, elapsed and the time
 * left, and while settling what is still expected at the receivers. On a
 * terminal one line, rewritten every second; otherwise a plain line every
 * few seconds, so CI logs stay short.
 */
import type { RunEvent } from '../runner/run.js';
import { LiveRun, type LiveGroup } from '../live/aggregate.js';
import { percentileUs } from '../metrics/histogram.js';

export interface ProgressOptions {
  /** put before every line (a campaign: which run this is) */
  prefix?: string;
  /** the live state to read p99 from; made here when not given (exporters may share one) */
  live?: LiveRun;
  /** the clock lines are paced by (ms); tests give their own */
  now?: () => number;
}

/** 45s, 12m 05s, 3h 07m: how long something took or has left. */
export function formatEta(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

const count = (n: number): string => n.toLocaleString('en-US');

function ms(us: number): string {
  const value = us / 1000;
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** What the senders did so far, summed over their groups; receivers alone when nothing sends. */
function sums(groups: Iterable<LiveGroup>): { senders: boolean; sent: number; ok: number; errors: number; timeouts: number; unsent: number; received: number } {
  const out = { senders: false, sent: 0, ok: 0, errors: 0, timeouts: 0, unsent: 0, received: 0 };
  for (const g of groups) {
    if (g.role === 'client' || g.role === 'notifier') {
      out.senders = true;
      out.sent += g.counters.sent;
      out.ok += g.counters.ok;
      out.errors += g.counters.errors;
      out.timeouts += g.counters.timeouts;
      out.unsent += g.counters.unsent;
    } else out.received += g.counters.ok;
  }
  return out;
}

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr, options: ProgressOptions = {}): (event: RunEvent) => void {
  const tty = stream.isTTY === true;
  const interval = tty ? 1000 : 5000;
  const prefix = options.prefix ? `${options.prefix} ` : '';
  const live = options.live ?? new LiveRun();
  const feed = options.live ? undefined : live.take;
  let plan: { warmupMs: number; durationMs?: number; messages?: number } | undefined;
  const clock = options.now ?? ((): number => performance.now());
  let lastPrint = -Infinity;
  let lineOpen = false;
  let lastDeliveries = 0;
  let lastSettleAt = 0;
  const write = (line: string, force = false): void => {
    const now = clock();
    if (!force && now - lastPrint < interval - 150) return;
    lastPrint = now;
    if (tty) {
      stream.write(`\r\x1b[K${prefix}${line}`);
      lineOpen = true;
    } else stream.write(`${prefix}${line}\n`);
  };
  const endLine = (): void => {
    if (lineOpen) stream.write('\n');
    lineOpen = false;
  };
  // Ticks come about once a second: one a few ms early must not skip a line.
  const due = (): boolean => clock() - lastPrint >= interval - 150;

  /** Time left: to the end of the duration, or to the last message at the current rate. */
  const eta = (elapsedMs: number, measuring: boolean, sent: number, rate: number): string => {
    if (!plan) return '';
    if (plan.durationMs !== undefined) {
      const left = plan.warmupMs + plan.durationMs - elapsedMs;
      return left > 0 ? `  ETA ${formatEta(left)}` : '';
    }
    if (plan.messages !== undefined && measuring && rate > 0) {
      const left = Math.max(0, plan.messages - sent);
      return `  ETA ${formatEta((left / rate) * 1000)}`;
    }
    return '';
  };

  return (event) => {
    feed?.(event);
    switch (event.type) {
      case 'run-started':
        plan = undefined;
        lastSettleAt = 0;
        break;
      case 'log':
        if (event.level !== 'info') {
          endLine();
          stream.write(`${prefix}${event.level}: ${event.message}\n`);
        }
        break;
      case 'bus-ready':
        endLine();
        stream.write(`${prefix}bus: ${event.product} ${event.version} at ${event.url}${event.embedded ? ' (embedded, started by busbench)' : ''}\n`);
        break;
      case 'agents-progress':
        write(`starting agents: ${event.started}/${event.total}${event.failed ? `, ${event.failed} failed` : ''}`);
        break;
      case 'agents-ready':
        write(`agents started: ${event.started}${event.failed ? `, ${event.failed} failed` : ''} in ${(event.elapsedMs / 1000).toFixed(2)} s`, true);
        endLine();
        break;
      case 'load-plan':
        plan = {
          warmupMs: event.warmupMs,
          ...(event.durationMs !== undefined ? { durationMs: event.durationMs } : {}),
          ...(event.messages !== undefined ? { messages: event.messages } : {}),
        };
        break;
      case 'phase':
        if (event.phase === 'warmup' || event.phase === 'drain') {
          endLine();
          stream.write(`${prefix}${event.phase === 'warmup' ? 'warming up' : 'sending stopped; waiting for the calls in flight'}…\n`);
        }
        break;
      case 'settle': {
        // Not "0 msg/s": say what is still expected and how fast it arrives.
        const rate = event.elapsedMs > lastSettleAt ? ((event.deliveries - lastDeliveries) / (event.elapsedMs - lastSettleAt)) * 1000 : 0;
        if (lastSettleAt === 0 || due()) {
          lastDeliveries = event.deliveries;
          lastSettleAt = event.elapsedMs;
        }
        write(
          `[settle ${(event.elapsedMs / 1000).toFixed(0).padStart(3)} s] ${count(event.outstanding)} deliveries still expected at the receivers, arriving at ${rate.toFixed(0)}/s`,
        );
        break;
      }
      case 'tick': {
        // The workers' last parts, taken in at collection: the settle's line said it all.
        if (!due() || live.phase === 'collect' || live.phase === 'teardown' || live.phase === 'ended') break;
        const now = event.elapsedMs;
        const elapsed = `[${(now / 1000).toFixed(0).padStart(4)} s]`;
        if (!event.measuring && !event.draining) {
          const left = plan ? plan.warmupMs - now : 0;
          write(`${elapsed} warm-up${left > 0 ? `, ${formatEta(left)} to go` : ''}${eta(now, false, 0, 0)}`, true);
          break;
        }
        if (live.groups.size === 0) {
          write(`${elapsed} ${event.draining ? 'draining' : 'measuring'}: nothing counted yet`, true);
          break;
        }
        const s = sums(live.groups.values());
        // The rate of the last complete second of the measured phase: what the senders completed (or the receivers got).
        let lastSecond: number | undefined;
        for (const g of live.groups.values()) {
          if ((g.role === 'client' || g.role === 'notifier') !== s.senders) continue;
          lastSecond = (lastSecond ?? 0) + g.lastSecondCounts.ok + g.lastSecondCounts.errors + g.lastSecondCounts.timeouts;
        }
        const rate = live.second > 0 && lastSecond !== undefined ? lastSecond : undefined;
        const rateText = rate !== undefined ? `  ${count(rate)} msg/s` : '';
        const phase = event.draining ? 'draining ' : 'measuring';
        const headline = live.headline();
        const p99 = headline && headline.latency.totalCount > 0 ? `  p99 ${ms(percentileUs(headline.latency, 99))} ms` : '';
        const cut = live.activeDisruptions();
        const outage = cut.length > 0 ? `  OUTAGE ${cut.map((c) => `${c.kind} ${c.label}`).join(', ')}` : '';
        write(
          s.senders
            ? `${elapsed} ${phase}${rateText}${p99}  sent ${count(s.sent)}  ok ${count(s.ok)}` +
                `  errors ${count(s.errors)}  timeouts ${count(s.timeouts)}${s.unsent ? `  not sent ${count(s.unsent)}` : ''}` +
                `${eta(now, event.measuring, s.sent, rate ?? 0)}${outage}`
            : `${elapsed} ${phase}  received ${count(s.received)}${rateText}${p99}${outage}`,
          true,
        );
        break;
      }
      case 'run-ended':
        endLine();
        break;
    }
  };
}
