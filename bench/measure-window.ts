/** The timing both raw baselines share: warm up, then measure wall time and process CPU over a window. */
export async function measureWindow(warmupMs: number, measureMs: number, setMeasuring: (on: boolean) => void): Promise<{ elapsedMs: number; cpuUs: number }> {
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  setMeasuring(true);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, measureMs));
  setMeasuring(false);
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { elapsedMs, cpuUs: cpu.user + cpu.system };
}
