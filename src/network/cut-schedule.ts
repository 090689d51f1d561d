/**
 * Carrying out the cuts of a run on time: each window's tables go on when
 * it opens and come off when it closes; stopping the schedule (the
 * measured phase is over, a failure, Ctrl-C) cancels what has not begun
 * and restores what is down. What actually happened, with times measured
 * from the start of the measured phase, goes to the results so reports can
 * put the outages beside the time series.
 */
import { onCleanup } from '../cleanup.js';
import type { HostExecutor } from './apply.js';
import { cutCommands, type CutHost } from './cuts.js';
import type { CutRecord, CutWindow } from '../model/index.js';

export interface CutSchedule {
  stop(): Promise<CutRecord[]>;
}

export function startCutSchedule(
  windows: CutWindow[],
  hosts: CutHost[],
  exec: HostExecutor,
  onChange: (record: CutRecord, what: 'down' | 'up') => void = () => undefined,
): CutSchedule {
  const began = performance.now();
  const elapsed = (): number => Math.round(performance.now() - began);
  const records: CutRecord[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const active = new Map<CutRecord, () => Promise<void>>();
  let stopped = false;

  const runAll = async (steps: { host: string; argv: string[] }[]): Promise<void> => {
    // Every host at once: a cut that reached some hosts long before others would be half a cut.
    const outcomes = await Promise.allSettled(steps.map((s) => exec(s.host, s.argv)));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason as Error;
  };

  windows.forEach((window, index) => {
    const table = `busbench_cut_${index}`;
    const record: CutRecord = { kind: window.kind, label: window.label, pairs: window.pairs, plannedAtMs: window.atMs, plannedForMs: window.forMs };
    const commands = cutCommands(hosts, window.pairs, table);
    const lift = async (): Promise<void> => {
      if (!active.delete(record)) return;
      // Each host's table in one command: deleting it takes its chains and rules.
      await runAll(commands.flatMap((c) => c.undo.map((step) => ({ host: c.host, argv: step.argv })))).catch((error: Error) => {
        // A cut lifted before it was complete has tables missing on some hosts: only a started one's failure is news.
        if (record.startedAtMs !== undefined) record.error = `restoring: ${error.message}`;
      });
      record.endedAtMs = elapsed();
      onChange(record, 'up');
    };
    const open = setTimeout(() => {
      timers.delete(open);
      if (stopped) return;
      records.push(record);
      active.set(record, lift);
      void (async () => {
        const steps = Math.max(0, ...commands.map((c) => c.apply.length));
        for (let step = 0; step < steps && active.has(record); step++) {
          await runAll(commands.flatMap((c) => (c.apply[step] ? [{ host: c.host, argv: c.apply[step]!.argv }] : [])));
        }
        // Lifted while going down (the run stopped): what went on meanwhile comes off again.
        if (!active.has(record)) await runAll(commands.flatMap((c) => c.undo.map((u) => ({ host: c.host, argv: u.argv })))).catch(() => undefined);
      })().then(
        () => {
          if (!active.has(record)) return;
          record.startedAtMs = elapsed();
          onChange(record, 'down');
          const close = setTimeout(() => {
            timers.delete(close);
            void lift();
            // The outage lasts as long as asked from when it is complete on every host, however long going down took.
          }, window.forMs);
          timers.add(close);
        },
        (error: Error) => {
          record.error = `cutting: ${error.message}`;
          void lift();
        },
      );
    }, window.atMs);
    timers.add(open);
  });

  const stop = async (): Promise<CutRecord[]> => {
    stopped = true;
    unregister();
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    await Promise.all([...active.values()].map((lift) => lift()));
    return records;
  };
  const unregister = onCleanup('scheduled link cuts', async () => void (await stop()));
  return { stop };
}
