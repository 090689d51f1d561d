/**
 * The results a report carries inside it, in <script type="application/json"
 * id="busbench-data">: every run's result.json as written (less perWorker,
 * the per-thread copies of the same figures), with its encoded histograms —
 * groups, legs, per-second series, site pairs — and each campaign's plan. A
 * report can so be re-read, merged and compared without the run
 * directories: `busbench report --extract report.html -o dir` writes them
 * back as run and campaign directories every busbench command reads.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { UsageError } from '../../errors.js';
import { DONE_SCHEMA_VERSION, type DoneRecord, type Parameters, type RunResult } from '../../model/index.js';
import { runLabel, type LoadedInputs } from '../../results/read.js';
import { BUSBENCH_VERSION } from '../../version.js';

export const REPORT_FORMAT = 'busbench-report';
export const REPORT_FORMAT_VERSION = 1;

export interface EmbeddedRun {
  label: string;
  /** the run directory's name when the report was made */
  directoryName: string;
  campaign?: { name: string; runId: string; index: number; parameters: Parameters };
  result: RunResult;
}

export interface EmbeddedCampaign {
  name: string;
  total: number;
  /** every planned run, finished or not, in campaign order */
  planned: { runId: string; index: number; parameters: Parameters }[];
  missing: { runId: string; parameters: Parameters; failed?: string }[];
}

export interface EmbeddedReport {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_FORMAT_VERSION;
  busbench: string;
  createdAt: string;
  runs: EmbeddedRun[];
  campaigns: EmbeddedCampaign[];
}

export function embeddedReport(inputs: LoadedInputs): EmbeddedReport {
  const seen = new Set<string>();
  const runs: EmbeddedRun[] = [];
  for (const run of inputs.runs) {
    if (seen.has(run.path)) continue;
    seen.add(run.path);
    runs.push({
      label: runLabel(run),
      directoryName: basename(run.directory),
      ...(run.campaign
        ? { campaign: { name: run.campaign.name, runId: run.campaign.runId, index: run.campaign.index, parameters: run.campaign.parameters } }
        : {}),
      result: { ...run.result, perWorker: [] },
    });
  }
  const campaigns = inputs.campaigns.map((c) => ({
    name: c.name,
    total: c.total,
    planned: [
      ...c.runs.map((r) => ({ runId: r.campaign!.runId, index: r.campaign!.index, parameters: r.campaign!.parameters })),
      ...c.missing.map((m) => ({ runId: m.runId, index: -1, parameters: m.parameters })),
    ],
    missing: c.missing,
  }));
  return { format: REPORT_FORMAT, version: REPORT_FORMAT_VERSION, busbench: BUSBENCH_VERSION, createdAt: new Date().toISOString(), runs, campaigns };
}

/** The results embedded in a report's HTML. */
export function readEmbedded(html: string, path: string): EmbeddedReport {
  const match = /<script type="application\/json" id="busbench-data">([\s\S]*?)<\/script>/.exec(html);
  if (!match) throw new UsageError(`${path}: no busbench data in it (a report written by \`busbench report\` holds a <script id="busbench-data">)`);
  let data: Partial<EmbeddedReport>;
  try {
    data = JSON.parse(match[1]!) as Partial<EmbeddedReport>;
  } catch (error) {
    throw new UsageError(`${path}: its busbench data is not valid JSON (${(error as Error).message}): was the file cut off or edited?`);
  }
  if (data.format !== REPORT_FORMAT || data.version !== REPORT_FORMAT_VERSION || !Array.isArray(data.runs)) {
    throw new UsageError(
      `${path}: report data format ${JSON.stringify(data.format)} version ${JSON.stringify(data.version)}; this busbench reads ${REPORT_FORMAT} version ${REPORT_FORMAT_VERSION}`,
    );
  }
  return data as EmbeddedReport;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + '\n');
}

/** A name safe as one path segment. */
function segment(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || '_';
}

/**
 * Writes a report's runs back as directories: each run outside a campaign as
 * <dir>/<run-dir>/result.json, each campaign as <dir>/<campaign>/ with its
 * campaign.json, runs/<id>/done.json and run directory (and failed.json for
 * runs that failed). Returns the directories to give `report` or `compare`.
 */
export async function extractReport(path: string, directory: string): Promise<string[]> {
  let html: string;
  try {
    html = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${path}: cannot read the report: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const data = readEmbedded(html, path);
  const written: string[] = [];
  const inCampaign = new Set(data.campaigns.map((c) => c.name));
  for (const run of data.runs.filter((r) => !r.campaign || !inCampaign.has(r.campaign.name))) {
    const dir = join(directory, segment(run.directoryName || run.result.id));
    await mkdir(dir, { recursive: true });
    await writeJson(join(dir, 'result.json'), run.result);
    written.push(dir);
  }
  for (const campaign of data.campaigns) {
    const root = join(directory, segment(campaign.name));
    const runs = data.runs.filter((r) => r.campaign?.name === campaign.name);
    await mkdir(join(root, 'runs'), { recursive: true });
    await writeJson(join(root, 'campaign.json'), {
      busbench: data.busbench,
      name: campaign.name,
      extractedFrom: path,
      runs: campaign.planned.map((p) => ({ id: p.runId, index: p.index, parameters: p.parameters })),
    });
    for (const run of runs) {
      const c = run.campaign!;
      const runDir = join(root, 'runs', segment(c.runId), segment(run.directoryName || run.result.id));
      await mkdir(runDir, { recursive: true });
      await writeJson(join(runDir, 'result.json'), run.result);
      const p = run.result.provenance;
      const done: DoneRecord = {
        schemaVersion: DONE_SCHEMA_VERSION,
        id: c.runId,
        index: c.index,
        parameters: c.parameters,
        results: relative(root, runDir),
        startedAt: p.startedAt,
        finishedAt: p.endedAt,
        durationMs: Date.parse(p.endedAt) - Date.parse(p.startedAt),
        summary: run.result.groups
          .filter((g) => g.role === 'client' || g.role === 'notifier')
          .map((g) => ({
            role: g.role,
            pattern: g.pattern,
            throughputPerSec: g.throughputPerSec,
            ...(g.latency ? { p50Us: g.latency.p50Us, p99Us: g.latency.p99Us } : {}),
            timeouts: g.counters.timeouts,
            errors: g.counters.errors,
          })),
      };
      await writeJson(join(root, 'runs', segment(c.runId), 'done.json'), done);
    }
    for (const missing of campaign.missing.filter((m) => m.failed)) {
      await mkdir(join(root, 'runs', segment(missing.runId)), { recursive: true });
      await writeJson(join(root, 'runs', segment(missing.runId), 'failed.json'), { id: missing.runId, parameters: missing.parameters, error: missing.failed });
    }
    written.push(root);
  }
  return written;
}
