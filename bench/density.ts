/**
 * Benchmark: how many idle agents (RPC clients, one AMQP connection each)
 * one busbench process holds, what each costs in harness RSS, and how fast
 * they start. The baseline, measured in the same run, is the same process
 * before any agent starts.
 *
 *   npm run build && node dist/bench/density.js [--agents 15000] [--workers 2]
 *
 * Goals (issue 3): ≥ 15,000 agents, ≤ 32 KiB harness RSS each, ≥ 500 started/s.
 * The seed packed 200 Python agents (about 76 MiB each) per machine.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { startLocalRabbit, type LocalRabbit } from '../src/buses/rabbitmq/node.js';
import { installSignalHandlers } from '../src/cleanup.js';
import { ensureFileLimit } from '../src/runner/fd-limit.js';
import { planWorkers } from '../src/runner/plan.js';
import { AgentWorkerPool } from '../src/runner/worker-pool.js';
import { resolveScenario } from '../src/index.js';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '15000' },
    workers: { type: 'string', default: String(availableParallelism()) },
    'connect-concurrency': { type: 'string', default: '64' },
    url: { type: 'string' },
  },
});
const agents = Number(values.agents);

/** VmRSS from /proc: the whole process, all threads. */
function rssOf(pid: number | 'self'): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

async function settleMemory(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function main(): Promise<void> {
  installSignalHandlers();
  console.log(ensureFileLimit(agents));
  let broker: LocalRabbit | undefined;
  const url = values.url ?? (broker = await startLocalRabbit()).transportUrl;
  try {
    const scenario = resolveScenario(
      {
        name: 'bench-density',
        bus: { kind: 'rabbitmq', url },
        agents: { clients: agents },
        load: { patterns: ['call/anycast'], messages: 1 },
        runner: { workers: Number(values.workers), connect_concurrency: Number(values['connect-concurrency']) },
      },
      'bench/density',
      // Idle clients only: nothing is sent, so they need no servers.
      { crossFieldChecks: false },
    );
    const inits = planWorkers(scenario, { workers: Number(values.workers), driver: { kind: 'rabbitmq', url, exchange: 'openstack' } });
    await settleMemory();
    const baseline = rssOf('self');
    const pool = AgentWorkerPool.inThreads(inits);
    // Worker threads themselves (V8 isolates) are part of the harness: measure them empty first.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const withWorkers = rssOf('self');
    let lastReport = 0;
    pool.on((message, index) => {
      if (message.type === 'agents-progress' && index === 0 && performance.now() - lastReport > 2000) {
        lastReport = performance.now();
        process.stderr.write(`  worker 0: ${message.started} started, ${message.failed} failed\n`);
      }
    });
    const t0 = performance.now();
    const ready = await pool.gather('agents-ready', { type: 'start-agents' });
    const elapsedMs = performance.now() - t0;
    const started = ready.reduce((n, r) => n + r.started.client, 0);
    const failed = ready.reduce((n, r) => n + r.failed, 0);
    await settleMemory();
    const loaded = rssOf('self');
    const beam = broker?.beamPid();
    const brokerRss = beam ? rssOf(beam) : undefined;
    await pool.shutdown(60_000);
    const perAgent = (loaded - withWorkers) / Math.max(1, started);
    console.log(
      `agents started: ${started} of ${agents} (${failed} failed${failed ? `: ${ready.flatMap((r) => r.failures)[0]?.error}` : ''}) in ${inits.length} worker(s)`,
    );
    console.log(`start-up: ${(elapsedMs / 1000).toFixed(2)} s, ${((started / elapsedMs) * 1000).toFixed(0)} agents/s (goal ≥ 500)`);
    console.log(
      `harness RSS: baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, with empty workers ${(withWorkers / 2 ** 20).toFixed(1)} MiB, ` +
        `with agents ${(loaded / 2 ** 20).toFixed(1)} MiB → ${(perAgent / 1024).toFixed(1)} KiB per agent (goal ≤ 32), ` +
        `${((loaded - baseline) / Math.max(1, started) / 1024).toFixed(1)} KiB including the workers`,
    );
    console.log(`ratio to the seed's Python agent (76 MiB each): ${((76 * 2 ** 20) / perAgent).toFixed(0)}× less memory per agent`);
    if (brokerRss)
      console.log(
        `broker RSS with ${started} connections: ${(brokerRss / 2 ** 20).toFixed(0)} MiB (${(brokerRss / Math.max(1, started) / 1024).toFixed(0)} KiB per connection)`,
      );
  } finally {
    await broker?.stop();
  }
}

await main();
