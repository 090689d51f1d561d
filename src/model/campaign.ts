/**
 * A campaign as data: the parameters of each run, the done.json that makes
 * a run finished, and the runs.json index. Campaign files, the grid and the
 * resumable runner are in src/campaign/.
 */
import type { CAMPAIGN_INDEX_SCHEMA_VERSION, DONE_SCHEMA_VERSION } from './results.js';

/** Dotted scenario field (as in the file: agents.clients, load.payload_bytes) → value. */
export type Parameters = Record<string, unknown>;

/** runs/<id>/done.json: written once the run's results are, it is what makes the run finished */
export interface DoneRecord {
  schemaVersion: typeof DONE_SCHEMA_VERSION;
  id: string;
  index: number;
  parameters: Parameters;
  /** the run's results directory, relative to the campaign directory */
  results: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** the figures a sweep is usually read for: per client group, throughput and latency */
  summary: { role: string; pattern: string; throughputPerSec: number; p50Us?: number; p99Us?: number; timeouts: number; errors: number }[];
}

/** runs.json: every finished run, in campaign order, rewritten at the end of each invocation */
export interface CampaignIndex {
  schemaVersion: typeof CAMPAIGN_INDEX_SCHEMA_VERSION;
  name: string;
  /** runs in the campaign */
  total: number;
  /** runs finished so far, this invocation or before */
  finished: number;
  runs: DoneRecord[];
}
