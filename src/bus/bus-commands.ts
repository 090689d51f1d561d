/** `busbench bus up | down | status`: a bus for the operational OpenStack benchmark, kept up between commands. */
import { Command } from 'commander';
import { loadScenario } from '../scenario/load.js';
import { busDown, busStates, busUp, keepBus, stateFile, type BusState } from './bus-keeper.js';
import { EXIT, UsageError } from '../errors.js';
import type { LiveExportersOptions } from '../live/exporters.js';

/**
 * The live flags (--prometheus, --influx …), which the CLI layer defines
 * (src/cli/live-options.ts, LIVE_FLAGS) and a layer below it may not
 * import: the program hands them in.
 */
export interface LiveFlagSupport {
  addOptions(command: Command): Command;
  /** throws UsageError naming the flag */
  exportersOptions(flags: object): Omit<LiveExportersOptions, 'say'>;
  /** the flags again as arguments for the keeper, and what its environment needs (the InfluxDB token) */
  argumentsOf(flags: object): { args: string[]; env: Record<string, string> };
}

const STATE_DIR = '.busbench/bus';

function describe(state: BusState): string {
  const lines = [`${state.name}: ${state.description ?? state.status} (keeper pid ${state.pid}, log ${state.log})`];
  for (const [site, url] of Object.entries(state.transportUrls ?? {})) lines.push(`  ${site}: transport_url = ${url}`);
  if (state.transportUrl && Object.keys(state.transportUrls ?? {}).length > 1) lines.push(`  every node: transport_url = ${state.transportUrl}`);
  if (state.metrics) lines.push(`  Prometheus metrics: ${state.metrics}`);
  if (state.influx) lines.push(`  InfluxDB: ${state.influx}`);
  return lines.join('\n');
}

/** `live`: the live flags to offer on bus up (LIVE_FLAGS); without, bus up has none. */
export function addBusCommands(program: Command, live?: LiveFlagSupport): void {
  const bus = program
    .command('bus')
    .summary('deploy a bus and keep it up for OpenStack services (bus up / down / status)')
    .description(
      'Stand up only the bus of a scenario (a local RabbitMQ, or with a topology one node per bus site and the network constraints between sites), ' +
        'print the oslo transport_url of each site, and keep it running after the command returns, for an OpenStack deployment or benchmark to use. ' +
        '`bus down` removes everything it made.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  busbench bus up scenarios/quickstart.yaml\n  busbench bus up scenarios/geo-three-sites.yaml --json\n' +
        "  busbench bus up scenarios/quickstart.yaml --prometheus 9750   (the bus processes' CPU, memory, TCP connections at :9750/metrics)\n" +
        '  busbench bus status\n  busbench bus down geo-three-sites\n' +
        `\nState (one JSON file and one log per bus) is kept in ${STATE_DIR}/ under the current directory, or --state-dir.`,
    );

  const up = bus
    .command('up')
    .description(
      'deploy the bus of a scenario and keep it running; print its transport URLs. ' +
        "With --prometheus or --influx, the bus processes' CPU, memory and TCP connections are served or written live until bus down.",
    )
    .argument('<scenario>', 'scenario YAML file (its bus and topology sections are used; agents and load are ignored)')
    .option('--state-dir <dir>', 'where the bus state and log go', STATE_DIR)
    .option('--json', 'print the state as JSON (transportUrls per site, transportUrl for every node)');
  if (live) live.addOptions(up);
  up.action(async (file: string, flags: { stateDir: string; json?: boolean }) => {
    const scenario = await loadScenario(file);
    if (scenario.bus.url) throw new UsageError(`${file}: bus.url names a bus that is already running; bus up deploys one: remove bus.url`);
    // Checked here, so a mistake is said by the command, not found later in the keeper's log.
    live?.exportersOptions(flags);
    const state = await busUp(file, scenario, flags.stateDir, live?.argumentsOf(flags));
    if (state.status === 'failed') {
      process.stderr.write(
        state.usage ? `busbench: ${state.error}\n` : `busbench: the bus could not be deployed: ${state.error ?? 'see the log'} (log: ${state.log})\n`,
      );
      process.exitCode = state.usage ? EXIT.usage : EXIT.busUnavailable;
      return;
    }
    process.stdout.write(flags.json ? `${JSON.stringify(state, null, 2)}\n` : `${describe(state)}\nstop it with: busbench bus down ${state.name}\n`);
  });

  bus
    .command('down')
    .description('stop a bus made by bus up (every bus when no name is given), with everything it made')
    .argument('[name]', 'the scenario name the bus was started under')
    .option('--state-dir <dir>', 'where the bus state is', STATE_DIR)
    .action(async (name: string | undefined, flags: { stateDir: string }) => {
      const files = name ? [stateFile(flags.stateDir, name)] : (await busStates(flags.stateDir)).map((s) => s.file);
      if (files.length === 0) {
        process.stdout.write(`no bus is up (nothing in ${flags.stateDir})\n`);
        return;
      }
      for (const file of files) {
        const { name: stopped, how } = await busDown(file);
        process.stdout.write(`${stopped}: down (${how})\n`);
      }
    });

  bus
    .command('status')
    .description('the buses made by bus up, their transport URLs, and whether their keepers live')
    .option('--state-dir <dir>', 'where the bus state is', STATE_DIR)
    .option('--json', 'print the states as JSON')
    .action(async (flags: { stateDir: string; json?: boolean }) => {
      const states = await busStates(flags.stateDir);
      if (flags.json)
        process.stdout.write(
          `${JSON.stringify(
            states.map((s) => ({ ...s.state, alive: s.alive })),
            null,
            2,
          )}\n`,
        );
      else if (states.length === 0) process.stdout.write(`no bus is up (nothing in ${flags.stateDir})\n`);
      else
        for (const s of states) process.stdout.write(`${describe(s.state)}${s.alive ? '' : '\n  KEEPER GONE: run busbench bus down to remove what is left'}\n`);
    });

  const keep = bus.command('keep', { hidden: true }).argument('<scenario>').requiredOption('--state <file>');
  if (live) live.addOptions(keep);
  keep.action(async (file: string, flags: { state: string }) => {
    await keepBus(file, await loadScenario(file), flags.state, live?.exportersOptions(flags));
  });
}
