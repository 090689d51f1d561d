/**
 * One process's figures on Linux. CPU time and RSS come from
 * /proc/<pid>/stat: its utime + stime cover every thread of the process, and
 * its rss is the resident set. Open TCP connections are counted from /proc:
 * the socket inodes among the process's open files, matched against the
 * ESTABLISHED rows of /proc/<pid>/net/tcp and tcp6. Those tables are the
 * ones of the process's own network namespace, which matters because
 * brokers and agents may run in namespaces of their own.
 *
 * The /proc reads are synchronous, and the time of a reading is taken right
 * after its stat is read. (pidusage, used before, reads asynchronously: on a
 * busy event loop its answer waited seconds for its callback, the reading's
 * time was taken then, and a 2-core host showed a process at 4.2 cores.)
 * The TCP figures are the expensive part: reading a table walks the
 * kernel's whole established hash (262,144 buckets on a 24 GiB machine:
 * about 4 ms a table) however few rows it holds, and listing a process's
 * sockets is a readlink per open file (15,000 agents: 15,000 a second,
 * which took a tenth of a core). TcpConnectionCounter does either only when
 * the namespace's connections can have changed.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { splitProcStat } from '../util/process.js';

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
 * Counts the ESTABLISHED TCP connections of processes, sample after sample.
 * A namespace's tables are read once however many watched processes share
 * it, and a process's open files are listed, only when the namespace's TCP
 * counters moved since (or TCP_TABLES_MAX_AGE_MS passed): a connection that
 * comes up or goes away moves them, and a bus under steady load keeps its
 * connections, so most samples read the counters alone. (A socket handed
 * from one process to another over a Unix socket moves no counter: such a
 * move shows within TCP_TABLES_MAX_AGE_MS.)
 */
export class TcpConnectionCounter {
  private readonly byNamespace = new Map<string, { counters: string; readAt: number; established: Set<number> }>();
  private readonly byPid = new Map<number, { namespace: string; counters: string; readAt: number; connections: number }>();
  /** table reads and listings of a process's open files so far, for the tests */
  tableReads = 0;
  fileListings = 0;

  /** The process's ESTABLISHED TCP connections. */
  of(pid: number): number {
    // Namespace and counters first: a change while the rest is read shows at the next sample.
    const namespace = readlinkSync(`/proc/${pid}/ns/net`);
    const counters = tcpCountersOf(readFileSync(`/proc/${pid}/net/snmp`, 'latin1'));
    const now = performance.now();
    // Entries older than the limit are read again on their next use anyway; dropping them here also
    // forgets namespaces and pids nobody asks about any more, which a long-lived sampler (a bus
    // keeper, a campaign's runs) would otherwise keep.
    for (const [seen, entry] of this.byNamespace) if (now - entry.readAt >= TCP_TABLES_MAX_AGE_MS) this.byNamespace.delete(seen);
    for (const [seen, entry] of this.byPid) if (now - entry.readAt >= TCP_TABLES_MAX_AGE_MS) this.byPid.delete(seen);
    const counted = this.byPid.get(pid);
    if (counted && counted.namespace === namespace && counted.counters === counters) return counted.connections;
    let tables = this.byNamespace.get(namespace);
    if (!tables || tables.counters !== counters) {
      tables = { counters, readAt: now, established: readEstablished(pid) };
      this.tableReads++;
      this.byNamespace.set(namespace, tables);
    }
    const connections = countEstablished(socketInodes(socketLinks(pid)), tables.established);
    this.fileListings++;
    this.byPid.set(pid, { namespace, counters, readAt: now, connections });
    return connections;
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

let units: { ticksPerSecond: number; pageBytes: number } | undefined;

/** The kernel's clock ticks per second and page size (getconf, asked on first use; Linux's 100 and 4 KiB where it cannot say). */
function kernelUnits(): { ticksPerSecond: number; pageBytes: number } {
  if (units) return units;
  const ask = (name: string, fallback: number): number => {
    try {
      const value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
      return Number.isInteger(value) && value > 0 ? value : fallback;
    } catch {
      return fallback;
    }
  };
  return (units = { ticksPerSecond: ask('CLK_TCK', 100), pageBytes: ask('PAGESIZE', 4096) });
}

/** CPU time (utime + stime, ms) and RSS (bytes) from the text of /proc/<pid>/stat. */
export function parseProcStat(stat: string): { cpuTimeMs: number; rssBytes: number } {
  const { fields } = splitProcStat(stat);
  // fields[0] is field 3 (state): utime is field 14, stime 15, rss 24
  const [utime, stime, rss] = [fields[11], fields[12], fields[21]].map(Number);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || !Number.isFinite(rss)) throw new Error(`unreadable /proc stat: ${stat.slice(0, 200)}`);
  const { ticksPerSecond, pageBytes } = kernelUnits();
  return { cpuTimeMs: ((utime! + stime!) * 1000) / ticksPerSecond, rssBytes: rss! * pageBytes };
}

/** What reading one pid gave: its figures, undefined when it has exited, or why it could not be read (no permission). */
export type PidReading = ProcessReading | { error: string } | undefined;

/** readProcess, with a failure to read as the reading's error instead of a throw. */
export function readProcessOrError(pid: number, connections: TcpConnectionCounter): PidReading {
  try {
    return readProcess(pid, connections);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** The figures of a process now; undefined when it has exited. Other failures (no permission) throw. */
export function readProcess(pid: number, connections: TcpConnectionCounter): ProcessReading | undefined {
  try {
    const { cpuTimeMs, rssBytes } = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
    const readAt = performance.now();
    return { cpuTimeMs, readAt, rssBytes, tcpConnections: connections.of(pid) };
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}
