/**
 * Process-wide cleanup registry: every process, directory or worker
 * busbench starts registers how to undo it here, so Ctrl-C, SIGTERM and
 * crashes leave nothing behind, not only the happy path.
 */

type CleanupFn = () => Promise<void> | void;

interface Entry {
  label: string;
  fn: CleanupFn;
}

const entries: Entry[] = [];
let running: Promise<void> | undefined;
let handlersInstalled = false;
let crashHandlersInstalled = false;
/** set once a signal or a crash started the cleanups: a second one only says what is going on */
let cleaning = false;

/** Register an undo step; returns a function that unregisters it (after a normal stop). */
export function onCleanup(label: string, fn: CleanupFn): () => void {
  const entry: Entry = { label, fn };
  entries.push(entry);
  return () => {
    const index = entries.indexOf(entry);
    if (index >= 0) entries.splice(index, 1);
  };
}

/** Run every registered step once, newest first; errors are reported, never thrown. */
export function runCleanups(): Promise<void> {
  running ??= (async () => {
    while (entries.length > 0) {
      const entry = entries.pop()!;
      try {
        await entry.fn();
      } catch (error) {
        process.stderr.write(`cleanup of ${entry.label} failed: ${(error as Error).message}\n`);
      }
    }
  })().finally(() => {
    running = undefined;
  });
  return running;
}

const SIGNAL_EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/**
 * On SIGINT/SIGTERM/SIGHUP: run the cleanups, then exit with 128+signal.
 * A second Ctrl-C while cleaning does not abandon a half-stopped broker; it
 * says what is going on. Uncaught errors clean up too, then exit 1.
 */
export function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  installCrashHandlers();
  for (const signal of Object.keys(SIGNAL_EXIT_CODES) as NodeJS.Signals[]) {
    process.on(signal, () => {
      if (cleaning) {
        process.stderr.write(`busbench: still stopping what it started (${entries.map((e) => e.label).join(', ') || 'almost done'})…\n`);
        return;
      }
      cleaning = true;
      process.stderr.write(`\nbusbench: ${signal}, stopping what it started…\n`);
      void runCleanups().finally(() => process.exit(SIGNAL_EXIT_CODES[signal]));
    });
  }
}

/** Uncaught errors clean up too, then exit 1; for commands that handle their signals themselves (a graceful stop). */
export function installCrashHandlers(): void {
  if (crashHandlersInstalled) return;
  crashHandlersInstalled = true;
  const crash = (error: unknown): void => {
    process.stderr.write(`busbench: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    if (cleaning) return;
    cleaning = true;
    void runCleanups().finally(() => process.exit(1));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
