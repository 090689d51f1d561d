/**
 * Entry of a process reader on a host busbench reaches over ssh: the
 * sampler's pids there are not this machine's, so /proc must be read on
 * that host. Each stdin line is a JSON array of pids; each is answered, in
 * order, by one stdout line: a JSON array with, per pid, its reading (readAt
 * on this process's clock), null when it has exited, or {error}. When stdin
 * closes, the sampler is gone, and so is this.
 */
import { createInterface } from 'node:readline';
import { EstablishedSockets, readProcess, type ProcessReading } from './process-stats.js';

async function answer(line: string): Promise<(ProcessReading | { error: string } | null)[]> {
  let pids: unknown;
  try {
    pids = JSON.parse(line);
  } catch {
    pids = undefined;
  }
  if (!Array.isArray(pids) || !pids.every((pid) => Number.isInteger(pid) && pid > 0)) return [{ error: `not a JSON array of pids: ${line.slice(0, 200)}` }];
  const sockets = new EstablishedSockets();
  return Promise.all(
    (pids as number[]).map(async (pid) => {
      try {
        return (await readProcess(pid, sockets)) ?? null;
      } catch (error) {
        return { error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

// Lines are answered one after another: the answers' order is what ties them to the questions.
let answered = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  answered = answered.then(async () => void process.stdout.write(`${JSON.stringify(await answer(line))}\n`));
});
