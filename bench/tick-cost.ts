/**
 * Diagnosis: what a worker's once-a-second tick costs its event loop, the
 * O(agents) part of the bookkeeping (issue 15 asked whether worker totals
 * should be kept incrementally). It sums N sending agents' counters into
 * per-group totals and takes the per-second interval (counter deltas, the
 * second's histograms encoded), as agent-worker.ts does every second, and
 * prints the time per tick and as a share of a core.
 *
 *   npm run build && node dist/bench/tick-cost.js [--agents 15000] [--groups 2]
 */
import { parseArgs } from 'node:util';
import { IntervalRecorder } from '../src/metrics/interval.js';
import { AgentRecorder, totalCounters, WorkerHistograms } from '../src/metrics/stats.js';
import { PATTERNS } from '../src/model/index.js';

const { values } = parseArgs({ options: { agents: { type: 'string', default: '15000' }, groups: { type: 'string', default: '2' } } });
const agents = Number(values.agents);
const patterns = Math.min(Number(values.groups), PATTERNS.length);

AgentRecorder.sharing = new WorkerHistograms();
const interval = new IntervalRecorder();
const recorders: AgentRecorder[] = [];
for (let i = 0; i < agents; i++) {
  const recorder = new AgentRecorder('client');
  recorder.interval = interval;
  for (let p = 0; p < patterns; p++) recorder.countersFor(p).sent = 1;
  recorders.push(recorder);
}

function tick(): void {
  // A second's traffic: one answered message per agent and pattern, its latency in the interval.
  for (const recorder of recorders) {
    for (let p = 0; p < patterns; p++) {
      recorder.countersFor(p).ok++;
      recorder.latency(p, 1 + (p % 7));
    }
  }
  const started = performance.now();
  interval.take(totalCounters(recorders));
  spent += performance.now() - started;
}

let spent = 0;
for (let i = 0; i < 20; i++) tick();
spent = 0;
const ticks = 200;
for (let i = 0; i < ticks; i++) tick();
const perTickMs = spent / ticks;
console.log(
  `${agents} agents × ${patterns} pattern(s): ${(perTickMs * 1000).toFixed(0)} µs per tick (totals and interval), ${(perTickMs / 10).toFixed(3)} % of a core at one tick per second`,
);
