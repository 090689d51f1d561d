/**
 * Did the run work? A benchmark whose numbers say nothing got through must
 * not look like a success: this verdict decides the exit code, and its
 * problems are printed and stored with the result.
 */
import type { RunOutcome, RunResult } from '../model/index.js';

export function judgeOutcome(result: Pick<RunResult, 'groups' | 'agents' | 'connectionsLost' | 'connectionLosses' | 'stoppedEarly' | 'firstErrors'>): RunOutcome {
  const problems: string[] = [];
  if (result.connectionsLost > 0) {
    const first = result.connectionLosses[0]!;
    problems.push(`the bus went away: ${result.connectionsLost} agent connection(s) lost, the first (${first.agent}) ${(first.atMs / 1000).toFixed(1)} s into the ${first.phase === 'measure' ? 'measured phase' : 'warm-up'}: ${first.error}`);
  }
  const senders = result.groups.filter((g) => g.role === 'client' || g.role === 'notifier');
  const receivers = result.groups.filter((g) => g.role === 'server' || g.role === 'listener');
  const sent = senders.reduce((sum, g) => sum + g.counters.sent, 0);
  const unsent = senders.reduce((sum, g) => sum + g.counters.unsent, 0);
  const started = result.agents.started;
  if (started.client + started.notifier > 0 && sent === 0 && !result.stoppedEarly) problems.push(`nothing was sent${unsent ? ` (${unsent} sends the bus did not take)` : ''}`);
  for (const g of senders) {
    if (!g.pattern.startsWith('call') || g.counters.sent === 0 || g.counters.ok > 0) continue;
    const first = result.firstErrors[g.pattern as keyof RunResult['firstErrors']];
    problems.push(`every ${g.pattern} call failed: ${g.counters.errors} error(s), ${g.counters.timeouts} timeout(s) of ${g.counters.sent}${first ? `; the first error: ${first}` : ''}`);
  }
  // Senders here and receivers here: when the senders sent and no receiver got anything, nothing worked.
  if (sent > 0 && receivers.length > 0 && receivers.every((g) => g.counters.ok === 0)) problems.push(`nothing was received: ${sent} message(s) sent, none reached a server or listener`);
  if (sent > 0 && receivers.length === 0 && started.server + started.listener > 0) problems.push(`nothing was received: ${sent} message(s) sent, none reached a server or listener`);
  return { ok: problems.length === 0, problems };
}
