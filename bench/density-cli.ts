/**
 * Benchmark: density as users run it. The busbench CLI in a process of its
 * own, with default flags but for the load, holds N RPC clients (one
 * connection each) sending at a trickle, and one server; its figures come
 * from the result.json it writes: agents started, start-up rate, and the
 * peak RSS of its process over the measured phase (its resource sampler,
 * /proc). The baseline is the same command with one client, run just
 * before, so the per-agent figure is (RSS with N − RSS with 1) / (N − 1).
 *
 *   npm run build && node dist/bench/density-cli.js [--agents 15000] [--bus rabbitmq|amqp1] [--seconds 20] [--heap size]
 *
 * amqp1 runs through a local router (skrouterd or qdrouterd on PATH).
 * Goals (issues 3 and 15): ≥ 15,000 agents, ≤ 32 KiB RSS each, ≥ 500 started/s.
 */
import { parseArgs } from 'node:util';
import { findRouter, startLocalMesh } from '../src/buses/amqp1/router/local.js';
import { startLocalRabbit } from '../src/buses/rabbitmq/node.js';
import { installSignalHandlers } from '../src/cleanup.js';
import { runBusbenchCli } from './cli-run.js';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '15000' },
    bus: { type: 'string', default: 'rabbitmq' },
    seconds: { type: 'string', default: '20' },
    // calls per second per client: one every 10 s, so each sends in a 20 s measured phase (15,000 clients: 1,500/s in all)
    rate: { type: 'string', default: '0.1' },
    // passed on as --heap: size is the runner.heap a dense run asks for; unset, the CLI's default
    heap: { type: 'string' },
  },
});

interface Figures {
  started: number;
  failed: number;
  startupS: number;
  startedPerSec: number;
  rssMiB: number;
  callsOk: number;
  callsFailed: number;
}

async function runWith(url: string, clients: number): Promise<Figures> {
  const result = await runBusbenchCli([
    '--url',
    url,
    '--clients',
    String(clients),
    '--servers',
    '1',
    '--rate',
    values.rate,
    '--duration',
    `${values.seconds}s`,
    '--topic',
    `density${clients}`,
    ...(values.heap ? ['--heap', values.heap] : []),
  ]);
  const row = result.resources?.rows.find((r) => r.kind === 'agents' && r.host === 'local');
  if (!row) throw new Error(`no resource row for busbench's own process: ${JSON.stringify(result.resources?.errors)}`);
  const calls = result.groups.find((g) => g.role === 'client' && g.pattern === 'call-anycast');
  return {
    started: result.agents.started.client ?? 0,
    failed: result.agents.failed,
    startupS: result.agents.startupMs / 1000,
    startedPerSec: result.agents.startedPerSec,
    rssMiB: row.peakRssMiB,
    callsOk: calls?.counters.ok ?? 0,
    callsFailed: (calls?.counters.errors ?? 0) + (calls?.counters.timeouts ?? 0),
  };
}

installSignalHandlers();
const agents = Number(values.agents);
let url: string;
let stop: () => Promise<void>;
let what: string;
if (values.bus === 'amqp1') {
  if (!findRouter('auto')) {
    console.log('amqp1: skipped, neither skrouterd nor qdrouterd is on PATH');
    process.exit(0);
  }
  const mesh = await startLocalMesh({ routers: 1 });
  url = mesh.routers[0]!.url;
  stop = () => mesh.stop();
  what = `${mesh.flavor} ${mesh.version}`;
} else {
  const broker = await startLocalRabbit();
  url = broker.transportUrl;
  stop = () => broker.stop();
  what = `RabbitMQ ${broker.version}`;
}
try {
  const base = await runWith(url, 1);
  const many = await runWith(url, agents);
  const perAgentKiB = ((many.rssMiB - base.rssMiB) * 1024) / Math.max(1, many.started - 1);
  const due = Math.round(agents * Number(values.rate) * Number(values.seconds));
  // Said only when it is so: a run that answered every call due did not fall behind.
  const behind = many.callsOk + many.callsFailed < due ? ' (fewer: the generator fell behind)' : '';
  console.log(
    `busbench run --clients ${agents} --servers 1 --rate ${values.rate} --duration ${values.seconds}s on ${what} (CLI defaults otherwise${values.heap ? `, --heap ${values.heap}` : ''}, ${many.started} client(s) started)`,
  );
  console.log(`  1 client: peak RSS ${base.rssMiB.toFixed(1)} MiB`);
  console.log(
    `  ${agents} clients: ${many.started} started, ${many.failed} failed (goal ≥ 15,000), in ${many.startupS.toFixed(1)} s: ${many.startedPerSec.toFixed(0)}/s (goal ≥ 500); ` +
      `peak RSS ${many.rssMiB.toFixed(1)} MiB, ${perAgentKiB.toFixed(1)} KiB per agent over the 1-client run (goal ≤ 32 KiB); ` +
      `${many.callsOk} calls answered, ${many.callsFailed} failed, of ${due} due on schedule${behind}`,
  );
} finally {
  await stop();
}
