/**
 * What the buses cost in resources (the paper's Table II: RAM, CPU cores and
 * TCP connections per bus configuration and client count): a sampler that,
 * every interval, reads each watched process (CPU cores in use, RSS, open TCP
 * connections) where it runs (this machine's /proc, or a reader started on a
 * host reached over ssh), sums them per host, and asks each RabbitMQ node's
 * management API for its queues, messages, connections and channels.
 * Processes that exit and endpoints that fail are recorded as such; nothing
 * of it throws.
 */
import { localEntry } from '../util/entries.js';
import { readFrames, writeFrame } from '../util/frames.js';
import { performance } from 'node:perf_hooks';
import type { HostSpawner } from '../buses/host.js';
import { TcpConnectionCounter, readProcessOrError, type PidReading, type ProcessReading } from './process-stats.js';
import { DEFAULT_MANAGEMENT_TIMEOUT_MS, fetchRabbitFigures, type ManagementEndpoint } from '../buses/rabbitmq/management.js';
import type { RabbitSample, ResourceFigures, ResourceReport, ResourceRow, ResourceSample, WatchedProcess } from '../model/index.js';

/** Reads processes of one host; readAt is on that host's clock, so only readings of one reader are compared. */
export interface ProcessReader {
  /** one answer per pid, in the order asked; rejects when the host cannot be asked at all */
  read(pids: number[]): Promise<PidReading[]>;
}

/** Kept from one sample to the next: it reads a namespace's TCP tables and a process's open files again only when they can have changed. */
const localConnections = new TcpConnectionCounter();

/** Reads /proc of this machine; all its calls share the reading of each network namespace's TCP tables (see TcpConnectionCounter). */
export const localProcessReader: ProcessReader = {
  read(pids) {
    return Promise.resolve(pids.map((pid) => readProcessOrError(pid, localConnections)));
  },
};

export const READER_HOST_ENTRY = localEntry('readerHost');

/** Beyond this a host's reader is taken as stuck: the sampler's tick, and so its stop, must not wait on a lost connection. */
const READER_ANSWER_TIMEOUT_MS = 15_000;
const READER_STOP_GRACE_MS = 5000;

export interface ReaderHost extends ProcessReader {
  /** closes its stdin, its cue to exit; kills it when it does not; safe to call twice */
  stop(): Promise<void>;
}

/** Starts reader-host.js (argv: node and that entry, as installed on the host) and asks it as the host's ProcessReader. */
export function startReaderHost(spawn: HostSpawner, argv: string[]): ReaderHost {
  const child = spawn(argv);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4096)));
  let failure: Error | undefined;
  // Answers come in the order asked: an answer settles the oldest question, even one that has timed out.
  const waiting: { settle(answer: unknown): void; fail(error: Error): void }[] = [];
  const failAll = (error: Error): void => {
    failure ??= error;
    for (const question of waiting.splice(0)) question.fail(failure);
  };
  // A reader that could not start reports an error and no exit: either way it is gone.
  const gone = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      failAll(new Error(`the process reader exited (${signal ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
      resolve();
    });
    child.once('error', (error) => {
      failAll(new Error(`the process reader: ${error.message}`));
      resolve();
    });
  });
  // Writing to a reader that has just died fails with EPIPE: its exit says why, and unhandled the error would end busbench.
  child.stdin?.on('error', (error) => failAll(new Error(`the process reader: ${error.message}`)));
  readFrames(
    child.stdout!,
    (answer) => waiting.shift()?.settle(answer),
    (error) => failAll(new Error(`the process reader: ${error.message}`)),
  );

  let stopping: Promise<void> | undefined;
  return {
    read(pids) {
      if (failure) return Promise.reject(failure);
      return new Promise<PidReading[]>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the process reader did not answer within ${READER_ANSWER_TIMEOUT_MS / 1000} s`)),
          READER_ANSWER_TIMEOUT_MS,
        );
        const done = (): void => clearTimeout(timer);
        waiting.push({
          settle(answer) {
            done();
            try {
              const answers = answer as (ProcessReading | { error: string } | null)[];
              if (!Array.isArray(answers) || answers.length !== pids.length)
                throw new Error(`${pids.length} pids asked, answered ${JSON.stringify(answer).slice(0, 200)}`);
              resolve(answers.map((a) => a ?? undefined));
            } catch (error) {
              reject(new Error(`the process reader's answer: ${message(error)}`));
            }
          },
          fail(error) {
            done();
            reject(error);
          },
        });
        if (child.stdin) writeFrame(child.stdin, pids);
      });
    },
    stop: () =>
      (stopping ??= (async () => {
        child.stdin?.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), READER_STOP_GRACE_MS);
        await gone;
        clearTimeout(timer);
      })()),
  };
}

export interface ResourceSamplerOptions {
  /** called at every tick: the processes to watch now (the set may change during a run) */
  processes: () => WatchedProcess[];
  /** the reader of a host's processes; this machine's /proc for hosts it gives none */
  readers?: (host: string) => ProcessReader | undefined;
  /** default 1000 */
  intervalMs?: number;
  /** RabbitMQ management endpoints, one per broker node */
  management?: ({ name: string } & ManagementEndpoint)[];
  /** called after each tick with the processes read in it (live exporters) */
  onSample?: (t: number, processes: (WatchedProcess & ResourceFigures)[]) => void;
}

export interface ResourceSampler {
  /** Takes one last sample and reports everything; the same report on every call. */
  stop(): Promise<ResourceReport>;
}

const MiB = 1024 * 1024;

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function peakOf<K extends string>(samples: Record<K, number>[], fields: readonly K[]): Record<K, number> {
  const peak = {} as Record<K, number>;
  for (const field of fields) peak[field] = samples.reduce<number>((max, sample) => Math.max(max, sample[field]), 0);
  return peak;
}

const RESOURCE_FIELDS = ['cpuCores', 'rssBytes', 'tcpConnections'] as const;
const RABBIT_FIELDS = ['queues', 'messagesReady', 'messagesUnacknowledged', 'connections', 'channels'] as const;

function resourcePeak(samples: ResourceSample[]): ResourceFigures {
  return peakOf(samples, RESOURCE_FIELDS);
}

function resourceMean(samples: ResourceSample[]): ResourceFigures {
  const mean = (field: keyof ResourceFigures): number =>
    samples.length === 0 ? 0 : samples.reduce((total, sample) => total + sample[field], 0) / samples.length;
  return { cpuCores: round(mean('cpuCores'), 3), rssBytes: Math.round(mean('rssBytes')), tcpConnections: round(mean('tcpConnections'), 2) };
}

interface TrackedProcess {
  watched: WatchedProcess;
  samples: ResourceSample[];
  /** the reading the next sample's CPU rate is measured from */
  previous?: { cpuTimeMs: number; readAt: number };
  goneAt?: number;
}

interface TrackedBroker {
  endpoint: { name: string } & ManagementEndpoint;
  samples: RabbitSample[];
  errors: number;
  lastError?: string;
  inFlight?: Promise<void>;
}

export function startResourceSampler(options: ResourceSamplerOptions): ResourceSampler {
  const intervalMs = options.intervalMs ?? 1000;
  const startedAt = performance.now();
  // A process is the same one on a host as long as its pid is: the same pid watched under two names is counted once.
  const processes = new Map<string, TrackedProcess>();
  const hosts = new Map<string, ResourceSample[]>();
  const brokers: TrackedBroker[] = (options.management ?? []).map((endpoint) => ({ endpoint, samples: [], errors: 0 }));
  const errors = new Set<string>();

  function sampleOf(tracked: TrackedProcess, t: number, reading: PidReading): ResourceSample | undefined {
    const { name, pid } = tracked.watched;
    if (!reading) {
      tracked.goneAt = t;
      return undefined;
    }
    if ('error' in reading) {
      errors.add(`${name} (pid ${pid}): ${reading.error}`);
      return undefined;
    }
    const previous = tracked.previous;
    tracked.previous = { cpuTimeMs: reading.cpuTimeMs, readAt: reading.readAt };
    // CPU is a rate: a process's first reading is only where its first sample is measured from.
    if (!previous) return undefined;
    const cpuCores = Math.max(0, (reading.cpuTimeMs - previous.cpuTimeMs) / (reading.readAt - previous.readAt));
    const sample = { t, cpuCores: round(cpuCores, 3), rssBytes: reading.rssBytes, tcpConnections: reading.tcpConnections };
    tracked.samples.push(sample);
    return sample;
  }

  /** undefined when readers() fails for the host: its pids are not this machine's, so they are not read at all. */
  function readerOf(host: string): ProcessReader | undefined {
    try {
      return options.readers?.(host) ?? localProcessReader;
    } catch (error) {
      errors.add(`readers(${host}): ${message(error)}`);
      return undefined;
    }
  }

  /** One call per reader, so a remote host is asked once per tick however many of its processes are watched. */
  async function sampleWith(reader: ProcessReader, batch: TrackedProcess[], t: number): Promise<{ host: string; sample: ResourceSample | undefined }[]> {
    let readings: PidReading[];
    try {
      readings = await reader.read(batch.map((tracked) => tracked.watched.pid));
    } catch (error) {
      for (const host of new Set(batch.map((tracked) => tracked.watched.host))) errors.add(`reading the processes on ${host}: ${message(error)}`);
      return [];
    }
    return batch.map((tracked, i) => ({ host: tracked.watched.host, sample: sampleOf(tracked, t, readings[i]) }));
  }

  async function sampleProcesses(t: number): Promise<void> {
    let watched: WatchedProcess[];
    try {
      watched = options.processes();
    } catch (error) {
      errors.add(`processes(): ${message(error)}`);
      return;
    }
    const now = new Map<string, TrackedProcess>();
    for (const one of watched) {
      const key = `${one.host}\0${one.pid}`;
      let tracked = processes.get(key);
      if (!tracked) processes.set(key, (tracked = { watched: one, samples: [] }));
      if (tracked.goneAt === undefined) now.set(key, tracked);
    }
    const batches = new Map<ProcessReader, TrackedProcess[]>();
    for (const tracked of now.values()) {
      const reader = readerOf(tracked.watched.host);
      if (!reader) continue;
      batches.set(reader, [...(batches.get(reader) ?? []), tracked]);
    }
    const samples = (await Promise.all([...batches].map(([reader, batch]) => sampleWith(reader, batch, t)))).flat();
    const totals = new Map<string, ResourceSample>();
    for (const { host, sample } of samples) {
      if (!sample) continue;
      const total = totals.get(host) ?? { t, cpuCores: 0, rssBytes: 0, tcpConnections: 0 };
      totals.set(host, {
        t,
        cpuCores: round(total.cpuCores + sample.cpuCores, 3),
        rssBytes: total.rssBytes + sample.rssBytes,
        tcpConnections: total.tcpConnections + sample.tcpConnections,
      });
    }
    for (const [host, total] of totals) {
      let series = hosts.get(host);
      if (!series) hosts.set(host, (series = []));
      series.push(total);
    }
    if (options.onSample) {
      const read: (WatchedProcess & ResourceFigures)[] = [];
      for (const tracked of now.values()) {
        const last = tracked.samples[tracked.samples.length - 1];
        if (last && last.t === t) read.push({ ...tracked.watched, cpuCores: last.cpuCores, rssBytes: last.rssBytes, tcpConnections: last.tcpConnections });
      }
      options.onSample(t, read);
    }
  }

  // A slow broker must not hold back the process samples: each node has at most one request out, and a tick does not wait for it.
  function sampleBrokers(t: number): void {
    for (const broker of brokers) {
      broker.inFlight ??= fetchRabbitFigures(broker.endpoint, DEFAULT_MANAGEMENT_TIMEOUT_MS)
        .then(
          (figures) => void broker.samples.push({ t, ...figures }),
          (error: unknown) => {
            broker.errors += 1;
            broker.lastError = message(error);
          },
        )
        .finally(() => (broker.inFlight = undefined));
    }
  }

  async function brokersAnswered(): Promise<void> {
    await Promise.all(brokers.map((broker) => broker.inFlight));
  }

  let tick: Promise<void> | undefined;
  function startTick(): void {
    // A tick that takes longer than the interval (thousands of sockets to look up) makes the next one wait its turn, not pile up.
    if (tick) return;
    const t = Math.round(performance.now() - startedAt);
    sampleBrokers(t);
    tick = sampleProcesses(t).finally(() => (tick = undefined));
  }

  startTick();
  const timer = setInterval(startTick, intervalMs);
  timer.unref();

  function report(): ResourceReport {
    return {
      intervalMs,
      processes: [...processes.values()].map(({ watched, samples, goneAt }) => ({
        ...watched,
        samples,
        peak: resourcePeak(samples),
        mean: resourceMean(samples),
        ...(goneAt === undefined ? {} : { goneAt }),
      })),
      hosts: [...hosts].map(([host, samples]) => ({ host, samples, peak: resourcePeak(samples), mean: resourceMean(samples) })),
      rabbitmq: brokers.map(({ endpoint, samples, errors: failed, lastError }) => ({
        name: endpoint.name,
        samples,
        peak: peakOf(samples, RABBIT_FIELDS),
        errors: failed,
        ...(lastError === undefined ? {} : { lastError }),
      })),
      errors: [...errors],
    };
  }

  let stopped: Promise<ResourceReport> | undefined;
  return {
    stop: () =>
      (stopped ??= (async () => {
        clearInterval(timer);
        await tick;
        await brokersAnswered();
        startTick();
        await tick;
        await brokersAnswered();
        return report();
      })()),
  };
}

/** One row per process and per host (kind 'host'), for a table. */
export function summarizeResources(report: ResourceReport): ResourceRow[] {
  const row = (name: string, kind: ResourceRow['kind'], host: string, usage: { peak: ResourceFigures; mean: ResourceFigures }): ResourceRow => ({
    name,
    kind,
    host,
    peakCpuCores: round(usage.peak.cpuCores, 2),
    meanCpuCores: round(usage.mean.cpuCores, 2),
    peakRssMiB: round(usage.peak.rssBytes / MiB, 1),
    peakTcpConnections: usage.peak.tcpConnections,
  });
  return [...report.processes.map((p) => row(p.name, p.kind, p.host, p)), ...report.hosts.map((h) => row(h.host, 'host', h.host, h))];
}
