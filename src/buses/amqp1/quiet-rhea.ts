/**
 * rhea logs through `debug`: some twenty calls per RPC (each event it
 * dispatches, each section it encodes or decodes, each frame), every one a
 * rest-argument call and a getter even when nothing is enabled — about
 * 3 µs of a worker's CPU per call through a router, 1–2 % of the whole.
 * rhea looks its loggers up on its log module at each call, so a logger
 * nobody enabled is swapped for a no-op that V8 can inline away.
 * `DEBUG=rhea:*` still works: enabled loggers are kept, and `debug` reads
 * DEBUG when it loads, before this runs.
 */
import { createRequire } from 'node:module';

type Logger = ((...args: unknown[]) => void) & { enabled?: boolean };

const silent: Logger = () => undefined;

/** Idempotent: a logger already silenced is not enabled either. */
export function quietRheaLogging(): void {
  const loggers = createRequire(import.meta.url)('rhea/lib/log.js') as Record<string, Logger>;
  for (const [name, logger] of Object.entries(loggers)) {
    if (typeof logger === 'function' && !logger.enabled) loggers[name] = silent;
  }
}
