/**
 * Benchmark: busbench rpc-call anycast against the raw amqplib loop on the
 * same broker in the same run, 1 and 16 clients, 4 servers. Prints ratios
 * (busbench / raw), never absolute pass/fail on a shared, noisy machine.
 *
 *   npm run build && node dist/bench/rpc-throughput.js [--seconds 5] [--rounds 2] [--url rabbit://…]
 *
 * Goals (issue 3): throughput ≥ 0.95×, CPU per call ≤ 1.1×, p50 at 1 client ≤ +50 µs.
 * Both run in this process with their agents on one thread (busbench: one
 * worker), so process CPU time compares like with like; the broker's CPU is
 * not counted for either.
 */
import { parseArgs } from 'node:util';
import { startLocalRabbit, type LocalRabbit } from '../deploy/rabbitmq-local.js';
import { installSignalHandlers } from '../src/cleanup.js';
import { runScenario } from '../src/runner/run.js';
import { resolveScenario } from '../src/scenario/load.js';
import { rawRpcLoop, type LoopResult } from './raw-rpc-loop.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    url: { type: 'string' },
    clients: { type: 'string', default: '1,16' },
  },
});
const measureMs = Number(values.seconds) * 1000;
const rounds = Number(values.rounds);
const SERVERS = 4;
const WARMUP_MS = 1000;
const PAYLOAD = 64;

async function busbenchLoop(url: string, clients: number): Promise<LoopResult> {
  const scenario = resolveScenario(
    {
      name: 'bench-rpc-throughput',
      bus: { kind: 'rabbitmq', url },
      agents: { servers: SERVERS, clients, topic: `bench_${clients}` },
      load: { patterns: ['call/anycast'], duration: measureMs / 1000, warmup: WARMUP_MS / 1000, payload_bytes: PAYLOAD },
      runner: { workers: 1 },
    },
    'bench/rpc-throughput',
  );
  let cpu0 = process.cpuUsage();
  let cpu: NodeJS.CpuUsage | undefined;
  const result = await runScenario(scenario, {
    resultsRoot: null,
    onEvent: (event) => {
      if (event.type === 'phase' && event.phase === 'measure') cpu0 = process.cpuUsage();
      if (event.type === 'phase' && event.phase === 'settle') cpu = process.cpuUsage(cpu0);
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
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Figures {
  rate: number;
  cpuPerCallUs: number;
  p50Us: number;
}

function figures(runs: LoopResult[]): Figures {
  return {
    rate: median(runs.map((r) => (r.calls / r.elapsedMs) * 1000)),
    cpuPerCallUs: median(runs.map((r) => r.cpuUs / r.calls)),
    p50Us: median(runs.map((r) => r.p50Us)),
  };
}

async function main(): Promise<void> {
  installSignalHandlers();
  let broker: LocalRabbit | undefined;
  const url = values.url ?? (broker = await startLocalRabbit()).transportUrl;
  console.log(`rpc-call anycast, ${SERVERS} servers, ${PAYLOAD} B payload, ${rounds} rounds of ${measureMs / 1000} s each, alternating raw / busbench`);
  try {
    for (const clients of values.clients.split(',').map(Number)) {
      const raw: LoopResult[] = [];
      const bb: LoopResult[] = [];
      for (let round = 0; round < rounds; round++) {
        raw.push(await rawRpcLoop({ url, clients, servers: SERVERS, warmupMs: WARMUP_MS, measureMs, payloadBytes: PAYLOAD }));
        bb.push(await busbenchLoop(url, clients));
      }
      const r = figures(raw);
      const b = figures(bb);
      console.log(
        `clients=${clients}: raw ${r.rate.toFixed(0)} calls/s, ${r.cpuPerCallUs.toFixed(1)} µs CPU/call, p50 ${r.p50Us} µs | ` +
          `busbench ${b.rate.toFixed(0)} calls/s, ${b.cpuPerCallUs.toFixed(1)} µs CPU/call, p50 ${b.p50Us} µs`,
      );
      console.log(
        `  ratio throughput ${(b.rate / r.rate).toFixed(3)}× (goal ≥ 0.95)  CPU/call ${(b.cpuPerCallUs / r.cpuPerCallUs).toFixed(3)}× (goal ≤ 1.10)` +
          `  p50 added ${(b.p50Us - r.p50Us).toFixed(0)} µs${clients === 1 ? ' (goal ≤ 50)' : ''}`,
      );
    }
  } finally {
    await broker?.stop();
  }
}

await main();
