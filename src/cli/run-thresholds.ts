/**
 * Thresholds on a run (`busbench run --threshold "p99<50ms" --threshold "lost==0"`):
 * judged when the run ends, printed ✓/✗ one per line, and the run exits 99
 * (EXIT.thresholdFailed) when one fails; with --threshold-abort, the run
 * stops as soon as a threshold that can be judged live fails for good.
 *
 * What `run` wires (src/cli/execute.ts, src/entries/cli.ts):
 *
 *   addThresholdOptions(command): Command
 *       adds --threshold <expr> (repeatable, several per flag separated by
 *       commas), --threshold-abort and --junit <file>.
 *   runThresholds(flags): Threshold[]
 *       the thresholds of those flags; UsageError (exit 2) for a bad one or
 *       a relative value (+10%: compare only). Call it before the run starts.
 *   thresholdAbort(thresholds, stop): (snapshot: LiveSnapshot) => void
 *       with --threshold-abort: feed it a LiveSnapshot built from LiveRun
 *       during the measured phase; the first final failure calls stop(reason)
 *       once (e.g. abort the run's AbortController).
 *   reportThresholds(result, thresholds, stream): boolean
 *       after the run: prints the ✓/✗ lines, returns whether all passed;
 *       on false set process.exitCode = EXIT.thresholdFailed (unless a
 *       signal or a failed run already set another).
 *   writeRunJunit(file, result, thresholds): Promise<void>
 *       with --junit: the same verdicts as JUnit XML (one <testsuite>).
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { RunResult } from '../model/index.js';
import { junitXml } from '../analysis/junit.js';
import { evaluateLive, evaluateRun, judgedLive, parseThresholds, type LiveSnapshot, type RunEvaluation, type Threshold } from '../analysis/thresholds.js';

export interface ThresholdFlags {
  threshold?: string[];
  thresholdAbort?: boolean;
  junit?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function addThresholdOptions(command: Command): Command {
  return command
    .option(
      '--threshold <expr>',
      'judge the run at its end: metric{scope} op value, e.g. "p99<50ms", "timeouts==0", "error_rate<0.1%" (repeatable; exit 99 when one fails)',
      collect,
    )
    .option('--threshold-abort', 'stop the run as soon as a threshold on counts or latency fails for good (the rest are judged at the end)')
    .option('--junit <file>', "write the thresholds' verdicts as JUnit XML (one test case per threshold)");
}

/** The thresholds of --threshold: absolute values only, a run has no baseline. */
export function runThresholds(flags: ThresholdFlags): Threshold[] {
  const thresholds = (flags.threshold ?? []).flatMap((text) => parseThresholds(text, { relative: false, source: '--threshold' }));
  if (flags.thresholdAbort && !thresholds.some(judgedLive)) {
    throw new UsageError(
      thresholds.length === 0
        ? '--threshold-abort needs at least one --threshold'
        : `--threshold-abort: none of ${thresholds.map((t) => t.text).join(', ')} can be judged during the run (counts such as timeouts and errors, and latency percentiles can)`,
    );
  }
  return thresholds;
}

/** For --threshold-abort: judge each snapshot, and stop the run once, at the first failure the rest of the run cannot undo. */
export function thresholdAbort(thresholds: readonly Threshold[], stop: (reason: string) => void): (snapshot: LiveSnapshot) => void {
  const live = thresholds.filter(judgedLive);
  let stopped = false;
  return (snapshot) => {
    if (stopped) return;
    const failed = evaluateLive(snapshot, live).find((e) => e.status === 'failed' && e.final);
    if (failed) {
      stopped = true;
      stop(`threshold ${failed.threshold.text} failed: ${failed.explanation}`);
    }
  };
}

function line(evaluation: RunEvaluation): string {
  return `  ${evaluation.passed ? '✓' : '✗'} ${evaluation.threshold.text.padEnd(16)} ${evaluation.explanation}`;
}

/** Prints the verdicts, one ✓/✗ line per threshold and a summary; true when every threshold passed. */
export function reportThresholds(result: RunResult, thresholds: readonly Threshold[], stream: NodeJS.WritableStream = process.stdout): boolean {
  if (thresholds.length === 0) return true;
  const evaluations = evaluateRun(result, thresholds);
  const failed = evaluations.filter((e) => !e.passed).length;
  const partial = result.stoppedEarly ? ` (the run stopped early: ${result.stoppedEarly.reason}; judged on what ran)` : '';
  stream.write(
    `thresholds:\n${evaluations.map(line).join('\n')}\n` +
      `${failed === 0 ? `all ${evaluations.length} thresholds passed` : `${failed} of ${evaluations.length} thresholds FAILED (exit 99)`}${partial}\n`,
  );
  return failed === 0;
}

export async function writeRunJunit(file: string, result: RunResult, thresholds: readonly Threshold[]): Promise<void> {
  const evaluations = evaluateRun(result, thresholds);
  const xml = junitXml('busbench run', [
    {
      name: result.id,
      properties: {
        scenario: result.scenario.name,
        bus: `${result.provenance.bus.product} ${result.provenance.bus.version}`,
        ...(result.directory ? { results: result.directory } : {}),
      },
      timeSeconds: result.phases.measuredMs / 1000,
      cases: evaluations.map((e) => ({ name: e.threshold.text, outcome: e.passed ? 'pass' : 'fail', message: e.explanation })),
    },
  ]);
  try {
    await writeFile(file, xml);
  } catch (error) {
    throw new UsageError(`--junit ${file}: cannot write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
