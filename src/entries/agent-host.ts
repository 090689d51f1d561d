/**
 * Entry of an agent host: the process that runs a host's agent worker
 * threads when the coordinator is elsewhere (another network namespace, a
 * host reached over ssh). It speaks frames (util/frames.ts, the protocol in
 * model/control.ts) on stdin/stdout and
 * relays every control message to its workers unchanged. Where the kernel
 * cannot delay a link, it also runs the delay relays between its agents and
 * the bus of another site. When stdin closes, the coordinator is gone:
 * everything stops, so nothing outlives a crashed or killed run.
 */
import { applyHeap, workerResourceLimits } from '../runner/heap-mode.js';
import { localEntry } from '../util/entries.js';
import { Worker } from 'node:worker_threads';
import { startDelayRelay, type DelayRelay } from '../network/delay-relay.js';
import type { WorkerInit, WorkerToMain, CoordinatorToHost, HostToCoordinator, RelaySpec } from '../model/index.js';
import { readFrames, writeFrame } from '../util/frames.js';

const WORKER_ENTRY = localEntry('agentWorker');
const workers: Worker[] = [];
const relays: DelayRelay[] = [];
const send = (message: HostToCoordinator): void => void writeFrame(process.stdout, message);

/** host:port of a transport URL, and the URL with them replaced. */
function endpointOf(url: string): { host: string; port: number; replace(host: string, port: number): string } {
  const match = /^([a-z]+:\/\/(?:[^@/]*@)?)([^:/,]+):(\d+)(.*)$/.exec(url);
  if (!match) throw new Error(`agent host: cannot relay "${url}": no host:port in it`);
  return { host: match[2]!, port: Number(match[3]), replace: (host, port) => `${match[1]}${host}:${port}${match[4]}` };
}

async function start(inits: WorkerInit[], specs: RelaySpec[]): Promise<void> {
  const rewrites = new Map<string, string>();
  for (const [i, spec] of specs.entries()) {
    const endpoint = endpointOf(spec.url);
    const relay = await startDelayRelay({
      targetHost: endpoint.host,
      targetPort: endpoint.port,
      forwardDelayMs: spec.forwardDelayMs,
      backwardDelayMs: spec.backwardDelayMs,
      jitterMs: spec.jitterMs,
      seed: i + 1,
    });
    relays.push(relay);
    rewrites.set(spec.url, endpoint.replace(relay.host, relay.port));
  }
  const rewrite = (url: string): string => rewrites.get(url) ?? url;
  // Before the workers' isolates exist: they read V8's flags as they start.
  applyHeap(inits);
  for (const [index, init] of inits.entries()) {
    const url = Array.isArray(init.driver.url) ? init.driver.url.map(rewrite) : rewrite(init.driver.url);
    const worker = new Worker(WORKER_ENTRY, { workerData: { ...init, driver: { ...init.driver, url } }, resourceLimits: workerResourceLimits(init) });
    worker.on('message', (message: WorkerToMain) => send({ kind: 'from', worker: index, message }));
    worker.on('error', (error) => send({ kind: 'error', worker: index, message: error.message }));
    worker.on('exit', (code) => send({ kind: 'exit', worker: index, code }));
    workers.push(worker);
  }
  send({ kind: 'ready', pid: process.pid, relays: [...rewrites].map(([url, via]) => ({ url, via })) });
}

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await Promise.allSettled(workers.map((worker) => worker.terminate()));
    await Promise.allSettled(relays.map((relay) => relay.stop()));
  }
  process.exit(code);
}

readFrames(
  process.stdin,
  (value) => {
    const message = value as CoordinatorToHost;
    if (message.kind === 'init') {
      start(message.inits, message.relays).catch((error: Error) => {
        send({ kind: 'fatal', message: error.message });
        void stop(1);
      });
    } else {
      workers[message.worker]?.postMessage(message.message);
    }
  },
  (error) => {
    process.stderr.write(`${error.message}\n`);
    void stop(1);
  },
);
process.stdin.on('end', () => void stop(0));
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));
