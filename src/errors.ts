/**
 * The one table of exit codes every command uses, and the errors that map
 * to them. `busbench --help` and the README print EXIT_CODE_TABLE.
 */

export const EXIT = {
  /** the command did what it was asked and measured something */
  ok: 0,
  /** it ran, but nothing worked: the bus went away, nothing was sent or received, every call failed; a campaign run failed */
  failed: 1,
  /** bad input: a flag, a scenario or campaign file; nothing ran */
  usage: 2,
  /** the bus could not be used: it did not deploy, or no agent could connect */
  busUnavailable: 3,
  /** a gate failed: limit found below --require-rate */
  gate: 4,
  /** a campaign stopped at its time budget; rerun to continue */
  budget: 5,
  /** compare: the difference lies within the run-to-run noise, so no threshold can be said to hold or fail */
  inconclusive: 98,
  /** a threshold failed: `run --threshold`, or `compare` found a regression (99, as k6's thresholds) */
  thresholdFailed: 99,
  /** interrupted by Ctrl-C (SIGINT): partial results written when the measured phase had begun */
  sigint: 130,
  /** terminated by SIGTERM: likewise */
  sigterm: 143,
  /** hung up (SIGHUP, a closed terminal): likewise */
  sighup: 129,
} as const;

export const EXIT_CODE_TABLE: readonly [number, string][] = [
  [EXIT.ok, 'completed, and something was measured'],
  [EXIT.failed, 'completed, but nothing worked: the bus went away, nothing was sent or received, or every call failed (campaign: a run failed)'],
  [EXIT.usage, 'bad input: a flag, a scenario or campaign file (nothing ran)'],
  [EXIT.busUnavailable, 'the bus could not be used: it did not deploy, or no agent could connect'],
  [EXIT.gate, 'a gate failed: limit found below --require-rate'],
  [EXIT.budget, 'campaign stopped at its time budget (rerun to continue)'],
  [EXIT.inconclusive, 'compare: inconclusive, the difference lies within the noise of the runs'],
  [EXIT.thresholdFailed, 'a threshold failed (run --threshold), or compare found a regression'],
  [EXIT.sigint, 'interrupted by Ctrl-C: summary and result.json so far, marked partial'],
  [EXIT.sigterm, 'stopped by SIGTERM: likewise'],
  [EXIT.sighup, 'hung up (SIGHUP, the terminal closed): likewise'],
];

export function exitCodeHelp(): string {
  return `Exit codes (every command):\n${EXIT_CODE_TABLE.map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`).join('\n')}`;
}

/** Bad input that is not a configuration file's (those are ConfigError: scenario, campaign, inventory): exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The bus could not be deployed or reached: exit 3. */
export class BusUnavailableError extends Error {
  override readonly name = 'BusUnavailableError';
}

/** Stopped by a signal before anything was measured. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
}
