/**
 * Benchmark: busbench against ombt (kgiusti/ombt, the seed's agents: one
 * oslo.messaging process per agent, driven by its controller), side by
 * side on one RabbitMQ, alternating round by round: calls made per second
 * of CPU the agents used, at 4 servers and C clients, 64 B payloads.
 *
 *   npm run build && node dist/bench/vs-ombt.js [--clients 16] [--rounds 3] [--calls 1000] [--seconds 10]
 *
 * ombt runs with Debian's /usr/bin/python3 from a checkout found as the
 * interop tests find it (test/helpers/ombt.ts: $BUSBENCH_OMBT or
 * /opt/ombt; never shipped with busbench); without one the bench says so
 * and exits. ombt's CPU is that of its client and server processes from
 * /proc, read just before its controller starts and just after it ends, so
 * it includes the controller's roll call, seconds in which the agents idle
 * (a small bias against ombt, smaller with more --calls); its calls are
 * clients × --calls, its calls/s the aggregate its controller reports.
 * busbench's is the CLI with default flags and the CPU of its process over
 * the measured phase (result.json's harness). The broker's CPU is counted
 * for neither. Goal (issue 15): ≥ 25× ombt's calls per CPU-second at 16 clients.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startLocalRabbit } from '../src/buses/rabbitmq/node.js';
import { installSignalHandlers } from '../src/cleanup.js';
import { sleep } from '../src/util/process.js';
import { ombtSkipReason, runOmbtController, spawnOmbt, stopAllOmbt, type OmbtProcess } from '../test/helpers/ombt.js';
import { harnessCpuUs, runBusbenchCli } from './cli-run.js';
import { median } from './common.js';

const SERVERS = 4;
const PAYLOAD = 64;
const TICKS_PER_SECOND = 100;

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    calls: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
  },
});

/** utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Until the processes together use under 5 % of a core over half a second (at most a minute). */
async function untilIdle(pids: number[]): Promise<void> {
  const total = async (): Promise<number> => (await Promise.all(pids.map(cpuSeconds))).reduce((a, b) => a + b, 0);
  const deadline = Date.now() + 60_000;
  let last = await total();
  for (;;) {
    await sleep(500);
    const now = await total();
    if (now - last < 0.025 || Date.now() > deadline) return;
    last = now;
  }
}

async function ombtRound(url: string, clients: number, callsPerClient: number, round: number): Promise<{ callsPerCpuSecond: number; callsPerSecond: number }> {
  const topic = `vsombt${round}`;
  // --timeout is also how long the controller waits for the clients' results: the whole test.
  const common = ['--url', url, '--control', url, '--topic', topic, '--timeout', '600'];
  // No --debug: ombt then logs nothing per message, its cheapest configuration.
  const agents: OmbtProcess[] = [
    ...Array.from({ length: SERVERS }, () => spawnOmbt([...common, 'rpc-server'])),
    ...Array.from({ length: clients }, () => spawnOmbt([...common, 'rpc-client'])),
  ];
  try {
    // The controller's roll call finds whoever answers: wait until the Python processes have started
    // (importing oslo.messaging takes each about a CPU-second), i.e. until they idle.
    const pids = agents.map((a) => a.child.pid!);
    await untilIdle(pids);
    const before = await Promise.all(pids.map(cpuSeconds));
    const startedAt = performance.now();
    const outcome = await runOmbtController({ url, topic, test: 'rpc-call', calls: callsPerClient, length: PAYLOAD, timeoutS: 600, limitMs: 600_000 });
    const elapsedS = (performance.now() - startedAt) / 1000;
    const after = await Promise.all(pids.map(cpuSeconds));
    if (outcome.code !== 0) throw new Error(`ombt controller exited ${outcome.code}: ${outcome.stderr.slice(-2000)}`);
    const cpu = after.reduce((sum, t, i) => sum + t - before[i]!, 0);
    const calls = clients * callsPerClient;
    // ombt's own figure over its test interval; the wall time around the controller also holds its start and roll call.
    const aggregate = /Aggregate throughput: ([\d.]+) msgs\/sec/.exec(outcome.stdout);
    return { callsPerCpuSecond: calls / cpu, callsPerSecond: aggregate ? Number(aggregate[1]) : calls / elapsedS };
  } finally {
    await runOmbtController({ url, topic, test: 'shutdown', timeoutS: 30 }).catch(() => undefined);
    await stopAllOmbt();
  }
}

async function busbenchRound(url: string, clients: number, seconds: number): Promise<{ callsPerCpuSecond: number; callsPerSecond: number }> {
  const result = await runBusbenchCli(['--url', url, '--clients', String(clients), '--servers', String(SERVERS), '--duration', `${seconds}s`]);
  const calls = result.groups.find((g) => g.role === 'client' && g.pattern === 'call-anycast')!.counters.ok;
  return { callsPerCpuSecond: calls / (harnessCpuUs(result) / 1e6), callsPerSecond: (calls / result.phases.measuredMs) * 1000 };
}

const skip = ombtSkipReason();
if (skip) {
  console.log(`skipped: ${skip}`);
  process.exit(0);
}
installSignalHandlers();
const clients = Number(values.clients);
const rounds = Number(values.rounds);
const broker = await startLocalRabbit();
const spread = (xs: number[], digits = 0): string => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
try {
  console.log(
    `rpc-call anycast on RabbitMQ ${broker.version}, ${SERVERS} servers, ${clients} clients, ${PAYLOAD} B; ombt ${values.calls} calls per client, busbench ${values.seconds} s; ${rounds} rounds alternating; median (min–max)`,
  );
  const ombt: { callsPerCpuSecond: number; callsPerSecond: number }[] = [];
  const bb: { callsPerCpuSecond: number; callsPerSecond: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    ombt.push(await ombtRound(broker.transportUrl, clients, Number(values.calls), round));
    bb.push(await busbenchRound(broker.transportUrl, clients, Number(values.seconds)));
  }
  console.log(`  ombt:     ${spread(ombt.map((r) => r.callsPerSecond))} calls/s, ${spread(ombt.map((r) => r.callsPerCpuSecond))} calls per CPU-second`);
  console.log(`  busbench: ${spread(bb.map((r) => r.callsPerSecond))} calls/s, ${spread(bb.map((r) => r.callsPerCpuSecond))} calls per CPU-second`);
  const ratio = bb.map((b, i) => b.callsPerCpuSecond / ombt[i]!.callsPerCpuSecond);
  console.log(
    `  calls per CPU-second, busbench / ombt: ${spread(ratio, 1)}× per round, ${(median(bb.map((r) => r.callsPerCpuSecond)) / median(ombt.map((r) => r.callsPerCpuSecond))).toFixed(1)}× of medians (goal ≥ 25×)`,
  );
} finally {
  await stopAllOmbt();
  await broker.stop();
}
