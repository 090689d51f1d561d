/**
 * `busbench bus up / status / down`: the bus alone, kept running after the
 * command returns, reachable at the transport URLs it prints, and gone
 * with everything it made after `bus down` — also when its keeper was
 * killed with SIGKILL. One case on the embedded RabbitMQ, one with a
 * two-site topology in network namespaces (a node per site, one cluster).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import amqplib from 'amqplib';
import { busbench } from './helpers/cli.js';
import { startOsloPeer } from './helpers/oslo-peer.js';

const run = promisify(execFile);

/** amqplib speaks amqp://; oslo's rabbit:// URL names the same broker. */
async function reachable(transportUrl: string): Promise<boolean> {
  try {
    const connection = await amqplib.connect(transportUrl.replace(/^rabbit:/, 'amqp:'), { timeout: 3000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('bus up / down', { timeout: 240_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'busbench-bus-up-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const stateDir = join(dir, 'state');

  it('keeps the embedded RabbitMQ up after the command returns, and bus down stops it', async () => {
    const up = await busbench(['bus', 'up', 'scenarios/quickstart.yaml', '--json', '--state-dir', stateDir]);
    assert.equal(up.code, 0, up.stderr);
    const state = JSON.parse(up.stdout) as { name: string; pid: number; status: string; transportUrls: Record<string, string>; transportUrl: string };
    assert.equal(state.status, 'ready');
    assert.match(state.transportUrl, /^rabbit:\/\/guest:guest@127\.0\.0\.1:\d+\/$/);
    assert.ok(alive(state.pid), 'the keeper outlives bus up');
    assert.ok(await reachable(state.transportUrl), 'the broker answers at the printed URL');

    const status = await busbench(['bus', 'status', '--state-dir', stateDir]);
    assert.match(status.stdout, new RegExp(`${state.name}: a local RabbitMQ .*\\n  local: transport_url = rabbit://`));

    const again = await busbench(['bus', 'up', 'scenarios/quickstart.yaml', '--state-dir', stateDir]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already up .*bus down quickstart first/);

    const down = await busbench(['bus', 'down', '--state-dir', stateDir]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /quickstart: down \(keeper \d+ stopped everything it started\)/);
    assert.equal(alive(state.pid), false);
    assert.equal(await reachable(state.transportUrl), false, 'the broker is gone');
    assert.deepEqual(await readdir(stateDir).then((files) => files.filter((f) => f.endsWith('.json'))), []);
  });

  it('stands up a bus per site in namespaces, and cleans up after a keeper killed with SIGKILL', async () => {
    const scenario = join(dir, 'two-sites.yaml');
    await writeFile(
      scenario,
      'name: two-sites\nbus: {kind: rabbitmq}\nagents: {servers: 1, clients: 1}\ntopology:\n  provider: netns\n  sites: [{name: east}, {name: west}]\n  links: [{between: [east, west], loss: 1}]\n',
    );
    const up = await busbench(['bus', 'up', scenario, '--json', '--state-dir', stateDir]);
    assert.equal(up.code, 0, up.stderr);
    const state = JSON.parse(up.stdout) as { pid: number; transportUrls: Record<string, string>; transportUrl: string; namespaceTag: string };
    assert.deepEqual(Object.keys(state.transportUrls), ['east', 'west']);
    for (const url of Object.values(state.transportUrls)) assert.ok(await reachable(url), `${url} answers from this host through the gateway`);
    // oslo's form for a cluster: every node's host:port under one scheme.
    assert.match(state.transportUrl, /^rabbit:\/\/guest:guest@10\.200\.1\.1:\d+,guest:guest@10\.200\.2\.1:\d+\/$/);
    const { stdout: spaces } = await run('ip', ['netns', 'list']);
    assert.match(spaces, new RegExp(`busbench-${state.namespaceTag}-east-1`));

    // Handed over: a real oslo.messaging server on east's node answers a real oslo client given the cluster's URL.
    const server = startOsloPeer(['serve', '--url', state.transportUrls['east']!, '--topic', 'handover', '--server', 'nova-1']);
    try {
      await server.waitFor((e) => e.event === 'ready', 60_000);
      const client = startOsloPeer(['call', '--url', state.transportUrl, '--topic', 'handover', '--count', '3']);
      const done = await client.waitFor((e) => e.event === 'done', 60_000);
      assert.deepEqual([done['ok'], done['errors']], [3, 0]);
    } finally {
      await server.stop();
    }

    // A second netns run on the same machine would share the sites' network: refused, saying why.
    const overlapping = await busbench(['run', scenario, '--no-results', '--no-progress']);
    assert.notEqual(overlapping.code, 0);
    assert.match(overlapping.stderr, /another busbench run on this machine uses the sites' network \(bbgw-\w+ has 10\.200\.0\.254\)/);

    process.kill(state.pid, 'SIGKILL');
    while (alive(state.pid)) await new Promise((resolve) => setTimeout(resolve, 50));
    const status = await busbench(['bus', 'status', '--state-dir', stateDir]);
    assert.match(status.stdout, /KEEPER GONE/);
    const down = await busbench(['bus', 'down', 'two-sites', '--state-dir', stateDir]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /two-sites: down \(keeper \d+ was gone; leftovers removed\)/);
    const { stdout: after } = await run('ip', ['netns', 'list']);
    assert.doesNotMatch(after, new RegExp(`busbench-${state.namespaceTag}-`));
    const { stdout: links } = await run('ip', ['-o', 'link', 'show']);
    assert.doesNotMatch(links, new RegExp(`bbgw-${state.namespaceTag}`));
    const { stdout: procs } = await run('ps', ['-eo', 'args']);
    assert.doesNotMatch(procs, /beam\.smp.*rabbit@10\.200\./, 'no cluster node survives');
  });
});
