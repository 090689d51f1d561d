/**
 * Clock offsets of the agent workers against the coordinator (this thread):
 * NTP-style probes over the control port, several rounds, the lowest-delay
 * ones kept (src/metrics/clock-offset.ts). Each worker then stamps in the
 * coordinator's time. On one host the offsets are ~0 and the uncertainty is
 * the control path's round trip; across hosts (the ssh provider) the same
 * exchange runs over the control connection.
 */
import { estimateClockOffset, type ClockSample } from '../metrics/clock-offset.js';
import type { WorkerClock } from '../model/index.js';
import type { AgentWorkerPool } from './worker-pool.js';

function coordinatorNow(): number {
  return performance.timeOrigin + performance.now();
}

export async function synchronizeWorkerClocks(pool: AgentWorkerPool, rounds = 16): Promise<WorkerClock[]> {
  const samples: ClockSample[][] = Array.from({ length: pool.size }, () => []);
  const stop = pool.on((message, index) => {
    if (message.type === 'clock-sample') samples[index]!.push({ t0: message.t0, t1: message.t1, t2: coordinatorNow() });
  });
  try {
    for (let round = 0; round < rounds; round++) {
      await pool.gather('clock-sample', { type: 'clock-probe', t0: coordinatorNow() }, 10_000);
    }
  } finally {
    stop();
  }
  const clocks = samples.map((workerSamples, worker) => ({ worker, ...estimateClockOffset(workerSamples) }));
  clocks.forEach((c, worker) => pool.send(worker, { type: 'clock-set', offsetMs: c.offsetMs }));
  return clocks;
}
