#!/usr/bin/env node
/**
 * busbench's command line: parses arguments, builds a scenario, calls the
 * library (runScenario) and prints. Everything here can be done from a
 * script through the same API.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { BusUnavailableError, EXIT, InterruptedError, UsageError, exitCodeHelp } from '../errors.js';
import { installCrashHandlers, installSignalHandlers } from '../cleanup.js';
import { progressPrinter } from '../report/progress.js';
import { summaryText } from '../report/summary.js';
import { runScenario, type RunOptions } from '../runner/run.js';
import { parseDuration } from '../scenario/duration.js';
import { ConfigError } from '../config/load.js';
import { loadScenario, resolveScenario, type FieldOverride } from '../scenario/load.js';
import { parseSize } from '../scenario/size.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCampaign } from '../campaign/file.js';
import { describeParameters } from '../campaign/grid.js';
import { runCampaign } from '../campaign/run-campaign.js';
import { campaignProgressPrinter } from '../report/campaign-progress.js';
import { findLimit } from '../limit/find-limit.js';
import { DEFAULT_OBJECTIVE, parseObjective } from '../limit/objective.js';
import { limitProgressPrinter, limitSummaryText } from '../report/limit-summary.js';
import type { Scenario, Objective, SearchSettings } from '../model/index.js';
import { BUSBENCH_VERSION } from '../version.js';
import { BUS_KINDS, BUS_PLUGINS } from '../buses/registry.js';
import { addBusCommands } from '../bus/bus-commands.js';

function integer(name: string, min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number >= ${min}, got "${value}"`);
    return n;
  };
}

function positive(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number > 0, got "${value}"`);
    return n;
  };
}

function duration(name: string, { positive = false } = {}): (value: string) => string {
  return (value) => {
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch (error) {
      throw new InvalidArgumentError(`${name}: ${(error as Error).message}`);
    }
    if (positive && ms === 0) throw new InvalidArgumentError(`${name} must be longer than 0, e.g. 30s`);
    return value;
  };
}

/** --args: a JSON object, the call's keyword arguments. */
function argsFlag(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`--args: not JSON (${(error as Error).message}); write an object, e.g. '{"data": "x"}'`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidArgumentError(`--args: must be a JSON object of keyword arguments, e.g. '{"data": "x"}'`);
  return parsed as Record<string, unknown>;
}

/** --set field=value, repeatable: any scenario field, the value read as YAML (100, true, [a, b], 4KiB). */
function setFlag(value: string, previous: FieldOverride[] = []): FieldOverride[] {
  const match = /^([a-z_]+(?:\.[a-z_]+)+)=(.*)$/s.exec(value);
  if (!match) throw new InvalidArgumentError(`--set: "${value}" is not field=value with a dotted scenario field, e.g. --set load.rate=100`);
  let parsed: unknown;
  try {
    parsed = parseYaml(match[2]!);
  } catch (error) {
    throw new InvalidArgumentError(`--set ${match[1]}: the value is not YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return [...previous, { field: match[1]!, value: parsed, from: `--set ${value}` }];
}

/**
 * --payload-bytes in the scenario file's own forms: "64" or "4KiB" (fixed),
 * "64-4096" (uniform), "512:90,16KiB:9,256KiB:1" (size:weight list).
 */
function payloadFlag(value: string): unknown {
  const size = (text: string): string | number => {
    try {
      parseSize(text);
    } catch (error) {
      throw new InvalidArgumentError(`--payload-bytes: ${(error as Error).message}`);
    }
    return /^\d+$/.test(text.trim()) ? Number(text) : text.trim();
  };
  if (value.includes(':')) {
    return value.split(',').map((item) => {
      const [bytes, weight, extra] = item.split(':');
      const w = Number(weight);
      if (extra !== undefined || bytes === undefined || !Number.isFinite(w) || w <= 0) {
        throw new InvalidArgumentError(`--payload-bytes: "${item}" is not size:weight (e.g. 512:90,16KiB:10)`);
      }
      return { bytes: size(bytes), weight: w };
    });
  }
  const range = /^([^-]+)-([^-]+)$/.exec(value);
  if (range) return { min: size(range[1]!), max: size(range[2]!) };
  return size(value);
}

/** --patterns call/anycast:3,cast/multicast → the file's pattern list, weights where given. */
function patternsFlag(value: string): unknown[] {
  return value.split(',').map((item) => {
    const [pattern, weight, extra] = item.trim().split(':');
    if (weight === undefined) return pattern;
    const w = Number(weight);
    if (extra !== undefined || !Number.isFinite(w) || w <= 0)
      throw new InvalidArgumentError(`--patterns: "${item}" is not pattern[:weight] (e.g. call/anycast:3)`);
    const [method, target] = (pattern ?? '').split('/');
    return { method, target, weight: w };
  });
}

interface LoadFlags {
  messages?: number;
  duration?: string;
  warmup?: string;
  concurrency?: number;
  pause?: string;
  rate?: number;
  arrival?: 'fixed' | 'poisson';
  payloadBytes?: unknown;
  mix?: 'clients' | 'messages';
  timeout?: string;
  method?: string;
  args?: Record<string, unknown>;
  set?: FieldOverride[];
  workers?: number;
  connectConcurrency?: number;
  sharedConnections?: boolean;
  resultsDir: string;
  results: boolean;
  json?: boolean;
  progress: boolean;
}

/** Options every load-generating command shares, with their defaults spelled out in --help. */
function addLoadOptions(command: Command): Command {
  return addAgentOptions(
    command
      .option('--messages <n>', 'measured messages in total, spread over the senders (default 10000 unless --duration)', integer('--messages', 1))
      .option('--duration <time>', 'measured phase length instead of a message count, e.g. 30s, 2m', duration('--duration', { positive: true }))
      .option('--warmup <time>', 'load before the measured phase, not counted', duration('--warmup'), '1s')
      .option('--concurrency <n>', 'closed loop: messages each client keeps outstanding', integer('--concurrency', 1), 1)
      .option('--pause <time>', 'closed loop: pause after each reply', duration('--pause'), '0ms')
      .option(
        '--rate <n>',
        'open loop: messages/s per sender instead of the closed loop; latency also counted from each intended send time',
        positive('--rate'),
      )
      .option('--arrival <kind>', 'with --rate: fixed (even gaps) or poisson (exponential gaps)', (value: string) => {
        if (value !== 'fixed' && value !== 'poisson') throw new InvalidArgumentError('fixed or poisson');
        return value;
      })
      .option('--payload-bytes <size>', 'payload size: 64 or 4KiB (fixed), 64-4096 (uniform), 512:90,16KiB:9,256KiB:1 (size:weight list)', payloadFlag, 64)
      .addOption(
        new Option(
          '--mix <kind>',
          "with weighted --patterns: split the clients by weight (clients), or let every client draw each message's pattern (messages)",
        ).choices(['clients', 'messages']),
      )
      .option('--timeout <time>', 'call timeout; later replies count as timeouts', duration('--timeout', { positive: true }), '30s')
      .option('--set <field=value>', 'set any scenario field, e.g. --set load.rate=100 --set agents.topic=t (repeatable; the value is YAML)', setFlag),
  );
}

/** Options of every command that runs agents: threads, connections, output. */
function addAgentOptions(command: Command): Command {
  return command
    .option('--workers <n>', 'worker threads hosting the agents (default: one per core)', integer('--workers', 1))
    .option('--connect-concurrency <n>', 'connections opened at once per worker during start-up', integer('--connect-concurrency', 1), 64)
    .option('--shared-connections', 'agents of a worker share connections (one channel each) instead of one connection each')
    .option('--results-dir <dir>', 'where run directories are written', 'results')
    .option('--no-results', 'write no results directory')
    .option('--json', 'print the result as JSON on stdout instead of the table')
    .option('--no-progress', 'no progress lines on stderr');
}

/** Quick flags → the scenario file's own format, validated by the same schema as a file. */
function loadSection(flags: LoadFlags): Record<string, unknown> {
  const load: Record<string, unknown> = {};
  if (flags.messages !== undefined) load['messages'] = flags.messages;
  if (flags.duration !== undefined) load['duration'] = flags.duration;
  if (flags.warmup !== undefined) load['warmup'] = flags.warmup;
  if (flags.concurrency !== undefined) load['concurrency'] = flags.concurrency;
  if (flags.pause !== undefined) load['pause'] = flags.pause;
  if (flags.rate !== undefined) load['rate'] = flags.rate;
  if (flags.arrival !== undefined) load['arrival'] = flags.arrival;
  if (flags.payloadBytes !== undefined) load['payload_bytes'] = flags.payloadBytes;
  if (flags.mix !== undefined) load['mix'] = flags.mix;
  if (flags.timeout !== undefined) load['timeout'] = flags.timeout;
  if (flags.method !== undefined) load['method'] = flags.method;
  if (flags.args !== undefined) load['args'] = flags.args;
  return load;
}

function runnerSection(flags: LoadFlags): Record<string, unknown> {
  const runner: Record<string, unknown> = {};
  if (flags.workers !== undefined) runner['workers'] = flags.workers;
  if (flags.connectConcurrency !== undefined) runner['connect_concurrency'] = flags.connectConcurrency;
  return runner;
}

/**
 * Runs, prints, and sets the exit code: interrupted runs exit by their
 * signal (with the summary so far), runs in which nothing worked exit 1.
 */
async function execute(scenario: Scenario, flags: LoadFlags, extra: Partial<RunOptions> = {}, stop: GracefulStop = gracefulStop()): Promise<void> {
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
function standaloneCommand(program: Command, name: string, summary: string, description: string, example: string): Command {
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
function standaloneScenario(
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

function toSnake(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
}

/** a closed terminal (SIGHUP) must not leave a broker behind either */
const GRACEFUL_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const SIGNAL_EXIT: Record<string, number> = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm, SIGHUP: EXIT.sighup };

interface GracefulStop {
  signal: AbortSignal;
  /** the signal that stopped the run, if one did */
  received(): NodeJS.Signals | undefined;
}

/**
 * First Ctrl-C (or SIGTERM): stop sending, settle briefly, print and save
 * what was measured, marked partial (as k6 and PerfTest do); a second one
 * cleans up and exits at once.
 */
function gracefulStop(): GracefulStop {
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

/** The quick scenario's options (bus, agents, patterns) of `run` and `limit`. */
function addQuickScenarioOptions(command: Command): Command {
  return addLoadOptions(
    command
      .addOption(
        new Option(
          '--bus <kind>',
          `bus kind: ${BUS_PLUGINS.map((plugin) => plugin.summary).join(' or ')}; default: from --url (${BUS_PLUGINS.map((plugin) => plugin.scheme).join(' or ')}, as oslo reads them), else ${BUS_KINDS[0]}`,
        ).choices([...BUS_KINDS]),
      )
      .option('--url <url>', 'transport URL of an existing bus, e.g. rabbit://guest:guest@host:5672/ (default: start a local RabbitMQ)')
      .option('--exchange <name>', 'oslo control exchange', 'openstack')
      .addOption(new Option('--pattern <method>', 'RPC method of the quick scenario').choices(['call', 'cast']).default('call'))
      .addOption(
        new Option('--target <kind>', 'delivery of the quick scenario (multicast is cast only)')
          .choices(['unicast', 'anycast', 'multicast'])
          .default('anycast'),
      )
      .option(
        '--patterns <list>',
        'several patterns, with optional weights, e.g. call/anycast:9,cast/multicast:1 (overrides --pattern/--target; see --mix)',
        patternsFlag,
      )
      .option('--clients <n>', 'RPC client agents', integer('--clients'), 10)
      .option('--servers <n>', 'RPC server agents', integer('--servers'), 2)
      .option('--notifiers <n>', 'notifier agents', integer('--notifiers'), 0)
      .option('--listeners <n>', 'notification listener agents', integer('--listeners'), 0)
      .option('--topic <topic>', 'RPC topic the servers serve', 'busbench'),
  );
}

/** The RPC method the clients call and its arguments: busbench's own, ombt's echo, or a real service's. */
function addMethodOptions(command: Command): Command {
  return command
    .option(
      '--method <name>',
      "RPC method the clients call: bench (busbench's own, answered with timestamps), echo (ombt's echo(data, timestamp, msgid)), or any method the servers serve",
      'bench',
    )
    .option(
      '--args <json>',
      "the call's keyword arguments as a JSON object, sent as given (default: {payload} for bench, ombt's {data, timestamp, msgid} for echo, {} otherwise)",
      argsFlag,
    );
}

/**
 * Where each quick-scenario flag lands in a scenario file: given on the
 * command line, it overrides the file's field (before validation, so the
 * file's rules still apply to the result). Flags not listed here have no
 * field and apply to the run itself.
 */
const FLAG_FIELDS: Record<string, string> = {
  url: 'bus.url',
  bus: 'bus.kind',
  exchange: 'bus.exchange',
  servers: 'agents.servers',
  clients: 'agents.clients',
  notifiers: 'agents.notifiers',
  listeners: 'agents.listeners',
  topic: 'agents.topic',
  sharedConnections: 'agents.shared_connections',
  messages: 'load.messages',
  duration: 'load.duration',
  warmup: 'load.warmup',
  concurrency: 'load.concurrency',
  pause: 'load.pause',
  rate: 'load.rate',
  arrival: 'load.arrival',
  payloadBytes: 'load.payload_bytes',
  mix: 'load.mix',
  timeout: 'load.timeout',
  method: 'load.method',
  args: 'load.args',
  workers: 'runner.workers',
  connectConcurrency: 'runner.connect_concurrency',
};

const flagName = (option: string): string => `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** oslo's URL scheme names its driver (rabbit:// AMQP 0-9-1, amqp:// AMQP 1.0): each bus kind knows its schemes. */
function busFromUrl(url: string): string | undefined {
  return BUS_PLUGINS.find((plugin) => plugin.urlSchemes.test(url))?.kind;
}

/** The flags given on the command line, as overrides of the scenario's fields, then every --set. */
function flagOverrides(flags: LoadFlags & Record<string, unknown>, command: Command): FieldOverride[] {
  const explicit = (name: string): boolean => command.getOptionValueSource(name) === 'cli';
  const overrides: FieldOverride[] = [];
  for (const [option, field] of Object.entries(FLAG_FIELDS)) {
    if (!explicit(option)) continue;
    overrides.push({ field, value: flags[option], from: flagName(option) });
    // Fields that exclude each other: the flag's wins over the file's.
    if (option === 'messages') overrides.push({ field: 'load.duration', remove: true, from: '--messages' });
    if (option === 'duration') overrides.push({ field: 'load.messages', remove: true, from: '--duration' });
  }
  if (explicit('rate') && !explicit('arrival')) overrides.push({ field: 'load.arrival', remove: true, from: '--rate' });
  // Without --bus, the URL's scheme says which bus it is.
  if (explicit('url') && !explicit('bus')) {
    const kind = busFromUrl(flags['url'] as string);
    if (kind) overrides.push({ field: 'bus.kind', value: kind, from: `--url (its scheme is ${kind}'s)` });
  }
  if (explicit('patterns')) overrides.push({ field: 'load.patterns', value: flags['patterns'], from: '--patterns' });
  else if (explicit('pattern') || explicit('target'))
    overrides.push({ field: 'load.patterns', value: [`${flags['pattern']}/${flags['target']}`], from: '--pattern/--target' });
  return [...overrides, ...(flags.set ?? [])];
}

/** A scenario file with the flags given explicitly on top, or the quick scenario the flags describe. */
async function scenarioFromArguments(file: string | undefined, flags: LoadFlags & Record<string, unknown>, command: Command): Promise<Scenario> {
  const overrides = flagOverrides(flags, command);
  if (file) return loadScenario(file, { overrides });
  const patterns = (flags['patterns'] as unknown[] | undefined) ?? [`${flags['pattern']}/${flags['target']}`];
  return resolveScenario(
    {
      name: 'cli',
      bus: { kind: flags['bus'] ?? BUS_KINDS[0], ...(flags['url'] ? { url: flags['url'] } : {}), exchange: flags['exchange'] },
      agents: {
        servers: flags['servers'],
        clients: flags['clients'],
        notifiers: flags['notifiers'],
        listeners: flags['listeners'],
        topic: flags['topic'],
        shared_connections: flags.sharedConnections === true,
      },
      load: { patterns, ...loadSection(flags) },
      runner: runnerSection(flags),
    },
    '<command line>',
    { overrides },
  );
}

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
  ).action(async (file: string | undefined, flags: LoadFlags & Record<string, unknown>, command: Command) => {
    const stop = gracefulStop();
    const scenario = await scenarioFromArguments(file, flags, command);
    await execute(scenario, flags, {}, stop);
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

  program
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
        '\nExamples:\n  busbench campaign campaigns/clients-sweep.yaml --dry-run\n  busbench campaign campaigns/clients-sweep.yaml --budget 8h\n' +
        `\nA failed run exits ${EXIT.failed} (rerun to retry it); a budget stop exits ${EXIT.budget} (rerun to continue).\n${exitCodeHelp()}`,
    )
    .argument('<file>', 'campaign YAML file')
    .option('--results-dir <dir>', 'where the campaign directory goes', 'results')
    .option('--budget <time>', "time budget for this invocation (overrides the file's), e.g. 8h", duration('--budget'))
    .option('--dry-run', 'list the runs, their ids and whether they are finished; run nothing')
    .option('--no-progress', 'no progress lines on stderr')
    .action(async (file: string, flags: { resultsDir: string; budget?: string; dryRun?: boolean; progress: boolean }) => {
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
      const outcome = await runCampaign(campaign, {
        resultsRoot: flags.resultsDir,
        ...(flags.budget !== undefined ? { budgetMs: parseDuration(flags.budget) } : {}),
        ...(flags.progress ? { onEvent: campaignProgressPrinter() } : {}),
      });
      process.stdout.write(
        `campaign ${campaign.name}: ${outcome.skipped + outcome.completed}/${outcome.total} runs finished ` +
          `(${outcome.completed} now, ${outcome.skipped} before), ${outcome.failed.length} failed, ${outcome.leftForBudget} left for the budget; ${outcome.directory}/runs.json\n`,
      );
      if (outcome.failed.length > 0) process.exitCode = EXIT.failed;
      else if (outcome.leftForBudget > 0) process.exitCode = EXIT.budget;
    });

  addBusCommands(program);

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
