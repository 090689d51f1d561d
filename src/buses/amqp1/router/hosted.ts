/**
 * One router of a mesh under a bus node host (../../node-host.ts), on a
 * host busbench reaches over ssh: `bus-node amqp1 --flavor F --address A`.
 * Only this host knows which of its ports are free, and only busbench knows
 * the whole mesh, so the start takes one exchange: the node host reports
 * its router, version and two free ports; busbench plans the mesh from
 * every host's ports (remote.ts) and sends this router its plan; the router
 * starts, and is ready when it sees every other router of the mesh.
 */
import { Command, Option } from 'commander';
import { freePort } from '../../../util/process.js';
import type { HostedNode, NodeHostSession } from '../../node-host.js';
import { checkRouterPlan, type RouterFlavor, type RouterTuning } from './config.js';
import { findRouter, ROUTER_MISSING_HELP, routerVersion, runRouters } from './local.js';

/** Non-interactive ssh sessions often lack the sbin directories, where routers install themselves. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The node host's first frame: its router, and the ports it found free. */
export interface RouterPortsFrame {
  stage: 'ports';
  flavor: RouterFlavor;
  version: string;
  port: number;
  interRouterPort: number;
}

/** busbench's answer: this router's part of the mesh. */
export interface RouterConfigureFrame {
  stage: 'configure';
  plan: unknown;
  /** routers in the whole mesh: this one is ready when it sees the others */
  routers: number;
  tuning: Pick<RouterTuning, 'workerThreads' | 'linkCapacity' | 'distribution'>;
}

/** What a hosted router's ready report says beyond its pid. */
export interface RouterNodeFacts {
  id: string;
  url: string;
}

function flagsOf(argv: string[]): { flavor: RouterFlavor | 'auto'; address: string } {
  const program = new Command('bus-node amqp1')
    .description('one AMQP 1.0 router of a mesh on this host, for a busbench on another')
    .requiredOption('--address <address>', 'address the router listens on and is reached at')
    .addOption(new Option('--flavor <flavor>', 'which router').choices(['auto', 'qdrouterd', 'skrouterd']).default('auto'))
    .exitOverride()
    .parse(argv, { from: 'user' });
  return program.opts<{ flavor: RouterFlavor | 'auto'; address: string }>();
}

function checkConfigure(frame: unknown, ports: RouterPortsFrame, address: string): RouterConfigureFrame & { plan: ReturnType<typeof checkRouterPlan> } {
  const configure = frame as Partial<RouterConfigureFrame> | null;
  if (configure?.stage !== 'configure') throw new Error(`expected the router's part of the mesh, got ${JSON.stringify(frame).slice(0, 200)}`);
  const plan = checkRouterPlan(configure.plan);
  if (plan.host !== address || plan.port !== ports.port || (plan.interRouterPort !== undefined && plan.interRouterPort !== ports.interRouterPort)) {
    throw new Error(`the plan for ${plan.id} listens on ${plan.host}:${plan.port}, not on the address and ports this host reported`);
  }
  if (!Number.isInteger(configure.routers) || configure.routers! < 1) throw new Error(`routers must be a whole number >= 1, got ${configure.routers}`);
  const tuning = configure.tuning ?? {};
  return {
    stage: 'configure',
    plan,
    routers: configure.routers!,
    tuning: {
      ...(tuning.workerThreads ? { workerThreads: tuning.workerThreads } : {}),
      ...(tuning.linkCapacity ? { linkCapacity: tuning.linkCapacity } : {}),
      // Only these two fields are taken; renderRouterConfig refuses any value but closest and balanced, as they become config lines.
      ...(tuning.distribution ? { distribution: { unicast: tuning.distribution.unicast, anycast: tuning.distribution.anycast } } : {}),
    },
  };
}

export async function hostRouter(argv: string[], session: NodeHostSession): Promise<HostedNode> {
  const { flavor, address } = flagsOf(argv);
  const router = findRouter(flavor, SBIN_DIRS);
  if (!router) throw new Error(`on this host: ${ROUTER_MISSING_HELP.replace(' is on PATH', ` is on PATH or in ${SBIN_DIRS.join(', ')}`)}`);
  const ports: RouterPortsFrame = {
    stage: 'ports',
    flavor: router.flavor,
    version: await routerVersion(router),
    port: await freePort(),
    interRouterPort: await freePort(),
  };
  session.send(ports);
  const frame = await session.next();
  if (frame === undefined) throw new Error('busbench went away before it sent the router its part of the mesh');
  const { plan, routers, tuning } = checkConfigure(frame, ports, address);
  const mesh = await runRouters(router, ports.version, [plan], { ...tuning, meshSize: routers });
  const [only] = mesh.routers;
  return {
    facts: { id: plan.id, url: only!.url } satisfies RouterNodeFacts,
    pid: () => only!.pid,
    kill: () => only!.kill(),
    pause: () => only!.pause(),
    resume: () => only!.resume(),
    restart: () => only!.restart(),
    stop: () => mesh.stop(),
  };
}
