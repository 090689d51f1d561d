/**
 * Reading results back: what `report`, `compare` and `export` take on their
 * command line. An input is a run directory (holding result.json), a
 * result.json file itself, or a campaign directory (holding campaign.json
 * and runs/<id>/done.json), whose finished runs come with the parameters
 * they were run with. Every problem names the path and what to give instead.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { RESULT_SCHEMA_VERSION, type DoneRecord, type Parameters, type RunResult } from '../model/index.js';
import { BUSBENCH_VERSION } from '../version.js';

/** One run read back. */
export interface LoadedRun {
  /** the result.json it was read from */
  path: string;
  /** the run directory */
  directory: string;
  result: RunResult;
  /** in a campaign: its run id and the swept parameters (dotted scenario fields) it was run with */
  campaign?: { name: string; directory: string; runId: string; index: number; parameters: Parameters };
}

/** A campaign read back: its finished runs in campaign order, and those it planned. */
export interface LoadedCampaign {
  name: string;
  directory: string;
  /** runs planned (campaign.json) */
  total: number;
  runs: LoadedRun[];
  /** planned runs with no finished result: not run yet, failed, or cut off */
  missing: { runId: string; parameters: Parameters; failed?: string }[];
}

export interface LoadedInputs {
  /** every run, those of campaigns included, in the order given */
  runs: LoadedRun[];
  campaigns: LoadedCampaign[];
}

async function readJson<T>(path: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${path}: cannot read ${what}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new UsageError(`${path}: ${what} is not valid JSON (${(error as Error).message}); was the run cut off while writing it?`);
  }
}

/** A result.json, checked for the format this busbench reads. */
export async function readRunResult(path: string): Promise<RunResult> {
  const result = await readJson<Partial<RunResult> | null>(path, 'a run result');
  if (!result || typeof result !== 'object' || !Array.isArray(result.groups) || typeof result.id !== 'string') {
    throw new UsageError(`${path}: not a busbench run result (no id and groups): give a run directory, its result.json, or a campaign directory`);
  }
  const version: unknown = result.schemaVersion;
  if (version !== RESULT_SCHEMA_VERSION) {
    throw new UsageError(
      `${path}: result schemaVersion ${JSON.stringify(version)}; this busbench (${BUSBENCH_VERSION}) reads version ${RESULT_SCHEMA_VERSION}` +
        (typeof version === 'number' && version > RESULT_SCHEMA_VERSION ? ': read it with the busbench that wrote it' : ': rerun it with this busbench'),
    );
  }
  return result as RunResult;
}

async function kindOf(path: string): Promise<'file' | 'run' | 'campaign' | 'other'> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new UsageError(`${path}: no such file or directory (give a run directory, a result.json, or a campaign directory)`);
  }
  if (info.isFile()) return 'file';
  if (!info.isDirectory()) return 'other';
  const entries = new Set(await readdir(path));
  if (entries.has('result.json')) return 'run';
  if (entries.has('campaign.json') || entries.has('runs.json')) return 'campaign';
  return 'other';
}

/** A campaign directory: campaign.json's plan, and each planned run's done.json (or failed.json). */
export async function readCampaign(directory: string): Promise<LoadedCampaign> {
  const plan = await readJson<{ name?: string; runs?: { id: string; index: number; parameters: Parameters }[] }>(
    join(directory, 'campaign.json'),
    'a campaign plan',
  ).catch(async (error: unknown) => {
    // Older campaigns or a hand-made directory: runs.json alone lists the finished runs.
    const index = await readJson<{ name?: string; runs?: DoneRecord[] }>(join(directory, 'runs.json'), 'a campaign index').catch(() => {
      throw error;
    });
    return { name: index.name, runs: (index.runs ?? []).map((r) => ({ id: r.id, index: r.index, parameters: r.parameters })) };
  });
  const name = plan.name ?? basename(directory);
  const runs: LoadedRun[] = [];
  const missing: LoadedCampaign['missing'] = [];
  for (const planned of plan.runs ?? []) {
    const runDir = join(directory, 'runs', planned.id);
    const done = await readJson<DoneRecord>(join(runDir, 'done.json'), 'a done record').catch(() => undefined);
    if (!done) {
      const failed = await readJson<{ error?: string }>(join(runDir, 'failed.json'), 'a failed record').catch(() => undefined);
      missing.push({ runId: planned.id, parameters: planned.parameters, ...(failed?.error ? { failed: failed.error } : {}) });
      continue;
    }
    const resultDir = resolve(directory, done.results);
    const path = join(resultDir, 'result.json');
    runs.push({
      path,
      directory: resultDir,
      result: await readRunResult(path),
      campaign: { name, directory, runId: planned.id, index: planned.index, parameters: done.parameters ?? planned.parameters },
    });
  }
  return { name, directory, total: (plan.runs ?? []).length, runs, missing };
}

/** Reads each input: run directories, result files, campaign directories. */
export async function loadInputs(paths: readonly string[]): Promise<LoadedInputs> {
  if (paths.length === 0) throw new UsageError('give at least one run directory, result.json or campaign directory');
  const runs: LoadedRun[] = [];
  const campaigns: LoadedCampaign[] = [];
  for (const path of paths) {
    const kind = await kindOf(path);
    if (kind === 'file') {
      runs.push({ path, directory: dirname(path), result: await readRunResult(path) });
    } else if (kind === 'run') {
      const file = join(path, 'result.json');
      runs.push({ path: file, directory: path, result: await readRunResult(file) });
    } else if (kind === 'campaign') {
      const campaign = await readCampaign(path);
      campaigns.push(campaign);
      runs.push(...campaign.runs);
    } else {
      throw new UsageError(
        `${path}: neither a run directory (with result.json) nor a campaign directory (with campaign.json): ` +
          'give results/<scenario>-<timestamp>/ or results/<campaign>/',
      );
    }
  }
  return { runs, campaigns };
}

/** How a run is named in reports and tables: its campaign run id and parameters, or its run id. */
export function runLabel(run: LoadedRun): string {
  if (!run.campaign) return run.result.id;
  const parameters = Object.entries(run.campaign.parameters)
    .map(([field, value]) => `${field}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return parameters ? `${run.campaign.runId} (${parameters})` : run.campaign.runId;
}
