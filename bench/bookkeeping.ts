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
import { busbenchLoop, compareOnRabbit, COMPARISON_OPTIONS, PAYLOAD, SERVERS } from './common.js';

const { values } = parseArgs({ options: COMPARISON_OPTIONS });

await compareOnRabbit({
  values,
  header: (measureMs, rounds) =>
    `rpc-call anycast (closed loop, full speed), ${SERVERS} servers, ${PAYLOAD} B, ${rounds} rounds of ${measureMs / 1000} s, alternating bookkeeping off / on`,
  first: (url, clients, measureMs) => busbenchLoop({ kind: 'rabbitmq', url, clients, measureMs, bookkeeping: false }),
  second: (url, clients, measureMs) => busbenchLoop({ kind: 'rabbitmq', url, clients, measureMs, bookkeeping: true }),
  report: (clients, a, b) => {
    console.log(
      `clients=${clients}: off ${a.rate.toFixed(0)} calls/s, ${a.cpuPerCallUs.toFixed(1)} µs CPU/call | on ${b.rate.toFixed(0)} calls/s, ${b.cpuPerCallUs.toFixed(1)} µs CPU/call`,
    );
    console.log(`  ratio throughput ${(b.rate / a.rate).toFixed(3)}× (goal ≥ 0.90)  CPU/call ${(b.cpuPerCallUs / a.cpuPerCallUs).toFixed(3)}×`);
  },
});
