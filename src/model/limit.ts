/**
 * A limit search as data: its objective and the verdict on a step, the
 * rate search's settings and how it ended, each step, and limit.json. The
 * objective's parser and judge, the rate search and the step runner are in
 * src/limit/.
 */
import type { LIMIT_SCHEMA_VERSION } from './results.js';

export interface Objective {
  /** the text it was read from, normalized */
  text: string;
  latency: { percentile: number; maxMs: number }[];
  maxTimeouts?: number;
  maxErrors?: number;
  maxLost?: number;
}

export interface Verdict {
  passed: boolean;
  /** why it failed, one line per clause missed */
  misses: string[];
  /** per latency clause: the worst pattern's value */
  latency: { percentile: number; maxMs: number; worstMs: number; pattern: string }[];
  timeouts: number;
  errors: number;
  lost: number;
}

/**
 * Where to try next when looking for the highest rate that holds an
 * objective: multiply the rate while it holds, divide while it fails from
 * the start, then halve the gap between the best rate that held and the
 * lowest that failed until it is within the precision asked for.
 */
export interface SearchSettings {
  /** total messages/s of the first step */
  startRate: number;
  /** growth (and shrink) factor before the limit is bracketed, > 1 */
  factor: number;
  /** stop when (lowest failing - highest holding) / highest holding is at most this */
  precision: number;
  /** never offer more than this */
  maxRate?: number;
  /** never offer less than this: below it the objective "fails everywhere" */
  minRate: number;
  maxSteps: number;
}

export type SearchEnd =
  | 'bracketed' // the limit lies between `holding` and `failing`, within the precision
  | 'held-at-max-rate' // the objective held at --max-rate: the limit is above it
  | 'failed-at-min-rate' // the objective failed even at the lowest rate tried
  | 'out-of-steps'; // ran out of steps before the precision was reached

export interface LimitStep {
  step: number;
  /** total offered messages/s, and per sender */
  ratePerSec: number;
  ratePerSender: number;
  /** what the senders did send, per second of the measured phase */
  sentPerSec: number;
  /** completed messages per second (answered calls, sent casts) */
  completedPerSec: number;
  held: boolean;
  verdict: Verdict;
  generatorSaturated: boolean;
  generatorReasons: string[];
  /** this step's run directory */
  directory?: string;
}

/** limit.json, and what `busbench limit --json` prints */
export interface LimitResult {
  schemaVersion: typeof LIMIT_SCHEMA_VERSION;
  kind: 'limit';
  busbench: string;
  scenario: string;
  source: string;
  objective: string;
  /** highest total rate that held the objective (undefined: none did) */
  limitPerSec?: number;
  /** lowest total rate that failed it (undefined: none did) */
  failingPerSec?: number;
  /** how the search ended ('in-progress' while it runs: limit.json is rewritten after every step) */
  end: SearchEnd | 'generator-saturated' | 'in-progress';
  /** one sentence: what was found */
  conclusion: string;
  settings: { search: SearchSettings; stepDurationMs: number; warmupMs: number };
  bus: { description: string; urls: string[] };
  startedAt: string;
  endedAt: string;
  steps: LimitStep[];
  directory?: string;
}
