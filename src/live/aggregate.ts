/**
 * A run as it goes, for whoever watches it live (the progress line,
 * Prometheus, InfluxDB, thresholds that abort): fed the run's events, it
 * keeps per (role/pattern) group the counters so far, the latency of the
 * measured phase so far and of its last second, and the last resource
 * sample of each process and the outages under way.
 *
 * Decoding the workers' interval histograms is the one cost here (the run
 * itself leaves them encoded until it ends, see finishSeries): so a run
 * nobody watches live pays nothing, and one that is watched pays for one
 * decode per worker, group and second.
 */
import { decodeHistogram, newMergingHistogram, type Histogram } from '../metrics/histogram.js';
import { emptyCounters } from '../metrics/stats.js';
import type { Counters, CutRecord, PatternName, ResourceFigures, Role, WatchedProcess } from '../model/index.js';
import type { RunEvent } from '../runner/events.js';

export interface LiveGroup {
  key: string;
  role: Role;
  pattern: PatternName;
  /** every worker's latest counters, summed: warm-up included until the measured phase, then the run's (see Counters) */
  counters: Counters;
  /** latency of the measured phase so far (µs; round trip at clients, one-way at receivers) */
  latency: Histogram;
  /** latency of the last complete second of the measured phase (µs) */
  lastSecond: Histogram | undefined;
  /** counts of the last complete second */
  lastSecondCounts: { ok: number; errors: number; timeouts: number; bytes: number };
}

export interface LiveRunInfo {
  id: string;
  scenario: string;
  bus: string;
  startedAt: string;
}

/** One group's part of a complete second of the measured phase (what a per-second writer stores). */
export interface LiveSecondGroup {
  key: string;
  role: Role;
  pattern: PatternName;
  ok: number;
  errors: number;
  timeouts: number;
  bytes: number;
  /** the second's latency (µs), when any was recorded */
  latency: Histogram | undefined;
}

export type LivePhase = 'starting' | 'warmup' | 'measure' | 'drain' | 'settle' | 'collect' | 'teardown' | 'ended';

export class LiveRun {
  info: LiveRunInfo | undefined;
  phase: LivePhase = 'starting';
  /** ms since the load began, from the last tick */
  elapsedMs = 0;
  /** seconds of the measured phase completed */
  second = 0;
  readonly groups = new Map<string, LiveGroup>();
  /** last sample of each watched process, by name */
  readonly processes = new Map<string, WatchedProcess & ResourceFigures & { t: number }>();
  /** outages: those under way have no endedAtMs */
  readonly disruptions = new Map<string, CutRecord>();
  /** while settling: deliveries the receivers still wait for */
  outstanding: number | undefined;
  /** seconds whose intervals came in, per second: the workers' parts are merged before the second counts as complete */
  private readonly pending = new Map<number, Map<string, { histograms: Histogram[]; ok: number; errors: number; timeouts: number; bytes: number }>>();
  private readonly listeners: ((event: RunEvent) => void)[] = [];
  private readonly secondListeners: ((second: number, groups: LiveSecondGroup[]) => void)[] = [];

  /** Called after each event has been taken in: exporters read the state then. Returns the way to stop listening. */
  onUpdate(listener: (event: RunEvent) => void): () => void {
    this.listeners.push(listener);
    return () => remove(this.listeners, listener);
  }

  /**
   * Called with each second as it completes, every group's part of it. A
   * worker's report that comes after its second was complete (at the end of
   * the measured phase) completes that second again, with the late part
   * only: whoever stores seconds adds the parts up. Returns the way to stop listening.
   */
  onSecond(listener: (second: number, groups: LiveSecondGroup[]) => void): () => void {
    this.secondListeners.push(listener);
    return () => remove(this.secondListeners, listener);
  }

  /** Feed it every event of the run (RunOptions.onEvent). */
  readonly take = (event: RunEvent): void => {
    switch (event.type) {
      case 'run-started':
        this.info = { id: event.id, scenario: event.scenario, bus: event.bus, startedAt: event.startedAt };
        break;
      case 'phase':
        this.phase = event.phase;
        if (event.phase === 'drain' || event.phase === 'settle') this.completeSeconds(Infinity);
        break;
      case 'tick':
        this.elapsedMs = event.elapsedMs;
        for (const [key, counters] of Object.entries(event.totals)) this.group(key).counters = counters;
        if (event.interval && event.second !== undefined) this.addInterval(event.second, event.interval.groups);
        break;
      case 'settle':
        this.outstanding = event.outstanding;
        break;
      case 'resources':
        for (const p of event.processes) this.processes.set(p.name, { ...p, t: event.t });
        break;
      case 'disruption':
        this.disruptions.set(`${event.record.kind} ${event.record.label}`, event.record);
        break;
      case 'run-ended':
        this.completeSeconds(Infinity);
        this.phase = 'ended';
        break;
      default:
        break;
    }
    // A copy: a listener may stop listening (an exporter detaching at the run's end) while they are called.
    for (const listener of [...this.listeners]) listener(event);
  };

  private group(key: string): LiveGroup {
    let group = this.groups.get(key);
    if (!group) {
      const [role, pattern] = key.split('/') as [Role, PatternName];
      group = {
        key,
        role,
        pattern,
        counters: emptyCounters(),
        latency: newMergingHistogram(),
        lastSecond: undefined,
        lastSecondCounts: { ok: 0, errors: 0, timeouts: 0, bytes: 0 },
      };
      this.groups.set(key, group);
    }
    return group;
  }

  /**
   * A worker's second. Each worker reports its own second about once a
   * second, not all at the same instant: a second is complete once a later
   * second has begun to come in (or the phase ended), and only then does it
   * become "the last second".
   */
  private addInterval(second: number, groups: Record<string, { ok: number; errors: number; timeouts: number; bytes: number; histogram?: string }>): void {
    let at = this.pending.get(second);
    if (!at) this.pending.set(second, (at = new Map()));
    for (const [key, g] of Object.entries(groups)) {
      let into = at.get(key);
      if (!into) at.set(key, (into = { histograms: [], ok: 0, errors: 0, timeouts: 0, bytes: 0 }));
      into.ok += g.ok;
      into.errors += g.errors;
      into.timeouts += g.timeouts;
      into.bytes += g.bytes ?? 0;
      if (g.histogram) {
        const histogram = decodeHistogram(g.histogram);
        into.histograms.push(histogram);
        this.group(key).latency.add(histogram);
      }
    }
    this.completeSeconds(second);
  }

  private completeSeconds(before: number): void {
    for (const [second, groups] of [...this.pending].sort((a, b) => a[0] - b[0])) {
      if (second >= before) break;
      this.pending.delete(second);
      this.second = Math.max(this.second, second);
      for (const g of this.groups.values()) {
        g.lastSecond = undefined;
        g.lastSecondCounts = { ok: 0, errors: 0, timeouts: 0, bytes: 0 };
      }
      const parts: LiveSecondGroup[] = [];
      for (const [key, part] of groups) {
        const group = this.group(key);
        group.lastSecondCounts = { ok: part.ok, errors: part.errors, timeouts: part.timeouts, bytes: part.bytes };
        if (part.histograms.length > 0) {
          const merged = newMergingHistogram();
          for (const h of part.histograms) merged.add(h);
          group.lastSecond = merged;
        }
        parts.push({ key, role: group.role, pattern: group.pattern, ...group.lastSecondCounts, latency: group.lastSecond });
      }
      for (const listener of [...this.secondListeners]) listener(second, parts);
    }
  }

  /** The group a person reads the run by: the first call pattern at clients, else the first group that sends, else the first. */
  headline(): LiveGroup | undefined {
    const groups = [...this.groups.values()];
    return (
      groups.find((g) => g.role === 'client' && g.pattern.startsWith('call')) ?? groups.find((g) => g.role === 'client' || g.role === 'notifier') ?? groups[0]
    );
  }

  /** Outages under way. */
  activeDisruptions(): CutRecord[] {
    return [...this.disruptions.values()].filter((d) => d.startedAtMs !== undefined && d.endedAtMs === undefined);
  }
}

function remove<T>(list: T[], item: T): void {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
}
