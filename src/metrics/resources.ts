/**
 * What the buses cost in resources (the paper's Table II: RAM, CPU cores and
 * TCP connections per bus configuration and client count): a sampler that,
 * every interval, reads each watched process (CPU cores in use, RSS, open TCP
 * connections), sums them per host, and asks each RabbitMQ node's management
 * API for its queues, messages, connections and channels. Processes that
 * exit and endpoints that fail are recorded as such; nothing of it throws.
 */
import { performance } from 'node:perf_hooks';
import { EstablishedSockets, readProcess } from './process-stats.js';
import { DEFAULT_MANAGEMENT_TIMEOUT_MS, fetchRabbitFigures, type ManagementEndpoint, type RabbitFigures } from './rabbit-management.js';

export interface WatchedProcess {
  name: string;
  kind: 'broker' | 'router' | 'agents' | 'coordinator' | 'other';
  host: string;
  pid: number;
}

export interface ResourceSamplerOptions {
  /** called at every tick: the processes to watch now (the set may change during a run) */
  processes: () => WatchedProcess[];
  /** default 1000 */
  intervalMs?: number;
  /** RabbitMQ management endpoints, one per broker node */
  management?: ({ name: string } & ManagementEndpoint)[];
}

export interface ResourceFigures {
  /** CPU time used per wall-clock time since the previous sample: 1 = one core busy */
  cpuCores: number;
  rssBytes: number;
  tcpConnections: number;
}

export interface ResourceSample extends ResourceFigures {
  /** ms since the sampler started */
  t: number;
}

export interface ProcessResources extends WatchedProcess {
  samples: ResourceSample[];
  peak: ResourceFigures;
  mean: ResourceFigures;
  /** ms since the sampler started when it was first found exited; it is not read again, since its pid may be reused */
  goneAt?: number;
}

export interface HostResources {
  host: string;
  /** its processes' samples of each tick, summed */
  samples: ResourceSample[];
  peak: ResourceFigures;
  mean: ResourceFigures;
}

export interface RabbitSample extends RabbitFigures {
  /** ms since the sampler started, when the request left */
  t: number;
}

export interface RabbitResources {
  name: string;
  samples: RabbitSample[];
  peak: RabbitFigures;
  /** requests that failed or timed out */
  errors: number;
  lastError?: string;
}

export interface ResourceReport {
  intervalMs: number;
  processes: ProcessResources[];
  hosts: HostResources[];
  rabbitmq: RabbitResources[];
  /** distinct failures other than exited processes and management requests (processes() throwing, a /proc file not readable) */
  errors: string[];
}

export interface ResourceSampler {
  /** Takes one last sample and reports everything; the same report on every call. */
  stop(): Promise<ResourceReport>;
}

export interface ResourceRow {
  name: string;
  kind: WatchedProcess['kind'] | 'host';
  host: string;
  peakCpuCores: number;
  meanCpuCores: number;
  peakRssMiB: number;
  peakTcpConnections: number;
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
  const mean = (field: keyof ResourceFigures): number => (samples.length === 0 ? 0 : samples.reduce((total, sample) => total + sample[field], 0) / samples.length);
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

  async function sampleProcess(tracked: TrackedProcess, t: number, sockets: EstablishedSockets): Promise<ResourceSample | undefined> {
    const { name, pid } = tracked.watched;
    try {
      const reading = await readProcess(pid, sockets);
      if (!reading) {
        tracked.goneAt = t;
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
    } catch (error) {
      errors.add(`${name} (pid ${pid}): ${message(error)}`);
      return undefined;
    }
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
    const sockets = new EstablishedSockets();
    const samples = await Promise.all([...now.values()].map(async (tracked) => ({ host: tracked.watched.host, sample: await sampleProcess(tracked, t, sockets) })));
    const totals = new Map<string, ResourceSample>();
    for (const { host, sample } of samples) {
      if (!sample) continue;
      const total = totals.get(host) ?? { t, cpuCores: 0, rssBytes: 0, tcpConnections: 0 };
      totals.set(host, { t, cpuCores: round(total.cpuCores + sample.cpuCores, 3), rssBytes: total.rssBytes + sample.rssBytes, tcpConnections: total.tcpConnections + sample.tcpConnections });
    }
    for (const [host, total] of totals) {
      let series = hosts.get(host);
      if (!series) hosts.set(host, (series = []));
      series.push(total);
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
