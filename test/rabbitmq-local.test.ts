/** The embedded broker: own ports and node, two at once, nothing left after stop. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import amqplib from 'amqplib';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { reapOrphanedBrokers, startLocalRabbit } from '../src/buses/rabbitmq/node.js';

/** Processes whose command line or environment mention this node's temp dir or epmd port. */
function processesOf(baseDir: string, epmdPort: number): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (cmdline.includes(baseDir) || environ.includes(`ERL_EPMD_PORT=${epmdPort}\0`)) found.push(`${pid} ${cmdline.slice(0, 80)}`);
    } catch {
      // gone
    }
  }
  return found;
}

describe('embedded RabbitMQ', { timeout: 180_000 }, () => {
  it('runs two nodes side by side and removes every trace of them', async () => {
    const [a, b] = await Promise.all([startLocalRabbit(), startLocalRabbit()]);
    try {
      assert.notEqual(a.amqpPort, b.amqpPort);
      assert.notEqual(a.nodeName, b.nodeName);
      assert.match(a.version, /^\d+\.\d+\.\d+$/);
      assert.ok(a.beamPid(), 'the Erlang VM of the node is found');
      for (const broker of [a, b]) {
        const connection = await amqplib.connect(broker.url);
        const channel = await connection.createChannel();
        const { queue } = await channel.assertQueue('', { exclusive: true });
        channel.sendToQueue(queue, Buffer.from('ping'));
        await new Promise<void>((resolve) => void channel.consume(queue, (msg) => msg && msg.content.toString() === 'ping' && resolve()));
        await connection.close();
      }
      assert.ok(processesOf(a.baseDir, a.epmdPort).length > 0);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    for (const broker of [a, b]) {
      assert.deepEqual(processesOf(broker.baseDir, broker.epmdPort), [], 'no process of the node (beam, epmd, helpers) is left');
      assert.equal(existsSync(broker.baseDir), false, 'its temp dir is gone');
    }
    await a.stop(); // idempotent
  });

  it('stops a node whose busbench process was killed with SIGKILL', async () => {
    // A child starts a node and prints where it is; then it dies without any cleanup.
    const module = fileURLToPath(new URL('../src/buses/rabbitmq/node.js', import.meta.url));
    const script = `import('${module}').then(async (m) => { const b = await m.startLocalRabbit(); console.log(JSON.stringify({ baseDir: b.baseDir, epmdPort: b.epmdPort })); })`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()));
      child.once('exit', (code) => reject(new Error(`child exited ${code} before starting its node`)));
    });
    const { baseDir, epmdPort } = JSON.parse(line) as { baseDir: string; epmdPort: number };
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.ok(processesOf(baseDir, epmdPort).length > 0, 'the orphaned node is still running');
    const reaped = await reapOrphanedBrokers();
    assert.ok(reaped.includes(baseDir));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(processesOf(baseDir, epmdPort), []);
    assert.equal(existsSync(baseDir), false);
  });
});
