/**
 * The coordinator's side of a bus node host (node-host.ts, entry
 * src/entries/bus-node.ts): a bus node on a host busbench reaches only
 * through processes (ssh). The node host answers in frames on stdout —
 * first whether its node is ready, then one reply per lifecycle command it
 * read on stdin — and stops its node when stdin closes, so a lost
 * coordinator never leaves a broker behind.
 */
import { readFrames, writeFrame } from '../util/frames.js';
import type { BusHost, HostProcess } from './host.js';
import type { BusNodeCommand, BusNodeReply, BusNodeReport } from './node-host.js';

/** Beyond the node's own start timeout (60 s): the node host has to start node first. */
const BUS_NODE_START_TIMEOUT_MS = 90_000;
/** The broker's own stop grace (15 s) and epmd's, with room to spare. */
const BUS_NODE_STOP_GRACE_MS = 25_000;
const BUS_NODE_KILL_GRACE_MS = 10_000;
const BUS_NODE_COMMAND_TIMEOUT_MS = 90_000;

export interface RemoteBusNode {
  site: string;
  host: string;
  report: Extract<BusNodeReport, { ready: true }>;
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

/** Starts the bus node entry with `flags` on a host and waits for its ready report. */
export async function startRemoteBusNode(host: BusHost, flags: string[], site: string): Promise<RemoteBusNode> {
  if (!host.busNodeArgv) throw new Error(`host ${host.name} cannot start a bus node: its provider gives no \`busbench bus node\` there`);
  const child = host.spawn([...host.busNodeArgv, ...flags]);
  const exited = exitOf(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4096)));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // stdin closing is the node host's cue to stop its node; signals come only when it does not.
      child.stdin?.end();
      if ((await Promise.race([exited, delay(BUS_NODE_STOP_GRACE_MS)])) !== 'timeout') return;
      // SIGTERM first: the node host stops its broker on it; SIGKILL would orphan the broker, which is in a process group of its own.
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
  const nextFrame = (): Promise<unknown> => {
    if (corrupt) return Promise.reject(corrupt);
    return frames.length > 0 ? Promise.resolve(frames.shift()) : new Promise((resolve) => waiting.push(resolve));
  };
  const errored = new Promise<never>((_, reject) => child.once('error', (error) => reject(new Error(`bus node on ${host.name}: ${error.message}`))));
  errored.catch(() => undefined);
  try {
    const first = await Promise.race([nextFrame(), exitedEarly, errored, delay(BUS_NODE_START_TIMEOUT_MS)]);
    if (first === 'timeout') throw new Error(`the bus node on ${host.name} was not ready within ${BUS_NODE_START_TIMEOUT_MS / 1000} s${detail()}`);
    const report = first as BusNodeReport;
    if (typeof report !== 'object' || report === null || typeof report.ready !== 'boolean')
      throw new Error(`the bus node host on ${host.name} sent ${JSON.stringify(first).slice(0, 200)} instead of its ready report${detail()}`);
    if (!report.ready) throw new Error(`the bus node on ${host.name} could not start: ${report.error}`);
    // Commands are answered in order, one frame each: the order is what ties a reply to its command.
    let queue = Promise.resolve();
    const command = (op: BusNodeCommand['op']): Promise<void> => {
      const done = queue.then(async () => {
        if (stopping) throw new Error(`the bus node on ${host.name} was stopped: it cannot ${op}`);
        writeFrame(child.stdin!, { op } satisfies BusNodeCommand);
        const answer = await Promise.race([nextFrame(), exitedEarly, delay(BUS_NODE_COMMAND_TIMEOUT_MS)]);
        if (answer === 'timeout') throw new Error(`the bus node on ${host.name} did not ${op} within ${BUS_NODE_COMMAND_TIMEOUT_MS / 1000} s`);
        const reply = answer as BusNodeReply;
        if (!reply.ok) throw new Error(`the bus node on ${host.name} could not ${op}: ${reply.error}`);
      });
      queue = done.catch(() => undefined);
      return done;
    };
    return { site, host: host.name, report, command, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
