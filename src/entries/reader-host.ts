/**
 * Entry of a process reader on a host busbench reaches over ssh: the
 * sampler's pids there are not this machine's, so /proc must be read on
 * that host. Each frame on stdin (util/frames.ts) is an array of pids; each
 * is answered, in order, by one frame on stdout: an array with, per pid,
 * its reading (readAt on this process's clock), null when it has exited, or
 * {error}. When stdin closes, the sampler is gone, and so is this.
 */
import { readFrames, writeFrame } from '../util/frames.js';
import { EstablishedSockets, readProcess, type ProcessReading } from '../metrics/process-stats.js';

/** Kept from one question to the next: it reads a namespace's TCP tables again only when they can have changed. */
const sockets = new EstablishedSockets();

async function answer(pids: unknown): Promise<(ProcessReading | { error: string } | null)[]> {
  if (!Array.isArray(pids) || !pids.every((pid) => Number.isInteger(pid) && pid > 0))
    return [{ error: `not an array of pids: ${JSON.stringify(pids).slice(0, 200)}` }];
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

// Questions are answered one after another: the answers' order is what ties them to the questions.
let answered = Promise.resolve();
readFrames(
  process.stdin,
  (pids) => {
    answered = answered.then(async () => void writeFrame(process.stdout, await answer(pids)));
  },
  (error) => {
    process.stderr.write(`reader host: ${error.message}\n`);
    process.exit(1);
  },
);
