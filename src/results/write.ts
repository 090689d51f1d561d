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
 * result.json plus `histograms.hlog`: HdrHistogram's interval log, one
 * tagged histogram per (role, pattern), readable by HdrHistogram's own tools.
 */
export async function writeResult(directory: string, result: RunResult): Promise<void> {
  await writeJsonAtomic(join(directory, 'result.json'), result);
  let log = '';
  const writer = new hdr.HistogramLogWriter((content: string) => {
    log += content;
  });
  writer.outputComment(`busbench ${result.provenance.busbench} run ${result.id}; values in microseconds`);
  writer.outputLogFormatVersion();
  writer.outputLegend();
  const start = Date.parse(result.provenance.startedAt) / 1000;
  const end = Date.parse(result.provenance.endedAt) / 1000;
  for (const group of result.groups) {
    if (!group.histogram) continue;
    const histogram = decodeHistogram(group.histogram);
    histogram.tag = `${group.role}/${group.pattern}`;
    histogram.startTimeStampMsec = start * 1000;
    histogram.endTimeStampMsec = end * 1000;
    writer.outputIntervalHistogram(histogram, start, end, 1);
  }
  await writeFileAtomic(join(directory, 'histograms.hlog'), log);
}
