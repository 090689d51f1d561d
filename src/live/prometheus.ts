/**
 * Live metrics for Prometheus: an HTTP endpoint (GET /metrics) that serves
 * the attached run's figures in the text exposition format 0.0.4, and keeps
 * serving the final figures of the runs that ended (the last
 * RETAINED_RUNS of them), so a campaign's earlier runs do not vanish
 * between two scrapes and the last scrape after a run reads its result.
 *
 * The text is written by hand rather than with prom-client: prom-client's
 * histograms count observations one at a time into buckets fixed up
 * front, and cannot take bucket counts computed from an HDR histogram,
 * which is what the workers send (merged, encoded) once a second.
 *
 * Latency is a histogram in seconds with fixed buckets (not a summary):
 * buckets add up across runs, hosts and groups (`sum by (le)`), and
 * histogram_quantile() reads any quantile from them; quantiles of a
 * summary cannot be aggregated.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { decodeHistogram, type Histogram } from '../metrics/histogram.js';
import { UsageError } from '../errors.js';
import { LEGS, PAIR_LEGS, type PatternName, type Role, type RunResult } from '../model/index.js';
import type { LiveRun } from './aggregate.js';

export type Labels = Readonly<Record<string, string>>;

/** How many ended runs keep their series: a campaign's recent runs stay visible, and a long campaign does not grow the page without end. */
export const RETAINED_RUNS = 100;

/**
 * Bucket bounds in seconds: 1-2-5 per decade from 50 µs to 50 s, and 60 s,
 * oslo's default call timeout. Fixed for every run and every busbench, so
 * buckets of different runs and hosts add up.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 60,
];

type FamilyType = 'counter' | 'gauge' | 'histogram';

interface Family {
  name: string;
  type: FamilyType;
  help: string;
}

function family(name: string, type: FamilyType, help: string): Family {
  return { name, type, help };
}

/** Every metric busbench exposes, in the order of the page. */
export const FAMILIES = {
  runInfo: family(
    'busbench_run_info',
    'gauge',
    'A run this exporter knows of (always 1); phase: starting, warmup, measure, drain, settle, collect, teardown, ended, or failed (stopped without a result).',
  ),
  runActive: family('busbench_run_active', 'gauge', 'Whether the run is under way (1) or over (0).'),
  runMeasuredSeconds: family('busbench_run_measured_seconds', 'gauge', 'Seconds of the measured phase completed.'),
  runOk: family(
    'busbench_run_outcome_ok',
    'gauge',
    'At the end of a run: 1 if it measured the bus, 0 if it measured a failure (see the result outcome problems).',
  ),
  messages: family(
    'busbench_messages_total',
    'counter',
    'Measured messages by outcome. Senders (client, notifier): sent; ok (calls answered, casts and notifications the bus took); error; timeout (calls only); unsent (the bus never took them). Receivers (server, listener): received. The workers report every second; at the end, the run result.',
  ),
  payloadBytes: family('busbench_payload_bytes_total', 'counter', 'Payload bytes sent (client, notifier) or received (server, listener).'),
  latency: family(
    'busbench_latency_seconds',
    'histogram',
    'Latency of the measured phase. leg: round_trip (clients of calls), one_way (servers, listeners: clock offsets apply); at the end of a run also corrected (from the intended send time), processing (at the server), reply (one way).',
  ),
  deliveries: family(
    'busbench_deliveries_total',
    'counter',
    'At the end of a run, per pattern: deliveries (a message times each receiver it should reach) by outcome: expected, received, undelivered_at_stop (still in the bus), lost, duplicated, reordered, unexpected.',
  ),
  sitePairMessages: family(
    'busbench_site_pair_messages_total',
    'counter',
    'At the end of a run with sites: measured messages from_site to_site (clients: calls answered, by caller and answering server; receivers: messages received, by sender and receiver); unknown: no busbench stamp.',
  ),
  sitePairLatency: family(
    'busbench_site_pair_latency_seconds',
    'histogram',
    'At the end of a run with sites: latency between two sites. leg: request (one way, at the receiver), round_trip and reply (at the caller).',
  ),
  processCpu: family('busbench_process_cpu_cores', 'gauge', 'CPU of a bus or busbench process at its last sample: 1 = one core busy.'),
  processRss: family('busbench_process_rss_bytes', 'gauge', 'Resident memory of a bus or busbench process at its last sample.'),
  processTcp: family('busbench_process_tcp_connections', 'gauge', 'Established TCP connections of a bus or busbench process at its last sample.'),
  outageActive: family('busbench_outage_active', 'gauge', 'A scheduled dropout or partition of the topology: 1 while it is in place, 0 once lifted.'),
  outages: family('busbench_outages_total', 'counter', 'Scheduled dropouts and partitions that went into place.'),
} as const;

const FAMILY_ORDER: readonly Family[] = Object.values(FAMILIES);

// ---- the text format ----------------------------------------------------

/** Label values escape backslash, double quote and line feed (format 0.0.4). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
}

/**
 * Cumulative counts of an HDR histogram (µs) at each bound of
 * LATENCY_BUCKETS_SECONDS: the values whose HDR bucket lies wholly at or
 * below the bound (HDR keeps values to 3 significant digits, and its
 * percentiles report a bucket's highest value likewise, so a quantile
 * read from these buckets agrees with the result's percentiles).
 */
export function bucketCounts(histogram: Histogram): number[] {
  const counts = LATENCY_BUCKETS_SECONDS.map(() => 0);
  const bounds = LATENCY_BUCKETS_SECONDS.map((s) => Math.round(s * 1_000_000));
  // hdr-histogram-js's JS histograms (what decoding and newHistogram give) walk their recorded values with this iterator; its public Histogram type does not list it.
  const values = (histogram as unknown as Partial<RecordedValues>).recordedValuesIterator;
  if (!values) throw new Error('bucketCounts: the histogram cannot list its recorded values (a WebAssembly histogram?)');
  values.reset();
  while (values.hasNext()) {
    const step = values.next();
    for (let i = 0; i < bounds.length; i++) if (step.valueIteratedTo <= bounds[i]!) counts[i]! += step.countAtValueIteratedTo;
  }
  return counts;
}

interface RecordedValues {
  recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } };
}

/** The sample lines of one source (a run, or bus up's processes), per family. */
export class SeriesSet {
  readonly lines = new Map<Family, string[]>();

  add(family: Family, labels: Labels, value: number): void {
    this.push(family, `${family.name}${formatLabels(labels)} ${formatValue(value)}`);
  }

  /** _bucket (cumulative, le in seconds, +Inf = count), _sum (the HDR mean × count, s) and _count; nothing for an empty histogram: no latency is not 0 s. */
  addHistogram(family: Family, labels: Labels, histogram: Histogram | undefined): void {
    if (!histogram || histogram.totalCount === 0) return;
    const counts = bucketCounts(histogram);
    LATENCY_BUCKETS_SECONDS.forEach((le, i) => this.push(family, `${family.name}_bucket${formatLabels({ ...labels, le: String(le) })} ${counts[i]}`));
    this.push(family, `${family.name}_bucket${formatLabels({ ...labels, le: '+Inf' })} ${histogram.totalCount}`);
    this.push(family, `${family.name}_sum${formatLabels(labels)} ${formatValue((histogram.mean * histogram.totalCount) / 1_000_000)}`);
    this.push(family, `${family.name}_count${formatLabels(labels)} ${histogram.totalCount}`);
  }

  private push(family: Family, line: string): void {
    let lines = this.lines.get(family);
    if (!lines) this.lines.set(family, (lines = []));
    lines.push(line);
  }
}

/** The page: each family once, HELP and TYPE then every source's samples of it (the format wants a family's lines together). */
export function renderExposition(sets: Iterable<SeriesSet>): string {
  const all = [...sets];
  let text = '';
  for (const family of FAMILY_ORDER) {
    const lines = all.flatMap((set) => set.lines.get(family) ?? []);
    if (lines.length === 0) continue;
    text += `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n${lines.join('\n')}\n`;
  }
  return text;
}

// ---- what a run shows ---------------------------------------------------

const SENDERS: ReadonlySet<Role> = new Set(['client', 'notifier']);

/** The primary latency of a group: round trip at clients, one way at receivers. */
function primaryLeg(role: Role): string {
  return role === 'client' || role === 'notifier' ? 'round_trip' : 'one_way';
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function runLabels(live: LiveRun, base: Labels): Labels {
  return live.info ? { ...base, run_id: live.info.id, scenario: live.info.scenario, bus: live.info.bus } : base;
}

function addCounters(
  set: SeriesSet,
  labels: Labels,
  role: Role,
  pattern: PatternName,
  c: { sent: number; ok: number; errors: number; timeouts: number; unsent: number; bytes: number },
): void {
  const group = { ...labels, role, pattern };
  if (SENDERS.has(role)) {
    set.add(FAMILIES.messages, { ...group, outcome: 'sent' }, c.sent);
    set.add(FAMILIES.messages, { ...group, outcome: 'ok' }, c.ok);
    set.add(FAMILIES.messages, { ...group, outcome: 'error' }, c.errors);
    if (pattern.startsWith('call')) set.add(FAMILIES.messages, { ...group, outcome: 'timeout' }, c.timeouts);
    set.add(FAMILIES.messages, { ...group, outcome: 'unsent' }, c.unsent);
  } else set.add(FAMILIES.messages, { ...group, outcome: 'received' }, c.ok);
  set.add(FAMILIES.payloadBytes, group, c.bytes);
}

function addOutages(set: SeriesSet, live: LiveRun, labels: Labels, ended: boolean): void {
  const began = new Map<string, number>();
  for (const cut of live.disruptions.values()) {
    if (cut.startedAtMs === undefined) continue;
    began.set(cut.kind, (began.get(cut.kind) ?? 0) + 1);
    // Once the run is over every cut has been lifted: only the count stays.
    if (!ended) set.add(FAMILIES.outageActive, { ...labels, kind: cut.kind, label: cut.label }, cut.endedAtMs === undefined ? 1 : 0);
  }
  for (const [kind, count] of began) set.add(FAMILIES.outages, { ...labels, kind }, count);
}

function addProcesses(set: SeriesSet, live: LiveRun, labels: Labels): void {
  for (const p of live.processes.values()) {
    const at = { ...labels, process: p.name, kind: p.kind, host: p.host };
    set.add(FAMILIES.processCpu, at, p.cpuCores);
    set.add(FAMILIES.processRss, at, p.rssBytes);
    set.add(FAMILIES.processTcp, at, p.tcpConnections);
  }
}

/** A run under way (or bus up's processes, with no run at all): what the live state holds now. */
export function liveSeries(live: LiveRun, base: Labels = {}): SeriesSet {
  const set = new SeriesSet();
  const labels = runLabels(live, base);
  if (live.info) {
    set.add(FAMILIES.runInfo, { ...labels, phase: live.phase }, 1);
    set.add(FAMILIES.runActive, labels, live.phase === 'ended' ? 0 : 1);
    set.add(FAMILIES.runMeasuredSeconds, labels, live.second);
  }
  for (const g of live.groups.values()) {
    addCounters(set, labels, g.role, g.pattern, g.counters);
    set.addHistogram(FAMILIES.latency, { ...labels, role: g.role, pattern: g.pattern, leg: primaryLeg(g.role) }, g.latency);
  }
  addProcesses(set, live, labels);
  addOutages(set, live, labels, false);
  return set;
}

/**
 * A run that is over: from its result when it has one (the final counters,
 * every leg, deliveries, site pairs), else from the live state as it was
 * when it stopped. The processes' gauges are left out: they describe
 * processes the run has stopped.
 */
export function finalSeries(live: LiveRun, result: RunResult | undefined, base: Labels = {}): SeriesSet {
  if (!result) {
    const set = new SeriesSet();
    const labels = runLabels(live, base);
    if (live.info) {
      set.add(FAMILIES.runInfo, { ...labels, phase: 'failed' }, 1);
      set.add(FAMILIES.runActive, labels, 0);
      set.add(FAMILIES.runMeasuredSeconds, labels, live.second);
    }
    for (const g of live.groups.values()) {
      addCounters(set, labels, g.role, g.pattern, g.counters);
      set.addHistogram(FAMILIES.latency, { ...labels, role: g.role, pattern: g.pattern, leg: primaryLeg(g.role) }, g.latency);
    }
    addOutages(set, live, labels, true);
    return set;
  }
  const set = new SeriesSet();
  const labels: Labels = { ...base, run_id: result.id, scenario: result.scenario.name, bus: result.scenario.bus.kind };
  set.add(FAMILIES.runInfo, { ...labels, phase: 'ended' }, 1);
  set.add(FAMILIES.runActive, labels, 0);
  set.add(FAMILIES.runMeasuredSeconds, labels, Math.max(live.second, result.timeSeries.length));
  if (result.outcome) set.add(FAMILIES.runOk, labels, result.outcome.ok ? 1 : 0);
  for (const g of result.groups) {
    if (g.pattern === 'all') continue;
    addCounters(set, labels, g.role, g.pattern, g.counters);
    const group = { ...labels, role: g.role, pattern: g.pattern };
    set.addHistogram(FAMILIES.latency, { ...group, leg: primaryLeg(g.role) }, g.histogram ? decodeHistogram(g.histogram) : undefined);
    for (const leg of LEGS) {
      const encoded = g.legs?.[leg]?.histogram;
      if (encoded) set.addHistogram(FAMILIES.latency, { ...group, leg }, decodeHistogram(encoded));
    }
  }
  for (const [pattern, d] of Object.entries(result.delivery)) {
    const at = { ...labels, pattern };
    set.add(FAMILIES.deliveries, { ...at, outcome: 'expected' }, d.expectedDeliveries);
    set.add(FAMILIES.deliveries, { ...at, outcome: 'received' }, d.receivedDeliveries);
    // Without the bus's backlog, lost also holds what was still queued: no separate figure to show.
    if (d.backlogReported) set.add(FAMILIES.deliveries, { ...at, outcome: 'undelivered_at_stop' }, d.undeliveredAtStop);
    set.add(FAMILIES.deliveries, { ...at, outcome: 'lost' }, d.lost);
    set.add(FAMILIES.deliveries, { ...at, outcome: 'duplicated' }, d.duplicated);
    set.add(FAMILIES.deliveries, { ...at, outcome: 'reordered' }, d.reordered);
    set.add(FAMILIES.deliveries, { ...at, outcome: 'unexpected' }, d.unexpected);
  }
  for (const pair of result.sitePairs?.bySite ?? []) {
    const at = { ...labels, role: pair.role, pattern: pair.pattern, from_site: pair.from ?? 'unknown', to_site: pair.to ?? 'unknown' };
    set.add(FAMILIES.sitePairMessages, at, pair.count);
    for (const leg of PAIR_LEGS) {
      const encoded = pair.legs[leg]?.histogram;
      if (encoded) set.addHistogram(FAMILIES.sitePairLatency, { ...at, leg: snake(leg) }, decodeHistogram(encoded));
    }
  }
  addOutages(set, live, labels, true);
  return set;
}

// ---- the endpoint -------------------------------------------------------

export interface PrometheusOptions {
  /** default 0.0.0.0: every interface, as exporters listen, for a Prometheus server on another machine */
  host?: string;
  /** 0: any free port (see url) */
  port: number;
  /** labels on every series (bus up: scenario and bus, as there is no run) */
  labels?: Labels;
  say?: (level: 'info' | 'warn', message: string) => void;
}

export interface PrometheusExporter {
  /** where to scrape, e.g. http://myhost:9750/metrics */
  readonly url: string;
  readonly port: number;
  /** serve this run's series from now on; a run still attached is finished first (as failed, if it had no result) */
  attach(live: LiveRun): void;
  /** stop following the attached run: it keeps its final series (as failed, if it ended without a result) */
  detach(): void;
  /** the page as a scrape would get it now */
  text(): string;
  /** scrapes served so far */
  readonly scrapes: number;
  /**
   * Stops serving. If a Prometheus has been scraping and has not scraped
   * since the last run ended, waits for one more scrape first (about its
   * scrape interval, at most maxWaitMs): a `busbench run` that exits right
   * away would otherwise never show its final figures.
   */
  close(options?: { maxWaitMs?: number }): Promise<void>;
}

const DEFAULT_FINAL_SCRAPE_WAIT_MS = 30_000;

export async function startPrometheusExporter(options: PrometheusOptions): Promise<PrometheusExporter> {
  const host = options.host ?? '0.0.0.0';
  const base = options.labels ?? {};
  const say = options.say ?? (() => undefined);
  const retained: SeriesSet[] = [];
  let current: { live: LiveRun; stop: () => void } | undefined;
  let scrapes = 0;
  const scrapedAt: number[] = [];
  let lastEndedAt = 0;

  const finish = (live: LiveRun, result: RunResult | undefined): void => {
    retained.push(finalSeries(live, result, base));
    if (retained.length > RETAINED_RUNS) retained.splice(0, retained.length - RETAINED_RUNS);
    lastEndedAt = Date.now();
  };
  const detach = (): void => {
    if (!current) return;
    const { live, stop } = current;
    current = undefined;
    stop();
    // Only a run that began has series of its own to keep; bus up's processes (no run) go with it.
    if (live.info) finish(live, undefined);
  };
  const text = (): string => renderExposition([...retained, ...(current ? [liveSeries(current.live, base)] : [])]);

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      let body: string;
      try {
        body = text();
      } catch (error) {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`busbench could not render its metrics: ${(error as Error).message}\n`);
        return;
      }
      scrapes++;
      scrapedAt.push(Date.now());
      if (scrapedAt.length > 2) scrapedAt.shift();
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      response.end(request.method === 'HEAD' ? undefined : body);
      return;
    }
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('busbench live metrics: GET /metrics (Prometheus text format 0.0.4)\n');
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: busbench serves /metrics\n');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${host}:${options.port}`;
      if (error.code === 'EADDRINUSE') reject(new UsageError(`--prometheus ${where}: the port is in use; choose another port (or 0 for any free one)`));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
        reject(new UsageError(`--prometheus ${where}: this machine has no address ${host}; give one of its addresses, or 0.0.0.0 for every interface`));
      else if (error.code === 'EACCES')
        reject(new UsageError(`--prometheus ${where}: not allowed to listen there (ports below 1024 need privileges); choose a port above 1024`));
      else reject(new Error(`--prometheus ${where}: could not listen: ${error.message}`));
    });
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = host === '0.0.0.0' || host === '::' ? hostname() : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/metrics`;
  say('info', `Prometheus metrics at ${url}${host === '0.0.0.0' || host === '::' ? ' (listening on every interface)' : ''}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    get scrapes() {
      return scrapes;
    },
    attach(live) {
      detach();
      const stop = live.onUpdate((event) => {
        if (event.type !== 'run-ended' || current?.live !== live) return;
        current = undefined;
        stop();
        finish(live, event.result);
      });
      current = { live, stop };
    },
    detach,
    text,
    close: ({ maxWaitMs = DEFAULT_FINAL_SCRAPE_WAIT_MS } = {}) =>
      (closing ??= (async () => {
        detach();
        const last = scrapedAt[scrapedAt.length - 1];
        if (last !== undefined && lastEndedAt > 0 && last < lastEndedAt) {
          // Someone scrapes: wait about one of their intervals for the scrape that reads the final figures.
          const interval = scrapedAt.length === 2 ? scrapedAt[1]! - scrapedAt[0]! : 15_000;
          const waitMs = Math.min(maxWaitMs, interval * 1.5 + 1000);
          say('info', `waiting up to ${Math.ceil(waitMs / 1000)} s for Prometheus to scrape the final figures…`);
          const deadline = Date.now() + waitMs;
          while (Date.now() < deadline && (scrapedAt[scrapedAt.length - 1] ?? 0) < lastEndedAt) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Prometheus keeps its connection alive between scrapes: without this, close would wait for it to time out.
          server.closeAllConnections();
        });
      })()),
  };
}
