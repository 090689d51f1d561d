/** The provider a topology names. */
import { dirname, resolve } from 'node:path';
import type { Topology } from '../../src/model/index.js';
import { startNetnsProvider } from './netns.js';
import type { Provider } from './provider.js';
import { startSshProvider } from './ssh.js';

export interface StartProviderOptions {
  /** the scenario file the topology is from: topology.inventory is relative to it */
  scenarioFile?: string;
  /** ssh, labs only: trust hosts whose key the known_hosts file lacks */
  insecureAcceptUnknownHostKeys?: boolean;
}

export async function startProvider(topology: Topology, options: StartProviderOptions = {}): Promise<Provider> {
  switch (topology.provider) {
    case 'netns':
      return startNetnsProvider(topology);
    case 'ssh': {
      if (!topology.inventory) throw new Error('provider ssh needs topology.inventory: the YAML file naming the hosts of each site');
      // A scenario made in code (its source "<…>") has no file to be relative to: the working directory stands in.
      const base = options.scenarioFile && !options.scenarioFile.startsWith('<') ? dirname(options.scenarioFile) : process.cwd();
      return startSshProvider(topology, {
        inventoryFile: resolve(base, topology.inventory),
        ...(options.insecureAcceptUnknownHostKeys ? { insecureAcceptUnknownHostKeys: true } : {}),
      });
    }
    default:
      throw new Error(
        `provider ${topology.provider} cannot run a scenario yet: use provider netns (hosts as network namespaces on this machine) or ssh (hosts from an inventory)`,
      );
  }
}
