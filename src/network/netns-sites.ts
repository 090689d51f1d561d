/**
 * Sites as network namespaces on this machine: one namespace per host,
 * each with an `eth0` veth into a bridge that lives in a switch namespace
 * of its own (the host's own network is never touched). All hosts share
 * one /16, so every host reaches every other and constraints decide how
 * well. This is the ground the netns provider stands on.
 */
import { onCleanup } from '../cleanup.js';
import { runCommand } from './command.js';
import type { NetworkHost } from './plan.js';

export interface SiteLayout {
  site: string;
  hosts: number;
}

export interface SiteNamespaces {
  hosts: (NetworkHost & { namespace: string })[];
  switchNamespace: string;
  /** with `gateway`: this host's address on the sites' network */
  gatewayAddress?: string;
  /** deletes every namespace (their veths go with them); safe to call twice */
  destroy(): Promise<void>;
}

const TAG = /^[a-z0-9]{1,8}$/;

async function ip(...args: string[]): Promise<void> {
  await runCommand(['ip', ...args]);
}

/** This host's address on the sites' network, when it has one (see `gateway`). */
export const GATEWAY_ADDRESS = '10.200.0.254';

/**
 * `tag` keeps namespaces of concurrent users apart: busbench-<tag>-<host>.
 * `gateway`: also join this host to the bridge (`bbgw-<tag>`, 10.200.0.254),
 * so that busbench itself, and an OpenStack service handed a transport URL,
 * reach the brokers in the namespaces. Its traffic is outside every site and
 * never constrained; the interface goes when the switch namespace goes.
 */
export async function createSiteNamespaces(layout: SiteLayout[], tag: string, options: { gateway?: boolean } = {}): Promise<SiteNamespaces> {
  if (!TAG.test(tag)) throw new Error(`namespace tag "${tag}": 1-8 lowercase letters or digits`);
  if (layout.length > 250 || layout.some((s) => !Number.isInteger(s.hosts) || s.hosts < 1 || s.hosts > 250))
    throw new Error('at most 250 sites of 1-250 hosts each');
  if (options.gateway) {
    // Two gateways with the same address would make this host's route to the sites ambiguous.
    const taken = (await runCommand(['ip', '-o', '-4', 'addr', 'show'])).split('\n').find((line) => line.includes(` ${GATEWAY_ADDRESS}/`));
    if (taken) {
      const device = taken.split(/\s+/)[1] ?? 'an interface';
      throw new Error(
        `another busbench run on this machine uses the sites' network (${device} has ${GATEWAY_ADDRESS}): runs with provider netns cannot overlap; ` +
          'wait for it to end, or stop it (busbench bus down, for a bus kept up)',
      );
    }
  }
  const switchNamespace = `busbench-${tag}-sw`;
  const created: string[] = [];
  let destroyed = false;
  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    unregister();
    // The kernel frees a deleted namespace's devices in the background, seconds later: the gateway goes now, by name.
    if (options.gateway) await ip('link', 'del', `bbgw-${tag}`).catch(() => undefined);
    for (const namespace of created.reverse()) await ip('netns', 'del', namespace).catch(() => undefined);
  };
  const unregister = onCleanup(`network namespaces busbench-${tag}-*`, destroy);
  const hosts: SiteNamespaces['hosts'] = [];
  try {
    await ip('netns', 'add', switchNamespace);
    created.push(switchNamespace);
    await ip('-n', switchNamespace, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', switchNamespace, 'link', 'set', 'br0', 'up');
    let port = 0;
    for (const [s, site] of layout.entries()) {
      for (let h = 0; h < site.hosts; h++) {
        const name = `${site.site}-${h + 1}`;
        const namespace = `busbench-${tag}-${name}`;
        await ip('netns', 'add', namespace);
        created.push(namespace);
        // Created inside the switch namespace, so no name is ever taken in the host's own.
        const outside = `p${port++}`;
        await ip('-n', switchNamespace, 'link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace);
        await ip('-n', switchNamespace, 'link', 'set', outside, 'master', 'br0', 'up');
        const address = `10.200.${s + 1}.${h + 1}`;
        await ip('-n', namespace, 'addr', 'add', `${address}/16`, 'dev', 'eth0');
        await ip('-n', namespace, 'link', 'set', 'eth0', 'up');
        await ip('-n', namespace, 'link', 'set', 'lo', 'up');
        hosts.push({ name, site: site.site, device: 'eth0', address, namespace });
      }
    }
    if (options.gateway) {
      // The peer is created in the switch namespace, the other end moved out to this host's: deleting the namespace takes both.
      await ip('-n', switchNamespace, 'link', 'add', 'gw', 'type', 'veth', 'peer', 'name', `bbgw-${tag}`, 'netns', String(process.pid));
      await ip('-n', switchNamespace, 'link', 'set', 'gw', 'master', 'br0', 'up');
      await ip('addr', 'add', `${GATEWAY_ADDRESS}/16`, 'dev', `bbgw-${tag}`);
      await ip('link', 'set', `bbgw-${tag}`, 'up');
    }
  } catch (error) {
    await destroy();
    throw error;
  }
  return { hosts, switchNamespace, ...(options.gateway ? { gatewayAddress: GATEWAY_ADDRESS } : {}), destroy };
}
