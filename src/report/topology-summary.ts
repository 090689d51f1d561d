/** The sites of a run in a few lines: hosts and bus nodes, each link as asked, carried and measured, and the outages. */
import type { RunResult } from '../model/index.js';

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;
}

export function topologyLines(result: RunResult): string[] {
  const t = result.topology;
  if (!t) return [];
  const lines = [
    `sites (${t.provider}): ${t.sites
      .map((s) => {
        const agents = Object.entries(t.agentsBySite)
          .map(([role, bySite]) => [role, bySite[s.name] ?? 0] as const)
          .filter(([, n]) => n > 0)
          .map(([role, n]) => `${n} ${role}${n > 1 ? 's' : ''}`);
        return `${s.name} (${s.hosts} host${s.hosts > 1 ? 's' : ''}${t.busSites.includes(s.name) ? ', bus node' : ''}${agents.length ? `, ${agents.join(', ')}` : ''})`;
      })
      .join('; ')}`,
  ];
  const network = t.network;
  if (network && network.measured.length > 0) {
    lines.push('links (one way as asked, by what carries it; round trip and loss as ping measured them):');
    for (const m of network.measured) {
      const asked = network.mechanisms
        .map((x) => x as { from: string; to: string; property: string; value: number; mechanism: string })
        .filter((x) => x.from === m.from && x.to === m.to)
        .map((x) => `${x.property} ${x.value}${x.property === 'loss' ? ' %' : x.property === 'rate' ? ' Mbit/s' : ' ms'} by ${x.mechanism}`);
      const relayed = m.relayedDelayMs ? `, +${m.relayedDelayMs} ms round trip in user space on bus connections` : '';
      lines.push(
        `  ${m.from} → ${m.to}: ${asked.length ? asked.join(', ') : 'unconstrained'}; measured rtt ${ms(m.measured.rttAvgMs)}, loss ${m.measured.lossPercent} %${relayed}`,
      );
    }
  }
  for (const link of network?.busLinks ?? []) {
    lines.push(
      `  bus link ${link.from} → ${link.to} (${link.what}, ${link.target}): +${link.forwardDelayMs}/${link.backwardDelayMs} ms in user space, ${link.connections} connection${link.connections === 1 ? '' : 's'}, ${link.forwardBytes.toLocaleString('en-US')}/${link.backwardBytes.toLocaleString('en-US')} bytes`,
    );
  }
  for (const warning of t.warnings ?? []) lines.push(`NOTE: ${warning}`);
  if (t.disruptions.length > 0) {
    lines.push(
      `outages: ${t.disruptions
        .map(
          (d) =>
            `${d.kind} ${d.label} ${d.startedAtMs !== undefined ? `${(d.startedAtMs / 1000).toFixed(1)}–${((d.endedAtMs ?? d.startedAtMs) / 1000).toFixed(1)} s` : 'not applied'}${d.error ? ` (${d.error})` : ''}`,
        )
        .join('; ')}`,
    );
  }
  return lines;
}
