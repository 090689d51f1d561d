/**
 * Running a scenario from the command line: progress and summary on the
 * console, a graceful stop on Ctrl-C, SIGTERM and SIGHUP, and the
 * scenarios of the standalone agent commands.
 */
import { Command, Option } from 'commander';
import { EXIT } from '../errors.js';
import { installCrashHandlers, installSignalHandlers } from '../cleanup.js';
import { progressPrinter } from '../report/progress.js';
import { summaryText } from '../report/summary.js';
import { runScenario, type RunEvent, type RunOptions } from '../runner/run.js';
import { LiveRun } from '../live/aggregate.js';
import { resolveScenario } from '../scenario/load.js';
import type { RunResult, Scenario } from '../model/index.js';
import { startLiveExporters } from '../live/exporters.js';
import { liveExportersOptions, type LiveFlags } from './live-options.js';
import { BUS_KINDS, BUS_PLUGINS } from '../buses/registry.js';
import { busFromUrl, loadSection, runnerSection, type LoadFlags } from './flags.js';
import type { Threshold } from '../analysis/thresholds.js';
import { reportThresholds, thresholdAbort, writeRunJunit, type ThresholdFlags } from './run-thresholds.js';

/**
 * Runs, prints, and sets the exit code: interrupted runs exit by their
 * signal (with the summary so far), runs in which nothing worked exit 1.
 */
export async function execute(
  scenario: Scenario,
  flags: LoadFlags & ThresholdFlags & LiveFlags,
  extra: Partial<RunOptions> = {},
  stop: GracefulStop = gracefulStop(),
  thresholds: readonly Threshold[] = [],
): Promise<void> {
  const abortOnThreshold = flags.thresholdAbort === true && thresholds.length > 0;
  // Before anything starts: a port already taken is bad input, not a failed run.
  const exporters = await startLiveExporters({ ...liveExportersOptions(flags), say: (level, message) => process.stderr.write(`${level}: ${message}\n`) });
  const exporting = flags.prometheus !== undefined || flags.influx !== undefined;
  if (exporters.prometheusUrl) process.stderr.write(`live metrics for Prometheus at ${exporters.prometheusUrl}\n`);
  // One live view of the run for everything that watches it as it goes; none when nothing does (it decodes every second's histograms).
  const live = flags.progress || abortOnThreshold || exporting ? new LiveRun() : undefined;
  if (live) exporters.attach(live);
  const watchers: ((event: RunEvent) => void)[] = [];
  if (live) watchers.push(live.take);
  if (flags.progress) watchers.push(progressPrinter(process.stderr, { live }));
  // --threshold-abort: judged at each tick of the measured phase; the first failure the rest of the run cannot undo stops it.
  const thresholdStop = new AbortController();
  if (live && abortOnThreshold) {
    const judge = thresholdAbort(thresholds, (reason) => {
      process.stderr.write(`busbench: ${reason}: stopping the run (--threshold-abort)\n`);
      thresholdStop.abort(reason);
    });
    watchers.push((event) => {
      if (event.type === 'tick' && live.phase === 'measure') {
        judge({ groups: [...live.groups.values()].map((g) => ({ role: g.role, pattern: g.pattern, counters: g.counters, latency: g.latency })) });
      }
    });
  }
  let result: RunResult;
  try {
    result = await runScenario(scenario, {
      resultsRoot: flags.results ? flags.resultsDir : null,
      ...(watchers.length > 0 ? { onEvent: (event: RunEvent) => watchers.forEach((watch) => watch(event)) } : {}),
      abort: AbortSignal.any([stop.signal, thresholdStop.signal]),
      ...extra,
    });
  } finally {
    // Prometheus gets its last scrape of the final figures, InfluxDB what is left; then the port is free again.
    await exporters.close();
  }
  if (flags.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else process.stdout.write(summaryText(result) + '\n');
  const thresholdsPassed = reportThresholds(result, thresholds);
  if (flags.junit && thresholds.length > 0) await writeRunJunit(flags.junit, result, thresholds);
  const received = stop.received();
  // A standalone server or listener runs until Ctrl-C: that is its normal end.
  if (received && !extra.untilAborted) process.exitCode = SIGNAL_EXIT[received] ?? EXIT.sigint;
  else if (result.outcome && !result.outcome.ok) process.exitCode = EXIT.failed;
  else if (!thresholdsPassed || thresholdStop.signal.aborted) process.exitCode = EXIT.thresholdFailed;
}

/** The options every standalone agent command has: where the bus is. */
export function standaloneCommand(program: Command, name: string, summary: string, description: string, example: string): Command {
  return program
    .command(name)
    .summary(summary)
    .description(description)
    .addHelpText('after', `\n${example}`)
    .requiredOption('--url <url>', 'transport URL of the bus, e.g. rabbit://guest:guest@host:5672/ or amqp://host:5672/')
    .addOption(
      new Option(
        '--bus <kind>',
        `bus kind: ${BUS_PLUGINS.map((plugin) => plugin.summary).join(' or ')}; default: from the URL, ${BUS_PLUGINS.map((plugin) => plugin.scheme).join(' or ')} as oslo reads them`,
      ).choices([...BUS_KINDS]),
    )
    .option('--exchange <name>', 'oslo control exchange', 'openstack');
}

/** Standalone agent modes: one kind of agent per process (like ombt), against an existing bus. */
export function standaloneScenario(
  name: string,
  flags: LoadFlags & { url: string; bus?: string; exchange: string; topic: string },
  agents: Partial<Scenario['agents']>,
  patterns: Scenario['load']['patterns'],
  warmup = true,
): Scenario {
  const raw = {
    name,
    bus: { kind: flags.bus ?? busFromUrl(flags.url) ?? BUS_KINDS[0]!, url: flags.url, exchange: flags.exchange },
    agents: { servers: 0, clients: 0, notifiers: 0, listeners: 0, topic: flags.topic, ...toSnake(agents) },
    load: { ...loadSection(flags), ...(warmup ? {} : { warmup: 0 }) },
    runner: runnerSection(flags),
  };
  const scenario = resolveScenario(raw, '<command line>', { crossFieldChecks: false, overrides: flags.set ?? [] });
  scenario.load.patterns = patterns;
  return scenario;
}

export function toSnake(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
}

/** a closed terminal (SIGHUP) must not leave a broker behind either */
export const GRACEFUL_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
export const SIGNAL_EXIT: Record<string, number> = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm, SIGHUP: EXIT.sighup };

export interface GracefulStop {
  signal: AbortSignal;
  /** the signal that stopped the run, if one did */
  received(): NodeJS.Signals | undefined;
}

/**
 * First Ctrl-C (or SIGTERM): stop sending, settle briefly, print and save
 * what was measured, marked partial (as k6 and PerfTest do); a second one
 * cleans up and exits at once.
 */
export function gracefulStop(): GracefulStop {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    received = signal;
    for (const s of GRACEFUL_SIGNALS) process.off(s, onSignal);
    process.stderr.write(
      `\n${signal}: stopping, then printing and saving what was measured (${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to abort)…\n`,
    );
    controller.abort(signal);
    installSignalHandlers();
  };
  for (const s of GRACEFUL_SIGNALS) process.once(s, onSignal);
  installCrashHandlers();
  return { signal: controller.signal, received: () => received };
}
