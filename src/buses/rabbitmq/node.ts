/**
 * The embedded default bus: a RabbitMQ node from Debian's rabbitmq-server,
 * started as a plain process (no systemd) with its own node name, free
 * ports, and a temp directory for its database, logs and config
 * (../shared/REFERENCE.md §5). It listens on loopback only, and stop()
 * removes every process and file it made.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import { onCleanup } from '../../cleanup.js';
import { exited, freePort, groupMemberFinder, killGroup, processAlive, sleep, tail } from '../../util/process.js';

const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const RABBITMQ_LIB = '/usr/lib/rabbitmq/lib';
const STOP_GRACE_MS = 15_000;

export interface LocalRabbitOptions {
  /** plugins to enable, e.g. ['rabbitmq_management'] */
  plugins?: string[];
  /** how long the node may take to accept AMQP connections */
  startTimeoutMs?: number;
  /** copy the node's logs into this directory when it stops */
  keepLogsIn?: string;
  /** extra rabbitmq.conf settings, key = value */
  extraConfig?: Record<string, string>;
  /** run the node inside this network namespace (`ip netns exec`); busbench must reach `address` (see the netns gateway) */
  netns?: string;
  /** the address the node listens on and is reached at (default 127.0.0.1) */
  address?: string;
  /** a node of a cluster: its name (long, rabbit@<address>), the cluster's cookie and epmd port, and every node for classic peer discovery */
  cluster?: { nodeName: string; cookie: string; epmdPort: number; nodes: string[] };
  /** the Erlang distribution port, when peers must know it before the node starts (relayed bus links); default a free one */
  distPort?: number;
}

export interface LocalRabbit {
  /** amqp:// URL for amqplib */
  url: string;
  /** oslo transport URL, rabbit://guest:guest@127.0.0.1:<port>/ */
  transportUrl: string;
  /** the same port as an oslo amqp:// (AMQP 1.0) URL, for when the rabbitmq_amqp1_0 plugin is enabled */
  amqp1Url: string;
  amqpPort: number;
  distPort: number;
  epmdPort: number;
  managementPort?: number;
  nodeName: string;
  /** the rabbitmq-server start script; the node runs in its process group */
  pid: number;
  /** the Erlang VM (beam.smp) running the node: the process whose CPU and memory are the broker's */
  beamPid(): number | undefined;
  version: string;
  baseDir: string;
  stop(): Promise<void>;
  /** SIGKILL to the node's process group: it dies as in a crash (stop() still removes its files) */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT to the node's process group */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** a graceful stop, then the same node (name, ports, database) started again; resolves once it accepts connections */
  restart(): Promise<void>;
}

export function findRabbitServer(): string | undefined {
  return existsSync(RABBITMQ_SERVER) ? RABBITMQ_SERVER : undefined;
}

/** The installed server's version, from its library directory name (rabbitmq_server-3.10.8). */
export function installedRabbitVersion(): string {
  try {
    const dir = readdirSync(RABBITMQ_LIB).find((name) => name.startsWith('rabbitmq_server-'));
    return dir ? dir.slice('rabbitmq_server-'.length) : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Stop a detached child and its process group: TERM, then KILL after a grace period. */
async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.pid === undefined) return;
  killGroup(child.pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([exited(child).then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)))]);
  clearTimeout(timer);
  if (!done) {
    killGroup(child.pid, 'SIGKILL');
    await exited(child);
  }
  // Port programs (erl_child_setup, inet_gethost) may linger in the group for a moment.
  killGroup(child.pid, 'SIGKILL');
}

const OWNER_FILE = 'owner.json';

interface OwnerRecord {
  ownerPid: number;
  brokerPgid?: number;
  epmdPgid?: number;
}

/**
 * Stop nodes whose busbench process died without cleaning up (kill -9, a
 * lost machine): each node's temp dir names its owner; an owner that is
 * gone leaves a node nobody will stop otherwise. Returns what was reaped.
 */
export async function reapOrphanedBrokers(): Promise<string[]> {
  const reaped: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(tmpdir()).filter((name) => name.startsWith('busbench-rabbit-'));
  } catch {
    return reaped;
  }
  for (const entry of entries) {
    const dir = join(tmpdir(), entry);
    let owner: OwnerRecord;
    try {
      owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as OwnerRecord;
    } catch {
      continue; // being set up right now, or not ours to judge
    }
    if (processAlive(owner.ownerPid)) continue;
    for (const pgid of [owner.brokerPgid, owner.epmdPgid]) if (pgid) killGroup(pgid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
    reaped.push(dir);
  }
  return reaped;
}

export async function startLocalRabbit(options: LocalRabbitOptions = {}): Promise<LocalRabbit> {
  await reapOrphanedBrokers();
  const server = findRabbitServer();
  if (!server) {
    throw new Error(
      `RabbitMQ is not installed (${RABBITMQ_SERVER} not found). Install it with 'apt-get install rabbitmq-server' ` +
        `(busbench starts it itself as a plain process; no service needs to run), or pass --url to use an existing broker.`,
    );
  }
  const baseDir = await mkdtemp(join(tmpdir(), 'busbench-rabbit-'));
  const unregisterDir = onCleanup(`temp dir ${baseDir}`, () => rm(baseDir, { recursive: true, force: true }));
  const cluster = options.cluster;
  const address = options.address ?? '127.0.0.1';
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) throw new Error(`RabbitMQ node address "${address}": an IPv4 address`);
  const [amqpPort, distPort] = [await freePort(), options.distPort ?? (await freePort())];
  const epmdPort = cluster?.epmdPort ?? (await freePort());
  const plugins = options.plugins ?? [];
  const managementPort = plugins.includes('rabbitmq_management') ? await freePort() : undefined;
  const nodeName = cluster?.nodeName ?? `busbench-${randomBytes(4).toString('hex')}@localhost`;

  const config: Record<string, string> = {
    'listeners.tcp.default': `${address}:${amqpPort}`,
    // guest may connect from other addresses than loopback (namespaces, other hosts).
    loopback_users: 'none',
    // Stats every second, not every 5 s: a run samples the management API each second.
    ...(managementPort ? { 'management.tcp.port': String(managementPort), 'management.tcp.ip': address, collect_statistics_interval: '1000' } : {}),
    ...(cluster
      ? {
          'cluster_formation.peer_discovery_backend': 'classic_config',
          ...Object.fromEntries(cluster.nodes.map((node, i) => [`cluster_formation.classic_config.nodes.${i + 1}`, node])),
        }
      : {}),
    ...options.extraConfig,
  };
  await writeFile(
    join(baseDir, 'rabbitmq.conf'),
    Object.entries(config)
      .map(([k, v]) => `${k} = ${v}\n`)
      .join(''),
  );
  await writeFile(join(baseDir, 'enabled_plugins'), `[${plugins.join(',')}].\n`);
  // A fresh cookie of our own: HOME is the temp dir, so the node and its CLI tools agree on it.
  await writeFile(join(baseDir, '.erlang.cookie'), cluster?.cookie ?? randomBytes(16).toString('hex').toUpperCase(), { mode: 0o400 });

  // Peers of a cluster look the node up in epmd at its address; its own tools at loopback.
  const epmdAddresses = address === '127.0.0.1' ? address : `127.0.0.1,${address}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: baseDir,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: address,
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(baseDir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(baseDir, 'log'),
    RABBITMQ_CONFIG_FILE: join(baseDir, 'rabbitmq'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(baseDir, 'enabled_plugins'),
    RABBITMQ_CONF_ENV_FILE: '/dev/null',
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: `-kernel inet_dist_use_interface {${address.split('.').join(',')}}`,
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: epmdAddresses,
    ...(cluster ? { RABBITMQ_USE_LONGNAME: 'true' } : {}),
  };
  // Inside a namespace the node is a host of its own: its processes start there.
  const inNamespace = (argv: string[]): [string, string[]] => (options.netns ? ['ip', ['netns', 'exec', options.netns, ...argv]] : [argv[0]!, argv.slice(1)]);

  // Our own epmd in the foreground: otherwise erl starts a daemon that outlives the node.
  const epmdLog = openSync(join(baseDir, 'epmd.log'), 'a');
  const epmd = spawn(...inNamespace(['epmd', '-port', String(epmdPort), '-address', epmdAddresses]), {
    env,
    detached: true,
    stdio: ['ignore', epmdLog, epmdLog],
  });
  closeSync(epmdLog);
  const epmdFailed = new Promise<never>((_, reject) => epmd.once('error', (error) => reject(new Error(`could not start epmd: ${error.message}`))));
  epmdFailed.catch(() => undefined);

  const outputPath = join(baseDir, 'rabbitmq-server.out');
  // The server is (re)started by this: restart() runs it again with the same node name, ports and database.
  const startServer = (): ChildProcess => {
    const output = openSync(outputPath, 'a');
    const started = spawn(...inNamespace([server]), { env, detached: true, stdio: ['ignore', output, output] });
    closeSync(output);
    return started;
  };
  let child = startServer();
  const writeOwner = (): Promise<void> => {
    const owner: OwnerRecord = { ownerPid: process.pid, ...(child.pid ? { brokerPgid: child.pid } : {}), ...(epmd.pid ? { epmdPgid: epmd.pid } : {}) };
    return writeFile(join(baseDir, OWNER_FILE), JSON.stringify(owner));
  };
  await writeOwner();

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      killGroup(child.pid!, 'SIGCONT'); // a paused node must be able to hear the TERM
      await stopChild(child, STOP_GRACE_MS);
      await stopChild(epmd, 2000);
      if (options.keepLogsIn) {
        await mkdir(options.keepLogsIn, { recursive: true });
        await cp(join(baseDir, 'log'), options.keepLogsIn, { recursive: true }).catch(() => undefined);
        await cp(outputPath, join(options.keepLogsIn, 'rabbitmq-server.out')).catch(() => undefined);
      }
      await rm(baseDir, { recursive: true, force: true });
      unregisterDir();
      unregisterNode();
    })());
  const unregisterNode = onCleanup(`RabbitMQ node ${nodeName}`, stop);

  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const url = `amqp://guest:guest@${address}:${amqpPort}/`;
  /** Until the node accepts AMQP connections, or it exits, or the start timeout. */
  const untilReady = async (): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    const childExit = exited(child).then(() => 'exited' as const);
    for (;;) {
      const attempt = await Promise.race([
        amqplib.connect(url, { timeout: 1000 }).then(
          async (connection) => {
            await connection.close();
            return 'ready' as const;
          },
          () => 'refused' as const,
        ),
        childExit,
        epmdFailed,
      ]);
      if (attempt === 'ready') return;
      if (attempt === 'exited') {
        throw new Error(`RabbitMQ exited during start-up (exit code ${child.exitCode}). Its last output:\n${await tail(outputPath)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`RabbitMQ did not accept connections within ${timeoutMs / 1000} s. Its last output:\n${await tail(outputPath)}`);
      }
      await sleep(200);
    }
  };
  try {
    await untilReady();
  } catch (error) {
    await stop();
    throw error;
  }
  const notStopped = (what: string): void => {
    if (stopped) throw new Error(`RabbitMQ node ${nodeName} was stopped: it cannot ${what}`);
  };

  return {
    url,
    transportUrl: `rabbit://guest:guest@${address}:${amqpPort}/`,
    amqp1Url: `amqp://guest:guest@${address}:${amqpPort}/`,
    amqpPort,
    distPort,
    epmdPort,
    ...(managementPort ? { managementPort } : {}),
    nodeName,
    get pid() {
      return child.pid!;
    },
    // Asked every resource sample: the walk over /proc is done once per VM, not per sample.
    beamPid: groupMemberFinder(() => child.pid!, 'beam.smp'),
    version: installedRabbitVersion(),
    baseDir,
    stop,
    kill: async () => {
      notStopped('be killed');
      killGroup(child.pid!, 'SIGKILL');
      await exited(child);
    },
    pause: async () => {
      notStopped('be paused');
      killGroup(child.pid!, 'SIGSTOP');
    },
    resume: async () => {
      notStopped('be resumed');
      killGroup(child.pid!, 'SIGCONT');
    },
    restart: async () => {
      notStopped('be restarted');
      killGroup(child.pid!, 'SIGCONT');
      await stopChild(child, STOP_GRACE_MS);
      child = startServer();
      await writeOwner();
      await untilReady();
    },
  };
}
