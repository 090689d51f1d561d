/** `busbench bus up | down | status`: a bus for the operational OpenStack benchmark, kept up between commands. */
import { Command } from 'commander';
import { loadScenario } from '../scenario/load.js';
import { busDown, busStates, busUp, keepBus, stateFile, type BusState } from './bus-keeper.js';
import { EXIT, UsageError } from '../errors.js';

const STATE_DIR = '.busbench/bus';

function describe(state: BusState): string {
  const lines = [`${state.name}: ${state.description ?? state.status} (keeper pid ${state.pid}, log ${state.log})`];
  for (const [site, url] of Object.entries(state.transportUrls ?? {})) lines.push(`  ${site}: transport_url = ${url}`);
  if (state.transportUrl && Object.keys(state.transportUrls ?? {}).length > 1) lines.push(`  every node: transport_url = ${state.transportUrl}`);
  return lines.join('\n');
}

export function addBusCommands(program: Command): void {
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
      '\nExamples:\n  busbench bus up scenarios/quickstart.yaml\n  busbench bus up scenarios/geo-three-sites.yaml --json\n  busbench bus status\n  busbench bus down geo-three-sites\n' +
        `\nState (one JSON file and one log per bus) is kept in ${STATE_DIR}/ under the current directory, or --state-dir.`,
    );

  bus
    .command('up')
    .description('deploy the bus of a scenario and keep it running; print its transport URLs')
    .argument('<scenario>', 'scenario YAML file (its bus and topology sections are used; agents and load are ignored)')
    .option('--state-dir <dir>', 'where the bus state and log go', STATE_DIR)
    .option('--json', 'print the state as JSON (transportUrls per site, transportUrl for every node)')
    .action(async (file: string, flags: { stateDir: string; json?: boolean }) => {
      const scenario = await loadScenario(file);
      if (scenario.bus.url) throw new UsageError(`${file}: bus.url names a bus that is already running; bus up deploys one: remove bus.url`);
      const state = await busUp(file, scenario, flags.stateDir);
      if (state.status === 'failed') {
        process.stderr.write(`busbench: the bus could not be deployed: ${state.error ?? 'see the log'} (log: ${state.log})\n`);
        process.exitCode = EXIT.busUnavailable;
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

  bus
    .command('keep', { hidden: true })
    .argument('<scenario>')
    .requiredOption('--state <file>')
    .action(async (file: string, flags: { state: string }) => {
      await keepBus(file, await loadScenario(file), flags.state);
    });
}
