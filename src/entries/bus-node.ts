#!/usr/bin/env node
/**
 * Entry of a bus node host (src/buses/node-host.ts), started by the
 * RabbitMQ plugin on a host reached over ssh: one RabbitMQ node there,
 * spoken to in frames on stdin and stdout.
 */
import { Command } from 'commander';
import { parseClusterJson, runBusNode } from '../buses/node-host.js';

const program = new Command('bus-node')
  .description('run one RabbitMQ node on this host for a busbench on another: frames on stdin and stdout, stops when stdin closes')
  .requiredOption('--address <address>', 'IPv4 address the node listens on and is reached at')
  .option('--cluster-json <json>', 'cluster membership: {"nodeName", "cookie", "epmdPort", "nodes": [...]}')
  .option('--plugins <list>', 'comma-separated RabbitMQ plugins to enable (rabbitmq_amqp1_0 for an amqp1 bus)', '')
  .action(async (flags: { address: string; clusterJson?: string; plugins: string }) => {
    await runBusNode({
      address: flags.address,
      ...(flags.clusterJson !== undefined ? { cluster: parseClusterJson(flags.clusterJson) } : {}),
      plugins: flags.plugins.split(',').filter((p) => p.length > 0),
    });
  });
await program.parseAsync(process.argv);
