/**
 * Benchmark (issue 5): what busbench's bookkeeping costs at full speed —
 * per-message (client, sequence) accounting at the servers, reply
 * timestamps and the per-leg histograms, the per-second time series — as
 * the ratio of runs with it on to runs with it off (`runner.bookkeeping`),
 * alternating rounds on the same broker in one process. Goal: throughput
 * cost ≤ 10 %, i.e. ratio ≥ 0.90×.
 *
 *   npm run build && node dist/bench/bookkeeping.js [--seconds 5] [--rounds 3] [--clients 1,16] [--url rabbit://…]
 */
import { parseArgs } from 'node:util';
import { startLocalRabbit, type LocalRabbit } from '../deploy/rabbitmq-local.js';
import { installSignalHandlers } from '../src/cleanup.js';
import { busbenchLoop, figures, SERVERS, PAYLOAD } from './common.js';
import type { LoopResult } from './raw-rpc-loop.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    url: { type: 'string' },
    clients: { type: 'string', default: '1,16' },
  },
});
const measureMs = Number(values.seconds) * 1000;
const rounds = Number(values.rounds);

async function main(): Promise<void> {
  installSignalHandlers();
  let broker: LocalRabbit | undefined;
  const url = values.url ?? (broker = await startLocalRabbit()).transportUrl;
  console.log(`rpc-call anycast (closed loop, full speed), ${SERVERS} servers, ${PAYLOAD} B, ${rounds} rounds of ${measureMs / 1000} s, alternating bookkeeping off / on`);
  try {
    for (const clients of values.clients.split(',').map(Number)) {
      const off: LoopResult[] = [];
      const on: LoopResult[] = [];
      for (let round = 0; round < rounds; round++) {
        off.push(await busbenchLoop({ kind: 'rabbitmq', url, clients, measureMs, bookkeeping: false }));
        on.push(await busbenchLoop({ kind: 'rabbitmq', url, clients, measureMs, bookkeeping: true }));
      }
      const a = figures(off);
      const b = figures(on);
      console.log(
        `clients=${clients}: off ${a.rate.toFixed(0)} calls/s, ${a.cpuPerCallUs.toFixed(1)} µs CPU/call | on ${b.rate.toFixed(0)} calls/s, ${b.cpuPerCallUs.toFixed(1)} µs CPU/call`,
      );
      console.log(`  ratio throughput ${(b.rate / a.rate).toFixed(3)}× (goal ≥ 0.90)  CPU/call ${(b.cpuPerCallUs / a.cpuPerCallUs).toFixed(3)}×`);
    }
  } finally {
    await broker?.stop();
  }
}

await main();
