/**
 * The benches' way to run busbench as users do: the CLI in a process of its
 * own (`node dist/src/entries/cli.js run …`), its result read back from the
 * result.json it writes into a scratch results directory.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '../src/index.js';
import { localEntry } from '../src/util/entries.js';

/**
 * Runs `node <argv>` to its end; rejects with its stderr's tail when it exits non-zero. Resolves with its stdout.
 * `cpus`: run it under `taskset -c <cpus>` (every thread it starts inherits that affinity).
 */
export function runNode(argv: string[], cpus?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const [command, args] = cpus ? ['taskset', ['-c', cpus, process.execPath, ...argv]] : [process.execPath, argv];
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${argv.slice(0, 2).join(' ')} exited ${code}: ${stderr}`))));
  });
}

/** `busbench run <flags>` as a process of its own (on `cpus` if given, see runNode); its result.json. */
export async function runBusbenchCli(flags: string[], cpus?: string): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'busbench-bench-'));
  try {
    await runNode([localEntry('cli'), 'run', ...flags, '--results-dir', dir], cpus);
    const [runDir] = await readdir(dir);
    return JSON.parse(await readFile(join(dir, runDir!, 'result.json'), 'utf8')) as RunResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The CPU of the busbench process over the measured phase, in µs. */
export function harnessCpuUs(result: RunResult): number {
  return result.harness.cpuUserUs + result.harness.cpuSystemUs;
}
