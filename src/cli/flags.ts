/**
 * The command line's flags: parsers that say what is wrong with a value, the
 * option groups commands share, and the flags as overrides of a scenario's
 * fields (applied to the raw document, so the schema still checks them).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../scenario/duration.js';
import { loadScenario, resolveScenario, type FieldOverride } from '../scenario/load.js';
import { parseSize } from '../scenario/size.js';
import type { Scenario } from '../model/index.js';
import { BUS_KINDS, BUS_PLUGINS } from '../buses/registry.js';

export function integer(name: string, min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number >= ${min}, got "${value}"`);
    return n;
  };
}

export function positive(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number > 0, got "${value}"`);
    return n;
  };
}

export function duration(name: string, { positive = false } = {}): (value: string) => string {
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
export function argsFlag(value: string): Record<string, unknown> {
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
export function setFlag(value: string, previous: FieldOverride[] = []): FieldOverride[] {
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
export function payloadFlag(value: string): unknown {
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
export function patternsFlag(value: string): unknown[] {
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

export interface LoadFlags {
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
  heap?: 'auto' | 'speed' | 'size';
  sharedConnections?: boolean;
  resultsDir: string;
  results: boolean;
  json?: boolean;
  progress: boolean;
}

/** Options every load-generating command shares, with their defaults spelled out in --help. */
export function addLoadOptions(command: Command): Command {
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
export function addAgentOptions(command: Command): Command {
  return command
    .option(
      '--workers <n>',
      'worker threads hosting the agents (default: half the cores when the bus runs on this machine, else one per core)',
      integer('--workers', 1),
    )
    .addOption(
      new Option(
        '--heap <mode>',
        'V8 heap of the agent processes: speed (128 MiB young generation per worker: less CPU per call), size (16 MiB, old generation kept 10 % above its live size: about 30 % less memory per agent at thousands of agents, more GC), or auto: size from 2,000 agents in a worker (default: auto)',
      ).choices(['auto', 'speed', 'size']),
    )
    .option('--connect-concurrency <n>', 'connections opened at once per worker during start-up', integer('--connect-concurrency', 1), 64)
    .option('--shared-connections', 'agents of a worker share connections (one channel each) instead of one connection each')
    .option('--results-dir <dir>', 'where run directories are written', 'results')
    .option('--no-results', 'write no results directory')
    .option('--json', 'print the result as JSON on stdout instead of the table')
    .option('--no-progress', 'no progress lines on stderr');
}

/** Quick flags → the scenario file's own format, validated by the same schema as a file. */
export function loadSection(flags: LoadFlags): Record<string, unknown> {
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

export function runnerSection(flags: LoadFlags): Record<string, unknown> {
  const runner: Record<string, unknown> = {};
  if (flags.workers !== undefined) runner['workers'] = flags.workers;
  if (flags.connectConcurrency !== undefined) runner['connect_concurrency'] = flags.connectConcurrency;
  if (flags.heap !== undefined) runner['heap'] = flags.heap;
  return runner;
}

/** The quick scenario's options (bus, agents, patterns) of `run` and `limit`. */
export function addQuickScenarioOptions(command: Command): Command {
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
export function addMethodOptions(command: Command): Command {
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
export const FLAG_FIELDS: Record<string, string> = {
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
  heap: 'runner.heap',
};

export const flagName = (option: string): string => `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** oslo's URL scheme names its driver (rabbit:// AMQP 0-9-1, amqp:// AMQP 1.0): each bus kind knows its schemes. */
export function busFromUrl(url: string): string | undefined {
  return BUS_PLUGINS.find((plugin) => plugin.urlSchemes.test(url))?.kind;
}

/** The flags given on the command line, as overrides of the scenario's fields, then every --set. */
export function flagOverrides(flags: LoadFlags & Record<string, unknown>, command: Command): FieldOverride[] {
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
export async function scenarioFromArguments(file: string | undefined, flags: LoadFlags & Record<string, unknown>, command: Command): Promise<Scenario> {
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
