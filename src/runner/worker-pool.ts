/**
 * The main thread's side of the agent workers: starts them, sends control
 * messages over their MessagePorts and gathers one answer from each.
 */
import { localEntry } from '../util/entries.js';
import { Worker } from 'node:worker_threads';
import type { MainToWorker, WorkerInit, WorkerToMain } from '../model/index.js';
import type { WorkerHandle } from './agent-hosts.js';
import { workerResourceLimits } from './heap-mode.js';

const WORKER_ENTRY = localEntry('agentWorker');

type Listener = (message: WorkerToMain, workerIndex: number) => void;

export class AgentWorkerPool {
  private readonly workers: WorkerHandle[];
  private readonly listeners = new Set<Listener>();
  private failure: Error | undefined;
  private readonly failureWaiters = new Set<(error: Error) => void>();

  /** Worker threads of this process, one per init. */
  static inThreads(inits: WorkerInit[]): AgentWorkerPool {
    return new AgentWorkerPool(inits.map((init) => new Worker(WORKER_ENTRY, { workerData: init, resourceLimits: workerResourceLimits(init) }) as WorkerHandle));
  }

  /** Workers already started, near (threads) or far (agent hosts); their order is the workers' numbering. */
  constructor(handles: WorkerHandle[]) {
    this.workers = handles.map((worker, index) => {
      worker.on('message', (message) => {
        for (const listener of this.listeners) listener(message as WorkerToMain, index);
      });
      worker.on('error', (error) => this.fail(new Error(`agent worker ${index} crashed: ${error.message}`)));
      worker.on('exit', (code) => {
        if (code !== 0 && !this.terminating) this.fail(new Error(`agent worker ${index} exited with code ${code}`));
      });
      return worker;
    });
  }

  private terminating = false;

  get size(): number {
    return this.workers.length;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.failureWaiters) waiter(error);
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(worker: number, message: MainToWorker): void {
    this.workers[worker]!.postMessage(message);
  }

  broadcast(message: MainToWorker): void {
    for (const worker of this.workers) worker.postMessage(message);
  }

  /** Send `request` (if any) to every worker and wait for one message of `type` from each. */
  gather<T extends WorkerToMain['type']>(type: T, request?: MainToWorker, timeoutMs = 0): Promise<Extract<WorkerToMain, { type: T }>[]> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const answers = new Array<Extract<WorkerToMain, { type: T }>>(this.workers.length);
      let missing = this.workers.length;
      let timer: NodeJS.Timeout | undefined;
      const done = (error?: Error): void => {
        unsubscribe();
        this.failureWaiters.delete(onFailure);
        if (timer) clearTimeout(timer);
        if (error) reject(error);
        else resolve(answers);
      };
      const onFailure = (error: Error): void => done(error);
      const unsubscribe = this.on((message, index) => {
        if (message.type !== type || answers[index] !== undefined) return;
        answers[index] = message as Extract<WorkerToMain, { type: T }>;
        if (--missing === 0) done();
      });
      this.failureWaiters.add(onFailure);
      if (timeoutMs > 0) timer = setTimeout(() => done(new Error(`workers did not answer "${type}" within ${timeoutMs} ms`)), timeoutMs);
      if (request) this.broadcast(request);
    });
  }

  /** Ask every worker to close its agents, then end the threads (forcibly after `graceMs`). */
  async shutdown(graceMs = 10_000): Promise<void> {
    if (this.terminating) return;
    try {
      if (!this.failure) await this.gather('closed', { type: 'shutdown' }, graceMs);
    } catch {
      // a worker that does not close in time is terminated below
    } finally {
      this.terminating = true;
      await Promise.all(this.workers.map((worker) => worker.terminate()));
    }
  }
}
