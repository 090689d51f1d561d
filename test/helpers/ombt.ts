/**
 * Runs ombt (kgiusti/ombt, "ombt2": one oslo.messaging process per agent,
 * driven over a control bus by its controller) for busbench's interop tests,
 * with Debian's /usr/bin/python3 and python3-oslo.messaging.
 *
 * ombt is not part of busbench: a test finds a checkout of it (the directory
 * holding ombt/_main.py) in $BUSBENCH_OMBT, else /opt/ombt, and skips when
 * there is none (OMBT_MISSING_HELP says how to get it).
 *
 * Each process is `PYTHONPATH=<checkout> /usr/bin/python3 -c 'from ombt._main
 * import main; main()' --url U --control U --topic T --timeout S <mode> ...`,
 * the same as ombt's `ombt2` console script. ombt addresses its test traffic
 * to exchange `ombt-rpc-test`, topic `rpc-<T>` (OMBT_RPC_EXCHANGE,
 * ombtRpcTopic), and its control traffic to exchange `ombt-control`.
 *
 *   const server = await startOmbtRpcServer({ url, topic: 't' });   // ready: serving
 *   ... busbench rpc-client --exchange ombt-rpc-test --topic rpc-t --method echo ...
 *   await runOmbtController({ url, topic: 't', test: 'shutdown' });
 *   await server.stop();
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OSLO_PYTHON, osloAvailable } from './oslo-peer.js';

export const OMBT_MISSING_HELP =
  'ombt is not installed: fetch github.com/kgiusti/ombt and export its tree to /opt/ombt ' +
  '(e.g. git clone https://github.com/kgiusti/ombt /opt/ombt), or set BUSBENCH_OMBT to a checkout ' +
  '(the directory holding ombt/_main.py); it runs with /usr/bin/python3 and needs python3-oslo.messaging ' +
  'and python3-eventlet (apt-get install python3-oslo.messaging python3-eventlet)';

/** the exchange of ombt's RPC test traffic (ombt/__init__.py RPC_EXCHANGE) */
export const OMBT_RPC_EXCHANGE = 'ombt-rpc-test';
/** the oslo topic an ombt agent started with --topic T serves or calls (RPC_TOPIC) */
export function ombtRpcTopic(topic: string): string {
  return `rpc-${topic}`;
}

const DEFAULT_OMBT = '/opt/ombt';
const STDERR_TAIL = 8192;
const KILL_AFTER_MS = 5_000;
/** `_Base.start()` logs this (at DEBUG) once its control server answers: the agent is ready */
const READY = /DEBUG:root:\S+ is listening/;
/** a stderr line reporting a problem: a Python log line at ERROR/CRITICAL, or the exception line ending a traceback */
const PROBLEM = /^(ERROR|CRITICAL):|^[A-Za-z_.]*(Error|Exception|Timeout)\b.*:/;
const MAX_PROBLEMS = 100;

/** The ombt checkout to run: $BUSBENCH_OMBT, else /opt/ombt; undefined when neither holds ombt/_main.py. */
export function findOmbt(): string | undefined {
  const dir = resolve(process.env['BUSBENCH_OMBT'] || DEFAULT_OMBT);
  return existsSync(join(dir, 'ombt', '_main.py')) ? dir : undefined;
}

let probed: string | false | undefined;
/** Why ombt tests cannot run here (false: they can). Asked once per process. */
export function ombtSkipReason(): string | false {
  if (probed !== undefined) return probed;
  const dir = findOmbt();
  if (!dir) return (probed = OMBT_MISSING_HELP);
  if (!osloAvailable()) return (probed = 'python3-oslo.messaging is not installed (apt-get install python3-oslo.messaging)');
  const probe = spawnSync(OSLO_PYTHON, ['-c', 'import eventlet, ombt._main'], { env: ombtEnv(dir), encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0)
    return (probed = `ombt at ${dir} does not import with ${OSLO_PYTHON} (${(probe.stderr ?? '').trim().split('\n').pop()}); ${OMBT_MISSING_HELP}`);
  return (probed = false);
}

function ombtEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', PYTHONPATH: dir };
  delete env['PYTHONHOME'];
  delete env['PYTHONSTARTUP'];
  return env;
}

export interface OmbtOptions {
  /** transport URL of the bus under test (127.0.0.1 only) */
  url: string;
  /** the control bus (ombt's --control); default: the bus under test */
  control?: string;
  /** ombt's --topic: the group; its RPC traffic goes to topic rpc-<topic> */
  topic: string;
  /** ombt's --timeout in seconds (its RPC call timeout, and the controller's waits); default 10 */
  timeoutS?: number;
}

export interface OmbtProcess {
  readonly child: ChildProcess;
  /** the command line, for messages */
  readonly command: string;
  stdout(): string;
  /** the last 8 KiB of stderr (ombt logs there) */
  stderr(): string;
  /** the first 100 stderr lines that report a problem (ERROR/CRITICAL log lines, the last line of a traceback), however much came after */
  problems(): string[];
  /** the exit code (null when killed by a signal) */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. Idempotent. */
  stop(): Promise<void>;
}

/** ombt processes still running: stopOmbt() (in `after`) and the exit hook end them. */
const live = new Set<OmbtProcess>();
let exitHookInstalled = false;

/** Stops every ombt process this test process started and has not stopped yet. */
export async function stopAllOmbt(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

function globalArgs(options: OmbtOptions): string[] {
  return ['--url', options.url, '--control', options.control ?? options.url, '--topic', options.topic, '--timeout', String(options.timeoutS ?? 10)];
}

/** Spawns ombt with these arguments (global options first, then the mode's). */
export function spawnOmbt(args: string[]): OmbtProcess {
  const dir = findOmbt();
  if (!dir) throw new Error(OMBT_MISSING_HELP);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const p of live) p.child.kill('SIGKILL');
    });
  }
  const child = spawn(OSLO_PYTHON, ['-c', 'from ombt._main import main; main()', ...args], { cwd: dir, env: ombtEnv(dir), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let partial = '';
  const problems: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (problems.length < MAX_PROBLEMS && PROBLEM.test(line)) problems.push(line);
  });
  const exited = new Promise<number | null>((resolveExit) => {
    child.once('close', (code) => resolveExit(code));
    child.once('error', (error) => {
      stderr += `\n[could not run ${OSLO_PYTHON}: ${error.message}]`;
      resolveExit(null);
    });
  });
  let stopping: Promise<void> | undefined;
  const handle: OmbtProcess = {
    child,
    command: `PYTHONPATH=${dir} ${OSLO_PYTHON} -c 'from ombt._main import main; main()' ${args.join(' ')}`,
    stdout: () => stdout,
    stderr: () => stderr,
    problems: () => [...problems],
    exited,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
          try {
            await exited;
          } finally {
            clearTimeout(killer);
          }
        } else {
          await exited;
        }
        live.delete(handle);
      })();
      return stopping;
    },
  };
  live.add(handle);
  void exited.then(() => live.delete(handle));
  return handle;
}

/** Waits until an agent started with --debug logs that it is listening on the control bus (its test server is up by then). */
async function ready(agent: OmbtProcess, what: string, timeoutMs: number): Promise<OmbtProcess> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void agent.exited.then(() => (gone = true));
  while (!READY.test(agent.stderr())) {
    if (gone || Date.now() > deadline) {
      await agent.stop();
      throw new Error(
        `${what} ${gone ? 'exited' : `not ready within ${timeoutMs} ms`}: ${agent.command}\nits stderr ends with:\n${agent.stderr().slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return agent;
}

export interface OmbtAgentOptions extends OmbtOptions {
  /** the agent's --name (default: ombt's own, with host, pid and a uuid) */
  name?: string;
  /** its --output file: one JSON object per message, written when the agent shuts down cleanly (controller shutdown) */
  output?: string;
  /** how long it may take to be ready (default 60 s) */
  readyTimeoutMs?: number;
}

function agentArgs(options: OmbtAgentOptions, mode: string): string[] {
  // --debug: the readiness line is logged at DEBUG, and so are ombt's own per-message notes.
  return [...globalArgs(options), '--debug', mode, ...(options.name ? ['--name', options.name] : []), ...(options.output ? ['--output', options.output] : [])];
}

/** An ombt rpc-server (echo and noop endpoints on exchange ombt-rpc-test, topic rpc-<topic>), once it serves. */
export function startOmbtRpcServer(options: OmbtAgentOptions): Promise<OmbtProcess> {
  return ready(spawnOmbt(agentArgs(options, 'rpc-server')), 'ombt rpc-server', options.readyTimeoutMs ?? 60_000);
}

/** An ombt rpc-client, idle until a controller tells it to run a test; once it listens for commands. */
export function startOmbtRpcClient(options: OmbtAgentOptions): Promise<OmbtProcess> {
  return ready(spawnOmbt(agentArgs(options, 'rpc-client')), 'ombt rpc-client', options.readyTimeoutMs ?? 60_000);
}

export interface ControllerOptions extends OmbtOptions {
  /** the controller command */
  test: 'rpc-call' | 'rpc-cast' | 'rpc-fanout' | 'shutdown';
  /** --calls per client (tests) */
  calls?: number;
  /** --length: payload bytes (default ombt's 1024) */
  length?: number;
  /** --idle: seconds the roll call waits for agents to stop answering (ombt's default 2) */
  idleS?: number;
  /** the whole run's bound (default 120 s); the controller is killed past it */
  limitMs?: number;
}

export interface ControllerOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  command: string;
}

/** Runs `ombt controller <test>` to its end (it rolls-calls the agents of its topic over the control bus first). */
export async function runOmbtController(options: ControllerOptions): Promise<ControllerOutcome> {
  const testArgs =
    options.test === 'shutdown'
      ? []
      : [
          ...(options.calls !== undefined ? ['--calls', String(options.calls)] : []),
          ...(options.length !== undefined ? ['--length', String(options.length)] : []),
        ];
  // --control is what the controller talks on; it never touches the bus under test.
  const controller = spawnOmbt([
    ...globalArgs(options),
    'controller',
    ...(options.idleS !== undefined ? ['--idle', String(options.idleS)] : []),
    options.test,
    ...testArgs,
  ]);
  const limitMs = options.limitMs ?? 120_000;
  const timer = setTimeout(() => void controller.stop(), limitMs);
  try {
    const code = await controller.exited;
    return { code, stdout: controller.stdout(), stderr: controller.stderr(), command: controller.command };
  } finally {
    clearTimeout(timer);
    await controller.stop();
  }
}

/** One line of an agent's --output file (ombt writes a header line, a test-start line, one line per message, a test-end line). */
export interface OmbtRecord {
  /** `<uuid>:<n>` for ombt's own client, the caller's msgid at a server */
  id?: string;
  start?: number;
  /** client: when the call returned */
  stop?: number;
  /** server: when the message arrived */
  recv?: number;
  error?: string;
  [key: string]: unknown;
}

/** The per-message records of an agent's --output file (header and test-start/-end lines left out). */
export function readOmbtOutput(path: string): OmbtRecord[] {
  if (!existsSync(path)) return [];
  return (
    readFileSync(path, 'utf8')
      // ombt writes a server record with an error as `{..., "error": "..."\n}\n`: join it back
      .replace(/\n\}/g, '}')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as OmbtRecord)
      .filter((record) => 'start' in record && ('stop' in record || 'recv' in record))
  );
}
