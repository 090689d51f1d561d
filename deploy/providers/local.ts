/**
 * The local provider: one host, this machine, on loopback. It is what a
 * scenario without a topology runs on, so the embedded bus is deployed the
 * way a topology's is, by the bus plugin on a provided host.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, hostname, release, totalmem } from 'node:os';
import { runCommand } from '../../src/network/command.js';
import { AGENT_HOST_ENTRY } from '../../src/runner/agent-hosts.js';
import type { AppliedNetwork, ProvidedHost, Provider } from './provider.js';

export const LOCAL_SITE = 'local';

/** `site` names the one site (a topology of provider local names its own). */
export function startLocalProvider(site = LOCAL_SITE): Provider {
  const host: ProvidedHost = {
    name: 'local',
    site,
    address: '127.0.0.1',
    thisMachine: {},
    spawn: (argv) => spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] }),
    run: (argv) => runCommand(argv),
    agentHostArgv: [process.execPath, AGENT_HOST_ENTRY],
    facts: async () => ({ hostname: hostname(), node: process.version, cores: availableParallelism(), memoryBytes: totalmem(), kernel: release() }),
  };
  return {
    kind: 'local',
    hosts: [host],
    run: async (_host, argv) => void (await runCommand(argv)),
    // One host: there are no links between sites to constrain.
    constrain: async (): Promise<AppliedNetwork> => ({ plan: { hosts: [], mechanisms: [], relayed: [] }, mechanisms: [], measured: [] }),
    destroy: async () => undefined,
  };
}
