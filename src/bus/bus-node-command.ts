/** `busbench bus node`, hidden: the ssh provider's bus node host (deploy/bus-node.ts), started on a bus site's first host. */
import { Command, Option } from 'commander';
import { BUS_KINDS } from '../buses/registry.js';
import { parseClusterJson, runBusNode, type BusNodeKind } from '../buses/node-host.js';

/** Adds `node` under the `bus` command; call it after addBusCommands, or it makes a hidden `bus` of its own. */
export function addBusNodeCommand(program: Command): void {
  const bus = program.commands.find((command) => command.name() === 'bus') ?? program.command('bus', { hidden: true });
  bus
    .command('node', { hidden: true })
    .description('run one RabbitMQ node on this host for a busbench on another: one JSON line on stdout when ready, stops when stdin closes')
    .addOption(new Option('--kind <kind>', 'bus kind').choices([...BUS_KINDS]).makeOptionMandatory())
    .requiredOption('--address <address>', 'IPv4 address the node listens on and is reached at')
    .option('--cluster-json <json>', 'cluster membership: {"nodeName", "cookie", "epmdPort", "nodes": [...]}')
    .option('--plugins <list>', 'comma-separated RabbitMQ plugins to enable', '')
    .action(async (flags: { kind: BusNodeKind; address: string; clusterJson?: string; plugins: string }) => {
      await runBusNode({
        kind: flags.kind,
        address: flags.address,
        ...(flags.clusterJson !== undefined ? { cluster: parseClusterJson(flags.clusterJson) } : {}),
        plugins: flags.plugins.split(',').filter((p) => p.length > 0),
      });
    });
}
