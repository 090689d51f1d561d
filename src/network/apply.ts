/**
 * Putting a network plan on hosts and taking it off again. The executor
 * runs one argument array on one host (in a namespace, over ssh, …), so
 * this module never builds a shell string. Undo runs every step of every
 * host even when some fail (a step whose apply never ran fails harmlessly),
 * and is registered for Ctrl-C and crashes before the first apply step.
 */
import { onCleanup } from '../cleanup.js';
import { runCommand } from './command.js';
import type { KernelCapabilities, NetworkPlan } from './plan.js';

/** Runs `argv` on `host`; rejects with the command's stderr when it fails. */
export type HostExecutor = (host: string, argv: string[]) => Promise<void>;

export interface AppliedPlan {
  /** removes everything the plan added; safe to call twice */
  remove(): Promise<{ failures: string[] }>;
}

export async function applyNetworkPlan(plan: NetworkPlan, exec: HostExecutor): Promise<AppliedPlan> {
  let removed = false;
  const remove = async (): Promise<{ failures: string[] }> => {
    if (removed) return { failures: [] };
    removed = true;
    unregister();
    const failures: string[] = [];
    for (const host of plan.hosts) {
      for (const step of host.undo) {
        await exec(host.host, step.argv).catch((error: Error) => failures.push(`${host.host}: ${step.argv.join(' ')}: ${error.message}`));
      }
    }
    return { failures };
  };
  const unregister = onCleanup('network constraints', async () => void (await remove()));
  try {
    for (const host of plan.hosts) {
      for (const step of host.apply) {
        try {
          await exec(host.host, step.argv);
        } catch (error) {
          throw new Error(`network plan on ${host.host}: ${step.why}: \`${step.argv.join(' ')}\` failed: ${(error as Error).message}`);
        }
      }
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return { remove };
}

/** An executor for hosts that are network namespaces on this machine: `ip netns exec <host> argv…`. */
export function namespaceExecutor(namespaceOf: (host: string) => string = (host) => host): HostExecutor {
  return async (host, argv) => void (await runCommand(['ip', 'netns', 'exec', namespaceOf(host), ...argv]));
}

/**
 * What a kernel can do, tried in a scratch namespace so nothing on the
 * host is touched: a netem qdisc, and nft's random drop. `run` runs a
 * command on the host to probe: this one by default, another over ssh.
 */
export async function detectKernel(run: (argv: string[]) => Promise<unknown> = runCommand): Promise<KernelCapabilities> {
  const scratch = `busbench-probe-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  await run(['ip', 'netns', 'add', scratch]);
  try {
    const works = async (argv: string[]): Promise<boolean> =>
      run(['ip', 'netns', 'exec', scratch, ...argv]).then(
        () => true,
        () => false,
      );
    const netem = await works(['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
    const nft =
      (await works(['nft', 'add', 'table', 'inet', 'probe'])) &&
      (await works(['nft', 'add', 'chain', 'inet', 'probe', 'out', '{', 'type', 'filter', 'hook', 'output', 'priority', '0', ';', '}'])) &&
      (await works(['nft', 'add', 'rule', 'inet', 'probe', 'out', 'numgen', 'random', 'mod', '100', '<', '1', 'drop']));
    return { netem, nft };
  } finally {
    await run(['ip', 'netns', 'del', scratch]).catch(() => undefined);
  }
}
