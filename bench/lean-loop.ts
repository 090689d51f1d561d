/**
 * The lean baseline as its own process: one raw loop (amqplib for
 * RabbitMQ, rhea for AMQP 1.0) and nothing of busbench loaded, printing its
 * figures as one JSON line. bench/as-users-run.ts starts it beside the
 * busbench CLI, so both are measured the same way: a process of their own,
 * CPU of that whole process over its measured window.
 *
 *   node dist/bench/lean-loop.js --bus rabbitmq --url amqp://… --clients 16 [--servers 4] [--warmup-ms 3000] [--measure-ms 15000]
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    bus: { type: 'string', default: 'rabbitmq' },
    url: { type: 'string' },
    clients: { type: 'string', default: '1' },
    servers: { type: 'string', default: '4' },
    'warmup-ms': { type: 'string', default: '3000' },
    'measure-ms': { type: 'string', default: '15000' },
    payload: { type: 'string', default: '64' },
  },
});
if (!values.url) throw new Error('--url is required');
const options = {
  url: values.url,
  clients: Number(values.clients),
  servers: Number(values.servers),
  warmupMs: Number(values['warmup-ms']),
  measureMs: Number(values['measure-ms']),
  payloadBytes: Number(values.payload),
};
// Only the loop asked for is loaded: nothing else is alive in this process.
const result =
  values.bus === 'amqp1' ? await (await import('./raw-rhea-loop.js')).rawRheaLoop(options) : await (await import('./raw-rpc-loop.js')).rawRpcLoop(options);
process.stdout.write(`${JSON.stringify(result)}\n`);
