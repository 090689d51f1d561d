/**
 * Runs a campaign: every run in order, deploy → bench → results → clean
 * (runScenario does all four), each into runs/<id>/. A run counts as
 * finished only once runs/<id>/done.json is on disk, written atomically
 * after its results: a rerun skips those and redoes any other, so a crash,
 * a Ctrl-C or a kill -9 loses at most the run that was going. A time
 * budget stops between runs, before one that would not fit.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { UsageError } from '../errors.js';
import { CAMPAIGN_INDEX_SCHEMA_VERSION, DONE_SCHEMA_VERSION, type CampaignIndex, type DoneRecord, type RunResult } from '../model/index.js';
import { writeJsonAtomic } from '../results/write.js';
import { runScenario, type RunEvent } from '../runner/run.js';
import { BUSBENCH_VERSION } from '../version.js';
import type { Campaign, CampaignRun } from './file.js';

export type CampaignEvent =
  | { type: 'plan'; total: number; done: number; directory: string }
  | { type: 'run-start'; run: CampaignRun; position: number; remaining: number; etaMs?: number }
  /** an event of the run that is going (its progress, for a live line) */
  | { type: 'run-event'; run: CampaignRun; event: RunEvent }
  | { type: 'run-done'; run: CampaignRun; record: DoneRecord }
  | { type: 'run-failed'; run: CampaignRun; error: string }
  | { type: 'budget'; remaining: number; estimateMs: number; leftMs: number };

export interface CampaignOptions {
  resultsRoot: string;
  /** overrides the file's budget */
  budgetMs?: number;
  onEvent?: (event: CampaignEvent) => void;
}

export interface CampaignOutcome {
  directory: string;
  total: number;
  /** finished before this invocation */
  skipped: number;
  /** finished in this invocation */
  completed: number;
  failed: { id: string; error: string }[];
  /** runs not attempted because the budget ran out */
  leftForBudget: number;
  /** every finished run, in campaign order (runs.json's runs) */
  finished: DoneRecord[];
}

/**
 * A run's done.json, or undefined when there is none or it does not parse
 * (the run is then redone). A record without a version was written by a
 * busbench from before done.json had one, and is version 1; a version this
 * busbench does not know stops the campaign rather than redo or misread runs.
 */
async function readDone(path: string, campaignDirectory: string): Promise<DoneRecord | undefined> {
  let record: Partial<DoneRecord> | null;
  try {
    record = JSON.parse(await readFile(path, 'utf8')) as Partial<DoneRecord> | null;
  } catch {
    return undefined;
  }
  if (!record) return undefined;
  const { schemaVersion, ...rest } = record;
  if (schemaVersion !== undefined && schemaVersion !== DONE_SCHEMA_VERSION) {
    const found: unknown = schemaVersion;
    const reads = `this busbench (${BUSBENCH_VERSION}) reads done.json version ${DONE_SCHEMA_VERSION}`;
    throw new UsageError(
      typeof found === 'number' && Number.isInteger(found) && found > DONE_SCHEMA_VERSION
        ? `${path}: schemaVersion ${found} is newer than ${reads}: resume this campaign with the busbench that wrote it, or move ${campaignDirectory} away to start the campaign afresh`
        : `${path}: schemaVersion ${JSON.stringify(found)} is not a done.json version (${reads}): delete that file to have its run redone`,
    );
  }
  return { schemaVersion: DONE_SCHEMA_VERSION, ...rest } as DoneRecord;
}

function summarize(result: RunResult): DoneRecord['summary'] {
  return result.groups
    .filter((g) => g.role === 'client' || g.role === 'notifier')
    .map((g) => ({
      role: g.role,
      pattern: g.pattern,
      throughputPerSec: Math.round(g.throughputPerSec * 10) / 10,
      ...(g.latency ? { p50Us: g.latency.p50Us, p99Us: g.latency.p99Us } : {}),
      timeouts: g.counters.timeouts,
      errors: g.counters.errors,
    }));
}

export async function runCampaign(campaign: Campaign, options: CampaignOptions): Promise<CampaignOutcome> {
  const emit = options.onEvent ?? (() => undefined);
  const directory = join(options.resultsRoot, campaign.name);
  const runsDir = join(directory, 'runs');
  // What earlier invocations finished, read first: a directory this busbench cannot read is refused before anything in it is rewritten.
  const done = new Map<string, DoneRecord>();
  for (const run of campaign.runs) {
    const record = await readDone(join(runsDir, run.id, 'done.json'), directory);
    if (record) done.set(run.id, record);
  }
  await mkdir(runsDir, { recursive: true });
  await writeJsonAtomic(join(directory, 'campaign.json'), {
    busbench: BUSBENCH_VERSION,
    name: campaign.name,
    file: campaign.file,
    scenario: campaign.scenarioFile,
    runs: campaign.runs.map(({ id, index, parameters }) => ({ id, index, parameters })),
  });
  emit({ type: 'plan', total: campaign.runs.length, done: done.size, directory });
  const budgetMs = options.budgetMs ?? campaign.budgetMs;
  const began = performance.now();
  const durations = [...done.values()].map((r) => r.durationMs);
  const outcome: CampaignOutcome = { directory, total: campaign.runs.length, skipped: done.size, completed: 0, failed: [], leftForBudget: 0, finished: [] };
  const pending = campaign.runs.filter((run) => !done.has(run.id));
  for (const [position, run] of pending.entries()) {
    const estimateMs = durations.length > 0 ? durations.reduce((a, b) => a + b, 0) / durations.length : undefined;
    const remaining = pending.length - position;
    if (budgetMs !== undefined && estimateMs !== undefined) {
      const leftMs = budgetMs - (performance.now() - began);
      if (estimateMs > leftMs) {
        outcome.leftForBudget = remaining;
        emit({ type: 'budget', remaining, estimateMs, leftMs });
        break;
      }
    }
    emit({ type: 'run-start', run, position: position + 1, remaining, ...(estimateMs !== undefined ? { etaMs: estimateMs * remaining } : {}) });
    const runDir = join(runsDir, run.id);
    // Whatever an unfinished attempt left is redone from scratch.
    await rm(runDir, { recursive: true, force: true });
    await mkdir(runDir, { recursive: true });
    const startedAt = new Date();
    const t0 = performance.now();
    try {
      const result = await runScenario(run.scenario, { resultsRoot: runDir, onEvent: (event) => emit({ type: 'run-event', run, event }) });
      const record: DoneRecord = {
        schemaVersion: DONE_SCHEMA_VERSION,
        id: run.id,
        index: run.index,
        parameters: run.parameters,
        results: relative(directory, result.directory ?? runDir),
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        durationMs: Math.round(performance.now() - t0),
        summary: summarize(result),
      };
      await writeJsonAtomic(join(runDir, 'done.json'), record);
      durations.push(record.durationMs);
      outcome.completed++;
      emit({ type: 'run-done', run, record });
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      await writeJsonAtomic(join(runDir, 'failed.json'), { id: run.id, parameters: run.parameters, error: message, at: new Date().toISOString() }).catch(
        () => undefined,
      );
      outcome.failed.push({ id: run.id, error: message });
      emit({ type: 'run-failed', run, error: message });
    }
  }
  // One file with every finished run in campaign order, for whoever reads the sweep.
  const finished: DoneRecord[] = [];
  for (const run of campaign.runs) {
    const record = await readDone(join(runsDir, run.id, 'done.json'), directory);
    if (record) finished.push(record);
  }
  const index: CampaignIndex = {
    schemaVersion: CAMPAIGN_INDEX_SCHEMA_VERSION,
    name: campaign.name,
    total: campaign.runs.length,
    finished: finished.length,
    runs: finished,
  };
  await writeJsonAtomic(join(directory, 'runs.json'), index);
  outcome.finished = finished;
  return outcome;
}
