/** Running the busbench command as a user would, in a child process. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/entries/cli.js', import.meta.url));
/** the repository: where README's commands run */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ReturnType<typeof spawn>;
  output: { stdout: string; stderr: string };
  done: Promise<Outcome>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

export function startBusbench(args: string[], cwd = REPO): Running {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const done = new Promise<Outcome>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, ...output })));
  return {
    child,
    output,
    done,
    async waitForOutput(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output.stdout + output.stderr)) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in output:\n${output.stdout}\n${output.stderr}`);
        if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before ${pattern}:\n${output.stdout}\n${output.stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

/** Runs busbench to its end. */
export function busbench(args: string[], cwd = REPO): Promise<Outcome> {
  return startBusbench(args, cwd).done;
}
