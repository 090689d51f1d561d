/**
 * Real routers (qdrouterd or skrouterd) when one is on PATH: every mesh
 * shape's generated configuration is accepted and forms a mesh; the
 * management statistics read back; nothing is left behind. Skipped, with
 * how to get a router, otherwise.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { it } from 'node:test';
import { routerStatistics } from '../src/buses/amqp1/router/management.js';
import { MESH_SHAPES } from '../src/buses/amqp1/router/mesh.js';
import { findRouter, ROUTER_MISSING_HELP, startLocalMesh } from '../src/buses/amqp1/router/local.js';
import { createDriver } from '../src/index.js';
import { suite } from './helpers/suite.js';

const router = findRouter();

suite(`local ${router?.flavor ?? 'router'} meshes`, { timeout: 300_000, skip: router ? false : `no router installed. ${ROUTER_MISSING_HELP}` }, () => {
  for (const shape of MESH_SHAPES) {
    const routers = shape === 'single' ? 1 : 4;
    it(`${shape}: the router accepts the generated configuration and every router knows the others`, async () => {
      const mesh = await startLocalMesh({ routers, shape });
      try {
        assert.equal(mesh.routers.length, routers);
        for (const r of mesh.routers) {
          const stats = await routerStatistics(r.url, mesh.flavor);
          assert.equal(stats.id, r.plan.id);
          assert.equal(stats.nodes, routers - 1);
        }
      } finally {
        await mesh.stop();
      }
      assert.equal(existsSync(mesh.baseDir), false);
      for (const r of mesh.routers) assert.throws(() => process.kill(r.pid, 0), 'router process is gone');
    });
  }

  it('counts deliveries per oslo address', async () => {
    const mesh = await startLocalMesh({ routers: 2, shape: 'chain' });
    const driver = createDriver({ kind: 'amqp1', url: mesh.routers.map((r) => r.url), exchange: 'openstack' });
    try {
      const server = await driver.connect({ name: 'server-1', endpoint: 1 });
      await server.serve({ topic: 'stats', server: 'server-1' }, () => 'ok');
      const client = await driver.connect({ name: 'client-0', endpoint: 0 });
      for (let i = 0; i < 5; i++) assert.equal(await client.call({ topic: 'stats' }, 'bench', {}, {}, 5000), 'ok');
      const stats = await routerStatistics(mesh.routers[0]!.url, mesh.flavor);
      const anycast = stats.addresses.find((a) => a.address.includes('openstack.org/om/rpc/anycast/openstack/stats'));
      assert.ok(anycast, JSON.stringify(stats.addresses));
      assert.ok(anycast.ingress >= 5, JSON.stringify(anycast));
      await client.close();
      await server.close();
    } finally {
      await driver.close();
      await mesh.stop();
    }
  });
});
