/**
 * One process's figures on Linux. CPU time and RSS come from pidusage, which
 * reads /proc/<pid>/stat: its utime + stime cover every thread of the process,
 * and its rss is the resident set. Open TCP connections are counted from
 * /proc: the socket inodes among the process's open files, matched against
 * the ESTABLISHED rows of /proc/<pid>/net/tcp and tcp6. Those tables are the
 * ones of the process's own network namespace, which matters because brokers
 * and agents may run in namespaces of their own.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import pidusage from 'pidusage';

export interface ProcessReading {
  /** user + system CPU time of all its threads since it started */
  cpuTimeMs: number;
  /** performance.now() when cpuTimeMs was read: CPU rates divide by the time between two readings */
  readAt: number;
  rssBytes: number;
  /** its sockets in state ESTABLISHED */
  tcpConnections: number;
}

export interface TcpTableRow {
  /** the kernel's TCP state number: 1 ESTABLISHED, 10 LISTEN, … */
  state: number;
  inode: number;
}

export const TCP_ESTABLISHED = 1;

/** The rows of a /proc/net/tcp or tcp6 table (a header line, then `sl local rem st tx:rx tr:when retrnsmt uid timeout inode …`). */
export function parseTcpTable(text: string): TcpTableRow[] {
  const rows: TcpTableRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    rows.push({ state: parseInt(fields[3]!, 16), inode: Number(fields[9]) });
  }
  return rows;
}

/** The inodes of the ESTABLISHED sockets in some TCP tables. */
export function establishedInodes(tables: string[]): Set<number> {
  const inodes = new Set<number>();
  for (const table of tables) for (const row of parseTcpTable(table)) if (row.state === TCP_ESTABLISHED) inodes.add(row.inode);
  return inodes;
}

/** The socket inodes among the targets of a process's /proc/<pid>/fd links (`socket:[12345]`); files, pipes and the like are not sockets. */
export function socketInodes(links: string[]): number[] {
  const inodes: number[] = [];
  for (const link of links) {
    const match = /^socket:\[(\d+)\]$/.exec(link);
    if (match) inodes.push(Number(match[1]));
  }
  return inodes;
}

export function countEstablished(sockets: number[], established: Set<number>): number {
  return sockets.filter((inode) => established.has(inode)).length;
}

/** The process has exited (or exits while being read). */
function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

async function readEstablished(pid: number): Promise<Set<number>> {
  return establishedInodes(await Promise.all(['tcp', 'tcp6'].map((table) => readFile(`/proc/${pid}/net/${table}`, 'utf8'))));
}

/**
 * The ESTABLISHED sockets of each network namespace, for one sampling round:
 * the TCP tables of a busy namespace hold thousands of rows, so they are read
 * once however many watched processes share the namespace.
 */
export class EstablishedSockets {
  private readonly byNamespace = new Map<string, Promise<Set<number>>>();

  async of(pid: number): Promise<Set<number>> {
    const namespace = await readlink(`/proc/${pid}/ns/net`);
    const shared = this.byNamespace.get(namespace);
    if (shared) {
      try {
        return await shared;
      } catch {
        // the process the table was read through exited meanwhile: read it through this one
      }
    }
    const own = readEstablished(pid);
    this.byNamespace.set(namespace, own);
    return own;
  }
}

async function socketLinks(pid: number): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`);
  const links = await Promise.all(
    fds.map((fd) =>
      readlink(`/proc/${pid}/fd/${fd}`).catch((error: unknown) => {
        // a file closed between the listing and the link
        if (isGone(error)) return '';
        throw error;
      }),
    ),
  );
  return links;
}

/** The figures of a process now; undefined when it has exited. Other failures (no permission) throw. */
export async function readProcess(pid: number, sockets: EstablishedSockets): Promise<ProcessReading | undefined> {
  try {
    const usage = await pidusage(pid);
    const readAt = performance.now();
    const [links, established] = await Promise.all([socketLinks(pid), sockets.of(pid)]);
    return { cpuTimeMs: usage.ctime, readAt, rssBytes: usage.memory, tcpConnections: countEstablished(socketInodes(links), established) };
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}
