/** Runs one command given as an argument array (never a shell string); a failure carries the command and its stderr. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export async function runCommand(argv: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(argv[0]!, argv.slice(1));
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    // Some commands say what happened on stdout even when they fail (ping's summary when every echo is lost).
    throw Object.assign(new Error(`${argv.join(' ')}: ${stderr || (error as Error).message}`), { stdout: String((error as { stdout?: string }).stdout ?? '') });
  }
}
