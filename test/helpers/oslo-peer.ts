/**
 * Runs test/oslo/peer.py, a real oslo.messaging peer (Debian's
 * python3-oslo.messaging), and reads the JSON-lines events it prints.
 *
 *   const server = startOsloPeer(['serve', '--url', url, '--topic', 't', '--server', 's']);
 *   await server.waitFor((e) => e.event === 'ready', 60_000);
 *   ...
 *   await server.stop();
 *
 * See peer.py's docstring for its subcommands and events.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Debian's python with python3-oslo.messaging; not whatever python3 is first on PATH (a pyenv without oslo). */
export const OSLO_PYTHON = '/usr/bin/python3';

/** dist/test/helpers/oslo-peer.js → <repo>/test/oslo/peer.py (the script is not compiled, so not under dist). */
export const OSLO_PEER_SCRIPT = fileURLToPath(new URL('../../../test/oslo/peer.py', import.meta.url));

const STDERR_TAIL = 4096;
const DEFAULT_WAIT_MS = 20_000;
const KILL_AFTER_MS = 5_000;

let available: boolean | undefined;
/** Whether /usr/bin/python3 can import oslo_messaging (asked once per process). */
export function osloAvailable(): boolean {
  if (available === undefined) {
    const probe = spawnSync(OSLO_PYTHON, ['-c', 'import oslo_messaging'], { stdio: 'ignore', env: pythonEnv(), timeout: 30_000 });
    available = probe.status === 0;
  }
  return available;
}

export interface PeerEvent {
  event: string;
  [key: string]: unknown;
}

export interface OsloPeer {
  /** Every stdout line parsed so far; a line that is not a JSON object is kept as {event: 'raw', line}. */
  events: PeerEvent[];
  /** The first event (already seen or still to come) that matches; rejects on timeout or when the peer exits first. */
  waitFor(predicate: (event: PeerEvent) => boolean, timeoutMs?: number): Promise<PeerEvent>;
  /** The exit code (null when killed by a signal or when it could not be started). */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. Idempotent. */
  stop(): Promise<void>;
}

/** Peers still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** The caller's environment without anything that would point /usr/bin/python3 at another installation. */
function pythonEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1' };
  delete env['PYTHONHOME'];
  delete env['PYTHONPATH'];
  delete env['PYTHONSTARTUP'];
  return env;
}

function parseLine(line: string): PeerEvent {
  try {
    const value: unknown = JSON.parse(line);
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { event?: unknown }).event === 'string') {
      return value as PeerEvent;
    }
  } catch {
    // not JSON: kept as raw below
  }
  return { event: 'raw', line };
}

/** Spawns `/usr/bin/python3 test/oslo/peer.py ...args`. */
export function startOsloPeer(args: string[]): OsloPeer {
  installExitHook();
  const label = `oslo peer ${args[0] ?? ''}`.trim();
  const child = spawn(OSLO_PYTHON, [OSLO_PEER_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: pythonEnv() });
  live.add(child);

  const events: PeerEvent[] = [];
  type Waiter = { predicate: (event: PeerEvent) => boolean; settle: (event: PeerEvent) => void };
  const waiters = new Set<Waiter>();
  let stderr = '';
  let done = false;
  let exitCode: number | null = null;
  let exitSignal: NodeJS.Signals | null = null;

  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
    if (line.trim() === '') return;
    const event = parseLine(line);
    events.push(event);
    for (const waiter of [...waiters]) {
      let matches = false;
      try {
        matches = waiter.predicate(event);
      } catch {
        // a predicate that throws on an unexpected event shape just does not match
      }
      if (matches) waiter.settle(event);
    }
  });

  let finish!: (code: number | null) => void;
  const exited = new Promise<number | null>((resolve) => {
    finish = resolve;
  });
  const onEnd = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (done) return;
    done = true;
    exitCode = code;
    exitSignal = signal;
    live.delete(child);
    finish(code);
  };
  // 'close' comes after stdout and stderr have ended, so every line has been read by then.
  child.once('close', (code, signal) => onEnd(code, signal));
  child.once('error', (error) => {
    stderr = `${stderr}\n[could not run ${OSLO_PYTHON}: ${error.message}]`.slice(-STDERR_TAIL);
    onEnd(null, null);
  });

  const describeExit = (): string => (exitSignal ? `was killed by ${exitSignal}` : `exited with code ${exitCode}`);
  const stderrTail = (): string => (stderr.trim() ? `; its stderr ends with:\n${stderr}` : '; its stderr was empty');

  let stopping: Promise<void> | undefined;
  return {
    events,
    exited,
    waitFor(predicate, timeoutMs = DEFAULT_WAIT_MS) {
      const seen = events.find((event) => {
        try {
          return predicate(event);
        } catch {
          return false;
        }
      });
      if (seen) return Promise.resolve(seen);
      return new Promise<PeerEvent>((resolve, reject) => {
        const waiter: Waiter = {
          predicate,
          settle: (event) => {
            waiters.delete(waiter);
            clearTimeout(timer);
            resolve(event);
          },
        };
        const fail = (why: string): void => {
          if (!waiters.delete(waiter)) return;
          clearTimeout(timer);
          const last = events
            .slice(-5)
            .map((event) => JSON.stringify(event))
            .join('\n');
          reject(new Error(`${label}: ${why}${last ? `; its last events:\n${last}` : ''}${stderrTail()}`));
        };
        const timer = setTimeout(() => fail(`no matching event within ${timeoutMs} ms`), timeoutMs);
        waiters.add(waiter);
        void exited.then(() => setImmediate(() => fail(`${describeExit()} before a matching event`)));
      });
    },
    stop() {
      stopping ??= (async () => {
        if (done) return;
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
        try {
          await exited;
        } finally {
          clearTimeout(killer);
        }
      })();
      return stopping;
    },
  };
}
