/**
 * Process helpers every part that starts processes needs: free ports,
 * process groups, liveness, log tails. Nothing here knows about buses.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/**
 * Ports for the listeners busbench starts (brokers, routers, epmd, relays).
 *
 * Chosen below the kernel's ephemeral range, not by asking for port 0: a broker in a network namespace binds its port
 * there, where this process cannot look, and the namespace's own outgoing connections (agents, probes of an earlier
 * run) take their source ports from the ephemeral range and linger in TIME_WAIT for a minute afterwards. An ephemeral
 * port free here was seen taken there (RabbitMQ refused to start: dist_port_already_used … not_erlang). Below the
 * range, only listeners take ports, and those this check sees when they are on this host, or are the ones handed out.
 */
const handedOut = new Set<number>();
const lowestPort = 20000;

/** The kernel's ephemeral range (net.ipv4.ip_local_port_range), or Linux's default where it cannot be read. */
export function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // Not Linux, or no /proc: the default range.
  }
  return [32768, 60999];
}

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    // Every address: a listener on any one of them would refuse a broker told to bind that port there.
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function kernelsChoice(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A port nobody listens on right now, outside the ephemeral range, and not handed out before by this process. */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralPortRange();
  const span = ephemeralLow - lowestPort;
  // A range moved down to (almost) nothing leaves no room below it: then the kernel's choice, as before.
  if (span < 1000 || handedOut.size > span / 2) return kernelsChoice();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = lowestPort + Math.floor(Math.random() * span);
    if (handedOut.has(port)) continue;
    // Taken before the check, so that a concurrent caller cannot pick the same port while this one listens.
    handedOut.add(port);
    if (await listenable(port)) return port;
  }
  return kernelsChoice();
}

/**
 * The text of /proc/<pid>/stat, split: the command name (field 2), and the
 * fields from 3 (state) on. The name is in parentheses and may hold spaces
 * and parentheses itself, so the fields start after the last ')'.
 */
export function splitProcStat(stat: string): { comm: string; fields: string[] } {
  const close = stat.lastIndexOf(')');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
}

/** A process's command name and process group, from /proc/<pid>/stat; undefined when it is gone. */
export function processIdentity(pid: number): { comm: string; pgid: number } | undefined {
  try {
    const { comm, fields } = splitProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    // fields[0] is field 3 (state): ppid is field 4, pgrp 5
    return { comm, pgid: Number(fields[2]) };
  } catch {
    // the process ended while we looked
    return undefined;
  }
}

/** Processes of a process group (a walk over all of /proc: for a lookup, not for every sample). */
export function processGroupMembers(pgid: number): { pid: number; comm: string }[] {
  const members: { pid: number; comm: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const identity = processIdentity(Number(entry));
    if (identity?.pgid === pgid) members.push({ pid: Number(entry), comm: identity.comm });
  }
  return members;
}

/** The member of a process group with a command name, remembered: checked with one read while it lives, looked up again when it is gone. */
export function groupMemberFinder(pgid: () => number, comm: string): () => number | undefined {
  let found: number | undefined;
  return () => {
    const group = pgid();
    if (found !== undefined) {
      const identity = processIdentity(found);
      if (identity?.pgid === group && identity.comm === comm) return found;
    }
    return (found = processGroupMembers(group).find((member) => member.comm === comm)?.pid);
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Signal a whole process group; a group that is already gone is fine. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** The last lines of a log file, for an error that says why a process failed to start. */
export async function tail(path: string, lines = 15): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/** Whether a process lives (EPERM: it does, but is not ours to signal). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
