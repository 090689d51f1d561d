/** Results on disk: written atomically, so a crash never leaves a half file behind. */
import { mkdir, rename, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { decodeHistogram } from '../metrics/histogram.js';
import type { RunResult } from '../model/index.js';

/** Write to a temp file in the same directory, then rename over the target (atomic on POSIX). */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(temp, data);
  await rename(temp, path);
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** `results/<scenario>-<yyyymmdd-hhmmss>/`, with a suffix if that exists already. */
export async function createRunDirectory(root: string, scenarioName: string, startedAt: Date): Promise<{ id: string; path: string }> {
  const safeName = scenarioName.replace(/[^A-Za-z0-9_.-]/g, '_');
  await mkdir(root, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const id = `${safeName}-${stamp(startedAt)}${attempt ? `-${attempt}` : ''}`;
    const path = join(root, id);
    try {
      await mkdir(path);
      return { id, path };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** A run log: timestamped lines appended as the run goes. */
export class RunLog {
  constructor(readonly path: string) {}
  async write(line: string): Promise<void> {
    await appendFile(this.path, `${new Date().toISOString()} ${line}\n`).catch(() => undefined);
  }
}

/**
 * HdrHistogram's interval log of a run: one tagged histogram per second of
 * the measured phase and per (role/pattern) group, timestamps in seconds from
 * the phase's start (its StartTime), so HdrHistogram's own tools (the
 * HistogramLogAnalyzer, HistogramLogProcessor) plot the run over time. A run
 * without a per-second series (runner.bookkeeping off) gets one interval per
 * group, spanning the measured phase.
 */
export function histogramLog(result: RunResult): string {
  let log = '';
  const writer = new hdr.HistogramLogWriter((content: string) => {
    log += content;
  });
  writer.outputComment(`busbench ${result.provenance.busbench} run ${result.id}; values in microseconds; one interval per second and group`);
  writer.outputLogFormatVersion();
  const startMs = Date.parse(result.phases.measureStartedAt ?? result.provenance.startedAt);
  writer.outputStartTime(startMs);
  writer.outputLegend();
  const interval = (encoded: string, tag: string, fromSec: number, toSec: number): void => {
    const histogram = decodeHistogram(encoded);
    histogram.tag = tag;
    writer.outputIntervalHistogram(histogram, fromSec, toSec, 1);
  };
  const perSecond = result.timeSeries.some((point) => Object.values(point.groups).some((g) => g.histogram));
  if (perSecond) {
    for (const point of result.timeSeries) {
      for (const [tag, group] of Object.entries(point.groups)) if (group.histogram) interval(group.histogram, tag, point.second - 1, point.second);
    }
  } else {
    for (const group of result.groups) if (group.histogram) interval(group.histogram, `${group.role}/${group.pattern}`, 0, result.phases.measuredMs / 1000);
  }
  return log;
}

/** result.json plus `histograms.hlog` (histogramLog). */
export async function writeResult(directory: string, result: RunResult): Promise<void> {
  await writeJsonAtomic(join(directory, 'result.json'), result);
  await writeFileAtomic(join(directory, 'histograms.hlog'), histogramLog(result));
}
