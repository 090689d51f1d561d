/**
 * Was the load generator itself the bottleneck? Each worker measures its own
 * load over the measured phase (GeneratorMonitor, in the worker thread); the
 * coordinator judges those figures against the scenario's limits.
 */
import { readFileSync } from 'node:fs';
import { createHistogram, monitorEventLoopDelay, type RecordableHistogram } from 'node:perf_hooks';
import type { Scenario, GeneratorLoad, RunResult } from '../model/index.js';

/** The event-loop delay monitor's sampling interval. */
export const LOOP_DELAY_RESOLUTION_MS = 10;

/** This thread's time on a CPU and waiting for one, ns (Linux schedstat); undefined where the kernel does not say. */
function threadSchedNs(): { onCpu: number; waiting: number } | undefined {
  try {
    // Read on the calling thread, so thread-self is this worker's JS thread, not the process.
    const [onCpu, waiting] = readFileSync('/proc/thread-self/schedstat', 'utf8').trim().split(/\s+/).map(Number);
    return Number.isFinite(onCpu) && Number.isFinite(waiting) ? { onCpu: onCpu!, waiting: waiting! } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One worker thread's load over the measured phase. Event-loop delay:
 * monitorEventLoopDelay records the time between two ticks of its timer, its
 * interval included (an idle loop reads 10 ms at resolution 10), so only the
 * excess over the interval is reported. Schedule lag: open-loop senders
 * record how late each measured send started for the generator's own reasons.
 */
export class GeneratorMonitor {
  private readonly loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  /** µs, integers >= 1 */
  private readonly scheduleLag: RecordableHistogram = createHistogram();
  private startedAt = 0;
  private schedAtStart: { onCpu: number; waiting: number } | undefined;

  /** The measured phase begins. */
  start(): void {
    this.loopDelay.reset();
    this.scheduleLag.reset();
    this.loopDelay.enable();
    this.startedAt = performance.now();
    this.schedAtStart = threadSchedNs();
  }

  /** An open-loop sender started a measured send `lateMs` behind its schedule (its own lateness: not waits on the bus). */
  readonly recordScheduleLag = (lateMs: number): void => {
    if (Number.isFinite(lateMs)) this.scheduleLag.record(Math.max(1, Math.round(lateMs * 1000)));
  };

  /** The figures since start(); the delay monitor stops. */
  take(worker: number, utilization: number): GeneratorLoad {
    this.loopDelay.disable();
    const measuredMs = this.startedAt > 0 ? performance.now() - this.startedAt : 0;
    const sched = threadSchedNs();
    const lag = (ns: number): number => (Number.isFinite(ns) && this.loopDelay.count > 0 ? Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS) : 0);
    const load: GeneratorLoad = {
      worker,
      utilization,
      lagP50Ms: lag(this.loopDelay.percentile(50)),
      lagP99Ms: lag(this.loopDelay.percentile(99)),
      lagMaxMs: lag(this.loopDelay.max),
      measuredMs,
    };
    if (sched && this.schedAtStart && measuredMs > 0) {
      load.cpuFraction = (sched.onCpu - this.schedAtStart.onCpu) / 1e6 / measuredMs;
      load.cpuWaitFraction = (sched.waiting - this.schedAtStart.waiting) / 1e6 / measuredMs;
    }
    if (this.scheduleLag.count > 0) {
      load.scheduleLagP50Ms = this.scheduleLag.percentile(50) / 1000;
      load.scheduleLagP99Ms = this.scheduleLag.percentile(99) / 1000;
      load.scheduleLagMaxMs = this.scheduleLag.max / 1000;
      load.scheduleLagSends = this.scheduleLag.count;
    }
    return load;
  }
}

/** The limits a worker's figures are judged against (RunResult['generator'].thresholds). */
export interface GeneratorThresholds {
  /** event-loop utilization 0..1 (runner.saturation_utilization) */
  utilization: number;
  /** event-loop delay p99, ms, counted when the worker's thread ran on a CPU at least as long as it waited for one (runner.saturation_lag) */
  lagP99Ms: number;
  /** median lateness of open-loop sends behind their schedule, ms (runner.saturation_lag) */
  scheduleLagP50Ms: number;
}

const percent = (fraction: number, digits: number): string => (fraction * 100).toFixed(digits);

/**
 * `value` with as many decimals as it takes not to read the same as `limit`
 * (so a figure over its limit never prints as "50.0 ms (limit 50 ms)").
 */
function over(value: number, limit: number, show: (x: number, digits: number) => string, digits: number): string {
  let d = digits;
  while (d < digits + 3 && Number(show(value, d)) <= Number(show(limit, d))) d++;
  return show(value, d);
}

const ms = (x: number, digits: number): string => x.toFixed(digits);
const msDigits = (x: number): number => (x >= 100 ? 0 : 1);

/** "its thread ran on a CPU 13 % of the time and waited for one 82 %", when the kernel said. */
function cpuShares(w: GeneratorLoad): string | undefined {
  if (w.cpuFraction === undefined || w.cpuWaitFraction === undefined) return undefined;
  return `its thread ran on a CPU ${percent(w.cpuFraction, 0)} % of the time and waited for one ${percent(w.cpuWaitFraction, 0)} %`;
}

/** The thread waited for a CPU longer than it ran: other processes on the host (the broker) took the cores. */
function contended(w: GeneratorLoad): boolean {
  return w.cpuFraction !== undefined && w.cpuWaitFraction !== undefined && w.cpuWaitFraction > w.cpuFraction;
}

/**
 * The verdict, per worker, on three figures of the measured phase:
 *
 * - event-loop utilization above `saturation_utilization` (0.9): the thread
 *   had work queued nearly all the time, so the generator, not the bus, set
 *   the pace (a closed-loop cast flood, a CPU-bound client). Whether it ran or
 *   waited for a CPU, it could not keep up; the reason says which.
 * - open-loop sends (load.rate) behind their schedule by more than
 *   `saturation_lag` (50 ms) at the median, waits on load.concurrency left
 *   out: the generator could not send at the rate asked. A stall the sender
 *   catches up on moves the tail, not the median.
 * - event-loop delay p99 above `saturation_lag`, only when the thread ran on a
 *   CPU at least as long as it waited for one: then the delay is the
 *   generator's own long tasks. On a shared host, delay while the thread
 *   mostly waited for a CPU is contention from other processes (a broker on
 *   the same cores), not saturation, and alone it flags nothing.
 */
export function judgeGenerator(workers: GeneratorLoad[], scenario: Scenario): RunResult['generator'] {
  const thresholds: GeneratorThresholds = {
    utilization: scenario.runner.saturationUtilization,
    lagP99Ms: scenario.runner.saturationLagMs,
    scheduleLagP50Ms: scenario.runner.saturationLagMs,
  };
  const reasons: string[] = [];
  for (const w of workers) {
    const shares = cpuShares(w);
    if (w.utilization > thresholds.utilization) {
      const why = contended(w) ? `; ${shares}: the host's cores are contended` : shares ? `; ${shares}` : '';
      reasons.push(
        `worker ${w.worker}: event loop ${over(w.utilization, thresholds.utilization, percent, 0)} % busy over the measured phase (limit ${percent(thresholds.utilization, 0)} %)${why}`,
      );
    }
    if (w.scheduleLagP50Ms !== undefined && w.scheduleLagP50Ms > thresholds.scheduleLagP50Ms) {
      const p50 = w.scheduleLagP50Ms;
      const tail = w.scheduleLagP99Ms !== undefined ? `, p99 ${ms(w.scheduleLagP99Ms, msDigits(w.scheduleLagP99Ms))} ms` : '';
      reasons.push(
        `worker ${w.worker}: open-loop sends ${over(p50, thresholds.scheduleLagP50Ms, ms, msDigits(p50))} ms behind schedule at the median${tail} (limit ${thresholds.scheduleLagP50Ms} ms)`,
      );
    }
    if (w.lagP99Ms > thresholds.lagP99Ms && !contended(w)) {
      reasons.push(
        `worker ${w.worker}: event-loop delay p99 ${over(w.lagP99Ms, thresholds.lagP99Ms, ms, msDigits(w.lagP99Ms))} ms (limit ${thresholds.lagP99Ms} ms)${shares ? `; ${shares}: the generator's own long tasks` : ''}`,
      );
    }
  }
  return { saturated: reasons.length > 0, reasons, workers, thresholds };
}
