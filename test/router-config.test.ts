/** Router mesh plans and configuration files, checked as data for every shape. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MESH_SHAPES, meshEdges, MeshError, unreachableRouters, type MeshShape } from '../src/buses/amqp1/router/mesh.js';
import {
  OSLO_ADDRESS_DISTRIBUTIONS,
  checkRouterPlan,
  parseRouterConfig,
  planMesh,
  renderRouterConfig,
  RouterConfigError,
  type RouterPlan,
} from '../src/buses/amqp1/router/config.js';

function ports(n: number, base: number): number[] {
  return Array.from({ length: n }, (_, i) => base + i);
}

function plan(shape: MeshShape, routers: number): RouterPlan[] {
  return planMesh({ routers, shape }, { ports: ports(routers, 5000), interRouterPorts: ports(routers, 6000) });
}

describe('mesh shapes', () => {
  it('have the links their names say', () => {
    assert.deepEqual(meshEdges({ routers: 1, shape: 'single' }), []);
    assert.deepEqual(meshEdges({ routers: 4, shape: 'chain' }), [
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    assert.deepEqual(meshEdges({ routers: 4, shape: 'ring' }), [
      [0, 1],
      [0, 3],
      [1, 2],
      [2, 3],
    ]);
    assert.deepEqual(meshEdges({ routers: 4, shape: 'star' }), [
      [0, 1],
      [0, 2],
      [0, 3],
    ]);
    assert.deepEqual(meshEdges({ routers: 4, shape: 'full' }), [
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 3],
    ]);
    assert.deepEqual(meshEdges({ routers: 6, shape: 'tree' }), [
      [0, 1],
      [0, 2],
      [1, 3],
      [1, 4],
      [2, 5],
    ]);
    assert.deepEqual(meshEdges({ routers: 4, shape: 'tree', treeFanout: 3 }), [
      [0, 1],
      [0, 2],
      [0, 3],
    ]);
    assert.deepEqual(
      meshEdges({
        routers: 3,
        edges: [
          [2, 0],
          [1, 2],
        ],
      }),
      [
        [0, 2],
        [1, 2],
      ],
    );
  });

  it('refuse what is not one connected mesh, saying why', () => {
    assert.throws(() => meshEdges({ routers: 2, shape: 'single' }), /shape "single" has 1 router/);
    assert.throws(() => meshEdges({ routers: 3, edges: [[0, 1]] }), /routers 2 cannot be reached from router 0/);
    assert.throws(() => meshEdges({ routers: 3, edges: [[0, 3]] }), /router 3 does not exist/);
    assert.throws(() => meshEdges({ routers: 3, edges: [[1, 1]] }), /links a router to itself/);
    assert.throws(
      () =>
        meshEdges({
          routers: 3,
          edges: [
            [0, 1],
            [1, 0],
            [1, 2],
          ],
        }),
      /listed twice/,
    );
    assert.throws(() => meshEdges({ routers: 0 }), MeshError);
    assert.deepEqual(
      unreachableRouters(4, [
        [0, 1],
        [2, 3],
      ]),
      [2, 3],
    );
  });
});

describe('router configuration', () => {
  for (const shape of MESH_SHAPES) {
    const routers = shape === 'single' ? 1 : 5;
    it(`${shape}: unique ports, a connector per link to a real listener, every router reachable, oslo addresses`, () => {
      const plans = plan(shape, routers);
      const configs = plans.map((p) => parseRouterConfig(renderRouterConfig(p, 'qdrouterd', { workerThreads: 2, linkCapacity: 100 })));
      const listeners = configs.flatMap((entities, i) =>
        entities
          .filter((e) => e.entity === 'listener')
          .map((e) => ({ router: i, host: e.attributes['host'], port: e.attributes['port'], role: e.attributes['role'] })),
      );
      const endpoints = listeners.map((l) => `${l.host}:${l.port}`);
      assert.equal(new Set(endpoints).size, endpoints.length, `ports are unique: ${endpoints.join(', ')}`);
      const interRouter = new Map(listeners.filter((l) => l.role === 'inter-router').map((l) => [`${l.host}:${l.port}`, l.router]));
      const links: [number, number][] = [];
      configs.forEach((entities, i) => {
        const router = entities.find((e) => e.entity === 'router')!.attributes;
        assert.equal(router['id'], `Router.${i}`);
        assert.equal(router['mode'], routers === 1 ? 'standalone' : 'interior');
        assert.equal(router['workerThreads'], '2');
        const normal = entities.filter((e) => e.entity === 'listener' && e.attributes['role'] === 'normal');
        assert.equal(normal.length, 1, 'one listener for agents');
        assert.equal(normal[0]!.attributes['linkCapacity'], '100');
        for (const connector of entities.filter((e) => e.entity === 'connector')) {
          assert.equal(connector.attributes['role'], 'inter-router');
          const target = interRouter.get(`${connector.attributes['host']}:${connector.attributes['port']}`);
          assert.notEqual(target, undefined, `connector of Router.${i} points at an inter-router listener`);
          links.push([target!, i]);
        }
        const addresses = entities.filter((e) => e.entity === 'address').map((e) => [e.attributes['prefix'], e.attributes['distribution']]);
        assert.deepEqual(
          addresses,
          OSLO_ADDRESS_DISTRIBUTIONS.map(([p, d]) => [p, d]),
        );
      });
      assert.deepEqual(unreachableRouters(routers, links), []);
      assert.equal(links.length, meshEdges({ routers, shape }).length);
    });
  }

  it('writes the unicast and anycast distribution asked for, keeps multicast, and refuses any other value', () => {
    const [single] = plan('single', 1);
    const entities = parseRouterConfig(renderRouterConfig(single!, 'qdrouterd', { distribution: { unicast: 'balanced', anycast: 'closest' } }));
    const distribution = new Map(entities.filter((e) => e.entity === 'address').map((e) => [e.attributes['prefix'], e.attributes['distribution']]));
    assert.equal(distribution.get('openstack.org/om/rpc/anycast'), 'closest');
    assert.equal(distribution.get('openstack.org/om/rpc/unicast'), 'balanced');
    assert.equal(distribution.get('openstack.org/om/notify/anycast'), 'closest');
    assert.equal(distribution.get('openstack.org/om/rpc/multicast'), 'multicast');
    assert.equal(distribution.get('unicast'), 'closest', 'the legacy anycast prefix is "unicast"');
    assert.throws(
      () => renderRouterConfig(single!, 'qdrouterd', { distribution: { unicast: 'closest', anycast: 'nearest\n}' as 'closest' } }),
      (error: Error) => error instanceof RouterConfigError && /distribution\.anycast must be closest or balanced/.test(error.message),
    );
  });

  it('names the flavor and writes the log where asked', () => {
    const [single] = plan('single', 1);
    const text = renderRouterConfig(single!, 'skrouterd', { logFile: '/tmp/r.log' });
    assert.match(text, /^# skrouterd\.conf \(skupper-router\)/);
    assert.match(text, /outputFile: \/tmp\/r\.log/);
    assert.doesNotMatch(text, /inter-router/);
  });

  it('refuses bad values before a router sees them', () => {
    assert.throws(
      () => planMesh({ routers: 2, shape: 'chain' }, { ports: [5000, 5000], interRouterPorts: [6000, 6001] }),
      /127\.0\.0\.1:5000 is already taken/,
    );
    assert.throws(() => planMesh({ routers: 1 }, { ports: [70000], interRouterPorts: [6000] }), /port must be 1 … 65535/);
    assert.throws(() => planMesh({ routers: 1 }, { ids: ['bad id'], ports: [5000], interRouterPorts: [6000] }), RouterConfigError);
    assert.throws(() => planMesh({ routers: 1 }, { hosts: ['a;b'], ports: [5000], interRouterPorts: [6000] }), /not a host name/);
    assert.throws(() => renderRouterConfig(plan('single', 1)[0]!, 'qdrouterd', { workerThreads: 0 }), /workerThreads/);
  });

  it('checks a plan received from elsewhere as planMesh checks its own', () => {
    // A bus node host writes the plan busbench sent it into a config file: JSON round trip, then the checks.
    for (const received of plan('full', 3).map((p) => JSON.parse(JSON.stringify(p)) as unknown)) assert.deepEqual(checkRouterPlan(received), received);
    const good = plan('chain', 2)[1]!;
    assert.throws(() => checkRouterPlan({ ...good, id: 'a b' }), /id must be letters/);
    assert.throws(() => checkRouterPlan({ ...good, host: 'x\n}' }), /host must be a host name/);
    assert.throws(() => checkRouterPlan({ ...good, port: 0 }), /port must be 1 … 65535/);
    assert.throws(() => checkRouterPlan({ ...good, connectors: [{ name: 'to-Router.0', host: '127.0.0.1', port: 'x' }] }), /connector to-Router\.0: port/);
    assert.throws(() => checkRouterPlan({ ...good, connectors: {} }), /connectors must be a list/);
    assert.throws(() => checkRouterPlan('plan'), RouterConfigError);
  });
});
