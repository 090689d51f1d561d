/**
 * The coordinator's side of a bus node host (node-host.ts, entry
 * src/entries/bus-node.ts): a bus node on a host busbench reaches only
 * through processes (ssh). The node host answers in frames on stdout —
 * first whatever its kind exchanges while the node starts, then whether
 * its node is ready, then one reply per lifecycle command it read on
 * stdin — and stops its node when stdin closes, so a lost coordinator
 * never leaves a node behind.
 */
import { readFrames, writeFrame } from '../util/frames.js';
import type { BusHost, HostProcess } from './host.js';
import type { BusNodeCommand, BusNodeReply, BusNodeReport, NodeLifecycle } from './node-host.js';

/** Beyond the node's own start timeout (60 s): the node host has to start node first. */
const BUS_NODE_START_TIMEOUT_MS = 90_000;
/** The broker's own stop grace (15 s) and epmd's, with room to spare. */
const BUS_NODE_STOP_GRACE_MS = 25_000;
const BUS_NODE_KILL_GRACE_MS = 10_000;
const BUS_NODE_COMMAND_TIMEOUT_MS = 90_000;

/** A node host on a host, before its node is ready: the frames it exchanges while its node starts. */
export interface RemoteNodeSession {
  site: string;
  host: string;
  send(frame: unknown): void;
  /** the next frame from the node host; rejects when it exits, prints something else, or is silent for `timeoutMs` */
  next(what: string, timeoutMs?: number): Promise<unknown>;
  stop(): Promise<void>;
}

export interface RemoteBusNode<Facts extends object = Record<string, unknown>> {
  site: string;
  host: string;
  report: Extract<BusNodeReport<Facts>, { ready: true }>;
  /** the node's process on its host now (a restart makes a new one) */
  pid(): number | undefined;
  /** a lifecycle command carried out there; rejects with the node host's error */
  command(op: BusNodeCommand['op']): Promise<void>;
  stop(): Promise<void>;
}

function exitOf(child: HostProcess): Promise<void> {
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function delay(ms: number): Promise<'timeout'> {
  return new Promise((resolve) => setTimeout(() => resolve('timeout'), ms).unref());
}

/** Starts the bus node entry with `argv` (the kind, then its flags) on a host. */
export function openRemoteBusNode(host: BusHost, argv: string[], site: string): RemoteNodeSession {
  if (!host.busNodeArgv) throw new Error(`host ${host.name} cannot start a bus node: its provider gives no \`busbench bus node\` there`);
  const child = host.spawn([...host.busNodeArgv, ...argv]);
  const exited = exitOf(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4096)));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // stdin closing is the node host's cue to stop its node; signals come only when it does not.
      child.stdin?.end();
      if ((await Promise.race([exited, delay(BUS_NODE_STOP_GRACE_MS)])) !== 'timeout') return;
      // SIGTERM first: the node host stops its node on it; SIGKILL would orphan a broker, which is in a process group of its own.
      child.kill('SIGTERM');
      if ((await Promise.race([exited, delay(BUS_NODE_KILL_GRACE_MS)])) !== 'timeout') return;
      child.kill('SIGKILL');
      await Promise.race([exited, delay(5000)]);
    })());
  const detail = (): string => (stderr.trim() ? `: ${stderr.trim()}` : '');
  const frames: unknown[] = [];
  const waiting: ((frame: unknown) => void)[] = [];
  let corrupt: Error | undefined;
  readFrames(
    child.stdout!,
    (frame) => {
      const next = waiting.shift();
      if (next) next(frame);
      else frames.push(frame);
    },
    (error) => void (corrupt = new Error(`the bus node host on ${host.name} printed something else than frames (${error.message})${detail()}`)),
  );
  const exitedEarly = exited.then(() => {
    throw new Error(`the bus node host on ${host.name} exited${detail()}`);
  });
  exitedEarly.catch(() => undefined);
  const errored = new Promise<never>((_, reject) => child.once('error', (error) => reject(new Error(`bus node on ${host.name}: ${error.message}`))));
  errored.catch(() => undefined);
  const nextFrame = (): Promise<unknown> => {
    if (corrupt) return Promise.reject(corrupt);
    return frames.length > 0 ? Promise.resolve(frames.shift()) : new Promise((resolve) => waiting.push(resolve));
  };
  const next = async (what: string, timeoutMs = BUS_NODE_COMMAND_TIMEOUT_MS): Promise<unknown> => {
    const frame = await Promise.race([nextFrame(), exitedEarly, errored, delay(timeoutMs)]);
    if (frame === 'timeout') throw new Error(`the bus node on ${host.name} did not ${what} within ${timeoutMs / 1000} s${detail()}`);
    return frame;
  };
  return {
    site,
    host: host.name,
    send: (frame) => void writeFrame(child.stdin!, frame),
    next,
    stop,
  };
}

/** The node host's ready report, and then its node's lifecycle; a node that could not start is stopped, and the error says why. */
export async function awaitReady<Facts extends object>(session: RemoteNodeSession): Promise<RemoteBusNode<Facts>> {
  const { host } = session;
  let stopped = false;
  try {
    const first = await session.next('become ready', BUS_NODE_START_TIMEOUT_MS);
    const report = first as BusNodeReport<Facts>;
    if (typeof report !== 'object' || report === null || typeof report.ready !== 'boolean')
      throw new Error(`the bus node host on ${host} sent ${JSON.stringify(first).slice(0, 200)} instead of its ready report`);
    if (!report.ready) throw new Error(`the bus node on ${host} could not start: ${report.error}`);
    let pid = report.pid;
    // Commands are answered in order, one frame each: the order is what ties a reply to its command.
    let queue = Promise.resolve();
    const command = (op: BusNodeCommand['op']): Promise<void> => {
      const done = queue.then(async () => {
        if (stopped) throw new Error(`the bus node on ${host} was stopped: it cannot ${op}`);
        session.send({ op } satisfies BusNodeCommand);
        const reply = (await session.next(op)) as BusNodeReply;
        if (!reply.ok) throw new Error(`the bus node on ${host} could not ${op}: ${reply.error}`);
        pid = reply.pid;
      });
      queue = done.catch(() => undefined);
      return done;
    };
    const stop = (): Promise<void> => ((stopped = true), session.stop());
    return { site: session.site, host, report, pid: () => pid, command, stop };
  } catch (error) {
    await session.stop();
    throw error;
  }
}

/** The lifecycle of a node under a node host, through its framed commands; stop() ends the node host too. */
export function remoteLifecycle(node: RemoteBusNode<object>): NodeLifecycle {
  return {
    pid: () => node.pid(),
    stop: () => node.stop(),
    kill: () => node.command('kill'),
    pause: () => node.command('pause'),
    resume: () => node.command('resume'),
    restart: () => node.command('restart'),
  };
}

/** Starts the bus node entry with `argv` on a host and waits for its ready report. */
export function startRemoteBusNode<Facts extends object>(host: BusHost, argv: string[], site: string): Promise<RemoteBusNode<Facts>> {
  return awaitReady<Facts>(openRemoteBusNode(host, argv, site));
}
