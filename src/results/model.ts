/**
 * The results model every run writes and every later reader (report,
 * compare, merge) reads. Bump RESULT_SCHEMA_VERSION on any incompatible change.
 */
import type { LatencySummary } from '../metrics/histogram.js';
import type { Counters, PatternName, Role } from '../metrics/stats.js';
import type { Scenario } from '../scenario/types.js';

export const RESULT_SCHEMA_VERSION = 1;

export interface GroupResult {
  role: Role;
  /** "all" in the per-role overall rows */
  pattern: PatternName | 'all';
  agents: number;
  counters: Counters;
  /** completed messages (answered calls, sent casts, received messages) per second, over the group's window from its first measured send (or receipt) to its last completion */
  throughputPerSec: number;
  /** microseconds: round trip for calls at clients, one-way for servers and listeners */
  latency?: LatencySummary;
  /** HDR compressed base64 of the latency histogram (µs) */
  histogram?: string;
}

export interface Provenance {
  busbench: string;
  node: string;
  argv: string[];
  host: { hostname: string; platform: string; release: string; arch: string; cpus: number; cpuModel: string; memoryBytes: number };
  /** what the bus said on connect, and for deployed routers their flavor and version */
  bus: { kind: string; product: string; version: string; protocol: string; url: string; embedded: boolean; router?: unknown };
  startedAt: string;
  endedAt: string;
}

export interface RunResult {
  schemaVersion: number;
  id: string;
  scenario: Scenario;
  provenance: Provenance;
  workers: number;
  agents: {
    requested: Record<Role, number>;
    started: Record<Role, number>;
    failed: number;
    failures: { agent: string; error: string }[];
    startupMs: number;
    startedPerSec: number;
  };
  phases: {
    warmupMs: number;
    /** from the end of warm-up to the last settled send */
    measuredMs: number;
    /** time spent after the senders finished, waiting for in-flight messages to arrive */
    settleMs: number;
  };
  /** per (role, pattern), merged over all agents and workers */
  groups: GroupResult[];
  /** per role, merged over its patterns */
  overall: GroupResult[];
  /** per worker thread, per (role, pattern) */
  perWorker: { worker: number; groups: GroupResult[] }[];
  /** measured messages each server and listener received */
  receivedByAgent: Record<string, number>;
  lateReplies: number;
  /** busbench's own cost: CPU of this process (all threads) over the measured phase, and its peak RSS */
  harness: { cpuUserUs: number; cpuSystemUs: number; cpuCores: number; maxRssBytes: number };
  /** what the bus counted itself (router links, addresses, deliveries), when it can say */
  busStatistics?: unknown;
  /** the results directory, when written */
  directory?: string;
}
