/**
 * What every phase of a run shares: the scenario, where it reports, where
 * it writes, and the cleanups it registered. Made once by runScenario.
 */
import type { RunEvent, RunOptions } from '../events.js';
import { sleep } from '../../util/process.js';
import type { RunLog } from '../../results/write.js';
import type { Role, Scenario } from '../../model/index.js';

export interface RunContext {
  scenario: Scenario;
  options: RunOptions;
  emit(event: RunEvent): void;
  say(level: 'info' | 'warn' | 'error', message: string): void;
  startedAt: Date;
  directory: { id: string; path: string } | undefined;
  log: RunLog | undefined;
  requested: Record<Role, number>;
  totalAgents: number;
  /** unregistered when the run ends, however it ends */
  cleanups: (() => void)[];
  /** what the phases started and the run must stop, however it ends: run last first, before the deployment goes */
  atEnd: (() => Promise<void>)[];
}

/** The run's id: its results directory's name, or the scenario's name and start time when it writes none. */
export function runId(scenario: Scenario, directory: { id: string } | undefined, startedAt: Date): string {
  return directory?.id ?? `${scenario.name}-${startedAt.toISOString()}`;
}

export function waitAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/** Sleeps `ms`, or less if `signal` aborts first. */
export function sleepUnless(ms: number, signal: AbortSignal): Promise<void> {
  return Promise.race([sleep(ms), waitAbort(signal)]);
}
