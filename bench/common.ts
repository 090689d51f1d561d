/** What the benchmarks share: the busbench side of a comparison, and medians. */
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { installSignalHandlers } from '../src/cleanup.js';
import { runScenario } from '../src/index.js';
import { resolveScenario } from '../src/index.js';
import type { LoopResult } from './raw-rpc-loop.js';

export const SERVERS = 4;
// Long enough for a fresh worker thread to JIT-compile its hot path: the raw loops run in a
// thread that stays warm across rounds, so a short warm-up would bias against busbench.
export const WARMUP_MS = 3000;
export const PAYLOAD = 64;

/** busbench rpc-call anycast with its agents on one worker thread; CPU of the whole process over the measured phase. */
export async function busbenchLoop(options: {
  kind: 'rabbitmq' | 'amqp1';
  url: string;
  clients: number;
  measureMs: number;
  bookkeeping?: boolean;
}): Promise<LoopResult & { rssBytes: number }> {
  const { url, clients, measureMs } = options;
  const scenario = resolveScenario(
    {
      name: 'bench-rpc-throughput',
      bus: { kind: options.kind, url },
      agents: { servers: SERVERS, clients, topic: `bench_${options.kind}_${clients}` },
      load: { patterns: ['call/anycast'], duration: measureMs / 1000, warmup: WARMUP_MS / 1000, payload_bytes: PAYLOAD },
      runner: { workers: 1, bookkeeping: options.bookkeeping ?? true },
    },
    'bench/rpc-throughput',
  );
  let cpu0 = process.cpuUsage();
  let cpu: NodeJS.CpuUsage | undefined;
  let rssBytes = 0;
  const result = await runScenario(scenario, {
    resultsRoot: null,
    onEvent: (event) => {
      if (event.type === 'phase' && event.phase === 'measure') cpu0 = process.cpuUsage();
      if (event.type === 'phase' && event.phase === 'settle') {
        cpu = process.cpuUsage(cpu0);
        rssBytes = process.memoryUsage().rss;
      }
    },
  });
  const calls = result.groups.find((g) => g.role === 'client' && g.pattern === 'call-anycast');
  if (!calls?.latency || !cpu) throw new Error('busbench run produced no call latency');
  return {
    calls: calls.counters.ok,
    elapsedMs: result.phases.measuredMs,
    cpuUs: cpu.user + cpu.system,
    p50Us: calls.latency.p50Us,
    p99Us: calls.latency.p99Us,
    rssBytes,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Figures {
  rate: number;
  cpuPerCallUs: number;
  p50Us: number;
}

export function figures(runs: LoopResult[]): Figures {
  return {
    rate: median(runs.map((r) => (r.calls / r.elapsedMs) * 1000)),
    cpuPerCallUs: median(runs.map((r) => r.cpuUs / r.calls)),
    p50Us: median(runs.map((r) => r.p50Us)),
  };
}

/** The options every A/B comparison takes; spread into parseArgs, overriding a default where a bench needs another. */
export const COMPARISON_OPTIONS = {
  seconds: { type: 'string', default: '5' },
  rounds: { type: 'string', default: '3' },
  url: { type: 'string' },
  clients: { type: 'string', default: '1,16' },
} as const;

type Loop = (url: string, clients: number, measureMs: number) => Promise<LoopResult>;

/**
 * Two loops on one RabbitMQ (the embedded one unless `url`), alternating
 * round by round so that drift on a shared machine hits both alike; for
 * each client count, `report` gets the medians of both.
 */
export async function compareOnRabbit(options: {
  values: { seconds: string; rounds: string; url?: string | undefined; clients: string };
  header: (measureMs: number, rounds: number) => string;
  first: Loop;
  second: Loop;
  report: (clients: number, first: Figures, second: Figures) => void;
}): Promise<void> {
  installSignalHandlers();
  const measureMs = Number(options.values.seconds) * 1000;
  const rounds = Number(options.values.rounds);
  let broker: LocalRabbit | undefined;
  const url = options.values.url ?? (broker = await startLocalRabbit()).transportUrl;
  console.log(options.header(measureMs, rounds));
  try {
    for (const clients of options.values.clients.split(',').map(Number)) {
      const first: LoopResult[] = [];
      const second: LoopResult[] = [];
      for (let round = 0; round < rounds; round++) {
        first.push(await options.first(url, clients, measureMs));
        second.push(await options.second(url, clients, measureMs));
      }
      options.report(clients, figures(first), figures(second));
    }
  } finally {
    await broker?.stop();
  }
}
