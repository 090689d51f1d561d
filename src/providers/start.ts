/** The provider a topology names. */
import type { Topology } from '../scenario/topology.js';
import { startNetnsProvider } from './netns.js';
import type { Provider } from './provider.js';

export async function startProvider(topology: Topology): Promise<Provider> {
  switch (topology.provider) {
    case 'netns':
      return startNetnsProvider(topology);
    default:
      throw new Error(`provider ${topology.provider} cannot run a scenario yet: use provider netns (hosts as network namespaces on this machine)`);
  }
}
