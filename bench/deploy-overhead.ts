/**
 * Benchmark (issue 6): the fixed cost of one campaign run, deploy plus
 * teardown, for the buses busbench stands up: the embedded RabbitMQ, a
 * 3-node RabbitMQ cluster across network namespaces (root only), and a
 * router (when qdrouterd or skrouterd is installed). Goals: ≤ 10 s for
 * RabbitMQ, ≤ 1 s for a router.
 *
 * Each is measured against a bare baseline in the same run, alternating:
 * the broker or router binary started by hand with a minimal config until
 * its port accepts a connection, then stopped — what any harness must pay
 * at least. The ratio says what busbench adds (readiness checks, cluster
 * formation, namespaces, cleanup registration).
 *
 *   npm run build && node dist/bench/deploy-overhead.js [--rounds 3]
 *   PATH=/opt/qdr-bin:$PATH node dist/bench/deploy-overhead.js   # with a router built locally
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findRabbitServer } from '../src/buses/rabbitmq/node.js';
import { freePort } from '../src/util/process.js';
import { findRouter } from '../src/buses/amqp1/router/local.js';
import { installSignalHandlers } from '../src/cleanup.js';
import { deploy } from '../src/index.js';
import { resolveScenario } from '../src/index.js';
import { median } from './common.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);

async function timed(work: () => Promise<void>): Promise<number> {
  const began = performance.now();
  await work();
  return (performance.now() - began) / 1000;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function untilAccepts(port: number, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${what} did not accept connections within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  await exited;
}

/** The bare minimum: rabbitmq-server with its own dirs and ports, until AMQP accepts, then stopped. No busbench code. */
async function bareRabbit(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-bare-rabbit-'));
  const [amqp, dist, epmdPort] = [await freePort(), await freePort(), await freePort()];
  await writeFile(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${amqp}\n`);
  await writeFile(join(dir, 'enabled_plugins'), '[].\n');
  await writeFile(join(dir, '.erlang.cookie'), randomBytes(16).toString('hex'), { mode: 0o400 });
  const env = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODENAME: `bare-${randomBytes(3).toString('hex')}@localhost`,
    RABBITMQ_NODE_PORT: String(amqp),
    RABBITMQ_DIST_PORT: String(dist),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONF_ENV_FILE: '/dev/null',
    ERL_EPMD_PORT: String(epmdPort),
  };
  const epmd = spawn('epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], { env, detached: true, stdio: 'ignore' });
  const node = spawn(findRabbitServer()!, [], { env, detached: true, stdio: 'ignore' });
  try {
    await untilAccepts(amqp, node, 'rabbitmq-server');
  } finally {
    await stopGroup(node);
    await stopGroup(epmd);
    await rm(dir, { recursive: true, force: true });
  }
}

/** The bare minimum for a router: one listener, started until it accepts, then stopped. */
async function bareRouter(path: string, flavor: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-bare-router-'));
  const port = await freePort();
  const config = join(dir, 'router.conf');
  await writeFile(
    config,
    `router {\n    mode: interior\n    id: bare\n}\nlistener {\n    host: 127.0.0.1\n    port: ${port}\n    role: normal\n    authenticatePeer: no\n    saslMechanisms: ANONYMOUS\n}\n`,
  );
  const router = spawn(path, ['-c', config], { detached: true, stdio: 'ignore' });
  try {
    await untilAccepts(port, router, flavor);
  } finally {
    await stopGroup(router);
    await rm(dir, { recursive: true, force: true });
  }
}

async function busbenchDeploy(bus: unknown): Promise<void> {
  const scenario = resolveScenario({ bus, agents: { servers: 1, clients: 1 } }, 'bench/deploy-overhead');
  const deployment = await deploy(scenario);
  await deployment.destroy();
}

async function busbenchCluster(): Promise<void> {
  const scenario = resolveScenario(
    { bus: { kind: 'rabbitmq' }, agents: { servers: 1, clients: 1 }, topology: { provider: 'netns', sites: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } },
    'bench/deploy-overhead',
  );
  const deployment = await deploy(scenario);
  await deployment.destroy();
}

interface Case {
  name: string;
  goalSeconds: number;
  baseline: { name: string; run: () => Promise<void> };
  busbench: () => Promise<void>;
}

async function main(): Promise<void> {
  installSignalHandlers();
  if (!findRabbitServer()) throw new Error('rabbitmq-server is not installed (apt-get install rabbitmq-server)');
  const cases: Case[] = [
    {
      name: 'embedded RabbitMQ',
      goalSeconds: 10,
      baseline: { name: 'bare rabbitmq-server', run: bareRabbit },
      busbench: () => busbenchDeploy({ kind: 'rabbitmq' }),
    },
  ];
  if (process.getuid?.() === 0) {
    cases.push({
      name: '3-node RabbitMQ cluster in namespaces',
      goalSeconds: 10,
      baseline: { name: 'bare rabbitmq-server (one node)', run: bareRabbit },
      busbench: busbenchCluster,
    });
  } else console.log('3-node cluster: skipped (network namespaces need root)');
  const router = findRouter('auto');
  if (router) {
    cases.push({
      name: `one ${router.flavor} router`,
      goalSeconds: 1,
      baseline: { name: `bare ${router.flavor}`, run: () => bareRouter(router.path, router.flavor) },
      busbench: () => busbenchDeploy({ kind: 'amqp1', router: { routers: 1 } }),
    });
  } else console.log('router: skipped (neither qdrouterd nor skrouterd is on PATH)');

  console.log(`deploy + teardown per run, median of ${rounds} rounds, alternating with a bare baseline`);
  for (const c of cases) {
    const base: number[] = [];
    const ours: number[] = [];
    for (let round = 0; round < rounds; round++) {
      base.push(await timed(c.baseline.run));
      ours.push(await timed(c.busbench));
    }
    const b = median(base);
    const o = median(ours);
    console.log(
      `${c.name}: busbench ${o.toFixed(2)} s (goal ≤ ${c.goalSeconds} s: ${o <= c.goalSeconds ? 'met' : 'NOT met'}) | ${c.baseline.name} ${b.toFixed(2)} s | ratio ${(o / b).toFixed(2)}×`,
    );
  }
}

await main();
