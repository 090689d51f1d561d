/**
 * Everything a result holds (scenario names, hostnames, error messages, bus
 * URLs) reaches the page only through these: text and attributes escaped,
 * JSON made safe to sit in a <script> element.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value, escaped for HTML. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * JSON for a <script type="application/json"> element: `<` written as \u003c
 * so no string in it can close the element or open a comment; U+2028/2029
 * escaped as well, for readers that parse it as JavaScript.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A number with thousands separators, as the console summary prints counts. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Milliseconds from microseconds, with sensible precision; "–" when not measured. */
export function ms(us: number | undefined | null): string {
  if (us === undefined || us === null) return '–';
  const value = us / 1000;
  if (value < 10) return value.toFixed(3);
  if (value < 1000) return value.toFixed(1);
  return count(Math.round(value));
}

export function percent(fraction: number, digits = 1): string {
  return `${(fraction * 100).toFixed(digits)} %`;
}
