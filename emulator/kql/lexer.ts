// The KQL lexer: turns query text into tokens with their offsets. Timespan literals (`5m`, `1.5h`,
// `100ms`, `1tick`) and the raw insides of `datetime(...)` / `timespan(...)` are single tokens, like in Kusto.
import { KqlError } from './errors.js';

export type TokenKind = 'ident' | 'number' | 'timespan' | 'string' | 'datetime' | 'timespanfn' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The source text of the token (for operators, the operator itself, e.g. `!in~`). */
  text: string;
  /** number: its value; timespan: milliseconds; string: the unescaped text. */
  value?: number | string;
  /** number: written with a decimal point or exponent (a `real`), else a `long`. */
  real?: boolean;
  offset: number;
}

/** Milliseconds per timespan unit (Kusto: d, h, m, s, ms, microsecond, tick; no weeks). */
export const TIMESPAN_UNITS: Record<string, number> = {
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  ms: 1,
  milli: 1,
  millis: 1,
  millisecond: 1,
  milliseconds: 1,
  microsecond: 0.001,
  microseconds: 0.001,
  tick: 0.0001,
  ticks: 0.0001,
};

/** Operator names Kusto spells with a dash; lexed as one identifier so errors can name them. */
const DASHED = new Set(['project-away', 'project-rename', 'project-keep', 'project-reorder', 'mv-expand', 'mv-apply', 'make-series', 'top-nested', 'top-hitters', 'parse-where', 'parse-kv']);

/** Words that, after `!`, form one negated operator (`!in`, `!has`, …). */
const NEGATABLE = new Set(['in', 'has', 'has_cs', 'contains', 'contains_cs', 'startswith', 'startswith_cs', 'endswith', 'endswith_cs', 'between', 'hasprefix', 'hassuffix']);

const PUNCT = ['..', '==', '!=', '<>', '<=', '>=', '=~', '!~', '|', '(', ')', '[', ']', ',', ';', '=', '<', '>', '+', '-', '*', '/', '%', '.', ':', '{', '}', '!'];

const isIdentStart = (c: string): boolean => /[A-Za-z_$]/.test(c);
const isIdentPart = (c: string): boolean => /[A-Za-z0-9_$]/.test(c);
const isDigit = (c: string): boolean => c >= '0' && c <= '9';

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (message: string, at: number, token: string): never => {
    throw new KqlError('syntax', message, at, token, text);
  };
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const start = i;
    // Strings: "…" or '…' with backslash escapes; @"…" verbatim; h"…" (obfuscated) is read as plain.
    const verbatim = (c === '@' || c === 'h' || c === 'H') && (text[i + 1] === '"' || text[i + 1] === "'");
    if (c === '"' || c === "'" || verbatim) {
      const isAt = c === '@';
      if (verbatim) i++;
      const quote = text[i] ?? '"';
      i++;
      let out = '';
      for (;;) {
        if (i >= text.length) fail('unterminated string literal', start, text.slice(start, start + 20));
        const ch = text[i] ?? '';
        if (ch === '\n') fail('unterminated string literal (strings end on the line they start)', start, text.slice(start, i));
        if (ch === quote) {
          if (isAt && text[i + 1] === quote) {
            out += quote;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (ch === '\\' && !isAt) {
          const n = text[i + 1] ?? '';
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '0': '\0' };
          const m = map[n];
          if (m === undefined) fail(`unknown escape '\\${n}' in string literal`, i, `\\${n}`);
          out += m;
          i += 2;
          continue;
        }
        out += ch;
        i++;
      }
      tokens.push({ kind: 'string', text: text.slice(start, i), value: out, offset: start });
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      if (c === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
        i += 2;
        while (/[0-9A-Fa-f]/.test(text[i] ?? '')) i++;
        tokens.push({ kind: 'number', text: text.slice(start, i), value: Number(text.slice(start, i)), real: false, offset: start });
        continue;
      }
      let real = false;
      while (isDigit(text[i] ?? '')) i++;
      if (text[i] === '.' && text[i + 1] !== '.') {
        real = true;
        i++;
        while (isDigit(text[i] ?? '')) i++;
      }
      if ((text[i] === 'e' || text[i] === 'E') && (isDigit(text[i + 1] ?? '') || (/[+-]/.test(text[i + 1] ?? '') && isDigit(text[i + 2] ?? '')))) {
        real = true;
        i += 2;
        while (isDigit(text[i] ?? '')) i++;
      }
      const numText = text.slice(start, i);
      if (isIdentStart(text[i] ?? '')) {
        const u0 = i;
        while (isIdentPart(text[i] ?? '')) i++;
        const unit = text.slice(u0, i);
        const ms = TIMESPAN_UNITS[unit.toLowerCase()];
        if (ms === undefined) {
          const hint = /^w(eeks?)?$/i.test(unit) ? ': KQL has no week unit, write 7d' : ' (use d, h, m, s, ms, microsecond or tick)';
          fail(`unknown timespan unit '${unit}' in '${text.slice(start, i)}'${hint}`, start, text.slice(start, i));
        }
        tokens.push({ kind: 'timespan', text: text.slice(start, i), value: Number(numText) * (ms as number), offset: start });
        continue;
      }
      tokens.push({ kind: 'number', text: numText, value: Number(numText), real, offset: start });
      continue;
    }
    if (isIdentStart(c)) {
      while (isIdentPart(text[i] ?? '')) i++;
      let word = text.slice(start, i);
      if (text[i] === '-' && isIdentStart(text[i + 1] ?? '')) {
        let j = i + 1;
        while (isIdentPart(text[j] ?? '')) j++;
        const dashed = `${word}-${text.slice(i + 1, j)}`;
        if (DASHED.has(dashed.toLowerCase())) {
          word = dashed;
          i = j;
        }
      }
      // datetime(…) and timespan(…) take raw text up to the closing parenthesis.
      const lower = word.toLowerCase();
      if (lower === 'datetime' || lower === 'timespan' || lower === 'time') {
        let j = i;
        while (text[j] === ' ' || text[j] === '\t') j++;
        if (text[j] === '(') {
          const close = text.indexOf(')', j);
          if (close < 0) fail(`'${word}(' has no closing parenthesis`, start, word);
          const inner = text.slice(j + 1, close).trim();
          tokens.push({ kind: lower === 'datetime' ? 'datetime' : 'timespanfn', text: text.slice(start, close + 1), value: inner, offset: start });
          i = close + 1;
          continue;
        }
      }
      if (lower === 'in' && text[i] === '~') {
        i++;
        tokens.push({ kind: 'op', text: 'in~', offset: start });
        continue;
      }
      tokens.push({ kind: 'ident', text: word, offset: start });
      continue;
    }
    if (c === '[' && (text[i + 1] === "'" || text[i + 1] === '"')) {
      // ['column name'] or ["column name"]
      const quote = text[i + 1] ?? "'";
      const close = text.indexOf(`${quote}]`, i + 2);
      if (close < 0) fail('unterminated bracketed name', start, text.slice(start, start + 20));
      tokens.push({ kind: 'ident', text: text.slice(i + 2, close), offset: start });
      i = close + 2;
      continue;
    }
    if (c === '!' && isIdentStart(text[i + 1] ?? '')) {
      let j = i + 1;
      while (isIdentPart(text[j] ?? '')) j++;
      const word = text.slice(i + 1, j);
      if (NEGATABLE.has(word.toLowerCase())) {
        let op = `!${word.toLowerCase()}`;
        if (word.toLowerCase() === 'in' && text[j] === '~') {
          op = '!in~';
          j++;
        }
        tokens.push({ kind: 'op', text: op, offset: start });
        i = j;
        continue;
      }
    }
    const p = PUNCT.find((x) => text.startsWith(x, i));
    if (!p) fail(`unexpected character '${c}'`, start, c);
    tokens.push({ kind: 'op', text: p as string, offset: start });
    i += (p as string).length;
  }
  tokens.push({ kind: 'eof', text: '', offset: text.length });
  return tokens;
}
