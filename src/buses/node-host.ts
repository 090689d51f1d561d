/**
 * A bus node host: the process (src/entries/bus-node.ts) a bus plugin
 * starts on a bus site's host when busbench reaches that host only through
 * processes (ssh). It runs one node of the bus there (a RabbitMQ node, a
 * router), says where it is (or why it could not start), carries out
 * lifecycle commands, and stops the node when its stdin closes (busbench
 * done, or the ssh connection gone) or on a signal. The node is this host's
 * process, so only something on this host can stop it and clean up after it.
 *
 * Everything on stdin and stdout is a frame (util/frames.ts). A kind may
 * exchange frames with busbench while its node starts (a router reports the
 * ports it found free and waits for its part of the mesh); then comes one
 * BusNodeReport (ready, or why not), then one BusNodeReply per
 * BusNodeCommand, in order.
 */
import { readFrames, writeFrame } from '../util/frames.js';
import { installSignalHandlers, runCleanups } from '../cleanup.js';

/** The first frame after start-up: ready with the kind's facts (where the node is), or why not. */
export type BusNodeReport<Facts extends object = Record<string, unknown>> =
  ({ ready: true; pid: number | undefined } & Facts) | { ready: false; error: string };

/** A lifecycle command, a frame on the node host's stdin; each is answered by one BusNodeReply frame. */
export interface BusNodeCommand {
  op: 'kill' | 'pause' | 'resume' | 'restart';
}

/** `pid`: the node's process after the command (a restart makes a new one). */
export type BusNodeReply = { op: string; ok: true; pid: number | undefined } | { op: string; ok: false; error: string };

/** The frames between a kind's start-up and busbench, before the ready report. */
export interface NodeHostSession {
  send(frame: unknown): void;
  /** the next frame busbench sent; undefined once stdin has closed */
  next(): Promise<unknown>;
}

/** What fault injection does to one node of a bus (a broker node, a router): each operation acts on it alone. */
export interface NodeLifecycle {
  /** the process whose CPU and memory are the node's (the Erlang VM, the router), as its host numbers it */
  pid(): number | undefined;
  /** stops it gracefully (and for good) */
  stop(): Promise<void>;
  /** SIGKILL: gone at once, as in a crash; stop() still cleans up after it */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: frozen, its connections open but silent */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** stops it and starts it again on the same address and port */
  restart(): Promise<void>;
}

/** A node a kind started on this host: the facts of its ready report, and its lifecycle. */
export interface HostedNode extends NodeLifecycle {
  facts: Record<string, unknown>;
}

/** Starts a kind's node with `start`, reports it, carries out lifecycle commands, and resolves once it has been stopped. */
export async function runNodeHost(start: (session: NodeHostSession) => Promise<HostedNode>): Promise<void> {
  // A SIGTERM (the provider's kill, or a lost session) must still stop the node: a broker runs in a process group of its own, out of reach of a group kill.
  installSignalHandlers();
  const send = (message: unknown): void => void writeFrame(process.stdout, message);
  const frames: unknown[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  const woken = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  // Listening from the start: stdin closing while the node boots must not go unnoticed.
  const onClosed = (): void => {
    closed = true;
    woken();
  };
  process.stdin.once('end', onClosed);
  process.stdin.once('close', onClosed);
  process.stdin.once('error', onClosed);
  readFrames(
    process.stdin,
    (value) => {
      frames.push(value);
      woken();
    },
    (error) => process.stderr.write(`bus node: ${error.message}\n`),
  );
  const next = async (): Promise<unknown> => {
    for (;;) {
      if (frames.length > 0) return frames.shift();
      if (closed) return undefined;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  let node: HostedNode;
  try {
    node = await start({ send, next });
  } catch (error) {
    send({ ready: false, error: (error as Error).message } satisfies BusNodeReport);
    process.exitCode = 1;
    await runCleanups();
    return;
  }
  send({ ...node.facts, ready: true, pid: node.pid() } satisfies BusNodeReport);
  // Commands one at a time, in order, until stdin closes.
  for (;;) {
    const command = (await next()) as Partial<BusNodeCommand> | null | undefined;
    if (command === undefined) break;
    const op = String(command?.op ?? '?');
    try {
      if (op !== 'kill' && op !== 'pause' && op !== 'resume' && op !== 'restart') throw new Error(`unknown command ${JSON.stringify(command).slice(0, 100)}`);
      await node[op]();
      send({ op, ok: true, pid: node.pid() } satisfies BusNodeReply);
    } catch (error) {
      send({ op, ok: false, error: (error as Error).message } satisfies BusNodeReply);
    }
  }
  await node.stop();
  process.stdin.pause();
}
