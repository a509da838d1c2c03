/**
 * Free text that reaches a terminal or a report — reasons, comments, names of deciders, timeline texts —
 * comes from people and remote systems (a Slack comment, `--reason`, a webhook gate's answer, an Azure
 * error). Printed raw, an escape sequence in it can clear the screen, move the cursor, recolour or
 * forge lines, set the window title or a hyperlink; in a Markdown report raw HTML and remote images
 * run in the reader's browser (a tracking pixel at the least). Every printer in client/ goes through
 * these functions:
 *
 * - {@link terminalText}: control characters out (ANSI/VT escape sequences whole, C0 but newline and
 *   tab, DEL, C1, and the Unicode bidirectional overrides that reorder what a reader sees);
 * - {@link oneLine}: the same, and line breaks and tabs become spaces, for a field inside one line
 *   (a reason cannot start a fake `approved by …` line);
 * - {@link jsonForTerminal}: JSON text with the characters JSON.stringify leaves raw (C1, bidi)
 *   written as \u escapes, so `--json` stays the same data and safe to print;
 * - {@link markdownText}: one-line text for a Markdown table cell or paragraph: HTML escaped, images
 *   dropped (their alt text kept), table pipes escaped.
 */

// ESC/CSI sequences (`ESC [ … final`, the C1 CSI 0x9B), OSC/DCS/SOS/PM/APC strings up to BEL or ST,
// and two-character escapes (`ESC c`, `ESC 7`, …).
const ESCAPE_SEQUENCE = new RegExp(
  [
    String.raw`(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]`,
    String.raw`(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?`,
    String.raw`\u001b[\u0020-\u002f]*[\u0030-\u007e]`,
  ].join('|'),
  'g',
);
// What remains: C0 controls but tab and newline, DEL, C1, bidi embeddings/overrides/isolates, and a lone ESC.
// eslint-disable-next-line no-control-regex -- finding control characters is this module's job
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text safe to print on a terminal: escape sequences and control characters removed, newlines and tabs kept. */
export function terminalText(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(/\r\n/g, '\n').replace(CONTROL, '');
}

/** {@link terminalText} for a field inside one line: newlines and tabs become single spaces. */
export function oneLine(text: string): string {
  return terminalText(text).replace(/[\n\t]+/g, ' ');
}

/**
 * JSON text (from JSON.stringify) safe to print: JSON.stringify escapes C0 controls but leaves C1 and
 * the bidi controls raw; writing those as `\uXXXX` keeps the same JSON value.
 */
export function jsonForTerminal(json: string): string {
  return json.replace(/[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Escapes text for HTML content and attribute values, control characters removed. */
export function htmlText(text: string): string {
  return terminalText(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * One-line text for a Markdown report (a table cell or a paragraph): control characters removed, HTML
 * escaped (`<img>`, `<script>`, `<details>` print as text), Markdown images dropped — `![alt](url)`
 * becomes `alt (image removed)` and a stray `![` cannot start one — and `|` escaped for tables.
 */
export function markdownText(text: string): string {
  return oneLine(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/!\[([^\]]*)\]\s*(?:\([^)]*\)|\[[^\]]*\])/g, (_m, alt: string) => `${alt || 'image'} (image removed)`)
    .replace(/!\[/g, '!\\[')
    .replace(/\|/g, '\\|');
}
