/**
 * The coordinator's side of an agent host (agents/host.ts): a process on
 * another host, or in another network namespace, running some of the run's
 * worker threads. Its workers appear as handles with a worker thread's own
 * surface (postMessage, message / error / exit events, terminate), so the
 * pool and the runner treat near and far workers alike.
 */
import { EventEmitter } from 'node:events';
import { localEntry } from '../util/entries.js';
import type { HostSpawner } from '../buses/host.js';
import type { MainToWorker, WorkerInit, CoordinatorToHost, HostToCoordinator, RelaySpec } from '../model/index.js';
import { readFrames, writeFrame } from '../util/frames.js';

/** What the pool needs of a worker, thread or remote. */
export interface WorkerHandle {
  postMessage(message: MainToWorker): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<unknown>;
}

export const AGENT_HOST_ENTRY = localEntry('agentHost');

export interface AgentHost {
  host: string;
  /** the agent host's process id on this machine; over ssh there is none */
  pid: number | undefined;
  /** its process id on the host it runs on, as it reported it */
  hostPid: number;
  workers: WorkerHandle[];
  /** bus endpoints this host reaches through a delay relay, and the relay's address */
  relays: { url: string; via: string }[];
  stop(): Promise<void>;
}

class RemoteWorker extends EventEmitter implements WorkerHandle {
  constructor(
    private readonly index: number,
    private readonly host: { send(message: CoordinatorToHost): void; stop(): Promise<void> },
  ) {
    super();
  }

  postMessage(message: MainToWorker): void {
    this.host.send({ kind: 'to', worker: this.index, message });
  }

  terminate(): Promise<void> {
    return this.host.stop();
  }
}

const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5000;

export async function startAgentHost(host: string, spawner: HostSpawner, argv: string[], inits: WorkerInit[], relays: RelaySpec[]): Promise<AgentHost> {
  const child = spawner(argv);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // The last few KiB: enough to say why a host failed.
    stderr = (stderr + chunk.toString()).slice(-4096);
  });
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      // Closing stdin is the host's signal to stop everything it started.
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })());
  const send = (message: CoordinatorToHost): void => {
    if (child.stdin?.writable) writeFrame(child.stdin, message);
  };
  const workers = inits.map((_, index) => new RemoteWorker(index, { send, stop }));
  const ready = new Promise<{ pid: number; relays: { url: string; via: string }[] }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`agent host ${host} did not start within ${START_TIMEOUT_MS / 1000} s${stderr ? `: ${stderr.trim()}` : ''}`)),
      START_TIMEOUT_MS,
    );
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`agent host ${host}: ${error.message}`));
    });
    readFrames(
      child.stdout!,
      (value) => {
        const message = value as HostToCoordinator;
        if (message.kind === 'ready') {
          clearTimeout(timer);
          resolve({ pid: message.pid, relays: message.relays });
        } else if (message.kind === 'fatal') {
          clearTimeout(timer);
          reject(new Error(`agent host ${host}: ${message.message}`));
        } else if (message.kind === 'from') workers[message.worker]?.emit('message', message.message);
        else if (message.kind === 'error') workers[message.worker]?.emit('error', new Error(`on host ${host}: ${message.message}`));
        else if (message.kind === 'exit') workers[message.worker]?.emit('exit', message.code);
      },
      (error) => reject(error),
    );
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`agent host ${host} exited with code ${code}${stderr ? `: ${stderr.trim()}` : ''}`));
      // A host that dies mid-run takes its workers with it: the pool hears it as their exit.
      if (!stopped) for (const worker of workers) worker.emit('exit', code === 0 ? 1 : code);
    });
  });
  send({ kind: 'init', inits, relays });
  try {
    const { pid: hostPid, relays: relayed } = await ready;
    return { host, pid: child.pid, hostPid, workers, relays: relayed, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
