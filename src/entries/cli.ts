#!/usr/bin/env node
/**
 * busbench's command line: parses arguments, builds a scenario, calls the
 * library (runScenario) and prints. Everything here can be done from a
 * script through the same API.
 */
import {
  type LoadFlags,
  addAgentOptions,
  addLoadOptions,
  addMethodOptions,
  addQuickScenarioOptions,
  duration,
  integer,
  positive,
  scenarioFromArguments,
} from '../cli/flags.js';
import { SIGNAL_EXIT, execute, gracefulStop, standaloneCommand, standaloneScenario } from '../cli/execute.js';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { BusUnavailableError, EXIT, InterruptedError, UsageError, exitCodeHelp } from '../errors.js';
import { installSignalHandlers } from '../cleanup.js';
import { parseDuration } from '../scenario/duration.js';
import { ConfigError } from '../config/load.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCampaign } from '../campaign/file.js';
import { describeParameters } from '../campaign/grid.js';
import { runCampaign } from '../campaign/run-campaign.js';
import { campaignProgressPrinter, campaignRunsTable } from '../report/campaign-progress.js';
import { findLimit } from '../limit/find-limit.js';
import { DEFAULT_OBJECTIVE, parseObjective } from '../limit/objective.js';
import { limitProgressPrinter, limitSummaryText } from '../report/limit-summary.js';
import type { Scenario, Objective, SearchSettings } from '../model/index.js';
import { BUSBENCH_VERSION } from '../version.js';
import { addBusCommands } from '../bus/bus-commands.js';
import { addReportCommand } from '../cli/report-command.js';
import { addCompareCommand } from '../cli/compare-command.js';
import { addExportCommand } from '../cli/export-command.js';
import { addThresholdOptions, runThresholds, type ThresholdFlags } from '../cli/run-thresholds.js';
import { LIVE_FLAGS, addLiveOptions, liveExportersOptions, type LiveFlags } from '../cli/live-options.js';
import { startLiveExporters } from '../live/exporters.js';
import { LiveRun } from '../live/aggregate.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('busbench')
    .description(
      'Benchmark the message buses under OpenStack with agents that speak the real oslo.messaging wire.\n' +
        'Without --url busbench starts a local RabbitMQ itself (Debian rabbitmq-server) and stops it afterwards.\n' +
        "A scenario's topology places the bus and the agents on sites (network namespaces here, or hosts over ssh) " +
        'with delay, loss, rate limits and outages between them: see scenarios/geo-three-sites.yaml.',
    )
    .version(BUSBENCH_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `\n${exitCodeHelp()}`)
    // Flag errors exit 2 like every other bad input (commander's own default is 1): see main().
    .exitOverride();

  addLiveOptions(
    addThresholdOptions(
      addMethodOptions(
        addQuickScenarioOptions(
          program
            .command('run')
            .summary('run a scenario file, or a quick scenario from flags')
            .description(
              'Run a benchmark: start the bus (unless --url), start the agents in worker threads, warm up, measure, ' +
                'print a table of throughput and latency per role and pattern, and write results/<scenario>-<timestamp>/.',
            )
            .addHelpText(
              'after',
              '\nExamples:\n' +
                '  busbench run scenarios/quickstart.yaml\n' +
                '  busbench run --pattern call --target anycast --clients 50 --servers 5 --messages 20000\n' +
                '  busbench run --patterns call/unicast,cast/multicast --clients 20 --servers 4 --duration 30s\n' +
                '  busbench run --patterns call/anycast:9,cast/anycast:1 --mix messages --payload-bytes 512:90,64KiB:10\n' +
                '  busbench run scenarios/seed-anycast-call.yaml --url rabbit://guest:guest@10.0.0.5:5672/\n\n' +
                "With a scenario file, every flag given on the command line overrides the file's field (--clients sets agents.clients, …),\n" +
                "before validation, so the file's rules apply to the result; --set field=value sets any other field.\n" +
                'Ctrl-C (or SIGTERM) stops the run: the summary so far is printed and result.json is written, marked partial.\n\n' +
                exitCodeHelp(),
            )
            .argument('[scenario]', 'scenario YAML file (see scenarios/); omit to use the flags below'),
        ),
      ),
    ),
  ).action(async (file: string | undefined, flags: LoadFlags & ThresholdFlags & LiveFlags & Record<string, unknown>, command: Command) => {
    // Bad thresholds are bad input: refused before anything starts.
    const thresholds = runThresholds(flags);
    const stop = gracefulStop();
    const scenario = await scenarioFromArguments(file, flags, command);
    await execute(scenario, flags, {}, stop, thresholds);
  });

  addQuickScenarioOptions(
    program
      .command('limit')
      .summary('find the highest rate at which the bus holds a latency objective')
      .description(
        'Find the limit: deploy the bus once, then run the scenario open loop at a rising total rate (spread evenly over the senders), ' +
          'one step at a time, each on a topic of its own. While the objective holds the rate is multiplied by --step-factor; once a step fails, ' +
          'the gap between the best rate that held and the lowest that failed is halved until it is within --precision. ' +
          "Latency is judged from each message's intended send time (calls, at the clients) or one-way (casts and notifications, at the receivers), " +
          'so a bus that falls behind fails the objective instead of quietly slowing the senders down. ' +
          "A step whose load generator saturates ends the search: beyond it the figures would be busbench's, not the bus's.",
      )
      .addHelpText(
        'after',
        '\nObjective clauses, joined by commas: pNN<time (p50, p99, p99.9: from the latency histogram), max<time, timeouts=N, errors=N, lost=N.\n' +
          '\nExamples:\n' +
          '  busbench limit --clients 20 --servers 4 --objective "p99<50ms,timeouts=0"\n' +
          '  busbench limit scenarios/openstack-mix.yaml --start-rate 500 --step-duration 20s\n' +
          '  busbench limit --url rabbit://guest:guest@10.0.0.5:5672/ --objective "p99.9<100ms" --require-rate 2000   # CI gate\n\n' +
          'Writes results/<scenario>-limit-<timestamp>/limit.json (rewritten after every step) and a run directory per step.\n' +
          exitCodeHelp(),
      )
      .argument('[scenario]', 'scenario YAML file (see scenarios/); omit to use the flags below')
      .option('--objective <clauses>', 'what a step must hold', DEFAULT_OBJECTIVE)
      .option('--start-rate <n>', 'total messages/s of the first step (default: 10 per sender)', positive('--start-rate'))
      .option('--step-factor <x>', 'multiply (or divide) the rate by this until the limit is bracketed', positive('--step-factor'), 2)
      .option(
        '--precision <fraction>',
        'stop when the lowest failing rate is within this fraction above the highest holding one',
        positive('--precision'),
        0.05,
      )
      .option('--max-rate <n>', 'never offer more than this many messages/s in total', positive('--max-rate'))
      .option('--min-rate <n>', 'never offer less than this many messages/s in total', positive('--min-rate'), 1)
      .option('--max-steps <n>', 'the most steps to run', integer('--max-steps', 1), 20)
      .option('--step-duration <time>', 'measured time of each step', duration('--step-duration'), '10s')
      .option('--require-rate <n>', `exit ${EXIT.gate} unless the limit found is at least this many messages/s (a CI gate)`, positive('--require-rate')),
  ).action(async (file: string | undefined, flags: LoadFlags & Record<string, unknown>, command: Command) => {
    installSignalHandlers();
    for (const name of ['rate', 'messages', 'duration']) {
      if (command.getOptionValueSource(name) === 'cli') {
        throw new UsageError(
          `--${name} does not apply to limit: the search sets the rate and runs each step for --step-duration (use --start-rate, --max-rate, --step-duration)`,
        );
      }
    }
    let objective: Objective;
    try {
      objective = parseObjective(flags['objective'] as string);
    } catch (error) {
      throw new UsageError(`--objective: ${(error as Error).message}`);
    }
    const scenario = await scenarioFromArguments(file, flags, command);
    const senders = scenario.agents.clients + scenario.agents.notifiers;
    const search: SearchSettings = {
      startRate: (flags['startRate'] as number | undefined) ?? 10 * Math.max(1, senders),
      factor: flags['stepFactor'] as number,
      precision: flags['precision'] as number,
      minRate: flags['minRate'] as number,
      maxSteps: flags['maxSteps'] as number,
      ...(flags['maxRate'] !== undefined ? { maxRate: flags['maxRate'] as number } : {}),
    };
    if (!(search.factor > 1)) throw new UsageError(`--step-factor must be > 1, got ${search.factor}`);
    const result = await findLimit(scenario, {
      objective,
      search,
      stepDurationMs: parseDuration(flags['stepDuration'] as string),
      warmupMs: scenario.load.warmupMs,
      resultsRoot: flags.results ? flags.resultsDir : null,
      ...(flags.progress ? { onEvent: limitProgressPrinter() } : {}),
    });
    if (flags.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else process.stdout.write(limitSummaryText(result) + '\n');
    const required = flags['requireRate'] as number | undefined;
    if (required !== undefined && (result.limitPerSec ?? 0) < required) {
      process.stderr.write(`busbench: the limit found (${result.limitPerSec ?? 'none'} msg/s) is below --require-rate ${required}\n`);
      process.exitCode = EXIT.gate;
    }
  });

  const campaignCommand = program
    .command('campaign')
    .summary('sweep a grid of scenarios, resumable')
    .description(
      "Run every scenario of a campaign file's grid in order, each deployed, benchmarked, saved and cleaned up, into " +
        "<results-dir>/<campaign>/runs/<id>/, where <id> is a hash of the run's parameters. A run is finished once its done.json is written; " +
        'rerunning the campaign skips finished runs and redoes any other, so a crash, Ctrl-C or kill -9 loses at most the run that was going. ' +
        "Every run's scenario is validated before the first starts.",
    )
    .addHelpText(
      'after',
      '\nA campaign file:\n' +
        '  name: clients-sweep\n' +
        '  scenario: ../scenarios/quickstart.yaml   # relative to the campaign file\n' +
        '  budget: 14h                              # optional: stop between runs when the next would not fit\n' +
        '  grid: {agents.clients: [10, 100, 1000], load.patterns: [[call/anycast], [cast/multicast]]}\n' +
        '  zip: {agents.servers: [2, 20], agents.topic: [small, large]}   # advanced together\n' +
        '  exclude: [{agents.clients: 1000, load.patterns: [cast/multicast]}]\n' +
        '  repeat: 3                                # optional: every point 3 times, the run-to-run noise compare weighs\n' +
        '\nExamples:\n  busbench campaign campaigns/clients-sweep.yaml --dry-run\n  busbench campaign campaigns/clients-sweep.yaml --budget 8h\n' +
        `\nA failed run exits ${EXIT.failed} (rerun to retry it); a budget stop exits ${EXIT.budget} (rerun to continue).\n${exitCodeHelp()}`,
    )
    .argument('<file>', 'campaign YAML file')
    .option('--results-dir <dir>', 'where the campaign directory goes', 'results')
    .option('--budget <time>', "time budget for this invocation (overrides the file's), e.g. 8h", duration('--budget'))
    .option('--dry-run', 'list the runs, their ids and whether they are finished; run nothing')
    .option('--no-progress', 'no progress lines on stderr');
  addLiveOptions(campaignCommand).action(
    async (file: string, flags: { resultsDir: string; budget?: string; dryRun?: boolean; progress: boolean } & LiveFlags) => {
      installSignalHandlers();
      const campaign = await loadCampaign(file);
      if (flags.dryRun) {
        const runsDir = join(flags.resultsDir, campaign.name, 'runs');
        for (const run of campaign.runs) {
          const finished = existsSync(join(runsDir, run.id, 'done.json'));
          process.stdout.write(
            `${String(run.index + 1).padStart(4)}  ${run.id}  ${finished ? 'finished' : 'to run  '}  ${describeParameters(run.parameters) || '(base scenario)'}\n`,
          );
        }
        return;
      }
      const exporters = await startLiveExporters({
        ...liveExportersOptions(flags),
        say: (level, message) => process.stderr.write(`${level}: ${message}\n`),
      });
      if (exporters.prometheusUrl) process.stderr.write(`live metrics for Prometheus at ${exporters.prometheusUrl}\n`);
      const exporting = flags.prometheus !== undefined || flags.influx !== undefined;
      // Each run gets its own live view, followed by the exporters from its start (the previous one keeps its final series).
      let live: LiveRun | undefined;
      const progress = flags.progress ? campaignProgressPrinter(process.stderr, () => live) : undefined;
      let outcome;
      try {
        outcome = await runCampaign(campaign, {
          resultsRoot: flags.resultsDir,
          ...(flags.budget !== undefined ? { budgetMs: parseDuration(flags.budget) } : {}),
          onEvent: (event) => {
            // One live view per run, shared by the exporters and the run's progress line, fed before either reads it.
            if ((exporting || flags.progress) && event.type === 'run-start') exporters.attach((live = new LiveRun()));
            if (event.type === 'run-event') live?.take(event.event);
            progress?.(event);
          },
        });
      } finally {
        await exporters.close();
      }
      process.stdout.write(`${campaignRunsTable(campaign, outcome)}\n`);
      process.stdout.write(
        `campaign ${campaign.name}: ${outcome.skipped + outcome.completed}/${outcome.total} runs finished ` +
          `(${outcome.completed} now, ${outcome.skipped} before), ${outcome.failed.length} failed, ${outcome.leftForBudget} left for the budget; ${outcome.directory}/runs.json\n`,
      );
      if (outcome.failed.length > 0) process.exitCode = EXIT.failed;
      else if (outcome.leftForBudget > 0) process.exitCode = EXIT.budget;
    },
  );

  addBusCommands(program, LIVE_FLAGS);
  addReportCommand(program);
  addCompareCommand(program);
  addExportCommand(program);

  addAgentOptions(
    standaloneCommand(
      program,
      'rpc-server',
      'serve an RPC topic until Ctrl-C (one agent kind per process, like ombt)',
      'Start RPC server agents on an existing bus and serve until Ctrl-C; then print what they received.',
      'Example:\n  busbench rpc-server --url rabbit://guest:guest@host:5672/ --topic t --server s1',
    )
      .option('--topic <topic>', 'RPC topic to serve', 'busbench')
      .option('--server <name>', 'server name (the unicast target); with --servers N: <name>-0 … <name>-(N-1)', 'server')
      .option('--servers <n>', 'server agents in this process', integer('--servers', 1), 1),
  ).action(async (flags: LoadFlags & { url: string; bus?: string; exchange: string; topic: string; server: string; servers: number }) => {
    const stop = gracefulStop();
    const scenario = standaloneScenario('rpc-server', flags, { servers: flags.servers }, [{ method: 'call', target: 'anycast' }], false);
    // Server names as the user chose them, not busbench's server-<i>; a lost connection is retried, as oslo servers do.
    await execute(scenario, flags, { untilAborted: stop.signal, reconnect: true, serverNames: serverNames(flags.server, flags.servers) }, stop);
  });

  addMethodOptions(
    addLoadOptions(
      standaloneCommand(
        program,
        'rpc-client',
        'call or cast an RPC topic served elsewhere',
        'Start RPC client agents on an existing bus, send calls (or casts) to a topic, print throughput and latency.',
        'Examples:\n  busbench rpc-client --url rabbit://guest:guest@host:5672/ --topic t --calls 1000\n' +
          '  busbench rpc-client --url ... --topic t --server s1 --cast --calls 500\n  busbench rpc-client --url ... --topic t --fanout --calls 100',
      )
        .option('--topic <topic>', 'RPC topic to address', 'busbench')
        .option('--server <name>', 'unicast to this server (default: anycast to any server of the topic)')
        .option('--cast', 'cast instead of call (no reply)')
        .option('--fanout', 'cast to every server of the topic (multicast)')
        .option('--calls <n>', 'measured calls (or casts) in total; same as --messages', integer('--calls', 1))
        .option('--clients <n>', 'client agents in this process', integer('--clients', 1), 1),
    ),
  ).action(
    async (
      flags: LoadFlags & {
        url: string;
        bus?: string;
        exchange: string;
        topic: string;
        server?: string;
        cast?: boolean;
        fanout?: boolean;
        calls?: number;
        clients: number;
      },
    ) => {
      if (flags.calls !== undefined) flags.messages = flags.calls;
      const target = flags.fanout ? 'multicast' : flags.server ? 'unicast' : 'anycast';
      const method = flags.fanout || flags.cast ? 'cast' : 'call';
      const scenario = standaloneScenario('rpc-client', flags, { clients: flags.clients }, [{ method, target }]);
      await execute(scenario, flags, flags.server ? { serverNames: [flags.server] } : {});
    },
  );

  addLoadOptions(
    standaloneCommand(
      program,
      'notifier',
      'send oslo notifications',
      'Start notifier agents on an existing bus and send notifications on <topic>.<priority>.',
      'Example:\n  busbench notifier --url rabbit://guest:guest@host:5672/ --messages 1000',
    )
      .option('--topic <topic>', 'notification topic', 'notifications')
      .option('--priority <priority>', 'notification priority', 'info')
      .option('--notifiers <n>', 'notifier agents in this process', integer('--notifiers', 1), 1),
  ).action(async (flags: LoadFlags & { url: string; bus?: string; exchange: string; topic: string; priority: string; notifiers: number }) => {
    const scenario = standaloneScenario(
      'notifier',
      { ...flags, topic: 'busbench' },
      { notifiers: flags.notifiers, notificationTopic: flags.topic, notificationPriority: flags.priority as Scenario['agents']['notificationPriority'] },
      [],
    );
    await execute(scenario, flags);
  });

  addAgentOptions(
    standaloneCommand(
      program,
      'listener',
      'consume oslo notifications until Ctrl-C',
      'Start notification listener agents on an existing bus and consume <topic>.<priority> until Ctrl-C.',
      'Example:\n  busbench listener --url rabbit://guest:guest@host:5672/',
    )
      .option('--topic <topic>', 'notification topic', 'notifications')
      .option('--priority <priority>', 'notification priority', 'info')
      .option('--listeners <n>', 'listener agents in this process', integer('--listeners', 1), 1),
  ).action(async (flags: LoadFlags & { url: string; bus?: string; exchange: string; topic: string; priority: string; listeners: number }) => {
    const stop = gracefulStop();
    const scenario = standaloneScenario(
      'listener',
      { ...flags, topic: 'busbench' },
      { listeners: flags.listeners, notificationTopic: flags.topic, notificationPriority: flags.priority as Scenario['agents']['notificationPriority'] },
      [],
      false,
    );
    await execute(scenario, flags, { untilAborted: stop.signal, reconnect: true }, stop);
  });

  return program;
}

function serverNames(base: string, count: number): string[] {
  return count === 1 ? [base] : Array.from({ length: count }, (_, i) => `${base}-${i}`);
}

/** Which exit code an error ends the command with (see EXIT in errors.ts). */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError || error instanceof UsageError || error instanceof InvalidArgumentError) return EXIT.usage;
  if (error instanceof CommanderError) return EXIT.usage;
  if (error instanceof BusUnavailableError) return EXIT.busUnavailable;
  if (error instanceof InterruptedError) return SIGNAL_EXIT[/SIG[A-Z]+/.exec(error.message)?.[0] ?? 'SIGINT'] ?? EXIT.sigint;
  return EXIT.failed;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message (or the help, or the version) already.
      process.exitCode = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code) ? EXIT.ok : EXIT.usage;
      return;
    }
    // Expected failures (bad scenario, campaign or inventory file, broker missing, connection refused) print as one message, no stack.
    const message = error instanceof ConfigError ? (error as Error).message : `busbench: ${(error as Error).message ?? String(error)}`;
    process.stderr.write(`${message}\n`);
    if (process.env['BUSBENCH_DEBUG'] && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = exitCodeFor(error);
  }
}

void main();
