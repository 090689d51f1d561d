/**
 * One process's figures on Linux. CPU time and RSS come from pidusage, which
 * reads /proc/<pid>/stat: its utime + stime cover every thread of the process,
 * and its rss is the resident set. Open TCP connections are counted from
 * /proc: the socket inodes among the process's open files, matched against
 * the ESTABLISHED rows of /proc/<pid>/net/tcp and tcp6. Those tables are the
 * ones of the process's own network namespace, which matters because brokers
 * and agents may run in namespaces of their own.
 *
 * The /proc reads are synchronous: a sample is a few hundred short system
 * calls, each cheaper than a trip through libuv's thread pool, and the
 * thread that samples measures nothing itself. The TCP tables are the
 * expensive part: reading one walks the kernel's whole established hash
 * (262,144 buckets on a 24 GiB machine: about 4 ms a table) however few
 * rows it holds; EstablishedSockets reads them only when they can have
 * changed.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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

function readEstablished(pid: number): Set<number> {
  return establishedInodes(['tcp', 'tcp6'].map((table) => readFileSync(`/proc/${pid}/net/${table}`, 'latin1')));
}

/**
 * The namespace's TCP counters (/proc/<pid>/net/snmp, a few hundred bytes
 * and no table walk) that move whenever a connection enters or leaves
 * ESTABLISHED: CurrEstab counts exactly the ESTABLISHED ones (Linux
 * decrements it on the way to CLOSE_WAIT too), opens and resets count
 * handshakes begun and connections broken.
 */
export function tcpCountersOf(snmp: string): string {
  const lines = snmp.split('\n').filter((line) => line.startsWith('Tcp:'));
  if (lines.length < 2) throw new Error('no Tcp lines in /proc/net/snmp');
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return ['ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets', 'CurrEstab'].map((name) => values[names.indexOf(name)] ?? '?').join(' ');
}

/** However still the counters hold, the tables are read again after this long: it bounds what a coincidence could hide. */
export const TCP_TABLES_MAX_AGE_MS = 10_000;

/**
 * The ESTABLISHED sockets of each network namespace. A namespace's tables
 * are read once however many watched processes share it, and read again
 * only when its TCP counters moved (or TCP_TABLES_MAX_AGE_MS passed): a
 * bus under steady load keeps its connections, and with them the sockets
 * ESTABLISHED, so most samples read the counters alone. Each process's own
 * sockets are listed every sample (its fds), so a connection it opened or
 * closed is always seen.
 */
export class EstablishedSockets {
  private readonly byNamespace = new Map<string, { counters: string; readAt: number; established: Set<number> }>();
  /** table reads so far, for the tests */
  tableReads = 0;

  of(pid: number): Set<number> {
    const namespace = readlinkSync(`/proc/${pid}/ns/net`);
    const counters = tcpCountersOf(readFileSync(`/proc/${pid}/net/snmp`, 'latin1'));
    const now = performance.now();
    // Tables older than the limit are read again on their next use anyway; dropping them here also
    // forgets namespaces nobody asks about any more, which a long-lived sampler (a bus keeper, a
    // campaign's runs) would otherwise keep, each with its set of sockets.
    for (const [seen, entry] of this.byNamespace) if (now - entry.readAt >= TCP_TABLES_MAX_AGE_MS) this.byNamespace.delete(seen);
    const known = this.byNamespace.get(namespace);
    if (known && known.counters === counters) return known.established;
    const established = readEstablished(pid);
    this.tableReads++;
    this.byNamespace.set(namespace, { counters, readAt: now, established });
    return established;
  }
}

function socketLinks(pid: number): string[] {
  const links: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      links.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch (error) {
      // a file closed between the listing and the link
      if (!isGone(error)) throw error;
    }
  }
  return links;
}

/** The figures of a process now; undefined when it has exited. Other failures (no permission) throw. */
export async function readProcess(pid: number, sockets: EstablishedSockets): Promise<ProcessReading | undefined> {
  try {
    const usage = await pidusage(pid);
    const readAt = performance.now();
    const links = socketLinks(pid);
    const established = sockets.of(pid);
    return { cpuTimeMs: usage.ctime, readAt, rssBytes: usage.memory, tcpConnections: countEstablished(socketInodes(links), established) };
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}
