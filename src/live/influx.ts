/**
 * Live metrics into InfluxDB: the attached run's points, built with
 * @influxdata/influxdb-client's Point and written once a second, through
 * either API a server may have:
 *
 *  - v2 (`/api/v2/write`, InfluxDB 2.x, and 1.8+ through its compatibility
 *    endpoint): the client's WriteApi, for an org, a bucket and a token;
 *  - v1 (`/write?db=`, every 1.x, Debian's influxdb 1.6 among them, which
 *    has no v2 endpoint): a plain POST of the same lines.
 *
 * Both send the same line protocol, millisecond timestamps. Writing is
 * best effort: a failed write is counted, said once, and its points are
 * dropped (live figures a second late are worth little, and the run's
 * result holds them all); nothing here throws into the run.
 *
 * Measurements (tags: run_id, scenario, bus, and those below):
 *   busbench_second   role, pattern          one group's second of the measured phase (time: its end)
 *   busbench_process  process, kind, host    a resource sample of a bus or busbench process
 *   busbench_outage   kind, label            a dropout or partition going into place (active=1) or lifted (0)
 *   busbench_phase    phase                  the run entering a phase (entered=1): Grafana annotations
 *   busbench_run      —                      at the end: outcome_ok, problems, stopped_early
 *   busbench_result   role, pattern          at the end: the run's totals and latency per group
 */
import { InfluxDB, Point, type WriteApi } from '@influxdata/influxdb-client';
import { newMergingHistogram, summarize, type Histogram } from '../metrics/histogram.js';
import type { LatencySummary, PatternName, Role, RunResult, WatchedProcess, ResourceFigures, CutRecord } from '../model/index.js';
import type { LiveRun, LiveSecondGroup } from './aggregate.js';

export type Tags = Readonly<Record<string, string>>;

/** Where the points go: the v1 API names a database, the v2 API an org and a bucket. */
export type InfluxTarget =
  | {
      api: 'v1';
      /** the server, without the database: http://host:8086 */
      url: string;
      database: string;
      retentionPolicy?: string;
      username?: string;
      password?: string;
    }
  | {
      api: 'v2';
      url: string;
      org: string;
      bucket: string;
      token: string;
    };

/** The target as it may be shown: no password, no token. */
export function describeTarget(target: InfluxTarget): string {
  return target.api === 'v1'
    ? `${target.url}/${target.database}${target.retentionPolicy ? ` (retention policy ${target.retentionPolicy})` : ''}${target.username ? ` as ${target.username}` : ''}, 1.x API`
    : `${target.url}, org ${target.org}, bucket ${target.bucket}, 2.x API`;
}

// ---- points ---------------------------------------------------------------

/** Line protocol with millisecond timestamps (both APIs are asked for precision ms). */
export function toLine(point: Point): string | undefined {
  return point.toLineProtocol({ convertTime: (time) => (time instanceof Date ? String(time.getTime()) : time === undefined ? undefined : String(time)) });
}

function tagged(measurement: string, tags: Tags, at: Date): Point {
  const point = new Point(measurement).timestamp(at);
  for (const [name, value] of Object.entries(tags)) point.tag(name, value);
  return point;
}

function latencyFields(point: Point, summary: LatencySummary | undefined): Point {
  if (!summary) return point;
  return point
    .intField('count', summary.count)
    .intField('min_us', summary.minUs)
    .intField('mean_us', summary.meanUs)
    .intField('p50_us', summary.p50Us)
    .intField('p90_us', summary.p90Us)
    .intField('p99_us', summary.p99Us)
    .intField('p999_us', summary.p999Us)
    .intField('max_us', summary.maxUs);
}

/** One group's second: its counts, and its latency when any was recorded (no latency is not 0). */
export function secondPoint(
  tags: Tags,
  at: Date,
  second: number,
  group: { role: Role; pattern: PatternName; ok: number; errors: number; timeouts: number; bytes: number; latency: Histogram | undefined },
): Point {
  const point = tagged('busbench_second', { ...tags, role: group.role, pattern: group.pattern }, at)
    .intField('second', second)
    .intField('ok', group.ok)
    .intField('errors', group.errors)
    .intField('timeouts', group.timeouts)
    .intField('bytes', group.bytes);
  return latencyFields(point, summarize(group.latency));
}

export function processPoint(tags: Tags, at: Date, p: WatchedProcess & ResourceFigures): Point {
  const point = tagged('busbench_process', { ...tags, process: p.name, kind: p.kind, host: p.host }, at)
    .intField('rss_bytes', p.rssBytes)
    .intField('tcp_connections', p.tcpConnections);
  return Number.isFinite(p.cpuCores) ? point.floatField('cpu_cores', p.cpuCores) : point;
}

export function outagePoint(tags: Tags, at: Date, record: CutRecord, active: boolean): Point {
  return tagged('busbench_outage', { ...tags, kind: record.kind, label: record.label }, at)
    .intField('active', active ? 1 : 0)
    .stringField('pairs', record.pairs.map((pair) => pair.join('-')).join(' '));
}

/** The phase is a tag, not a field: two phases entered within the same millisecond are two points, not one overwriting the other. */
export function phasePoint(tags: Tags, at: Date, phase: string): Point {
  return tagged('busbench_phase', { ...tags, phase }, at).intField('entered', 1);
}

/** The run's end: whether it measured the bus, and per group its totals (the result's, not the seconds' sum). */
export function resultPoints(tags: Tags, at: Date, result: RunResult): Point[] {
  const run = tagged('busbench_run', tags, at)
    .intField('measured_ms', Math.round(result.phases.measuredMs))
    .booleanField('stopped_early', result.stoppedEarly !== undefined);
  if (result.outcome) run.booleanField('outcome_ok', result.outcome.ok).stringField('problems', result.outcome.problems.join('; '));
  const points = [phasePoint(tags, at, 'ended'), run];
  for (const g of result.groups) {
    if (g.pattern === 'all') continue;
    const c = g.counters;
    const point = tagged('busbench_result', { ...tags, role: g.role, pattern: g.pattern }, at)
      .intField('sent', c.sent)
      .intField('ok', c.ok)
      .intField('errors', c.errors)
      .intField('timeouts', c.timeouts)
      .intField('unsent', c.unsent)
      .intField('bytes', c.bytes)
      .intField('agents', g.agents);
    if (Number.isFinite(g.throughputPerSec)) point.floatField('throughput_per_sec', g.throughputPerSec);
    if (Number.isFinite(g.payloadBytesPerSec)) point.floatField('payload_bytes_per_sec', g.payloadBytesPerSec);
    points.push(latencyFields(point, g.latency));
  }
  return points;
}

// ---- sending --------------------------------------------------------------

/** One write of lines, resolved once the server took them. */
export interface LineSender {
  send(lines: string[]): Promise<void>;
  close(): Promise<void>;
}

const WRITE_TIMEOUT_MS = 10_000;

/** The 1.x API: POST /write?db=&precision=ms, basic authentication when a user is given. */
export function v1Sender(target: Extract<InfluxTarget, { api: 'v1' }>): LineSender {
  const query = new URLSearchParams({ db: target.database, precision: 'ms', ...(target.retentionPolicy ? { rp: target.retentionPolicy } : {}) });
  const url = `${target.url.replace(/\/+$/, '')}/write?${query}`;
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (target.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${target.username}:${target.password ?? ''}`).toString('base64')}`;
  return {
    async send(lines) {
      let response: Response;
      try {
        response = await fetch(url, { method: 'POST', headers, body: lines.join('\n'), signal: AbortSignal.timeout(WRITE_TIMEOUT_MS) });
      } catch (error) {
        throw new Error(`could not reach ${target.url}: ${fetchProblem(error)}`);
      }
      if (response.status === 204 || response.status === 200) return;
      const body = await response.text().catch(() => '');
      let why = body.trim();
      try {
        why = (JSON.parse(body) as { error?: string }).error ?? why;
      } catch {
        // not JSON: the text as it came
      }
      const hint = /database not found/.test(why)
        ? `; create it: curl -XPOST '${target.url}/query' --data-urlencode 'q=CREATE DATABASE "${target.database}"'`
        : response.status === 401 || response.status === 403
          ? '; give the user and password in the URL: http://user:password@host:8086/database'
          : '';
      throw new Error(`HTTP ${response.status}${why ? `: ${why.slice(0, 300)}` : ''}${hint}`);
    },
    close: async () => undefined,
  };
}

/**
 * The 2.x API through influxdb-client. The client's own batching, timer
 * and retries are off: the writer sends once a second itself and counts a
 * failure once, the same way for both APIs.
 */
export function v2Sender(target: Extract<InfluxTarget, { api: 'v2' }>): LineSender & { writeApi: WriteApi } {
  const writeApi = new InfluxDB({ url: target.url, token: target.token, timeout: WRITE_TIMEOUT_MS }).getWriteApi(target.org, target.bucket, 'ms', {
    flushInterval: 0,
    batchSize: MAX_BUFFERED_LINES + 1,
    maxRetries: 0,
    // A promise given back here is the write's outcome: flush() rejects with the error, and the client logs nothing.
    writeFailed: (error: Error) => Promise.reject(error),
  });
  return {
    writeApi,
    async send(lines) {
      writeApi.writeRecords(lines);
      await writeApi.flush();
    },
    close: () => writeApi.close().catch(() => undefined),
  };
}

/** fetch says only "fetch failed": the reason (ECONNREFUSED, a timeout) is in its cause. */
function fetchProblem(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

// ---- the writer -----------------------------------------------------------

/** Lines kept while the server does not take them; beyond, the oldest go (and are counted lost). */
export const MAX_BUFFERED_LINES = 50_000;
/** Seconds kept to add late parts to (see LiveRun.onSecond). */
const SECONDS_KEPT = 30;

export interface InfluxStatus {
  target: string;
  /** points taken from the run */
  points: number;
  /** points the server took */
  written: number;
  /** write requests that failed */
  failedWrites: number;
  /** points not written: in failed requests, or dropped from a full buffer */
  lostPoints: number;
  lastError?: string;
}

export interface InfluxWriterOptions {
  target: InfluxTarget;
  /** tags on every point (bus up: scenario and bus, as there is no run) */
  tags?: Tags;
  say?: (level: 'info' | 'warn', message: string) => void;
  /** default 1000 */
  flushIntervalMs?: number;
  /** default: by the target's API */
  sender?: LineSender;
}

export interface InfluxWriter {
  attach(live: LiveRun): void;
  detach(): void;
  status(): InfluxStatus;
  /** writes what is left (waiting at most a write's timeout) and says how it went */
  close(): Promise<void>;
}

type SecondPart = Omit<LiveSecondGroup, 'key'>;

export function startInfluxWriter(options: InfluxWriterOptions): InfluxWriter {
  const say = options.say ?? (() => undefined);
  const base = options.tags ?? {};
  const where = describeTarget(options.target);
  const sender = options.sender ?? (options.target.api === 'v1' ? v1Sender(options.target) : v2Sender(options.target));
  const status: InfluxStatus = { target: where, points: 0, written: 0, failedWrites: 0, lostPoints: 0 };
  let buffer: string[] = [];
  let sending: Promise<void> | undefined;
  let current: { live: LiveRun; stop: () => void } | undefined;

  const take = (points: Point[]): void => {
    for (const point of points) {
      const line = toLine(point);
      if (!line) continue;
      buffer.push(line);
      status.points++;
    }
    if (buffer.length > MAX_BUFFERED_LINES) {
      const dropped = buffer.length - MAX_BUFFERED_LINES;
      buffer = buffer.slice(dropped);
      status.lostPoints += dropped;
    }
  };

  const flush = (): Promise<void> => {
    if (sending || buffer.length === 0) return sending ?? Promise.resolve();
    const lines = buffer;
    buffer = [];
    sending = sender
      .send(lines)
      .then(
        () => void (status.written += lines.length),
        (error: unknown) => {
          status.failedWrites++;
          status.lostPoints += lines.length;
          status.lastError = error instanceof Error ? error.message : String(error);
          // Said once: a server that is down fails every second.
          if (status.failedWrites === 1)
            say('warn', `InfluxDB (${where}): a write failed: ${status.lastError}; the run goes on, and what is not written is counted`);
        },
      )
      .finally(() => (sending = undefined));
    return sending;
  };
  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1000);
  timer.unref();

  const follow = (live: LiveRun): (() => void) => {
    const tags = (): Tags => (live.info ? { ...base, run_id: live.info.id, scenario: live.info.scenario, bus: live.info.bus } : base);
    let measureStartMs: number | undefined;
    const seconds = new Map<number, Map<string, SecondPart>>();
    const stopUpdates = live.onUpdate((event) => {
      const now = new Date();
      switch (event.type) {
        case 'run-started':
          take([phasePoint(tags(), now, 'starting')]);
          break;
        case 'phase':
          if (event.phase === 'measure') measureStartMs = now.getTime();
          take([phasePoint(tags(), now, event.phase)]);
          break;
        case 'resources':
          take(event.processes.map((p) => processPoint(tags(), now, p)));
          break;
        case 'disruption':
          take([outagePoint(tags(), now, event.record, event.what === 'down')]);
          break;
        case 'run-ended':
          take(resultPoints(tags(), now, event.result));
          break;
        default:
          break;
      }
    });
    const stopSeconds = live.onSecond((second, parts: LiveSecondGroup[]) => {
      // Attached after the measured phase began: its start is estimated from the first second seen.
      measureStartMs ??= Date.now() - second * 1000;
      const at = new Date(measureStartMs + second * 1000);
      let kept = seconds.get(second);
      if (!kept) seconds.set(second, (kept = new Map()));
      const points: Point[] = [];
      for (const part of parts) {
        // A late part of a second already written: the sum is written again, at the same time, and replaces the earlier point.
        let sum = kept.get(part.key);
        if (!sum) kept.set(part.key, (sum = { role: part.role, pattern: part.pattern, ok: 0, errors: 0, timeouts: 0, bytes: 0, latency: undefined }));
        sum.ok += part.ok;
        sum.errors += part.errors;
        sum.timeouts += part.timeouts;
        sum.bytes += part.bytes;
        if (part.latency) (sum.latency ??= newMergingHistogram()).add(part.latency);
        points.push(secondPoint(tags(), at, second, sum));
      }
      take(points);
      for (const old of seconds.keys()) if (old < second - SECONDS_KEPT) seconds.delete(old);
    });
    return () => {
      stopUpdates();
      stopSeconds();
    };
  };

  const detach = (): void => {
    if (!current) return;
    current.stop();
    current = undefined;
    void flush();
  };

  let closing: Promise<void> | undefined;
  return {
    attach(live) {
      detach();
      current = { live, stop: follow(live) };
    },
    detach,
    status: () => ({ ...status }),
    close: () =>
      (closing ??= (async () => {
        detach();
        clearInterval(timer);
        // What came in while a write was out goes in one more.
        await flush();
        await flush();
        await sender.close();
        if (status.lostPoints > 0)
          say(
            'warn',
            `InfluxDB (${where}): ${status.lostPoints} of ${status.points} points not written (${status.failedWrites} failed write${status.failedWrites === 1 ? '' : 's'}; last: ${status.lastError ?? 'buffer full'})`,
          );
        else if (status.points > 0) say('info', `InfluxDB (${where}): ${status.written} points written`);
      })()),
  };
}
