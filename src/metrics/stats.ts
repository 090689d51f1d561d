/**
 * Counters and latency per (role, pattern) group: what each agent records,
 * what a worker merges and sends to the main thread, what results hold.
 */
import { encodeHistogram, newHistogram, newRecordingHistogram, recordMs, type Histogram } from './histogram.js';
import type { SitePairRecorder } from './site-pairs.js';
import { LEGS, PATTERNS, type Counters, type GroupSnapshot, type LegName, type PatternName, type Role } from '../model/index.js';

/** Each pattern's index in PATTERNS (src/model/metrics.ts). */
export const PATTERN_INDEX: Record<PatternName, number> = Object.fromEntries(PATTERNS.map((p, i) => [p, i])) as Record<PatternName, number>;

export function emptyCounters(): Counters {
  return { sent: 0, ok: 0, errors: 0, timeouts: 0, unsent: 0, bytes: 0, firstAt: 0, lastAt: 0 };
}

/** A measured send the bus refused (NotSentError): out of `sent` and its bytes, into `unsent`. */
export function countNotSent(counters: Counters, bytes: number): void {
  counters.sent--;
  counters.bytes -= bytes;
  counters.unsent++;
}

export function addCounters(into: Counters, from: Counters): void {
  into.sent += from.sent;
  into.ok += from.ok;
  into.errors += from.errors;
  into.timeouts += from.timeouts;
  into.unsent += from.unsent;
  into.bytes += from.bytes;
  if (from.firstAt > 0 && (into.firstAt === 0 || from.firstAt < into.firstAt)) into.firstAt = from.firstAt;
  if (from.lastAt > into.lastAt) into.lastAt = from.lastAt;
}

/** Messages per second over the group's own active window (a group that finished early is not diluted by the others). */
export function throughputPerSec(counters: Counters, fallbackWindowMs: number): number {
  const window = activeWindowMs(counters, fallbackWindowMs);
  return window > 0 ? (counters.ok / window) * 1000 : 0;
}

/** Payload bytes per second over the same window. */
export function payloadBytesPerSec(counters: Counters, fallbackWindowMs: number): number {
  const window = activeWindowMs(counters, fallbackWindowMs);
  return window > 0 ? (counters.bytes / window) * 1000 : 0;
}

function activeWindowMs(counters: Counters, fallbackWindowMs: number): number {
  return counters.lastAt > counters.firstAt && counters.firstAt > 0 ? counters.lastAt - counters.firstAt : fallbackWindowMs;
}

/** Indexes of the legs in LEGS (src/model/metrics.ts). */
export const LEG_CORRECTED = 0;
export const LEG_PROCESSING = 1;
export const LEG_REPLY = 2;

export function groupKey(role: Role, pattern: PatternName): string {
  return `${role}/${pattern}`;
}

/**
 * One agent's measurements, per pattern it takes part in. Histograms are
 * created on first use: an idle agent holds none.
 */
/**
 * The histograms of one worker's agents, per role: shared, because results
 * are per (role, pattern), merged over agents, and one histogram per agent
 * cost each sending agent 25 KiB to over 100 KiB (four 32-bit histograms
 * sized by its largest latency) — at 15,000 clients 1.3 GiB of the
 * process's 1.8 GiB. Counters stay per agent (per-sender accounting).
 */
export class WorkerHistograms {
  private readonly byRole = new Map<Role, { histograms: (Histogram | undefined)[]; legs: (Histogram | undefined)[][] }>();
  of(role: Role): { histograms: (Histogram | undefined)[]; legs: (Histogram | undefined)[][] } {
    let store = this.byRole.get(role);
    if (!store) this.byRole.set(role, (store = { histograms: new Array(PATTERNS.length), legs: LEGS.map(() => new Array(PATTERNS.length)) }));
    return store;
  }
}

export class AgentRecorder {
  /** When set (a worker thread sets it before its agents start), recorders made afterwards record into it. */
  static sharing: WorkerHistograms | undefined;

  readonly counters: (Counters | undefined)[] = new Array(PATTERNS.length);
  readonly histograms: (Histogram | undefined)[];
  /** [leg][pattern] */
  readonly legs: (Histogram | undefined)[][];
  readonly sharesHistograms: boolean;

  /** the worker's per-second time series, when it keeps one */
  interval: { record(role: Role, pattern: number, ms: number): void } | undefined;
  /** the worker's per host pair figures, in a run with sites (with bookkeeping): where its agents' messages went */
  pairs: SitePairRecorder | undefined;

  constructor(readonly role: Role) {
    const store = AgentRecorder.sharing?.of(role);
    this.sharesHistograms = store !== undefined;
    this.histograms = store?.histograms ?? new Array(PATTERNS.length);
    this.legs = store?.legs ?? LEGS.map(() => new Array(PATTERNS.length));
  }

  leg(leg: number, pattern: number, ms: number): void {
    const row = this.legs[leg]!;
    recordMs((row[pattern] ??= newRecordingHistogram()), ms);
  }

  countersFor(pattern: number): Counters {
    return (this.counters[pattern] ??= emptyCounters());
  }

  /** A measured message arrived at this agent (servers, listeners), with `bytes` of payload. */
  received(pattern: number, now: number, bytes: number): void {
    const counters = this.countersFor(pattern);
    counters.ok++;
    counters.bytes += bytes;
    if (counters.firstAt === 0) counters.firstAt = now;
    counters.lastAt = now;
  }

  latency(pattern: number, ms: number): void {
    recordMs((this.histograms[pattern] ??= newRecordingHistogram()), ms);
    this.interval?.record(this.role, pattern, ms);
  }
}

/** Merges agents' recorders into one snapshot per (role, pattern): the per-worker merge. */
export function mergeRecorders(recorders: Iterable<AgentRecorder>): GroupSnapshot[] {
  const groups = new Map<
    string,
    { role: Role; pattern: PatternName; counters: Counters; histogram?: Histogram; legs: (Histogram | undefined)[]; agents: number }
  >();
  const added = new Set<Histogram>();
  for (const recorder of recorders) {
    for (let p = 0; p < PATTERNS.length; p++) {
      const counters = recorder.counters[p];
      const histogram = recorder.histograms[p];
      // With shared histograms a histogram says nothing of this agent: its counters do.
      if (!counters && (!histogram || recorder.sharesHistograms)) continue;
      const pattern = PATTERNS[p]!;
      const key = groupKey(recorder.role, pattern);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { role: recorder.role, pattern, counters: emptyCounters(), legs: [], agents: 0 }));
      group.agents++;
      if (counters) addCounters(group.counters, counters);
      // A histogram the worker's agents share is added once.
      if (histogram && !added.has(histogram)) {
        added.add(histogram);
        (group.histogram ??= newHistogram()).add(histogram);
      }
      for (let l = 0; l < LEGS.length; l++) {
        const leg = recorder.legs[l]![p];
        if (leg && !added.has(leg)) {
          added.add(leg);
          (group.legs[l] ??= newHistogram()).add(leg);
        }
      }
    }
  }
  return [...groups.values()].map((g) => ({
    role: g.role,
    pattern: g.pattern,
    counters: g.counters,
    agents: g.agents,
    ...(g.histogram ? { histogram: encodeHistogram(g.histogram) } : {}),
    ...(g.legs.some(Boolean)
      ? { legs: Object.fromEntries(LEGS.flatMap((name, l) => (g.legs[l] ? [[name, encodeHistogram(g.legs[l]!)]] : []))) as Partial<Record<LegName, string>> }
      : {}),
  }));
}

/** Counter totals per group, cheap enough to send every second for progress. */
/** "role/pattern" per role and pattern index, built once: the per-second totals run over every agent. */
const GROUP_KEYS = new Map<Role, string[]>();
function groupKeysOf(role: Role): string[] {
  let keys = GROUP_KEYS.get(role);
  if (!keys) GROUP_KEYS.set(role, (keys = PATTERNS.map((p) => groupKey(role, p))));
  return keys;
}

export function totalCounters(recorders: Iterable<AgentRecorder>): Record<string, Counters> {
  const totals: Record<string, Counters> = {};
  for (const recorder of recorders) {
    const keys = groupKeysOf(recorder.role);
    for (let p = 0; p < PATTERNS.length; p++) {
      const counters = recorder.counters[p];
      if (!counters) continue;
      addCounters((totals[keys[p]!] ??= emptyCounters()), counters);
    }
  }
  return totals;
}
