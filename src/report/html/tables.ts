/** HTML tables and notes of the report; cells are HTML already escaped by the caller. */
import { esc } from './escape.js';

/** Figures (counts, ms, percentages, "–") sit right-aligned so their digits line up; words stay left. */
const FIGURE = /^(?:[-+]?[\d.,]+(?: ?(?:%|ms|MiB|\/s))?|–)$/;

function cellHtml(content: string): string {
  return `<td${FIGURE.test(content) ? ' class="n"' : ''}>${content}</td>`;
}

export function table(head: string[], rows: string[][]): string {
  return (
    `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map(cellHtml).join('')}</tr>`).join('')}</tbody></table>`
  );
}

export function note(text: string): string {
  return `<p class="note">${esc(text)}</p>`;
}
