/**
 * Diagnosis (not the result: see as-users-run.ts, which runs busbench as users
 * do): busbench rpc-call anycast against the raw amqplib loop on the
 * same broker in the same run, 1 and 16 clients, 4 servers. Prints ratios
 * (busbench / raw), never absolute pass/fail on a shared, noisy machine.
 *
 *   npm run build && node dist/bench/rpc-throughput.js [--seconds 5] [--rounds 2] [--url rabbit://…]
 *
 * Goals (issue 3): throughput ≥ 0.95×, CPU per call ≤ 1.1×, p50 at 1 client ≤ +50 µs.
 * Both run in this process with their agents on one thread (busbench: one
 * worker), so process CPU time compares like with like; the broker's CPU is
 * not counted for either.
 */
import { parseArgs } from 'node:util';
import { busbenchLoop, compareOnRabbit, COMPARISON_OPTIONS, PAYLOAD, SERVERS, WARMUP_MS } from './common.js';
import { rawRpcLoop } from './raw-rpc-loop.js';

const { values } = parseArgs({ options: { ...COMPARISON_OPTIONS, rounds: { type: 'string', default: '2' } } });

await compareOnRabbit({
  values,
  header: (measureMs, rounds) =>
    `rpc-call anycast, ${SERVERS} servers, ${PAYLOAD} B payload, ${rounds} rounds of ${measureMs / 1000} s each, alternating raw / busbench`,
  first: (url, clients, measureMs) => rawRpcLoop({ url, clients, servers: SERVERS, warmupMs: WARMUP_MS, measureMs, payloadBytes: PAYLOAD }),
  second: (url, clients, measureMs) => busbenchLoop({ kind: 'rabbitmq', url, clients, measureMs }),
  report: (clients, r, b) => {
    console.log(
      `clients=${clients}: raw ${r.rate.toFixed(0)} calls/s, ${r.cpuPerCallUs.toFixed(1)} µs CPU/call, p50 ${r.p50Us} µs | ` +
        `busbench ${b.rate.toFixed(0)} calls/s, ${b.cpuPerCallUs.toFixed(1)} µs CPU/call, p50 ${b.p50Us} µs`,
    );
    console.log(
      `  ratio throughput ${(b.rate / r.rate).toFixed(3)}× (goal ≥ 0.95)  CPU/call ${(b.cpuPerCallUs / r.cpuPerCallUs).toFixed(3)}× (goal ≤ 1.10)` +
        `  p50 added ${(b.p50Us - r.p50Us).toFixed(0)} µs${clients === 1 ? ' (goal ≤ 50)' : ''}`,
    );
  },
});
