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
import { runScenario, type RunOptions } from '../runner/run.js';
import { resolveScenario } from '../scenario/load.js';
import type { Scenario } from '../model/index.js';
import { BUS_KINDS, BUS_PLUGINS } from '../buses/registry.js';
import { busFromUrl, loadSection, runnerSection, type LoadFlags } from './flags.js';

/**
 * Runs, prints, and sets the exit code: interrupted runs exit by their
 * signal (with the summary so far), runs in which nothing worked exit 1.
 */
export async function execute(scenario: Scenario, flags: LoadFlags, extra: Partial<RunOptions> = {}, stop: GracefulStop = gracefulStop()): Promise<void> {
  const result = await runScenario(scenario, {
    resultsRoot: flags.results ? flags.resultsDir : null,
    ...(flags.progress ? { onEvent: progressPrinter() } : {}),
    abort: stop.signal,
    ...extra,
  });
  if (flags.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else process.stdout.write(summaryText(result) + '\n');
  const received = stop.received();
  // A standalone server or listener runs until Ctrl-C: that is its normal end.
  if (received && !extra.untilAborted) process.exitCode = SIGNAL_EXIT[received] ?? EXIT.sigint;
  else if (result.outcome && !result.outcome.ok) process.exitCode = EXIT.failed;
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
