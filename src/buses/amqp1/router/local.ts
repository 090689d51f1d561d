/**
 * Routers on this host: qdrouterd (Qpid Dispatch Router, retired 2026) or
 * its successor skrouterd (skupper-router), one plain process per router,
 * free loopback ports, a temp dir for configs and logs, ready when every
 * router accepts AMQP and (in a mesh) knows every other router; stopped on
 * success, failure and Ctrl-C like the embedded broker. A router may also be
 * placed in a network namespace of this machine (`ip netns exec`), listening
 * on that namespace's address (the netns provider's sites).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { onCleanup } from '../../../cleanup.js';
import { freePort, sleep, tail } from '../../../util/process.js';
import { planMesh, renderRouterConfig, type RouterFlavor, type RouterPlan, type RouterTuning } from './config.js';
import type { MeshSpec } from './mesh.js';
import { routerNodes } from './management.js';

const execFileAsync = promisify(execFile);

export interface InstalledRouter {
  flavor: RouterFlavor;
  path: string;
}

function onPath(binary: string, extraDirs: readonly string[]): string | undefined {
  for (const dir of [...(process.env['PATH'] ?? '').split(delimiter), ...extraDirs]) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The router on PATH (then in `extraDirs`): skrouterd (maintained) before qdrouterd, unless one is asked for. */
export function findRouter(prefer: RouterFlavor | 'auto' = 'auto', extraDirs: readonly string[] = []): InstalledRouter | undefined {
  const order: RouterFlavor[] = prefer === 'auto' ? ['skrouterd', 'qdrouterd'] : [prefer];
  for (const flavor of order) {
    const path = onPath(flavor, extraDirs);
    if (path) return { flavor, path };
  }
  return undefined;
}

export const ROUTER_MISSING_HELP =
  'No AMQP 1.0 router found: neither skrouterd (skupper-router) nor qdrouterd (Qpid Dispatch Router) is on PATH. ' +
  "Debian packages neither: install skupper-router from its project, or build qpid-dispatch 1.19 against Debian's libqpid-proton11-dev, " +
  'and put the directory holding the binary on PATH. Or give bus.url of a running router, or use the embedded RabbitMQ over AMQP 1.0 (bus.kind: amqp1 without a router section).';

/** `qdrouterd --version` / `skrouterd --version`. */
export async function routerVersion(router: InstalledRouter): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(router.path, ['--version'], { timeout: 10_000 });
    return (stdout || stderr).trim().split('\n')[0] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Where one router of a mesh runs and what it is called. */
export interface RouterPlacement {
  /** router id (default Router.<index>) */
  id?: string;
  /** run the router inside this network namespace (`ip netns exec`); busbench must reach `address` from here (the netns gateway) */
  netns?: string;
  /** the address the router listens on, and other routers and agents reach it at (default 127.0.0.1) */
  address?: string;
}

export interface LocalMeshOptions extends Omit<RouterRunOptions, 'netnsOf' | 'meshSize'> {
  flavor?: RouterFlavor | 'auto';
  /** one per router, in router order: ids, namespaces and addresses (default: all on 127.0.0.1 of this host's network) */
  placements?: RouterPlacement[];
  /** once the mesh is planned (ports and connectors known), before any router starts */
  beforeStart?: (plans: RouterPlan[]) => Promise<void>;
}

export interface LocalRouter {
  plan: RouterPlan;
  /** oslo transport URL of this router's client listener */
  url: string;
  /** the router process (a restart makes a new one) */
  readonly pid: number;
  /** this router alone: SIGTERM, then SIGKILL after a grace */
  stop(): Promise<void>;
  /** SIGKILL, as in a crash */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** stopped and started again with the same configuration (ports, connectors); resolves once it answers management */
  restart(): Promise<void>;
}

export interface LocalMesh {
  flavor: RouterFlavor;
  version: string;
  routers: LocalRouter[];
  baseDir: string;
  stop(): Promise<void>;
}

async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)))]);
  clearTimeout(timer);
  if (!inTime) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** How routers of a plan run on this machine. */
export interface RouterRunOptions extends RouterTuning {
  /** the network namespace router `plan` runs in, if any */
  netnsOf?: (plan: RouterPlan) => string | undefined;
  /** routers in the whole mesh, this machine's and others' (default: the plans given): a router is ready when it sees all the others */
  meshSize?: number;
  startTimeoutMs?: number;
  /** copy the routers' configs and logs here when they stop */
  keepLogsIn?: string;
}

export async function startLocalMesh(spec: MeshSpec, options: LocalMeshOptions = {}): Promise<LocalMesh> {
  const router = findRouter(options.flavor ?? 'auto');
  if (!router) throw new Error(ROUTER_MISSING_HELP);
  const version = await routerVersion(router);
  const n = spec.routers;
  const ports: number[] = [];
  const interRouterPorts: number[] = [];
  for (let i = 0; i < n; i++) {
    ports.push(await freePort());
    interRouterPorts.push(await freePort());
  }
  const placements = options.placements;
  if (placements && placements.length !== n) throw new Error(`a mesh of ${n} routers needs ${n} placements, got ${placements.length}`);
  const plans = planMesh(spec, {
    ports,
    interRouterPorts,
    ...(placements
      ? {
          ids: placements.map((p, i) => p.id ?? `Router.${i}`),
          hosts: placements.map((p) => p.address ?? '127.0.0.1'),
        }
      : {}),
  });
  const { flavor: _flavor, placements: _placements, beforeStart, ...rest } = options;
  await beforeStart?.(plans);
  return runRouters(router, version, plans, { ...rest, ...(placements ? { netnsOf: (plan) => placements[plan.index]?.netns } : {}) });
}

/**
 * Runs the routers of `plans` as this process's children, ready when each
 * answers management and sees every other router of the mesh; a failure
 * stops what it started. The plans may be part of a larger mesh whose other
 * routers run elsewhere (a bus node host runs one router of a mesh over ssh).
 */
export async function runRouters(router: InstalledRouter, version: string, plans: RouterPlan[], options: RouterRunOptions = {}): Promise<LocalMesh> {
  const n = options.meshSize ?? plans.length;
  const baseDir = await mkdtemp(join(tmpdir(), 'busbench-router-'));
  const unregisterDir = onCleanup(`temp dir ${baseDir}`, () => rm(baseDir, { recursive: true, force: true }));
  const children: ChildProcess[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await Promise.all(children.map((child) => (child.kill('SIGCONT'), stopProcess(child, 5000))));
      if (options.keepLogsIn) {
        await mkdir(options.keepLogsIn, { recursive: true });
        await cp(baseDir, options.keepLogsIn, { recursive: true }).catch(() => undefined);
      }
      await rm(baseDir, { recursive: true, force: true });
      unregisterDir();
      unregisterMesh();
    })());
  const unregisterMesh = onCleanup(`${router.flavor} mesh in ${baseDir}`, stop);

  try {
    const spawnRouter = (plan: RouterPlan): ChildProcess => {
      const config = join(baseDir, `${plan.id}.conf`);
      const fd = openSync(join(baseDir, `${plan.id}.out`), 'a');
      const netns = options.netnsOf?.(plan);
      // `ip netns exec` execs the router in place: the child's pid is the router's.
      const child = netns
        ? spawn('ip', ['netns', 'exec', netns, router.path, '-c', config], { stdio: ['ignore', fd, fd] })
        : spawn(router.path, ['-c', config], { stdio: ['ignore', fd, fd] });
      closeSync(fd);
      child.on('error', () => undefined);
      return child;
    };
    for (const plan of plans) {
      await writeFile(join(baseDir, `${plan.id}.conf`), renderRouterConfig(plan, router.flavor, { ...options, logFile: join(baseDir, `${plan.id}.log`) }));
      children.push(spawnRouter(plan));
    }
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    const urls = plans.map((plan) => `amqp://${plan.host.includes(':') ? `[${plan.host}]` : plan.host}:${plan.port}/`);
    const startTimeoutMs = options.startTimeoutMs ?? 30_000;
    // Ready: the router answers management, and in a mesh sees all the others.
    const untilReady = async (i: number, deadline: number): Promise<void> => {
      for (;;) {
        const child = children[i]!;
        if (child.exitCode !== null) {
          throw new Error(
            `${router.flavor} ${plans[i]!.id} exited during start-up (code ${child.exitCode}). Its output:\n${await tail(join(baseDir, `${plans[i]!.id}.out`))}\n${await tail(join(baseDir, `${plans[i]!.id}.log`))}`,
          );
        }
        const nodes = await routerNodes(urls[i]!, router.flavor).catch(() => undefined);
        if (nodes !== undefined && nodes >= n - 1) return;
        if (Date.now() > deadline) {
          throw new Error(
            `${router.flavor} ${plans[i]!.id} was not ready within ${startTimeoutMs / 1000} s ` +
              `(${nodes === undefined ? 'no management answer' : `sees ${nodes} of ${n - 1} other routers`}). Its log:\n${await tail(join(baseDir, `${plans[i]!.id}.log`))}`,
          );
        }
        await sleep(200);
      }
    };
    for (let i = 0; i < plans.length; i++) await untilReady(i, deadline);
    const signal = (i: number, name: NodeJS.Signals): void => void children[i]!.kill(name);
    const localRouter = (plan: RouterPlan, i: number): LocalRouter => ({
      plan,
      url: urls[i]!,
      get pid() {
        return children[i]!.pid!;
      },
      stop: () => stopProcess(children[i]!, 5000),
      kill: async () => {
        const gone = new Promise<void>((resolve) => (children[i]!.exitCode !== null ? resolve() : children[i]!.once('exit', () => resolve())));
        signal(i, 'SIGKILL');
        await gone;
      },
      pause: async () => signal(i, 'SIGSTOP'),
      resume: async () => signal(i, 'SIGCONT'),
      restart: async () => {
        if (stopped) throw new Error(`${plan.id} was stopped with its mesh: it cannot restart`);
        signal(i, 'SIGCONT');
        await stopProcess(children[i]!, 5000);
        children[i] = spawnRouter(plan);
        await untilReady(i, Date.now() + startTimeoutMs);
      },
    });
    return {
      flavor: router.flavor,
      version,
      routers: plans.map(localRouter),
      baseDir,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
