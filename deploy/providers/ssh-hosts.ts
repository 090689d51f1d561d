/**
 * The ssh provider's hosts: one ssh connection per inventory host, its host
 * key checked against a known_hosts file the way OpenSSH does; commands and
 * processes run over exec channels, files go over SFTP.
 *
 * Commands are argument arrays. The remote side runs every command through
 * the user's login shell, so each argument is single-quoted for a POSIX
 * shell: nothing busbench passes is ever interpreted there.
 */
import { createHash, createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { basename, posix } from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { Client, type ClientChannel, type ServerHostKeyAlgorithm, type SFTPWrapper } from 'ssh2';
import { onCleanup } from '../../src/cleanup.js';
import type { HostProcess } from '../../src/buses/host.js';
import { checkSiteHosts, type Inventory, type InventoryHost } from './inventory.js';
import type { ProvidedHost } from './provider.js';

export interface SshHostsOptions {
  /** labs only: trust a host whose key the known_hosts file lacks (a key that differs from a listed one is still refused) */
  insecureAcceptUnknownHostKeys?: boolean;
  /** how long the connection and handshake of one host may take; 20 s by default */
  connectTimeoutMs?: number;
}

/** A host as the ssh layer knows it: the provider adds where busbench is installed there (agentHostArgv). */
export interface SshHost extends Pick<ProvidedHost, 'name' | 'site' | 'address' | 'spawn'> {
  inventory: InventoryHost;
  /** busbench_dir with `~/` resolved to the user's home there */
  busbenchDir: string;
}

export interface HostFacts {
  host: string;
  site: string;
  /** `node --version` there, undefined when node is not on the PATH of a non-interactive session */
  node?: string;
  /** where busbench is there: on the PATH, or installed under busbench_dir */
  busbench?: string;
  rabbitmqServer?: string;
  qdrouterd?: string;
  skrouterd?: string;
  cores: number;
  memoryBytes: number;
}

/** Runs one command on a host to completion; resolves with its stdout. A HostExecutor. */
export type SshExecutor = (host: string, argv: string[]) => Promise<string>;

export interface SshHosts {
  hosts: SshHost[];
  run: SshExecutor;
  /** copies a local file into the host's busbench_dir (created if missing); resolves with the path there */
  ship(host: string, file: string): Promise<string>;
  facts(): Promise<HostFacts[]>;
  /** ends every connection; processes still running there see their stdin close; safe to call twice */
  close(): Promise<void>;
}

export class RemoteCommandError extends Error {
  override readonly name = 'RemoteCommandError';
  constructor(
    readonly host: string,
    readonly command: string[],
    /** null when the command died of a signal or the connection was lost */
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const how = exitCode !== null ? `exit code ${exitCode}` : signal ? `killed by ${signal}` : 'the connection ended before the command did';
    super(`${host}: ${displayCommand(command)}: ${how}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
  }
}

/** One argument for a POSIX shell: single-quoted, with each `'` closed, escaped and reopened. */
export function shellQuote(argument: string): string {
  return `'${argument.replace(/'/g, `'\\''`)}'`;
}

export function remoteCommand(argv: string[]): string {
  if (argv.length === 0) throw new Error('a remote command needs at least the program to run');
  const withNul = argv.find((a) => a.includes('\0'));
  if (withNul !== undefined) throw new Error(`a command argument cannot contain a NUL byte: ${JSON.stringify(withNul)}`);
  return argv.map(shellQuote).join(' ');
}

function displayCommand(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : shellQuote(a))).join(' ');
}

interface KnownHostKey {
  line: number;
  marker?: 'revoked' | 'cert-authority';
  hosts: string;
  keyType: string;
  key: Buffer;
}

/** OpenSSH known_hosts lines: `[@marker] host-patterns key-type base64-key [comment]`. Lines that are not keys are skipped, as ssh does. */
export function parseKnownHosts(text: string): KnownHostKey[] {
  const keys: KnownHostKey[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) return;
    let marker: KnownHostKey['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift()!.slice(1) as KnownHostKey['marker'];
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key || !/^[A-Za-z0-9+/]+=*$/.test(key)) return;
    keys.push({ line: index + 1, ...(marker ? { marker } : {}), hosts, keyType, key: Buffer.from(key, 'base64') });
  });
  return keys;
}

/** How ssh looks a host up: the bare name on port 22, `[name]:port` elsewhere. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatches(pattern: string, name: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 'i').test(name);
}

/** A hashed entry (`|1|salt|hmac`, from HashKnownHosts) or a comma list of patterns with `*`, `?` and `!` negation. */
function hostsMatch(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    return (
      createHmac('sha1', Buffer.from(salt ?? '', 'base64'))
        .update(name)
        .digest('base64') === hash
    );
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) matched = true;
  }
  return matched;
}

function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type a public key blob names first (RFC 4253 §6.6). */
function blobKeyType(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString('latin1');
}

/** ssh2's host key algorithms for each known_hosts key type: asking only for these makes the server present a key the file can vouch for. */
const HOST_KEY_ALGORITHMS: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

interface HostKeyCheck {
  /** host key algorithms to offer, none to leave ssh2's defaults */
  algorithms: ServerHostKeyAlgorithm[];
  /** undefined when the key is trusted, else why not and what to do */
  refusal(key: Buffer): string | undefined;
}

function hostKeyCheck(target: InventoryHost, text: string | undefined, insecureAcceptUnknown: boolean): HostKeyCheck {
  const name = knownHostsName(target.host, target.port);
  const file = target.knownHosts;
  const matching = parseKnownHosts(text ?? '').filter((k) => hostsMatch(k.hosts, name));
  const revoked = matching.filter((k) => k.marker === 'revoked');
  const listed = matching.filter((k) => k.marker === undefined);
  const scan = `ssh-keyscan${target.port === 22 ? '' : ` -p ${target.port}`} ${target.host} >> ${file}`;
  return {
    algorithms: [...new Set(listed.flatMap((k) => HOST_KEY_ALGORITHMS[k.keyType] ?? []))],
    refusal(key) {
      const presented = `${blobKeyType(key)} ${fingerprint(key)}`;
      const revokedEntry = revoked.find((k) => k.key.equals(key));
      if (revokedEntry)
        return `the host key of ${name} (${presented}) is marked @revoked in ${file} line ${revokedEntry.line}: busbench will not connect with it; give the host a new key`;
      if (listed.some((k) => k.key.equals(key))) return undefined;
      if (listed.length > 0) {
        return (
          `the host key of ${name} (${presented}) differs from the one in ${file} line ${listed.map((k) => k.line).join(', ')}: ` +
          `someone may be intercepting the connection, or the host was reinstalled. If you know it was, remove the old key ` +
          `(ssh-keygen -R '${name}' -f ${file}), check the new one with the host's owner (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub there) and add it: ${scan}`
        );
      }
      if (insecureAcceptUnknown) return undefined;
      return (
        `the host key of ${name} (${presented}) is not in ${file}${text === undefined ? ' (there is no such file)' : ''}: ` +
        `check the key with the host's owner (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub there), then add it: ${scan}; ` +
        `or, in a lab, accept unknown host keys (insecureAcceptUnknownHostKeys)`
      );
    },
  };
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function describeTarget(target: InventoryHost): string {
  return `${target.name} (${target.user}@${target.host}:${target.port})`;
}

async function connect(target: InventoryHost, options: SshHostsOptions): Promise<Client> {
  let privateKey: Buffer;
  try {
    privateKey = await readFile(target.identity);
  } catch (error) {
    throw new Error(
      `${describeTarget(target)}: cannot read the identity ${target.identity}: ${(error as Error).message} (set identity in the inventory's defaults or on the host)`,
    );
  }
  const check = hostKeyCheck(target, await readOptional(target.knownHosts), options.insecureAcceptUnknownHostKeys === true);
  const client = new Client();
  let refusal: string | undefined;
  return new Promise<Client>((resolve, reject) => {
    const fail = (error: Error): void => {
      client.destroy();
      let reason = error.message;
      if (refusal) reason = refusal;
      else if (/authentication methods failed/.test(reason))
        reason = `${target.user} was refused with the key ${target.identity}: add ${target.identity}.pub to ~${target.user}/.ssh/authorized_keys there`;
      else if (/privateKey/.test(reason)) reason = `the identity ${target.identity}: ${reason} (busbench needs a key without a passphrase)`;
      reject(new Error(`${describeTarget(target)}: ${reason}`));
    };
    client.once('error', fail);
    client.once('ready', () => {
      client.off('error', fail);
      // Later failures (a keepalive unanswered) close the channels, which fails their commands: nothing to do here.
      client.on('error', () => undefined);
      resolve(client);
    });
    try {
      client.connect({
        host: target.host,
        port: target.port,
        username: target.user,
        privateKey,
        readyTimeout: options.connectTimeoutMs ?? 20_000,
        keepaliveInterval: 5000,
        keepaliveCountMax: 3,
        ...(check.algorithms.length > 0 ? { algorithms: { serverHostKey: check.algorithms } } : {}),
        hostVerifier: (key: Buffer): boolean => {
          refusal = check.refusal(key);
          return refusal === undefined;
        },
      });
    } catch (error) {
      fail(error as Error);
    }
  });
}

function exec(client: Client, command: string, callback: (error: Error | undefined, channel?: ClientChannel) => void): void {
  try {
    client.exec(command, (error, channel) => callback(error, channel));
  } catch (error) {
    callback(error as Error);
  }
}

function runOn(client: Client, host: string, argv: string[]): Promise<string> {
  const command = remoteCommand(argv);
  return new Promise((resolve, reject) => {
    exec(client, command, (error, channel) => {
      if (error || !channel) return reject(new Error(`${host}: ${displayCommand(argv)}: ${error?.message ?? 'no channel'}`));
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let code: number | null = null;
      let signal: string | null = null;
      channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
        code = exitCode;
        signal = exitSignal ?? null;
      });
      channel.once('close', () => {
        const out = Buffer.concat(stdout).toString('utf8');
        if (code === 0) resolve(out);
        else reject(new RemoteCommandError(host, argv, code, signal, out, Buffer.concat(stderr).toString('utf8')));
      });
      channel.end();
    });
  });
}

/** Strips the first line of a stream (the remote pid, see SshProcess) and hands it over; the rest passes through. */
function firstLineTaken(onLine: (line: string) => void): Transform {
  let head: Buffer | undefined = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (!head) return done(null, chunk);
      head = Buffer.concat([head, chunk]);
      const newline = head.indexOf(10);
      if (newline < 0) return done();
      const rest = head.subarray(newline + 1);
      onLine(head.subarray(0, newline).toString());
      head = undefined;
      done(null, rest.length > 0 ? rest : undefined);
    },
    flush(done) {
      done(null, head?.length ? head : undefined);
    },
  });
}

/**
 * A command over an exec channel, shaped like a ChildProcess; the stdio
 * streams exist at once, the channel opens behind them.
 *
 * Signals go as `kill` to the command's process group over a second
 * channel, not as ssh "signal" requests: OpenSSH refuses those for root
 * sessions ("session signalling requires privilege separation"), root is
 * the inventory's default user, and ssh2 cannot send them once stdin has
 * ended, which is when a stopping agent host gets killed. sshd starts every
 * session command in a session of its own, so its process group is its pid,
 * which the shell reports on the first line of stderr before it execs the
 * command.
 */
class SshProcess extends EventEmitter implements HostProcess {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr: Transform;
  readonly pid = undefined;
  /** the command's pid on the host, once the shell has reported it */
  remotePid: number | undefined;
  private channel: ClientChannel | undefined;
  private killedWith: NodeJS.Signals | undefined;
  private exited = false;

  constructor(
    client: Client,
    host: string,
    argv: string[],
    private readonly signalGroup: (pid: number, signal: NodeJS.Signals) => Promise<unknown>,
  ) {
    super();
    this.stderr = firstLineTaken((line) => {
      if (!/^\d+$/.test(line)) return;
      this.remotePid = Number(line);
      if (this.killedWith) this.kill(this.killedWith);
    });
    let command: string;
    try {
      // exec: the command takes the shell's pid, the one just reported.
      command = `printf '%s\\n' "$$" >&2; exec ${remoteCommand(argv)}`;
    } catch (error) {
      queueMicrotask(() => this.fail(error as Error));
      return;
    }
    exec(client, command, (error, channel) => {
      if (error || !channel) return this.fail(new Error(`${host}: ${displayCommand(argv)}: ${error?.message ?? 'no channel'}`));
      this.channel = channel;
      let code: number | null = null;
      let signal: NodeJS.Signals | null = null;
      channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
        code = exitCode;
        signal = (exitSignal as NodeJS.Signals | undefined) ?? null;
      });
      // A connection lost mid-command reports no status: a kill asked for is the likeliest account of it.
      channel.once('close', () => this.finish(code, signal ?? (code === null ? (this.killedWith ?? null) : null)));
      this.stdin.pipe(channel);
      channel.pipe(this.stdout);
      channel.stderr.pipe(this.stderr);
    });
  }

  /** Sends the signal as soon as the remote pid is known, then closes the channel (and with it the command's stdin). */
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exited) return false;
    this.killedWith = signal;
    if (this.remotePid !== undefined) {
      const channel = this.channel;
      // A command that ended meanwhile makes kill fail: nothing is left to signal, so nothing to report.
      void this.signalGroup(this.remotePid, signal)
        .catch(() => undefined)
        .finally(() => channel?.close());
    }
    return true;
  }

  private fail(error: Error): void {
    // Like a ChildProcess that could not start: 'error', then 'exit', so a caller waiting for the exit is not left hanging.
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.stderr.push(`${error.message}\n`);
    this.stdin.destroy();
    this.stdout.end();
    this.stderr.end();
    this.finish(null, null);
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    this.stdin.unpipe();
    this.emit('exit', code, signal);
  }
}

function signalGroup(client: Client, host: string): (pid: number, signal: NodeJS.Signals) => Promise<string> {
  return (pid, signal) => runOn(client, host, ['kill', '-s', signal.replace(/^SIG/, ''), '--', `-${pid}`]);
}

function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp))));
}

/** Constant; busbench_dir comes in as $1, so nothing from the inventory is ever part of the script. */
const FACTS_SCRIPT = [
  // Non-interactive sessions often lack the sbin directories, where rabbitmq-server lives.
  'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"',
  `printf 'node=%s\\n' "$(node --version 2>/dev/null)"`,
  `for tool in busbench rabbitmq-server qdrouterd skrouterd; do printf '%s=%s\\n' "$tool" "$(command -v "$tool")"; done`,
  `if [ -x "$1/node_modules/.bin/busbench" ]; then printf 'busbench_dir=%s\\n' "$1/node_modules/.bin/busbench"; fi`,
  `printf 'cores=%s\\n' "$(getconf _NPROCESSORS_ONLN)"`,
  `printf 'memory_kib=%s\\n' "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"`,
].join('\n');

function parseFacts(host: SshHost, output: string): HostFacts {
  const values = new Map(
    output
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()] as const),
  );
  const present = (key: string): string | undefined => values.get(key) || undefined;
  const busbench = present('busbench') ?? present('busbench_dir');
  const rabbitmqServer = present('rabbitmq-server');
  const qdrouterd = present('qdrouterd');
  const skrouterd = present('skrouterd');
  const node = present('node');
  return {
    host: host.name,
    site: host.site,
    ...(node ? { node } : {}),
    ...(busbench ? { busbench } : {}),
    ...(rabbitmqServer ? { rabbitmqServer } : {}),
    ...(qdrouterd ? { qdrouterd } : {}),
    ...(skrouterd ? { skrouterd } : {}),
    cores: Number(values.get('cores')) || 0,
    memoryBytes: (Number(values.get('memory_kib')) || 0) * 1024,
  };
}

/**
 * Connects to the first `count` inventory hosts of each site, all at once.
 * Every host that cannot be reached is named in one error, and the
 * connections already made are closed.
 */
export async function connectSshHosts(inventory: Inventory, siteHosts: { site: string; count: number }[], options: SshHostsOptions = {}): Promise<SshHosts> {
  checkSiteHosts(inventory, siteHosts);
  const targets = siteHosts.flatMap(({ site, count }) => inventory.sites.find((s) => s.name === site)!.hosts.slice(0, count));
  const attempts = await Promise.allSettled(targets.map((target) => connect(target, options)));
  const clients = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  const failures = attempts.flatMap((a) => (a.status === 'rejected' ? [(a.reason as Error).message] : []));
  // A connection already lost never closes again: waiting for it would only cost the timeout.
  const lost = new Set<Client>();
  for (const client of clients) client.once('close', () => lost.add(client));
  const closeAll = async (): Promise<void> => {
    await Promise.all(
      clients
        .filter((client) => !lost.has(client))
        .map(
          (client) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                client.destroy();
                resolve();
              }, 5000);
              client.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
              client.end();
            }),
        ),
    );
  };
  if (failures.length > 0) {
    await closeAll();
    throw new Error(`cannot reach ${failures.length} of ${targets.length} ssh host(s) of ${inventory.file}:\n${failures.map((f) => `  ${f}`).join('\n')}`);
  }

  const clientOf = new Map<string, Client>(targets.map((t, i) => [t.name, (attempts[i] as PromiseFulfilledResult<Client>).value]));
  const unknownHost = (name: string): Error => new Error(`no ssh host "${name}" (hosts: ${targets.map((t) => t.name).join(', ')})`);
  const connection = (host: string): Client => {
    const client = clientOf.get(host);
    if (!client) throw unknownHost(host);
    return client;
  };
  const run: SshExecutor = async (host, argv) => runOn(connection(host), host, argv);

  let closed: Promise<void> | undefined;
  const unregister = onCleanup(`ssh connections to ${targets.length} host(s)`, () => close());
  const close = (): Promise<void> => (closed ??= (unregister(), closeAll()));

  let hosts: SshHost[];
  try {
    hosts = await Promise.all(
      targets.map(async (target) => {
        const busbenchDir = target.busbenchDir.startsWith('~/')
          ? posix.join((await run(target.name, ['printenv', 'HOME'])).trim(), target.busbenchDir.slice(2))
          : target.busbenchDir;
        const client = connection(target.name);
        return {
          name: target.name,
          site: target.site,
          address: target.address,
          inventory: target,
          busbenchDir,
          spawn: (argv: string[]) => new SshProcess(client, target.name, argv, signalGroup(client, target.name)),
        };
      }),
    );
  } catch (error) {
    await close();
    throw error;
  }
  const hostNamed = (name: string): SshHost => {
    const host = hosts.find((h) => h.name === name);
    if (!host) throw unknownHost(name);
    return host;
  };

  return {
    hosts,
    run,
    async ship(host, file) {
      const target = hostNamed(host);
      const remote = posix.join(target.busbenchDir, basename(file));
      await run(host, ['mkdir', '-p', target.busbenchDir]);
      const sftp = await openSftp(connection(host));
      try {
        await new Promise<void>((resolve, reject) =>
          sftp.fastPut(file, remote, (error) => (error ? reject(new Error(`${host}: copying ${file} to ${remote}: ${error.message}`)) : resolve())),
        );
      } finally {
        sftp.end();
      }
      return remote;
    },
    facts: () => Promise.all(hosts.map(async (host) => parseFacts(host, await run(host.name, ['sh', '-c', FACTS_SCRIPT, 'busbench-facts', host.busbenchDir])))),
    close,
  };
}
