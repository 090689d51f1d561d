/**
 * What the network between sites actually does, measured with ping from
 * the first host of each site to the first host of every other: round-trip
 * time and loss, beside what was asked. ping travels the kernel's path, so
 * it sees netem, htb and nft; a delay added by a user-space relay is not on
 * that path, and the result says so rather than report it as missing.
 */
import type { NetworkPlan } from './plan.js';
import type { LinkConstraint, MeasuredLink } from '../model/index.js';

/** Runs ping on a host and returns its output (stdout). */
export type PingRunner = (fromHost: string, argv: string[]) => Promise<string>;

export function parsePing(output: string): { lossPercent: number; rttAvgMs: number | undefined; rttMdevMs: number | undefined } {
  const loss = /([\d.]+)% packet loss/.exec(output);
  const rtt = /= [\d.]+\/([\d.]+)\/[\d.]+\/([\d.]+) ms/.exec(output);
  if (!loss) throw new Error(`ping printed no loss figure:\n${output.trim().split('\n').slice(-3).join('\n')}`);
  return { lossPercent: Number(loss[1]), rttAvgMs: rtt ? Number(rtt[1]) : undefined, rttMdevMs: rtt ? Number(rtt[2]) : undefined };
}

export async function measureLinks(
  sites: { site: string; host: string; address: string }[],
  constraints: LinkConstraint[],
  plan: Pick<NetworkPlan, 'relayed'>,
  ping: PingRunner,
  probes = 50,
): Promise<MeasuredLink[]> {
  const out: MeasuredLink[] = [];
  for (const from of sites) {
    for (const to of sites) {
      if (from.site === to.site) continue;
      const asked = constraints.find((c) => c.from === from.site && c.to === to.site);
      // -i 0.02: 50 echoes a second (root may go below 0.2 s); -W 2: an echo later than 2 s counts as lost.
      const output = await ping(from.host, ['ping', '-n', '-q', '-c', String(probes), '-i', '0.02', '-W', '2', to.address]).catch((error: Error) => {
        // ping exits 1 when every echo was lost, with its summary still on stdout.
        const stdout = (error as { stdout?: string }).stdout;
        if (stdout && /packet loss/.test(stdout)) return stdout;
        throw error;
      });
      const relayed = plan.relayed
        .filter((r) => (r.from === from.site && r.to === to.site) || (r.from === to.site && r.to === from.site))
        .reduce((sum, r) => sum + r.delayMs, 0);
      out.push({
        from: from.site,
        to: to.site,
        requested: {
          ...(asked?.delayMs !== undefined ? { delayMs: asked.delayMs } : {}),
          ...(asked?.jitterMs !== undefined ? { jitterMs: asked.jitterMs } : {}),
          ...(asked?.lossPercent !== undefined ? { lossPercent: asked.lossPercent } : {}),
          ...(asked?.rateMbit !== undefined ? { rateMbit: asked.rateMbit } : {}),
        },
        measured: { probes, ...parsePing(output) },
        relayedDelayMs: relayed,
      });
    }
  }
  return out;
}
