/**
 * A bus that outlives the command that made it, for the operational
 * OpenStack benchmark: `bus up` starts a keeper process (busbench itself,
 * detached) that deploys the scenario's bus, and the network constraints
 * of its topology, writes the transport URLs to a state file and holds
 * everything until it is told to stop. `bus down` signals the keeper,
 * whose cleanup handlers stop what it started, and if the keeper is gone
 * (kill -9, a reboot of the session) removes what it can find by the
 * state file's records. Nothing is written but the state file and the
 * keeper's log.
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
import { deploy } from '../../deploy/deploy.js';
import type { Scenario } from '../model/index.js';
import { UsageError } from '../errors.js';

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
  error?: string;
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

/** Starts the keeper and waits until the bus is ready (or failed); returns the state. */
export async function busUp(scenarioFile: string, scenario: Scenario, stateDir: string): Promise<BusState> {
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
  const keeper = spawn(process.execPath, [CLI, 'bus', 'keep', scenarioFile, '--state', file], { detached: true, stdio: ['ignore', out, out] });
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
export async function keepBus(scenarioFile: string, scenario: Scenario, file: string): Promise<void> {
  installSignalHandlers();
  const base: BusState = {
    name: scenario.name,
    status: 'starting',
    pid: process.pid,
    startedAt: new Date().toISOString(),
    scenario: scenarioFile,
    log: file.replace(/\.json$/, '.log'),
  };
  await writeState(file, base);
  try {
    const deployment = await deploy(scenario, { onLog: (_level, message) => void process.stderr.write(`${message}\n`) });
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
    await writeState(file, { ...base, status: 'failed', error: (error as Error).message });
    throw error;
  }
  // Held until SIGTERM: the signal handlers run every cleanup registered on the way up.
  await new Promise<never>(() => setInterval(() => undefined, 1 << 30));
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
