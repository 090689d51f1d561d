/**
 * How V8 sizes the heaps of the processes holding agents (runner.heap). By
 * default V8 lets a heap grow well past its live size between major
 * collections; with thousands of agents in a process that slack is most of
 * their memory. Measured with bench/density-cli.ts, 15,000 clients in one
 * worker, 0.1 calls/s each (30,000 due in 20 s): on RabbitMQ 46–47 KiB of
 * RSS per agent with V8's defaults and 19,000–22,000 calls answered, 28–29
 * KiB optimised for size and 15,000–16,000; through qdrouterd 87 KiB and
 * 30,000, 51 KiB and 15,800. The collector's extra work holds the worker
 * back, so size is asked for, not taken by default.
 *
 * V8's flags are the process's: set before the worker isolates are created
 * (each reads them as it starts), and never unset.
 */
import { setFlagsFromString } from 'node:v8';
import type { WorkerInit } from '../model/index.js';

let sizeApplied = false;

/** Applies the heap the workers about to start with `inits` in this process asked for, and says which. */
export function applyHeap(inits: readonly WorkerInit[]): 'speed' | 'size' {
  const size = inits.some((i) => i.heap === 'size');
  if (size && !sizeApplied) {
    setFlagsFromString('--optimize-for-size');
    sizeApplied = true;
  }
  return size ? 'size' : 'speed';
}

/** The summary's words for it. */
export function describeHeap(heap: 'speed' | 'size', agents: number): string {
  return heap === 'size'
    ? `optimised for size (runner.heap: size; ${agents.toLocaleString('en-US')} agents)`
    : "V8's defaults (runner.heap: speed; size takes less memory per agent at thousands of agents)";
}
