/**
 * How a group's latencies are named wherever they are shown (the console
 * table, the CSV export, the reports): one definition, so an export's rows
 * say what the table said.
 */
import type { GroupResult, LegName } from '../model/index.js';

/** Which latency a group's row shows: what the clients of calls measured, or what arrived at the receivers; undefined for senders of casts and notifications, which measure none. */
export function latencyKind(group: GroupResult): 'round trip' | 'one-way' | undefined {
  if (group.role === 'client') return group.pattern.startsWith('cast') ? undefined : 'round trip';
  if (group.role === 'notifier') return undefined;
  return 'one-way';
}

/** The other legs of a call, as their rows are labelled. */
export const LEG_LABELS: Record<LegName, string> = { corrected: 'from intended', processing: 'server work', reply: 'reply one-way' };
