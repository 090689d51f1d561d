/** What the bus and the agents cost over the measured phase: a row per process and per host, and RabbitMQ's own figures. */
import Table from 'cli-table3';
import type { RunResult } from '../model/index.js';

export function resourceLines(result: RunResult): string[] {
  const resources = result.resources;
  if (!resources || resources.rows.length === 0) return [];
  const table = new Table({
    head: ['process', 'kind', 'host', 'CPU cores peak', 'mean', 'RSS MiB peak', 'TCP conns peak'],
    style: { head: [], border: [], compact: true },
    colAligns: ['left', 'left', 'left', 'right', 'right', 'right', 'right'],
  });
  // A host row only adds something when several processes share the host.
  const perHost = new Map<string, number>();
  for (const row of resources.rows) if (row.kind !== 'host') perHost.set(row.host, (perHost.get(row.host) ?? 0) + 1);
  for (const row of resources.rows) {
    if (row.kind === 'host' && (perHost.get(row.host) ?? 0) < 2) continue;
    table.push([
      row.kind === 'host' ? 'all on the host' : row.name,
      row.kind,
      row.host,
      row.peakCpuCores.toFixed(2),
      row.meanCpuCores.toFixed(2),
      row.peakRssMiB.toFixed(1),
      String(row.peakTcpConnections),
    ]);
  }
  const lines = [`resources over the measured phase, sampled every ${resources.intervalMs / 1000} s:`, table.toString()];
  for (const node of resources.rabbitmq) {
    const p = node.peak;
    lines.push(
      `  ${node.name} (management API): peak ${p.queues} queues, ${p.messagesReady} ready, ${p.messagesUnacknowledged} unacknowledged, ${p.connections} connections, ${p.channels} channels` +
        (node.errors ? `; ${node.errors} failed reads (${node.lastError ?? ''})` : ''),
    );
  }
  return lines;
}
