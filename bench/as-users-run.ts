/**
 * Benchmark: busbench as users run it against the leanest loop, each a
 * process of its own, on one bus, alternating round by round so that
 * drift on a shared machine hits both alike.
 *
 *   npm run build && node dist/bench/as-users-run.js [--buses rabbitmq,amqp1] [--clients 1,16] [--rounds 3] [--seconds 15] [--pin] [--driver-loop]
 *
 * busbench: `busbench run --url <bus> --clients C --servers 4 --duration Ns`
 * with every other flag at its default (the CLI as the README shows it:
 * bookkeeping, resource sampling and results on). Its figures come from the
 * result.json it writes: calls answered in the measured phase, their p50,
 * and `harness`, the CPU of the busbench process (all threads) over that
 * phase. The baseline (lean-loop.ts) does the least an oslo-shaped RPC
 * needs on the same wire, in a process with nothing of busbench loaded,
 * and reports the same three figures over its own measured window. The
 * bus's own CPU is counted for neither.
 *
 * --pin is a diagnosis, not the result: the bus on the last CPU, the lean
 * loop and busbench alike on the others (taskset), so that the scheduler
 * cannot move the load generator and the bus over each other. On a small
 * shared machine that move is most of the spread between rounds.
 *
 * --driver-loop adds a third contestant each round, also a diagnosis:
 * driver-loop.ts, the lean loop's shape on busbench's own driver (no
 * agents, no worker thread, no bookkeeping), which says whether a gap
 * between busbench and the lean loop lies in the driver or above it.
 *
 * amqp1 runs through a local router (skrouterd or qdrouterd on PATH), and
 * says it skipped when there is none. Goals (issue 15): throughput ≥ 0.95×,
 * CPU per call ≤ 1.15×, p50 at 1 client ≤ +50 µs.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findRouter, startLocalMesh } from '../src/buses/amqp1/router/local.js';
import { startLocalRabbit } from '../src/buses/rabbitmq/node.js';
import { installSignalHandlers } from '../src/cleanup.js';
import { sleep } from '../src/util/process.js';
import { harnessCpuUs, runBusbenchCli, runNode } from './cli-run.js';
import { median } from './common.js';

const SERVERS = 4;
/** busbench's default warm-up; the baseline gets the same. */
const WARMUP_MS = 1000;

interface Round {
  rate: number;
  cpuPerCallUs: number;
  p50Us: number;
}

const { values } = parseArgs({
  options: {
    buses: { type: 'string', default: 'rabbitmq,amqp1' },
    clients: { type: 'string', default: '1,16' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '15' },
    // The bus tidies up after each process (connections, queues): the next one should not measure that.
    gap: { type: 'string', default: '2' },
    pin: { type: 'boolean', default: false },
    'driver-loop': { type: 'boolean', default: false },
  },
});

const cores = availableParallelism();
if (values.pin && cores < 2) throw new Error('--pin needs at least 2 CPUs: one for the bus, the rest for the load');
/** --pin: where the lean loop and busbench run; the bus gets the last CPU. */
const loadCpus = !values.pin ? undefined : cores === 2 ? '0' : `0-${cores - 2}`;

/** --pin: every thread of the bus's process onto the last CPU. */
function pinBus(pid: number | undefined): void {
  if (!values.pin) return;
  if (pid === undefined) throw new Error('--pin: the bus has no process to pin');
  execFileSync('taskset', ['-a', '-p', '-c', String(cores - 1), String(pid)], { stdio: 'ignore' });
}

/** A loop script of bench/ (lean-loop.js, driver-loop.js) as a process of its own; its one JSON line as a round. */
async function loopRound(script: string, args: string[], clients: number, measureMs: number): Promise<Round> {
  const out = await runNode(
    [
      fileURLToPath(new URL(script, import.meta.url)),
      ...args,
      '--clients',
      String(clients),
      '--servers',
      String(SERVERS),
      '--warmup-ms',
      String(WARMUP_MS),
      '--measure-ms',
      String(measureMs),
    ],
    loadCpus,
  );
  const r = JSON.parse(out.trim().split('\n').pop()!) as { calls: number; elapsedMs: number; cpuUs: number; p50Us: number };
  return { rate: (r.calls / r.elapsedMs) * 1000, cpuPerCallUs: r.cpuUs / r.calls, p50Us: r.p50Us };
}

const leanRound = (bus: string, url: string, clients: number, measureMs: number): Promise<Round> =>
  loopRound('./lean-loop.js', ['--bus', bus, '--url', url], clients, measureMs);

/** The same call loop on busbench's own driver, nothing above it (diagnosis, --driver-loop). */
const driverRound = (url: string, clients: number, measureMs: number): Promise<Round> => loopRound('./driver-loop.js', ['--url', url], clients, measureMs);

async function busbenchRound(url: string, clients: number, measureMs: number): Promise<Round> {
  const result = await runBusbenchCli(
    ['--url', url, '--clients', String(clients), '--servers', String(SERVERS), '--duration', `${measureMs / 1000}s`],
    loadCpus,
  );
  const calls = result.groups.find((g) => g.role === 'client' && g.pattern === 'call-anycast');
  if (!calls?.latency || calls.counters.ok === 0) throw new Error('the busbench run answered no calls');
  return { rate: (calls.counters.ok / result.phases.measuredMs) * 1000, cpuPerCallUs: harnessCpuUs(result) / calls.counters.ok, p50Us: calls.latency.p50Us };
}

function spread(values: number[], digits = 0): string {
  const m = median(values);
  return `${m.toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
}

installSignalHandlers();
const measureMs = Number(values.seconds) * 1000;
const rounds = Number(values.rounds);
const gapMs = Number(values.gap) * 1000;
console.log(
  `rpc-call anycast, ${SERVERS} servers, 1 call outstanding per client, ${rounds} rounds of ${measureMs / 1000} s, alternating lean / busbench; median (min–max)${
    loadCpus ? `; pinned (diagnosis): bus on CPU ${cores - 1}, load on ${loadCpus}` : ''
  }`,
);
for (const bus of values.buses.split(',')) {
  let url: string;
  let stop: () => Promise<void>;
  let busPid: number | undefined;
  if (bus === 'amqp1') {
    if (!findRouter('auto')) {
      console.log('amqp1: skipped, neither skrouterd nor qdrouterd is on PATH');
      continue;
    }
    const mesh = await startLocalMesh({ routers: 1 });
    url = mesh.routers[0]!.url;
    stop = () => mesh.stop();
    busPid = mesh.routers[0]!.pid;
    console.log(`amqp1 through ${mesh.flavor} ${mesh.version}:`);
  } else {
    const broker = await startLocalRabbit();
    url = broker.transportUrl;
    stop = () => broker.stop();
    busPid = broker.beamPid();
    console.log(`rabbitmq ${broker.version}:`);
  }
  try {
    pinBus(busPid);
    for (const clients of values.clients.split(',').map(Number)) {
      const lean: Round[] = [];
      const busbench: Round[] = [];
      const driver: Round[] = [];
      for (let round = 0; round < rounds; round++) {
        lean.push(await leanRound(bus, url.replace(/^rabbit:/, 'amqp:'), clients, measureMs));
        await sleep(gapMs);
        busbench.push(await busbenchRound(url, clients, measureMs));
        await sleep(gapMs);
        if (values['driver-loop']) {
          driver.push(await driverRound(url, clients, measureMs));
          await sleep(gapMs);
        }
      }
      const ratios = (pick: (r: Round) => number): number[] => busbench.map((b, i) => pick(b) / pick(lean[i]!));
      console.log(
        `  clients=${clients}: lean ${spread(lean.map((r) => r.rate))} calls/s, ${spread(
          lean.map((r) => r.cpuPerCallUs),
          1,
        )} µs CPU/call, p50 ${spread(lean.map((r) => r.p50Us))} µs`,
      );
      console.log(
        `             busbench ${spread(busbench.map((r) => r.rate))} calls/s, ${spread(
          busbench.map((r) => r.cpuPerCallUs),
          1,
        )} µs CPU/call, p50 ${spread(busbench.map((r) => r.p50Us))} µs`,
      );
      if (driver.length > 0) {
        console.log(
          `             driver loop (diagnosis) ${spread(driver.map((r) => r.rate))} calls/s, ${spread(
            driver.map((r) => r.cpuPerCallUs),
            1,
          )} µs CPU/call, p50 ${spread(driver.map((r) => r.p50Us))} µs; against lean ${spread(
            driver.map((d, i) => d.rate / lean[i]!.rate),
            3,
          )}× throughput, ${spread(
            driver.map((d, i) => d.cpuPerCallUs / lean[i]!.cpuPerCallUs),
            3,
          )}× CPU/call per round`,
        );
      }
      const ofMedians = (pick: (r: Round) => number): string => (median(busbench.map(pick)) / median(lean.map(pick))).toFixed(3);
      // Both: the per-round ratio pairs rounds run back to back, the ratio of medians does not hide a bad round's partner.
      console.log(
        `             ratio throughput ${spread(
          ratios((r) => r.rate),
          3,
        )}× per round, ${ofMedians((r) => r.rate)}× of medians (goal ≥ 0.95); CPU/call ${spread(
          ratios((r) => r.cpuPerCallUs),
          3,
        )}× per round, ${ofMedians((r) => r.cpuPerCallUs)}× of medians (goal ≤ 1.15); p50 added ${spread(
          busbench.map((b, i) => b.p50Us - lean[i]!.p50Us),
        )} µs${clients === 1 ? ' (goal ≤ 50)' : ''}`,
      );
    }
  } finally {
    await stop();
  }
}
