/**
 * The flags that watch a run live (--prometheus, --influx and its
 * companions), shared by run, campaign and bus up: added to a command,
 * then read into the exporters' options with every mistake named by its flag.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../errors.js';
import type { LiveExportersOptions } from '../live/exporters.js';
import type { InfluxTarget } from '../live/influx.js';
import type { LiveFlagSupport } from '../bus/bus-commands.js';

export interface LiveFlags {
  prometheus?: { host?: string; port: number };
  influx?: URL;
  influxOrg?: string;
  influxBucket?: string;
  influxToken?: string;
}

/** The variable the token is read from, as the influx CLI reads it: a token in argv shows in `ps`. */
export const INFLUX_TOKEN_VARIABLE = 'INFLUX_TOKEN';

/** --prometheus 9750, 127.0.0.1:9750, [::1]:9750, myhost:9750. */
export function prometheusAddress(value: string): { host?: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]:|([^\s:[\]]+):)?(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535)
    throw new InvalidArgumentError(
      `"${value}" is not [host:]port; e.g. 9750 (every interface), 127.0.0.1:9750 (this machine only), [::1]:9750; port 0 takes any free port`,
    );
  const host = match[1] ?? match[2];
  return host === undefined ? { port } : { host, port };
}

/** --influx: an http(s) URL; what its path means is decided with the other flags (liveExportersOptions). */
export function influxUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(
      `"${value}" is not a URL; e.g. http://influx:8086/busbench (1.x: the database as the path) or http://influx:8086 with --influx-bucket`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`"${value}": InfluxDB is reached over http:// or https://`);
  return url;
}

export function addLiveOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--prometheus <[host:]port>',
        'serve live metrics at http://<host>:<port>/metrics for Prometheus to scrape while it runs; host default 0.0.0.0 (every interface), 127.0.0.1:<port> for this machine only',
      ).argParser(prometheusAddress),
    )
    .addOption(
      new Option(
        '--influx <url>',
        'write live metrics to InfluxDB every second: http://host:8086/<database> for the 1.x API (/write, any 1.x; user:password@ in the URL if it asks), ' +
          'or http://host:8086 with --influx-bucket and --influx-org for the 2.x API (2.x, and 1.8+)',
      ).argParser(influxUrl),
    )
    .option('--influx-org <org>', 'InfluxDB 2.x organization (with --influx-bucket; 1.8+ ignores it: any name)')
    .option('--influx-bucket <bucket>', 'InfluxDB 2.x bucket, which selects the 2.x API (1.8+: database/retention-policy)')
    .option('--influx-token <token>', `InfluxDB 2.x API token (1.8+: user:password); default: $${INFLUX_TOKEN_VARIABLE}, better than the flag, which ps shows`)
    .addHelpText(
      'after',
      '\nLive metrics (README: "Watching a run live"):\n' +
        '  --prometheus 9750                          then scrape http://<this host>:9750/metrics\n' +
        '  --influx http://influx:8086/busbench       InfluxDB 1.x, database busbench (create it first)\n' +
        `  --influx http://influx:8086 --influx-org lab --influx-bucket busbench   InfluxDB 2.x, token in $${INFLUX_TOKEN_VARIABLE}`,
    );
}

/** The flags as the exporters take them; UsageError names the flag, what is wrong and the fix. */
export function liveExportersOptions(flags: LiveFlags, env: NodeJS.ProcessEnv = process.env): Omit<LiveExportersOptions, 'say'> {
  const influx = influxTarget(flags, env);
  return { ...(flags.prometheus ? { prometheus: flags.prometheus } : {}), ...(influx ? { influx } : {}) };
}

function influxTarget(flags: LiveFlags, env: NodeJS.ProcessEnv): InfluxTarget | undefined {
  const url = flags.influx;
  const token = flags.influxToken ?? env[INFLUX_TOKEN_VARIABLE];
  if (!url) {
    const stray = (['influxOrg', 'influxBucket', 'influxToken'] as const).filter((flag) => flags[flag] !== undefined).map(flagName);
    if (stray.length > 0) throw new UsageError(`${stray.join(', ')} without --influx: give the server too, e.g. --influx http://influx:8086`);
    return undefined;
  }
  const server = `${url.protocol}//${url.host}`;
  const path = url.pathname.replace(/^\/+|\/+$/g, '');
  if (flags.influxBucket !== undefined) {
    // The 2.x API: the URL is the server (a path is a prefix in front of it, e.g. behind a proxy).
    if (url.username || url.password)
      throw new UsageError(`--influx ${redacted(url)}: the 2.x API authenticates with a token, not a user in the URL: drop it, give --influx-token`);
    if (!flags.influxOrg)
      throw new UsageError('--influx-bucket needs --influx-org, the organization the bucket belongs to (1.8+: any name, e.g. --influx-org -)');
    if (!token)
      throw new UsageError(
        `--influx-bucket: the 2.x API needs a token: set ${INFLUX_TOKEN_VARIABLE} or give --influx-token (1.8+: user:password, or any word when authentication is off)`,
      );
    return { api: 'v2', url: `${server}${path ? `/${path}` : ''}`, org: flags.influxOrg, bucket: flags.influxBucket, token };
  }
  if (flags.influxOrg !== undefined || flags.influxToken !== undefined)
    throw new UsageError(
      `${flags.influxOrg !== undefined ? '--influx-org' : '--influx-token'} is for the 2.x API: give --influx-bucket too, or drop it for the 1.x API`,
    );
  if (!path || path.includes('/'))
    throw new UsageError(
      `--influx ${redacted(url)}: name the database as the URL's path for InfluxDB 1.x (http://influx:8086/busbench), or give --influx-bucket and --influx-org for 2.x`,
    );
  const retentionPolicy = url.searchParams.get('rp') ?? undefined;
  return {
    api: 'v1',
    url: server,
    database: decodeURIComponent(path),
    ...(retentionPolicy ? { retentionPolicy } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : {}),
  };
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function redacted(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
}

/**
 * The live flags again as arguments, for a process that runs on after the
 * command (bus up's keeper). The token is not among them: it goes in its
 * environment (INFLUX_TOKEN_VARIABLE), where ps does not show it.
 */
export function liveArguments(flags: LiveFlags, env: NodeJS.ProcessEnv = process.env): { args: string[]; env: Record<string, string> } {
  const args: string[] = [];
  const token = flags.influxToken ?? env[INFLUX_TOKEN_VARIABLE];
  if (flags.prometheus)
    args.push(
      '--prometheus',
      flags.prometheus.host === undefined
        ? String(flags.prometheus.port)
        : `${flags.prometheus.host.includes(':') ? `[${flags.prometheus.host}]` : flags.prometheus.host}:${flags.prometheus.port}`,
    );
  if (flags.influx) args.push('--influx', flags.influx.href);
  if (flags.influxOrg !== undefined) args.push('--influx-org', flags.influxOrg);
  if (flags.influxBucket !== undefined) args.push('--influx-bucket', flags.influxBucket);
  return { args, env: token === undefined ? {} : { [INFLUX_TOKEN_VARIABLE]: token } };
}

/** What the bus commands (src/bus, a layer below the CLI) are given to offer these flags: `addBusCommands(program, LIVE_FLAGS)`. */
export const LIVE_FLAGS: LiveFlagSupport = {
  addOptions: addLiveOptions,
  exportersOptions: (flags) => liveExportersOptions(flags as LiveFlags),
  argumentsOf: (flags) => liveArguments(flags as LiveFlags),
};
