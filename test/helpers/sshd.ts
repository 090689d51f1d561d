/**
 * A real OpenSSH server for tests, run as a plain process on 127.0.0.1:
 * its own host key, a client key pair allowed in, and a known_hosts file
 * that vouches for the host key.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** sshd re-executes itself by this path for every connection, so it must be absolute. */
export const SSHD = '/usr/sbin/sshd';
export const sshdAbsent = existsSync(SSHD) ? false : `${SSHD} is absent (apt-get install -y openssh-server)`;

const execFileAsync = promisify(execFile);

export interface TestSshd {
  port: number;
  dir: string;
  /** the user sshd lets in: the one running the tests */
  user: string;
  /** the client's private key */
  identity: string;
  /** `[127.0.0.1]:PORT <host key>` */
  knownHosts: string;
  /** another generated key, for a known_hosts file that lists the wrong one */
  otherHostKey: string;
  /** processes the server started for connections: its children, and every command run through it, orphans included */
  sessions(): Promise<number[]>;
  /** stops everything of this server and removes its directory; resolves with the processes that would not die */
  stop(): Promise<number[]>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** State and parent of a process, from /proc; undefined once it is gone. */
async function processStatus(pid: number): Promise<{ state: string; parent: number } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields after the last ")" are fixed.
    const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state!, parent: Number(parent) };
  } catch {
    return undefined;
  }
}

/** A zombie counts as dead: in a container nothing may ever reap it. */
async function alive(pid: number): Promise<boolean> {
  const status = await processStatus(pid);
  return status !== undefined && status.state !== 'Z';
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}

async function living(pids: number[]): Promise<number[]> {
  const states = await Promise.all(pids.map(alive));
  return pids.filter((_, i) => states[i]);
}

/** Every process below `root`: sshd's connection children start their own sessions, so the process group does not hold them. */
async function descendants(root: number): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const parents = new Map<number, number>();
  for (const pid of pids) {
    const status = await processStatus(pid);
    if (status && status.state !== 'Z') parents.set(pid, status.parent);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of parents) {
      if (ppid === parent) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

/** Commands run through this server carry SSH_CONNECTION naming its port, even once their session process is gone. */
async function connectedThrough(port: number): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const marker = new RegExp(`(^|\\x00)SSH_CONNECTION=\\S+ \\d+ 127\\.0\\.0\\.1 ${port}(\\x00|$)`);
  const environments = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '')));
  return pids.filter((_, i) => marker.test(environments[i]!));
}

async function keygen(file: string): Promise<void> {
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'busbench-test', '-f', file]);
}

export async function startSshd(): Promise<TestSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'busbench-sshd-'));
  let sshd: ChildProcess | undefined;
  try {
    // sshd refuses to start without its privilege separation directory.
    await mkdir('/run/sshd', { recursive: true });
    const hostKey = join(dir, 'host_ed25519');
    const identity = join(dir, 'client_ed25519');
    const other = join(dir, 'other_ed25519');
    await Promise.all([keygen(hostKey), keygen(identity), keygen(other)]);
    await writeFile(join(dir, 'authorized_keys'), await readFile(`${identity}.pub`));
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'UsePAM no',
        'StrictModes no',
        'PermitRootLogin prohibit-password',
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
    let output = '';
    const started = spawn(SSHD, ['-D', '-e', '-f', config], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    sshd = started;
    started.stderr!.on('data', (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-4096)));
    const listening = await waitUntil(async () => started.exitCode !== null || (await accepts(port)), 10_000);
    if (!listening || started.exitCode !== null) throw new Error(`sshd did not start listening on 127.0.0.1:${port}: ${output.trim() || 'no output'}`);
    const knownHosts = join(dir, 'known_hosts');
    const hostKeyLine = (await readFile(`${hostKey}.pub`, 'utf8')).trim();
    await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostKeyLine}\n`);
    const otherHostKey = (await readFile(`${other}.pub`, 'utf8')).trim();

    const pid = started.pid!;
    const exited = new Promise<void>((resolve) => (started.exitCode !== null ? resolve() : started.once('exit', () => resolve())));
    let stopped: Promise<number[]> | undefined;
    return {
      port,
      dir,
      user: userInfo().username,
      identity,
      knownHosts,
      otherHostKey,
      sessions: async () => living([...new Set([...(await descendants(pid)), ...(await connectedThrough(port))])]),
      stop: () =>
        (stopped ??= (async () => {
          const everything = [pid, ...(await descendants(pid)), ...(await connectedThrough(port))];
          signal(-pid, 'SIGTERM');
          for (const other of everything) signal(other, 'SIGTERM');
          await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
          if (!(await waitUntil(async () => (await living(everything)).length === 0, 2000)))
            for (const other of await living(everything)) signal(other, 'SIGKILL');
          await waitUntil(async () => (await living(everything)).length === 0, 2000);
          await rm(dir, { recursive: true, force: true });
          return living(everything);
        })()),
    };
  } catch (error) {
    if (sshd?.pid && sshd.exitCode === null) signal(-sshd.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
