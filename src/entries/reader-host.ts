/**
 * Entry of a process reader on a host busbench reaches over ssh: the
 * sampler's pids there are not this machine's, so /proc must be read on
 * that host. Each frame on stdin (util/frames.ts) is an array of pids; each
 * is answered, in order, by one frame on stdout: an array with, per pid,
 * its reading (readAt on this process's clock), null when it has exited, or
 * {error}. When stdin closes, the sampler is gone, and so is this.
 */
import { readFrames, writeFrame } from '../util/frames.js';
import { TcpConnectionCounter, readProcessOrError, type ProcessReading } from '../metrics/process-stats.js';

/** Kept from one question to the next: it reads a namespace's TCP tables and a process's open files again only when they can have changed. */
const connections = new TcpConnectionCounter();

function answer(pids: unknown): (ProcessReading | { error: string } | null)[] {
  if (!Array.isArray(pids) || !pids.every((pid) => Number.isInteger(pid) && pid > 0))
    return [{ error: `not an array of pids: ${JSON.stringify(pids).slice(0, 200)}` }];
  return (pids as number[]).map((pid) => readProcessOrError(pid, connections) ?? null);
}

// Each question is answered before the next is read (the reading is synchronous): the answers' order is what ties them to the questions.
readFrames(
  process.stdin,
  (pids) => void writeFrame(process.stdout, answer(pids)),
  (error) => {
    process.stderr.write(`reader host: ${error.message}\n`);
    process.exit(1);
  },
);
