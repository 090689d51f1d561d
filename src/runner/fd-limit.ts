/**
 * Every agent connection is a file descriptor of this process. Check the
 * open-files limit before starting, raise the soft limit up to the hard one
 * (prlimit on our own pid: Node has no setrlimit), or explain what to do.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface FileLimit {
  soft: number;
  hard: number;
}

export function readFileLimit(): FileLimit | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = (line ?? '').replace('Max open files', '').trim().split(/\s+/);
    const parse = (v: string | undefined): number => (v === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(v));
    const limit = { soft: parse(soft), hard: parse(hard) };
    return Number.isFinite(limit.soft) && Number.isFinite(limit.hard) ? limit : undefined;
  } catch {
    return undefined;
  }
}

/** Descriptors busbench needs beyond the agents' connections: workers, logs, the broker child's pipes. */
export const FD_HEADROOM = 200;

/**
 * Make sure `connections` descriptors are available. Returns what was done
 * (for the log); throws an Error saying how to fix it when it cannot be.
 */
export function ensureFileLimit(connections: number): string {
  const needed = connections + FD_HEADROOM;
  const limit = readFileLimit();
  if (!limit) return 'open-files limit unknown (no /proc/self/limits); not checked';
  if (limit.soft >= needed) return `open-files limit ${limit.soft} is enough for ${needed}`;
  if (limit.hard >= needed) {
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${limit.hard}:${limit.hard}`], { stdio: 'ignore' });
      const after = readFileLimit();
      if (after && after.soft >= needed) return `raised the open-files limit from ${limit.soft} to ${after.soft} for ${needed} descriptors`;
    } catch {
      // fall through to the explanation
    }
    throw new Error(
      `${connections} agent connections need about ${needed} open files, but the limit is ${limit.soft} and busbench could not raise it ` +
        `(prlimit failed). Run 'ulimit -n ${limit.hard}' in the shell first, or start fewer agents per process.`,
    );
  }
  throw new Error(
    `${connections} agent connections need about ${needed} open files, but this process may open at most ${limit.hard} (hard limit). ` +
      `Raise the hard limit (root: 'ulimit -Hn ${needed}' or LimitNOFILE / /etc/security/limits.conf), share connections ` +
      `(--shared-connections, agents of a worker share one connection each with its own channel), or split the agents over several busbench processes or hosts.`,
  );
}
