/**
 * The lifecycle of one bus node, as fault injection uses it: pause and
 * resume, restart on the same address and port, kill as in a crash — on a
 * node of this machine, and on a node run under the bus node entry (the
 * way ssh hosts run theirs, here spawned on loopback so the commands travel
 * the same framed protocol). Routers get the same operations; their test
 * needs qdrouterd or skrouterd on PATH and skips without.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import amqplib from 'amqplib';
import { busPlugin, resolveScenario, type BusHost, type BusNode } from '../src/index.js';
import { findRouter } from '../src/buses/amqp1/router/local.js';
import { routerNodes } from '../src/buses/amqp1/router/management.js';
import { localEntry } from '../src/util/entries.js';
import { processAlive } from '../src/util/process.js';
import { runCommand } from '../src/network/command.js';

/** Whether a broker accepts an AMQP 0-9-1 connection within `timeoutMs`. */
async function accepts(url: string, timeoutMs = 3000): Promise<boolean> {
  try {
    const connection = await amqplib.connect(url.replace(/^rabbit:/, 'amqp:'), { timeout: timeoutMs });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

async function exercise(node: BusNode): Promise<void> {
  assert.ok(await accepts(node.url), `${node.name} accepts connections`);
  const pid = node.pid()!;
  assert.ok(pid > 0 && processAlive(pid));

  await node.pause();
  assert.equal(await accepts(node.url, 1500), false, 'a paused node does not answer');
  await node.resume();
  assert.ok(await accepts(node.url, 10_000), 'a resumed node answers again');

  await node.restart();
  assert.ok(await accepts(node.url), 'after a restart the node is back at the same URL');

  await node.kill();
  assert.equal(await accepts(node.url, 1500), false, 'a killed node is gone');
}

const scenario = resolveScenario({ bus: { kind: 'rabbitmq' }, agents: { servers: 1, clients: 1 } }, '<bus-nodes test>');

function localHost(overrides: Partial<BusHost> = {}): BusHost {
  return {
    name: 'loop',
    site: 'local',
    address: '127.0.0.1',
    spawn: (argv) => spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] }),
    run: (argv) => runCommand(argv),
    ...overrides,
  };
}

describe('bus node lifecycle', { timeout: 240_000 }, () => {
  it('pauses, resumes, restarts on the same port and kills a RabbitMQ node of this machine', async () => {
    const bus = await busPlugin('rabbitmq').deploy(scenario.bus, {
      sites: [{ site: 'local', host: localHost({ thisMachine: {} }) }],
      links: [],
      topology: false,
    });
    try {
      assert.equal(bus.nodes.length, 1);
      await exercise(bus.nodes[0]!);
    } finally {
      await bus.stop();
    }
  });

  it('does the same to a node under the bus node entry, through its framed commands, and the entry exits with the bus', async () => {
    let child: ReturnType<typeof spawn> | undefined;
    const host = localHost({
      spawn: (argv) => (child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })),
      busNodeArgv: [process.execPath, localEntry('busNode')],
      reachedBy: 'by a test',
    });
    const bus = await busPlugin('rabbitmq').deploy(scenario.bus, { sites: [{ site: 'a', host }], links: [], topology: true });
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    try {
      assert.match(bus.description, /^RabbitMQ \S+ on site a \(loop, by a test\)$/);
      const pid = bus.nodes[0]!.pid();
      await exercise(bus.nodes[0]!);
      assert.notEqual(bus.nodes[0]!.pid(), pid, "after the restart the node's pid is the new process's, as its host reported it");
    } finally {
      await bus.stop();
    }
    await exited;
    assert.notEqual(child!.exitCode ?? child!.signalCode, null, 'the bus node entry exited');
  });

  it('pauses, resumes, restarts and kills a router', { skip: findRouter('auto') ? false : 'neither qdrouterd nor skrouterd is on PATH' }, async () => {
    const routed = resolveScenario({ bus: { kind: 'amqp1', router: { routers: 1 } }, agents: { servers: 1, clients: 1 } }, '<bus-nodes test>');
    const bus = await busPlugin('amqp1').deploy(routed.bus, { sites: [{ site: 'local', host: localHost({ thisMachine: {} }) }], links: [], topology: false });
    try {
      const node = bus.nodes[0]!;
      const pid = node.pid()!;
      await node.pause();
      await node.resume();
      await node.restart();
      assert.notEqual(node.pid(), pid, 'a restarted router is a new process');
      assert.ok(processAlive(node.pid()!));
      await node.kill();
      assert.equal(processAlive(node.pid()!), false);
    } finally {
      await bus.stop();
    }
  });

  const router = findRouter('auto');
  it(
    'meshes a router per site under bus node entries and drives each through its framed commands',
    { skip: router ? false : 'neither qdrouterd nor skrouterd is on PATH' },
    async () => {
      const children: ReturnType<typeof spawn>[] = [];
      const entryHost = (name: string, site: string): BusHost =>
        localHost({
          name,
          site,
          spawn: (argv) => {
            const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
            children.push(child);
            return child;
          },
          busNodeArgv: [process.execPath, localEntry('busNode')],
          reachedBy: 'by a test',
        });
      const routed = resolveScenario({ bus: { kind: 'amqp1', router: { routers: 1 } }, agents: { servers: 1, clients: 1 } }, '<bus-nodes test>');
      const bus = await busPlugin('amqp1').deploy(routed.bus, {
        sites: [
          { site: 'a', host: entryHost('loop-a', 'a') },
          { site: 'b', host: entryHost('loop-b', 'b') },
        ],
        links: [],
        topology: true,
      });
      const exited = children.map((child) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve()))));
      try {
        assert.match(bus.description, /^2 \S+ routers \(.*\), one per bus site \(a, b\) on its first host by a test, a full mesh, because no link/);
        assert.deepEqual(
          bus.nodes.map((n) => [n.name, n.kind, n.site, n.host]),
          [
            ['Router.a', 'router', 'a', 'loop-a'],
            ['Router.b', 'router', 'b', 'loop-b'],
          ],
        );
        assert.deepEqual(bus.endpoints, { a: bus.nodes[0]!.url, b: bus.nodes[1]!.url });
        for (const node of bus.nodes) assert.equal(await routerNodes(node.url, router!.flavor), 1, `${node.name} sees the other router`);
        const [, b] = bus.nodes as [BusNode, BusNode];
        const pid = b.pid()!;
        assert.ok(processAlive(pid));
        await b.pause();
        await assert.rejects(routerNodes(b.url, router!.flavor), 'a paused router does not answer');
        await b.resume();
        await b.restart();
        assert.notEqual(b.pid(), pid, 'a restarted router is a new process');
        assert.ok(processAlive(b.pid()!));
        assert.equal(await routerNodes(b.url, router!.flavor), 1, 'the restarted router is back in the mesh');
        await b.kill();
        assert.equal(processAlive(b.pid()!), false);
        const statistics = (await bus.statistics!()) as { routers: { id: string; error?: string }[] };
        assert.equal(statistics.routers[0]!.error, undefined, JSON.stringify(statistics.routers[0]));
        assert.equal(statistics.routers[1]!.id, 'Router.b');
        assert.ok(statistics.routers[1]!.error, 'the killed router is reported as unreadable');
      } finally {
        await bus.stop();
      }
      await Promise.all(exited);
      assert.equal(children.length, 2);
    },
  );
});
