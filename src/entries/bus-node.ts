#!/usr/bin/env node
/**
 * Entry of a bus node host (src/buses/node-host.ts), started by a bus
 * plugin on a host reached over ssh: `bus-node <kind> <flags>` runs one
 * node of that kind there (a RabbitMQ node, a router), spoken to in frames
 * on stdin and stdout; the kind reads its own flags.
 */
import { BUS_KINDS, busPlugin } from '../buses/registry.js';
import { runNodeHost } from '../buses/node-host.js';

const [kind, ...flags] = process.argv.slice(2);
const hostNode = kind !== undefined && BUS_KINDS.includes(kind) ? busPlugin(kind).hostNode : undefined;
if (!hostNode) {
  const hosting = BUS_KINDS.filter((k) => busPlugin(k).hostNode);
  process.stderr.write(
    `usage: bus-node <kind> <flags>: runs one bus node on this host for a busbench on another (frames on stdin and stdout, stops when stdin closes); kind is one of ${hosting.join(', ')}, got ${kind ?? 'nothing'}\n`,
  );
  process.exit(2);
}
await runNodeHost((session) => hostNode(flags, session));
