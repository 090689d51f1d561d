/**
 * What a bus plugin is given to deploy on: hosts, as a provider hands them
 * over. A host can start a process and run a command there; a host that is
 * this machine (the local provider, or a network namespace of it) also says
 * so, and the plugin starts its nodes as this process's children there.
 */
import type { Readable, Writable } from 'node:stream';

/** A process started on a host with piped stdio: a local child process, or a command run over ssh. */
export interface HostProcess {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  /** a local process id, when there is one */
  pid?: number | undefined;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
  kill(signal?: NodeJS.Signals): unknown;
}

/** Starts a command on a host (a namespace, an ssh session) with piped stdio. ChildProcess is one. */
export type HostSpawner = (argv: string[]) => HostProcess;

export interface BusHost {
  name: string;
  site: string;
  /** where the other hosts, and busbench, reach it */
  address: string;
  /** starts a process on the host with piped stdio */
  spawn: HostSpawner;
  /** runs a command on the host to completion; its stdout */
  run(argv: string[]): Promise<string>;
  /** this machine (its processes are this process's children), inside this network namespace if any */
  thisMachine?: { netns?: string };
  /** elsewhere: the argv that starts bus node entry there (node and src/entries/bus-node.js, as installed on that host) */
  busNodeArgv?: string[];
  /** how busbench reaches it, for descriptions ("over ssh"); absent on this machine */
  reachedBy?: string;
}
