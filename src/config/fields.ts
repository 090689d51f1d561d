/** Dotted fields of a configuration document (agents.clients, load.rate): set or removed in place, before validation. */

export function setField(target: Record<string, unknown>, field: string, value: unknown): void {
  const parts = field.split('.');
  let at = target;
  for (const part of parts.slice(0, -1)) {
    const next = at[part];
    if (next === undefined || next === null) at = at[part] = {} as Record<string, unknown>;
    else if (typeof next === 'object' && !Array.isArray(next)) at = next as Record<string, unknown>;
    else throw new Error(`${field}: ${parts.slice(0, parts.indexOf(part) + 1).join('.')} is not a mapping in the scenario`);
  }
  at[parts[parts.length - 1]!] = structuredClone(value);
}

/** Removes a dotted field; nothing happens when it is not there. */
export function deleteField(target: Record<string, unknown>, field: string): void {
  const parts = field.split('.');
  let at: unknown = target;
  for (const part of parts.slice(0, -1)) {
    at = (at as Record<string, unknown> | undefined)?.[part];
    if (!at || typeof at !== 'object') return;
  }
  delete (at as Record<string, unknown>)[parts[parts.length - 1]!];
}
