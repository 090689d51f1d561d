/**
 * A bus that outlives the command that made it, for the operational
 * OpenStack benchmark: `bus up` starts a keeper process (busbench itself,
 * detached) that deploys the scenario's bus, and the network constraints
 * of its topology, writes the transport URLs to a state file and holds
 * everything until it is told to stop. `bus down` signals the keeper,
 * whose cleanup handlers stop what it started, and if the keeper is gone
 * (kill -9, a reboot of the session) removes what it can find by the
 * state file's records. Nothing is written but the state file and the
 * keeper's log. With --prometheus (or --influx) the keeper also serves
 * (writes) the bus processes' CPU, memory and TCP connections until
 * `bus down`.
 */
import { localEntry } from '../util/entries.js';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { reapOrphanedBrokers } from '../buses/rabbitmq/node.js';
import { processAlive } from '../util/process.js';
import { installSignalHandlers } from '../cleanup.js';
import { runCommand } from '../network/command.js';
import { deploy, type Deployment } from '../../deploy/deploy.js';
import type { Scenario, WatchedProcess } from '../model/index.js';
import { UsageError } from '../errors.js';
import { onCleanup } from '../cleanup.js';
import { LiveRun } from '../live/aggregate.js';
import { startLiveExporters, type LiveExporters, type LiveExportersOptions } from '../live/exporters.js';
import { describeTarget } from '../live/influx.js';
import { startResourceSampler, type ResourceSampler } from '../metrics/resources.js';

export interface BusState {
  name: string;
  status: 'starting' | 'ready' | 'failed';
  /** the keeper process */
  pid: number;
  startedAt: string;
  scenario: string;
  description?: string;
  /** oslo transport URL per bus site ("local" without a topology) */
  transportUrls?: Record<string, string>;
  /** one URL naming every node, as oslo takes it for a cluster (comma-separated hosts) */
  transportUrl?: string;
  /** network namespaces made for the topology (busbench-<tag>-…), for bus down when the keeper is gone */
  namespaceTag?: string;
  /** where Prometheus scrapes the bus processes' figures (--prometheus) */
  metrics?: string;
  /** where they are written (--influx) */
  influx?: string;
  error?: string;
  /** the failure was bad input (a port in use): bus up exits 2 */
  usage?: boolean;
  log: string;
}

const CLI = localEntry('cli');
const UP_TIMEOUT_MS = 300_000;
const DOWN_TIMEOUT_MS = 60_000;

export function stateFile(stateDir: string, name: string): string {
  return join(stateDir, `${name}.json`);
}

async function writeState(file: string, state: BusState): Promise<void> {
  // Atomically: bus up polls this file and must never read half of it.
  await writeFile(`${file}.tmp`, JSON.stringify(state, null, 2));
  await rename(`${file}.tmp`, file);
}

export async function readState(file: string): Promise<BusState | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as BusState;
  } catch {
    return undefined;
  }
}

/** oslo takes several hosts as user:pass@host:port pairs separated by commas, under one scheme. */
export function combinedTransportUrl(urls: string[]): string {
  if (urls.length === 1) return urls[0]!;
  const parts = urls.map((url) => /^([a-z]+):\/\/([^/]*)(\/.*)?$/.exec(url)!);
  return `${parts[0]![1]}://${parts.map((p) => p[2]).join(',')}${parts[0]![3] ?? '/'}`;
}

/** Starts the keeper and waits until the bus is ready (or failed); returns the state. `live`: the live flags to pass on, and the environment they need. */
export async function busUp(
  scenarioFile: string,
  scenario: Scenario,
  stateDir: string,
  live: { args: string[]; env: Record<string, string> } = { args: [], env: {} },
): Promise<BusState> {
  await mkdir(stateDir, { recursive: true });
  const file = stateFile(stateDir, scenario.name);
  const existing = await readState(file);
  if (existing && processAlive(existing.pid)) {
    throw new UsageError(
      `a bus named ${scenario.name} is already up (keeper pid ${existing.pid}): busbench bus down ${scenario.name} first, or give the scenario another name`,
    );
  }
  const log = join(stateDir, `${scenario.name}.log`);
  const out = openSync(log, 'w');
  const keeper = spawn(process.execPath, [CLI, 'bus', 'keep', scenarioFile, '--state', file, ...live.args], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, ...live.env },
  });
  closeSync(out);
  keeper.unref();
  const deadline = Date.now() + UP_TIMEOUT_MS;
  for (;;) {
    const state = await readState(file);
    if (state && state.pid === keeper.pid && state.status !== 'starting') return state;
    if (keeper.exitCode !== null || (keeper.pid !== undefined && !processAlive(keeper.pid))) {
      throw new Error(
        `the bus keeper exited before the bus was up; its log, ${log}:\n${(await readFile(log, 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n')}`,
      );
    }
    if (Date.now() > deadline) throw new Error(`the bus was not up within ${UP_TIMEOUT_MS / 1000} s; see ${log}, and run busbench bus down ${scenario.name}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The keeper's life: deploy, say where, hold until signalled (the cleanup handlers then stop everything). */
export async function keepBus(scenarioFile: string, scenario: Scenario, file: string, live: Omit<LiveExportersOptions, 'say'> = {}): Promise<void> {
  installSignalHandlers();
  let base: BusState = {
    name: scenario.name,
    status: 'starting',
    pid: process.pid,
    startedAt: new Date().toISOString(),
    scenario: scenarioFile,
    log: file.replace(/\.json$/, '.log'),
  };
  await writeState(file, base);
  let exporters: LiveExporters | undefined;
  try {
    // Before the bus: a port in use fails bus up at once, with nothing to undo.
    exporters = await startKeeperExporters(scenario, live);
    if (exporters) {
      const started = exporters;
      base = { ...base, ...(started.prometheusUrl ? { metrics: started.prometheusUrl } : {}), ...(live.influx ? { influx: describeTarget(live.influx) } : {}) };
      onCleanup('live metrics', () => started.close());
    }
    const deployment = await deploy(scenario, { onLog: (_level, message) => void process.stderr.write(`${message}\n`) });
    if (exporters) {
      const stop = watchBusProcesses(deployment, scenario.runner.resourceIntervalMs, exporters);
      onCleanup('resource sampler', stop);
    }
    const urls = deployment.bus.endpoints;
    const description = deployment.bus.description;
    const namespaceTag = deployment.provider.tag;
    await writeState(file, {
      ...base,
      status: 'ready',
      description,
      transportUrls: urls,
      transportUrl: combinedTransportUrl(Object.values(urls)),
      ...(namespaceTag ? { namespaceTag } : {}),
    });
    process.stderr.write(`bus up: ${description}\n`);
  } catch (error) {
    await writeState(file, { ...base, status: 'failed', error: (error as Error).message, ...(error instanceof UsageError ? { usage: true } : {}) });
    // An open endpoint would hold the keeper up with nothing to keep.
    await exporters?.close();
    throw error;
  }
  // Held until SIGTERM: the signal handlers run every cleanup registered on the way up.
  await new Promise<never>(() => setInterval(() => undefined, 1 << 30));
}

async function startKeeperExporters(scenario: Scenario, live: Omit<LiveExportersOptions, 'say'>): Promise<LiveExporters | undefined> {
  if (!live.prometheus && !live.influx) return undefined;
  return startLiveExporters({
    ...live,
    // No run here: the scenario and the bus kind tell this bus's series from a run's.
    labels: { scenario: scenario.name, bus: scenario.bus.kind },
    say: (level, message) => void process.stderr.write(`${level}: ${message}\n`),
  });
}

/** A sampler keeps every sample for its report; the keeper wants only the latest, and may run for weeks: it starts a fresh one this often. */
const SAMPLER_RENEWAL_MS = 3_600_000;

/** The bus nodes' CPU, memory and TCP connections, sampled into a LiveRun the exporters serve. Returns how to stop. */
function watchBusProcesses(deployment: Deployment, intervalMs: number, exporters: LiveExporters): () => Promise<void> {
  const live = new LiveRun();
  exporters.attach(live);
  const processes = (): WatchedProcess[] =>
    deployment.bus.nodes.flatMap((node) => {
      const pid = node.pid();
      return pid ? [{ name: node.name, kind: node.kind, host: node.host, pid }] : [];
    });
  const start = (): ResourceSampler =>
    startResourceSampler({
      processes,
      readers: (host) => deployment.provider.processReader?.(host),
      // resources sampling off in the scenario (0) still samples here: the figures are what --prometheus asked for.
      intervalMs: intervalMs > 0 ? intervalMs : 1000,
      onSample: (t, read) => live.take({ type: 'resources', t, processes: read }),
    });
  let sampler = start();
  // The fresh sampler's first reading only sets where CPU is measured from: the gauges keep their last values one tick longer.
  const renewal = setInterval(() => {
    const old = sampler;
    sampler = start();
    void old.stop();
  }, SAMPLER_RENEWAL_MS);
  renewal.unref();
  return async () => {
    clearInterval(renewal);
    await sampler.stop();
    exporters.detach();
  };
}

/** Stops the bus of one state file: the keeper if it lives, and whatever a dead keeper left. */
export async function busDown(file: string): Promise<{ name: string; how: string }> {
  const state = await readState(file);
  if (!state) throw new Error(`no bus state at ${file}`);
  let how: string;
  if (processAlive(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + DOWN_TIMEOUT_MS;
    while (processAlive(state.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    if (processAlive(state.pid)) {
      process.kill(state.pid, 'SIGKILL');
      how = `keeper ${state.pid} did not stop within ${DOWN_TIMEOUT_MS / 1000} s and was killed; leftovers removed`;
    } else how = `keeper ${state.pid} stopped everything it started`;
  } else how = `keeper ${state.pid} was gone; leftovers removed`;
  // Whatever a killed keeper could not stop: brokers whose owner is dead, the topology's namespaces.
  await reapOrphanedBrokers();
  if (state.namespaceTag) {
    const list = await runCommand(['ip', 'netns', 'list']).catch(() => '');
    for (const line of list.split('\n')) {
      const name = line.split(' ')[0] ?? '';
      if (name.startsWith(`busbench-${state.namespaceTag}-`)) await runCommand(['ip', 'netns', 'del', name]).catch(() => undefined);
    }
    await runCommand(['ip', 'link', 'del', `bbgw-${state.namespaceTag}`]).catch(() => undefined);
  }
  await rm(file, { force: true });
  return { name: state.name, how };
}

export async function busStates(stateDir: string): Promise<{ file: string; state: BusState; alive: boolean }[]> {
  const names = await readdir(stateDir).catch(() => [] as string[]);
  const out: { file: string; state: BusState; alive: boolean }[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = join(stateDir, name);
    const state = await readState(file);
    if (state) out.push({ file, state, alive: processAlive(state.pid) });
  }
  return out;
}
