/**
 * Geography in a scenario, resolved: sites with hosts, constrained links
 * between sites, which sites carry a bus node, how many agents of each role
 * run on which site, and when links drop out or sites are cut off. The
 * `topology` section of a file, its schema and the rules that resolve it
 * into this are in src/scenario/topology.ts.
 */
import type { Role } from './metrics.js';
import type { LinkConstraint } from './network.js';

/** Where hosts come from: this host alone, network namespaces on it, or real hosts over ssh. */
export type ProviderKind = 'local' | 'netns' | 'ssh';

export interface Site {
  name: string;
  /** hosts of the site: namespaces (netns), inventory entries (ssh) */
  hosts: number;
}

/** A link that goes down on a schedule: down for `forMs` every `everyMs`, first at `firstMs` into the measured phase. */
export interface Dropout {
  sites: [string, string];
  everyMs: number;
  forMs: number;
  firstMs: number;
}

/** At `atMs` into the measured phase the listed sites lose every other site for `forMs`. */
export interface Partition {
  atMs: number;
  forMs: number;
  isolate: string[];
}

export interface Topology {
  provider: ProviderKind;
  /** ssh: the inventory file naming each site's hosts */
  inventory?: string;
  sites: Site[];
  /** one per constrained direction */
  links: LinkConstraint[];
  /** sites with a bus node, on their first host, in this order */
  busSites: string[];
  /** agents per role per site (every site listed, zeros included) */
  agentsBySite: Record<Role, Record<string, number>>;
  dropouts: Dropout[];
  partitions: Partition[];
}
