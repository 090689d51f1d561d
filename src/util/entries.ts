/**
 * Where busbench's process entry points are (all in src/entries/): on this
 * machine, and inside a copy installed in busbench_dir on another host.
 * The one place that knows the build's layout of entries.
 */
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ENTRY_FILES = {
  /** the command line (package.json's bin) */
  cli: 'cli.js',
  /** a host's agent worker threads, for a coordinator elsewhere */
  agentHost: 'agent-host.js',
  /** one agent worker thread */
  agentWorker: 'agent-worker.js',
  /** reads a host's processes for the resource sampler */
  readerHost: 'reader-host.js',
  /** one bus node on a host busbench reaches only through processes */
  busNode: 'bus-node.js',
} as const;

export type EntryName = keyof typeof ENTRY_FILES;

/** The entry's file in this build (dist/src/util/entries.js sits beside dist/src/entries/). */
export function localEntry(name: EntryName): string {
  return fileURLToPath(new URL(`../entries/${ENTRY_FILES[name]}`, import.meta.url));
}

/** The entry's file in a build unpacked into `busbenchDir` on another host. */
export function installedEntry(busbenchDir: string, name: EntryName): string {
  return posix.join(busbenchDir, 'dist', 'src', 'entries', ENTRY_FILES[name]);
}
