/** Runs test/oslo/peer.py (a real oslo.messaging peer) and reads its JSON-lines events. */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Debian's python with python3-oslo.messaging; not whatever python3 is first on PATH. */
export const OSLO_PYTHON = '/usr/bin/python3';
const PEER_SCRIPT = fileURLToPath(new URL('../../../test/oslo/peer.py', import.meta.url));

let available: boolean | undefined;
export function osloAvailable(): boolean {
  available ??= spawnSync(OSLO_PYTHON, ['-c', 'import oslo_messaging'], { stdio: 'ignore' }).status === 0;
  return available;
}

export interface PeerEvent {
  event: string;
  [key: string]: unknown;
}

export interface OsloPeer {
  events: PeerEvent[];
  waitFor(predicate: (event: PeerEvent) => boolean, timeoutMs?: number): Promise<PeerEvent>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export function startOsloPeer(args: string[]): OsloPeer {
  const child = spawn(OSLO_PYTHON, [PEER_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: PeerEvent[] = [];
  const waiters = new Set<{ predicate: (e: PeerEvent) => boolean; resolve: (e: PeerEvent) => void }>();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4096);
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    let event: PeerEvent;
    try {
      event = JSON.parse(line) as PeerEvent;
    } catch {
      event = { event: 'raw', line };
    }
    events.push(event);
    for (const waiter of waiters) {
      if (waiter.predicate(event)) {
        waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopping: Promise<void> | undefined;
  return {
    events,
    exited,
    waitFor(predicate, timeoutMs = 20_000) {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (event: PeerEvent) => {
            clearTimeout(timer);
            resolve(event);
          },
        };
        const fail = (why: string): void => {
          waiters.delete(waiter);
          clearTimeout(timer);
          reject(new Error(`oslo peer ${args[0]}: ${why}; its stderr ends with:\n${stderr}`));
        };
        const timer = setTimeout(() => fail(`no matching event within ${timeoutMs} ms`), timeoutMs);
        waiters.add(waiter);
        void exited.then((code) => {
          // Let the last lines of stdout be read before giving up.
          setTimeout(() => waiters.has(waiter) && fail(`exited with code ${code}`), 100);
        });
      });
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      })();
      return stopping;
    },
  };
}
