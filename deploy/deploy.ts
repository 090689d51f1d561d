/**
 * One way to stand a scenario up: hosts from its provider (this machine
 * without a topology), the topology's links constrained between them, and
 * the bus deployed on them by its plugin — or, with bus.url, a bus that is
 * already there. run, limit, campaign, bus up and the benches all call
 * this; whoever deploys owns the teardown (Deployment.destroy).
 */
import { onCleanup } from '../src/cleanup.js';
import { BusUnavailableError } from '../src/errors.js';
import type { BusPlacement, DeployedBus } from '../src/buses/plugin.js';
import { busPlugin } from '../src/buses/registry.js';
import type { Scenario } from '../src/model/index.js';
import type { RelayedBusLink } from '../src/network/bus-link-relays.js';
import { redactUrl } from '../src/util/url.js';
import { LOCAL_SITE, startLocalProvider } from './providers/local.js';
import type { AppliedNetwork, ProvidedHost, Provider } from './providers/provider.js';
import { startProvider } from './providers/start.js';

export interface Deployment {
  provider: Provider;
  /** whether the hosts are a topology's (netns, ssh) rather than this machine alone */
  sited: boolean;
  /** the topology's links as constrained and measured (sited deployments) */
  network?: AppliedNetwork;
  /** the bus's own connections between sites that go through delay relays (none where the kernel delays them) */
  busLinks: RelayedBusLink[];
  bus: DeployedBus;
  /** stops the bus, then removes the network constraints and the hosts; safe to call twice */
  destroy(): Promise<void>;
}

export interface DeployOptions {
  /** copy the bus nodes' logs here when they stop */
  logsDir?: string;
  /** ssh, labs only: trust hosts whose key the known_hosts file lacks */
  insecureAcceptUnknownHostKeys?: boolean;
  onLog?: (level: 'info' | 'warn', message: string) => void;
}

/** A bus given by URL: nothing to deploy, nothing to stop. */
function existingBus(url: string, site: string): DeployedBus {
  return { urls: [url], endpoints: { [site]: url }, embedded: false, description: 'an existing bus', nodes: [], stop: async () => undefined };
}

export async function deploy(scenario: Scenario, options: DeployOptions = {}): Promise<Deployment> {
  const say = options.onLog ?? (() => undefined);
  const topology = scenario.topology;
  const sited = topology !== undefined && topology.provider !== 'local';
  if (sited) say('info', `provider ${topology.provider}: ${topology.sites.map((s) => `${s.name} (${s.hosts} host${s.hosts > 1 ? 's' : ''})`).join(', ')}`);
  const provider = sited
    ? await startProvider(topology, {
        scenarioFile: scenario.source,
        ...(options.insecureAcceptUnknownHostKeys ? { insecureAcceptUnknownHostKeys: true } : {}),
      })
    : startLocalProvider(topology?.busSites[0] ?? LOCAL_SITE);
  let bus: DeployedBus | undefined;
  const busLinks: RelayedBusLink[] = [];
  let destroyed: Promise<void> | undefined;
  const destroy = (): Promise<void> =>
    (destroyed ??= (async () => {
      unregister();
      try {
        await bus?.stop();
      } finally {
        await provider.destroy();
      }
    })());
  const unregister = onCleanup(`${provider.kind} deployment of ${scenario.name}`, () => destroy());
  try {
    let network: AppliedNetwork | undefined;
    if (sited) {
      network = await provider.constrain(topology);
      for (const m of network.mechanisms) say('info', `link ${m.from} → ${m.to}: ${m.property} ${m.value} by ${m.mechanism}`);
      for (const m of network.measured) {
        say(
          'info',
          `measured ${m.from} → ${m.to}: rtt ${m.measured.rttAvgMs?.toFixed(2) ?? '-'} ms, loss ${m.measured.lossPercent} %${m.relayedDelayMs ? ` (+${m.relayedDelayMs} ms round trip in user space on bus connections)` : ''}`,
        );
      }
    }
    const busSites = sited ? topology.busSites : [provider.hosts[0]!.site];
    if (scenario.bus.url) bus = existingBus(scenario.bus.url, topology?.busSites[0] ?? LOCAL_SITE);
    else {
      if (!sited) say('info', 'no bus URL given: deploying one for this run');
      const firstHostOf = (site: string): ProvidedHost => {
        const host = provider.hosts.find((h) => h.site === site);
        if (!host) throw new Error(`bus site ${site} has no host`);
        return host;
      };
      const placement: BusPlacement = {
        sites: busSites.map((site) => ({ site, host: firstHostOf(site) })),
        links: sited ? topology.links : [],
        topology: sited,
        ...(options.logsDir ? { logsDir: options.logsDir } : {}),
        ...(sited && provider.relayBusLinks
          ? {
              relayLinks: async (links) => {
                const relayed = await provider.relayBusLinks!(links);
                for (const r of relayed)
                  say(
                    'info',
                    `bus link ${r.from} → ${r.to} (${r.what}, ${r.target}): delay ${r.forwardDelayMs}/${r.backwardDelayMs} ms in user space, relayed at ${r.via}`,
                  );
                busLinks.push(...relayed);
              },
            }
          : {}),
      };
      bus = await busPlugin(scenario.bus.kind)
        .deploy(scenario.bus, placement)
        .catch((error: Error) => {
          throw new BusUnavailableError(`could not deploy the bus${sited ? ' on the sites' : ''}: ${error.message}`);
        });
    }
    say('info', `bus: ${bus.description} at ${bus.urls.map(redactUrl).join(', ')}`);
    return { provider, sited, ...(network ? { network } : {}), busLinks, bus, destroy };
  } catch (error) {
    await destroy().catch(() => undefined);
    throw error;
  }
}
