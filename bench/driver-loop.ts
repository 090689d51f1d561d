/**
 * A diagnosis between the lean loop and the CLI: the lean loop's shape (C
 * clients with one call outstanding each, S servers answering at once, one
 * process, one thread) on busbench's own bus driver, with no agents, no
 * worker thread, no bookkeeping and no coordinator. Where busbench falls
 * short of the lean loop, this says which side of the driver the cost is on:
 * near the lean loop, it is the agent and runner layers; near the CLI, the
 * driver.
 *
 *   node dist/bench/driver-loop.js --url amqp://… --clients 16 [--servers 4] [--warmup-ms 1000] [--measure-ms 10000]
 *
 * Prints one JSON line with the lean loop's fields (calls, elapsedMs, cpuUs, p50Us, p99Us).
 */
import { parseArgs } from 'node:util';
import * as hdr from 'hdr-histogram-js';
import { createDriver } from '../src/buses/registry.js';
import { measureWindow } from './measure-window.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    clients: { type: 'string', default: '1' },
    servers: { type: 'string', default: '4' },
    'warmup-ms': { type: 'string', default: '1000' },
    'measure-ms': { type: 'string', default: '10000' },
    payload: { type: 'string', default: '64' },
  },
});
if (!values.url) throw new Error('--url is required (rabbit://… or amqp://…)');
const kind = values.url.startsWith('rabbit:') ? 'rabbitmq' : 'amqp1';
const driver = createDriver({ kind, url: values.url, exchange: 'openstack' });
const topic = `driverloop_${process.pid}`;
const servers = Number(values.servers);
const clients = Number(values.clients);
const connections = [];
for (let s = 0; s < servers; s++) {
  const connection = await driver.connect({ name: `driverloop-server-${s}` });
  connections.push(connection);
  const server = `s${s}`;
  await connection.serve({ topic, server }, (request) => ({ server, seq: request.args['seq'] ?? null }));
}

const histogram = hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 2, autoResize: true, numberOfSignificantValueDigits: 3 });
const payload = 'x'.repeat(Number(values.payload));
let measuring = false;
let stopping = false;
let calls = 0;
const loops: Promise<void>[] = [];
for (let c = 0; c < clients; c++) {
  const connection = await driver.connect({ name: `driverloop-client-${c}` });
  connections.push(connection);
  const target = { topic };
  loops.push(
    (async () => {
      for (let seq = 0; !stopping; seq++) {
        const started = performance.now();
        await connection.call(target, 'bench', { payload, seq }, { busbench_sent: performance.timeOrigin + started }, 30_000);
        if (measuring) {
          calls++;
          histogram.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
        }
      }
    })(),
  );
}
const { elapsedMs, cpuUs } = await measureWindow(Number(values['warmup-ms']), Number(values['measure-ms']), (on) => (measuring = on));
stopping = true;
await Promise.all(loops);
await Promise.all(connections.map((connection) => connection.close()));
await driver.close();
process.stdout.write(`${JSON.stringify({ calls, elapsedMs, cpuUs, p50Us: histogram.getValueAtPercentile(50), p99Us: histogram.getValueAtPercentile(99) })}\n`);
