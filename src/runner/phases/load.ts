/**
 * Phases: warm-up, measure, drain. The load starts; after the warm-up the
 * measured phase runs until the duration is up, the senders sent their
 * share, the run is stopped, or a bus connection is lost; then what was in
 * flight completes (drain). Meanwhile the workers' ticks feed the progress
 * and the per-second series, and resources and scheduled outages run over
 * the measured phase.
 */
import type { Deployment } from '../../../deploy/deploy.js';
import { InterruptedError } from '../../errors.js';
import { decodeHistogram, encodeHistogram, newHistogram, percentileUs, type Histogram } from '../../metrics/histogram.js';
import { startResourceSampler } from '../../metrics/resources.js';
import { addCounters, emptyCounters } from '../../metrics/stats.js';
import type {
  Counters,
  ResourceReport,
  CutRecord,
  IntervalSnapshot,
  WorkerToMain,
  ConnectionLoss,
  TimeSeriesGroup,
  TimeSeriesPoint,
  TimeSeriesResources,
} from '../../model/index.js';
import { startCutSchedule } from '../../network/cut-schedule.js';
import { cutWindows } from '../../network/cuts.js';
import type { AgentsUp } from './start-agents.js';
import { sleepUnless, waitAbort, type RunContext } from './context.js';

/** how far ahead outages are scheduled in a run bounded by a message count (its length is not known) */
const MAX_CUT_HORIZON_MS = 24 * 3_600_000;

export interface LoadOutcome {
  /** each worker's latest counters */
  totals: Record<string, Counters>[];
  series: Series;
  losses: ConnectionLoss[];
  /** why sending stopped before its time (undefined: it ran its course) */
  stopReason: string | undefined;
  warmupMs: number;
  /** epoch ms when the measured phase began: the time series' second 0 */
  measureStartedAt: number;
  measuredMs: number;
  drainMs: number;
  disruptions: CutRecord[];
  resources: ResourceReport | undefined;
  /** this process's CPU over the measured phase */
  cpuMeasured: NodeJS.CpuUsage;
  /** stops following the workers' logs and losses (after the settle); their ticks go on into the series until the run ends */
  stopFollowing(): void;
}

/** The workers' latest counters, summed per role/pattern key. */
export function sumTotals(totals: Record<string, Counters>[]): Record<string, Counters> {
  const sum: Record<string, Counters> = {};
  for (const worker of totals) for (const [key, c] of Object.entries(worker)) addCounters((sum[key] ??= emptyCounters()), c);
  return sum;
}

export async function runLoad(run: RunContext, deployment: Deployment, agents: AgentsUp): Promise<LoadOutcome> {
  const { scenario, options, emit, say } = run;
  const { pool, inits } = agents;
  const bus = deployment.bus;
  const provider = deployment.provider;
  const topology = scenario.topology;
  const totals = inits.map(() => ({}) as Record<string, Counters>);
  const series: Series = new Map();
  let measureBeganAt = 0;
  let measuring = false;
  const loadBegan = performance.now();
  const stopLoad = new AbortController();
  let stopReason: string | undefined;
  /** stop sending, once: the duration is up, the user interrupted, or the bus went away */
  const stopSending = (reason: string | undefined): void => {
    if (stopLoad.signal.aborted) return;
    stopReason = reason;
    stopLoad.abort();
    pool.broadcast({ type: 'stop' });
  };
  const losses: ConnectionLoss[] = [];
  let lossesSaid = 0;
  const lossReport = setInterval(() => {
    // One line a second while connections go, not one per agent.
    if (losses.length > lossesSaid) say('error', `${losses.length} agent connection(s) lost so far`);
    lossesSaid = losses.length;
  }, 1000);
  run.cleanups.push(() => clearInterval(lossReport));
  // After the settle the workers' logs and losses are no longer the run's; their ticks still are: each second's
  // part goes into the series until the workers' stats close it (assemble), so no receipt falls between the two.
  let following = true;
  const stopTicks = pool.on((message: WorkerToMain, index) => {
    if (message.type === 'tick') {
      totals[index] = message.totals;
      const second = message.interval && measureBeganAt > 0 ? Math.max(1, Math.round((performance.now() - measureBeganAt) / 1000)) : undefined;
      if (second !== undefined) addInterval(series, second, message.interval!);
      emit({
        type: 'tick',
        elapsedMs: performance.now() - loadBegan,
        measuring: measuring && !stopLoad.signal.aborted,
        draining: measuring && stopLoad.signal.aborted,
        totals: sumTotals(totals),
        worker: index,
        ...(second !== undefined ? { second, interval: message.interval! } : {}),
      });
    } else if (!following) {
      return;
    } else if (message.type === 'log') {
      say(message.level, `worker ${index}: ${message.message}`);
    } else if (message.type === 'connection-lost') {
      const atMs = measureBeganAt > 0 ? message.atMs - (performance.timeOrigin + measureBeganAt) : message.atMs - (performance.timeOrigin + loadBegan);
      losses.push({ agent: message.agent, atMs: Math.round(atMs), phase: measureBeganAt > 0 ? 'measure' : 'warmup', error: message.error });
      if (losses.length === 1) {
        say(
          'error',
          `connection lost: ${message.agent} at ${(atMs / 1000).toFixed(1)} s into the ${measureBeganAt > 0 ? 'measured phase' : 'warm-up'}: ${message.error}`,
        );
        lossesSaid = 1;
      }
      // The bus went away under a run that measures it: stop now rather than measure the wreck.
      if (!options.untilAborted) stopSending(`the bus connection of ${message.agent} was lost: ${message.error}`);
    }
  });
  run.cleanups.push(stopTicks);
  const stopFollowing = (): void => {
    following = false;
    clearInterval(lossReport);
  };
  const loadDone = pool.gather('load-done');
  // Awaited after the warm-up; a worker failing before then must not count as an unhandled rejection.
  loadDone.catch(() => undefined);
  const interrupted = options.abort;
  const onInterrupt = (): void => stopSending(`interrupted (${String(interrupted?.reason ?? 'signal')})`);
  interrupted?.addEventListener('abort', onInterrupt, { once: true });
  run.cleanups.push(() => interrupted?.removeEventListener('abort', onInterrupt));

  // Warm-up.
  pool.broadcast({ type: 'load-start' });
  let { warmupMs } = scenario.load;
  if (bus.minWarmupMs !== undefined && warmupMs < bus.minWarmupMs) {
    say(
      'warn',
      `warm-up raised from ${warmupMs / 1000} s to ${bus.minWarmupMs / 1000} s: the routers of a mesh learn of each other's subscribers about a second after they attach, and multicast sent before would miss them`,
    );
    warmupMs = bus.minWarmupMs;
  }
  emit({
    type: 'load-plan',
    warmupMs,
    ...(scenario.load.durationMs !== undefined ? { durationMs: scenario.load.durationMs } : {}),
    ...(scenario.load.messages !== undefined ? { messages: scenario.load.messages } : {}),
  });
  if (warmupMs > 0) {
    emit({ type: 'phase', phase: 'warmup' });
    await sleepUnless(warmupMs, stopLoad.signal);
  }
  if (interrupted?.aborted && stopReason?.startsWith('interrupted')) {
    stopFollowing();
    throw new InterruptedError(`${stopReason} during the warm-up: nothing was measured`);
  }

  // Measure.
  pool.broadcast({ type: 'measure-start' });
  measuring = true;
  const measureBegan = performance.now();
  measureBeganAt = measureBegan;
  const cpuAtMeasure = process.cpuUsage();
  emit({ type: 'phase', phase: 'measure' });
  // What the bus and the agents cost, over the measured phase.
  const sampler =
    scenario.runner.resourceIntervalMs > 0
      ? startResourceSampler({
          processes: agents.watchedProcesses,
          readers: (host) => provider.processReader?.(host),
          intervalMs: scenario.runner.resourceIntervalMs,
          ...(bus.management ? { management: bus.management } : {}),
          onSample: (t, processes) => emit({ type: 'resources', t, processes }),
        })
      : undefined;
  // Scheduled outages, timed from the start of the measured phase.
  const windows =
    topology && deployment.sited
      ? cutWindows(
          topology.dropouts,
          topology.partitions,
          topology.sites.map((s) => s.name),
          scenario.load.durationMs ?? MAX_CUT_HORIZON_MS,
        )
      : [];
  let cuts =
    windows.length > 0
      ? startCutSchedule(windows, provider.hosts, provider.run, (record, what) => {
          emit({ type: 'disruption', what, record: { ...record } });
          say(
            record.error ? 'warn' : 'info',
            `${record.kind} ${record.label}: ${what === 'down' ? 'down' : 'restored'} at ${((what === 'down' ? record.startedAtMs! : record.endedAtMs!) / 1000).toFixed(1)} s${record.error ? ` (${record.error})` : ''}`,
          );
        })
      : undefined;
  // Whatever happens from here, the outages end: no link stays cut.
  const stopCuts = async (): Promise<CutRecord[]> => {
    const active = cuts;
    cuts = undefined;
    return active ? active.stop() : [];
  };
  run.atEnd.push(async () => void (await stopCuts()));
  try {
    let stopTimer: NodeJS.Timeout | undefined;
    if (options.untilAborted) {
      void waitAbort(options.untilAborted).then(() => stopSending(undefined));
    } else if (scenario.load.durationMs !== undefined) {
      stopTimer = setTimeout(() => stopSending(undefined), scenario.load.durationMs);
    }
    if (options.untilAborted && run.requested.client + run.requested.notifier === 0) {
      // Servers and listeners only: nothing ends by itself; wait for the signal.
      await waitAbort(options.untilAborted);
    }
    // The measured phase ends when sending stops: the duration is up (or the run was stopped), or the senders sent their share.
    await Promise.race([loadDone, waitAbort(stopLoad.signal)]);
    const measuredMs = performance.now() - measureBegan;
    if (stopTimer) clearTimeout(stopTimer);

    // Drain: what was in flight when sending stopped (calls waiting for replies) completes or times out.
    if (stopLoad.signal.aborted) emit({ type: 'phase', phase: 'drain' });
    await loadDone;
    const drainMs = performance.now() - measureBegan - measuredMs;
    const disruptions = await stopCuts();
    const resources = await sampler?.stop();
    const cpuMeasured = process.cpuUsage(cpuAtMeasure);
    const measureStartedAt = Math.round(performance.timeOrigin + measureBegan);
    return { totals, series, losses, stopReason, warmupMs, measureStartedAt, measuredMs, drainMs, disruptions, resources, cpuMeasured, stopFollowing };
  } catch (error) {
    stopFollowing();
    await sampler?.stop().catch(() => undefined);
    throw error;
  }
}

/**
 * Per second of the measured phase: per role/pattern, the workers' counts
 * summed, and their interval histograms as they came (encoded). Decoding
 * and merging them waits for finishSeries, after the run: done each second,
 * it cost this thread about 4 % of a core during the measured phase, on
 * the cores the bus and the agents need.
 */
export type Series = Map<number, { groups: Map<string, { ok: number; errors: number; timeouts: number; bytes: number; histograms: string[] }> }>;

export function addInterval(series: Series, second: number, interval: IntervalSnapshot): void {
  let point = series.get(second);
  if (!point) series.set(second, (point = { groups: new Map() }));
  for (const [key, g] of Object.entries(interval.groups)) {
    let into = point.groups.get(key);
    if (!into) point.groups.set(key, (into = { ok: 0, errors: 0, timeouts: 0, bytes: 0, histograms: [] }));
    into.ok += g.ok;
    into.errors += g.errors;
    into.timeouts += g.timeouts;
    into.bytes += g.bytes ?? 0;
    if (g.histogram) into.histograms.push(g.histogram);
  }
}

/** One histogram of the workers' intervals, or undefined when none recorded anything. */
function mergedInterval(encoded: readonly string[]): Histogram | undefined {
  if (encoded.length === 0) return undefined;
  const merged = newHistogram();
  for (const e of encoded) merged.add(decodeHistogram(e));
  return merged.totalCount > 0 ? merged : undefined;
}

/**
 * The series as results hold it: per second and group, the counts, the
 * second's latency percentiles and its histogram (encoded: histograms.hlog
 * and later readers take it from there), and, when resources were sampled,
 * each process's figures at that second's sample.
 */
export function finishSeries(series: Series, resources?: ResourceReport): TimeSeriesPoint[] {
  const bySecond = resourcesBySecond(resources);
  return [...series.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([second, point]) => {
      const sampled = bySecond.get(second);
      return {
        second,
        groups: Object.fromEntries(
          [...point.groups.entries()].map(([key, g]): [string, TimeSeriesGroup] => {
            const histogram = mergedInterval(g.histograms);
            return [
              key,
              {
                ok: g.ok,
                errors: g.errors,
                timeouts: g.timeouts,
                bytes: g.bytes,
                ...(histogram
                  ? {
                      p50Us: percentileUs(histogram, 50),
                      p90Us: percentileUs(histogram, 90),
                      p99Us: percentileUs(histogram, 99),
                      p999Us: percentileUs(histogram, 99.9),
                      maxUs: histogram.maxValue,
                      // Already merged over the workers: encoded once more, it is this second's histogram for whoever reads it.
                      histogram: g.histograms.length === 1 ? g.histograms[0]! : encodeHistogram(histogram),
                    }
                  : {}),
              },
            ];
          }),
        ),
        ...(sampled ? { resources: sampled } : {}),
      };
    });
}

/**
 * Each process's sample per second of the measured phase: the sampler
 * starts with the phase and takes one sample per interval; a sample taken
 * at t ms belongs to the second that ends at or after it (the series'
 * seconds count interval ends). With several samples in a second, the last.
 */
function resourcesBySecond(report: ResourceReport | undefined): Map<number, Record<string, TimeSeriesResources>> {
  const out = new Map<number, Record<string, TimeSeriesResources>>();
  for (const process of report?.processes ?? []) {
    for (const sample of process.samples) {
      const second = Math.max(1, Math.ceil(sample.t / 1000));
      let at = out.get(second);
      if (!at) out.set(second, (at = {}));
      at[process.name] = { cpuCores: sample.cpuCores, rssBytes: sample.rssBytes, tcpConnections: sample.tcpConnections };
    }
  }
  return out;
}
