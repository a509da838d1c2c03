// The KQL parser: tokens → a small AST of one tabular expression (a table and its `|` operators),
// optionally preceded by scalar `let` statements. Anything outside the supported subset is refused with a
// KqlError naming the construct and its position.
import { KqlError } from './errors.js';
import { tokenize, type Token } from './lexer.js';

export type Expr =
  | { k: 'lit'; type: 'long' | 'real' | 'string' | 'bool' | 'datetime' | 'timespan' | 'int'; value: number | string | boolean | null; raw?: string; pos: number }
  | { k: 'name'; name: string; pos: number }
  | { k: 'call'; name: string; args: Expr[]; pos: number }
  | { k: 'binary'; op: string; left: Expr; right: Expr; pos: number }
  | { k: 'unary'; op: '-' | '+'; operand: Expr; pos: number }
  | { k: 'in'; op: 'in' | '!in' | 'in~' | '!in~'; left: Expr; list: Expr[]; pos: number }
  | { k: 'between'; negate: boolean; left: Expr; lo: Expr; hi: Expr; pos: number };

/** `expr`, `name = expr` or (summarize only) `(a, b) = percentiles(…)`. */
export interface NamedExpr {
  names?: string[];
  expr: Expr;
  pos: number;
}

export interface SortKey {
  expr: Expr;
  desc: boolean;
  /** Explicit `nulls first|last`; by default nulls come first ascending and last descending. */
  nullsFirst?: boolean;
}

export type Operator =
  | { op: 'where'; pred: Expr; pos: number }
  | { op: 'summarize'; aggs: NamedExpr[]; by: NamedExpr[]; pos: number }
  | { op: 'extend'; items: NamedExpr[]; pos: number }
  | { op: 'project'; items: NamedExpr[]; pos: number }
  | { op: 'project-away'; names: { name: string; pos: number }[]; pos: number }
  | { op: 'project-rename'; pairs: { to: string; from: string; pos: number }[]; pos: number }
  | { op: 'sort'; keys: SortKey[]; pos: number }
  | { op: 'take'; count: Expr; pos: number }
  | { op: 'top'; count: Expr; keys: SortKey[]; pos: number }
  | { op: 'count'; pos: number }
  | { op: 'distinct'; items: NamedExpr[]; star: boolean; pos: number };

export interface Query {
  lets: { name: string; expr: Expr; pos: number }[];
  table: { name: string; pos: number };
  ops: Operator[];
}

/** The tabular operators the interpreter runs (for error messages). */
export const SUPPORTED_OPERATORS = ['where', 'filter', 'summarize', 'extend', 'project', 'project-away', 'project-rename', 'order by', 'sort by', 'take', 'limit', 'top', 'count', 'distinct'];

const COMPARISON = new Set(['==', '!=', '<>', '<', '<=', '>', '>=', '=~', '!~']);
const STRING_OPS = new Set(['has', 'has_cs', 'contains', 'contains_cs', 'startswith', 'startswith_cs', 'endswith', 'endswith_cs', 'hasprefix', 'hassuffix']);
const TYPED_NULLS: Record<string, 'long' | 'real' | 'bool' | 'string' | 'int'> = { int: 'int', long: 'long', real: 'real', double: 'real', bool: 'bool', boolean: 'bool', string: 'string' };

/** Deepest nesting of parentheses and unary signs accepted (deeper input is refused, not a stack overflow). */
const MAX_DEPTH = 100;

class Parser {
  private i = 0;
  private depth = 0;
  private readonly tokens: Token[];
  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)] as Token;
  }
  private next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }
  private isOp(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'op' && t.text === text;
  }
  private isWord(word: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'ident' && t.text.toLowerCase() === word;
  }
  private fail(message: string, t: Token = this.peek()): never {
    throw new KqlError('syntax', message, t.offset, t.text, this.text);
  }
  private unsupported(message: string, t: Token): never {
    throw new KqlError('unsupported', message, t.offset, t.text, this.text);
  }
  private describe(t: Token): string {
    return t.kind === 'eof' ? 'the end of the query' : `'${t.text}'`;
  }
  private expectOp(text: string, context: string): Token {
    if (!this.isOp(text)) this.fail(`expected '${text}' ${context}, found ${this.describe(this.peek())}`);
    return this.next();
  }
  private expectWord(word: string, context: string): Token {
    if (!this.isWord(word)) this.fail(`expected '${word}' ${context}, found ${this.describe(this.peek())}`);
    return this.next();
  }
  private ident(context: string): Token {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(`expected a name ${context}, found ${this.describe(t)}`);
    return this.next();
  }

  parseQuery(): Query {
    const lets: Query['lets'] = [];
    while (this.isWord('let')) {
      const letTok = this.next();
      const name = this.ident("after 'let'");
      this.expectOp('=', `after 'let ${name.text}'`);
      const start = this.peek();
      if (start.kind === 'ident' && this.isOp('(', 1) === false && this.isOp('|', 1)) {
        this.unsupported(`'let ${name.text} = <tabular expression>' is not supported by the emulator's KQL interpreter; only scalar let statements are`, letTok);
      }
      const expr = this.parseExpr();
      if (this.isOp('|')) this.unsupported(`'let ${name.text} = <tabular expression>' is not supported by the emulator's KQL interpreter; only scalar let statements are`, letTok);
      this.expectOp(';', `after the let statement for '${name.text}'`);
      lets.push({ name: name.text, expr, pos: name.offset });
    }
    const first = this.peek();
    if (first.kind !== 'ident') this.fail(`expected a table name, found ${this.describe(first)}`);
    const lowerFirst = first.text.toLowerCase();
    if (['union', 'datatable', 'print', 'range', 'search', 'find', 'externaldata', 'evaluate', 'materialize', 'set', 'declare', 'alias', 'pattern'].includes(lowerFirst) && !this.isOp('|', 1) && !(this.peek(1).kind === 'eof')) {
      this.unsupported(`'${first.text}' is not supported by the emulator's KQL interpreter; start the query with a table name (AmlOnlineEndpointTrafficLog, …)`, first);
    }
    this.next();
    if (this.isOp('(')) this.unsupported(`function call '${first.text}(…)' as a tabular source is not supported; start the query with a table name`, first);
    const table = { name: first.text, pos: first.offset };
    const ops: Operator[] = [];
    while (this.isOp('|')) {
      this.next();
      ops.push(this.parseOperator());
    }
    if (this.isOp(';')) this.next();
    const end = this.peek();
    if (end.kind !== 'eof') {
      if (this.isWord('let', 0) || end.kind === 'ident') this.unsupported(`only one tabular expression per query is supported (found ${this.describe(end)} after it)`, end);
      this.fail(`unexpected ${this.describe(end)}; expected '|' and an operator`, end);
    }
    return { lets, table, ops };
  }

  private parseOperator(): Operator {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(`expected an operator after '|', found ${this.describe(t)}`);
    const name = t.text.toLowerCase();
    const pos = t.offset;
    this.next();
    switch (name) {
      case 'where':
      case 'filter':
        return { op: 'where', pred: this.parseExpr(), pos };
      case 'summarize': {
        if (this.isWord('hint.strategy') || (this.peek().kind === 'ident' && this.peek().text.toLowerCase().startsWith('hint') && this.isOp('.', 1))) {
          this.unsupported('summarize hints are not supported', this.peek());
        }
        const aggs: NamedExpr[] = [];
        if (!this.isWord('by')) aggs.push(...this.parseNamedList(true));
        let by: NamedExpr[] = [];
        if (this.isWord('by')) {
          this.next();
          by = this.parseNamedList(false);
        }
        if (aggs.length === 0 && by.length === 0) this.fail("'summarize' needs an aggregation or a 'by' clause", t);
        return { op: 'summarize', aggs, by, pos };
      }
      case 'extend':
        return { op: 'extend', items: this.parseNamedList(false), pos };
      case 'project':
        return { op: 'project', items: this.parseNamedList(false), pos };
      case 'project-away': {
        const names: { name: string; pos: number }[] = [];
        do {
          if (this.isOp('*') || (this.peek().kind === 'ident' && this.isOp('*', 1))) this.unsupported('wildcards in project-away are not supported', this.peek());
          const n = this.ident("in 'project-away'");
          names.push({ name: n.text, pos: n.offset });
        } while (this.isOp(',') && this.next());
        return { op: 'project-away', names, pos };
      }
      case 'project-rename': {
        const pairs: { to: string; from: string; pos: number }[] = [];
        do {
          const to = this.ident("in 'project-rename'");
          this.expectOp('=', "in 'project-rename' (new = old)");
          const from = this.ident("in 'project-rename' (new = old)");
          pairs.push({ to: to.text, from: from.text, pos: from.offset });
        } while (this.isOp(',') && this.next());
        return { op: 'project-rename', pairs, pos };
      }
      case 'order':
      case 'sort':
        this.expectWord('by', `after '${t.text}'`);
        return { op: 'sort', keys: this.parseSortKeys(), pos };
      case 'take':
      case 'limit':
        return { op: 'take', count: this.parseExpr(), pos };
      case 'top': {
        const count = this.parseExpr();
        this.expectWord('by', "after 'top N'");
        return { op: 'top', count, keys: this.parseSortKeys(), pos };
      }
      case 'count':
        return { op: 'count', pos };
      case 'distinct': {
        if (this.isOp('*')) {
          this.next();
          return { op: 'distinct', items: [], star: true, pos };
        }
        return { op: 'distinct', items: this.parseNamedList(false), star: false, pos };
      }
      default:
        this.unsupported(`the '${t.text}' operator is not supported by the emulator's KQL interpreter (supported: ${SUPPORTED_OPERATORS.join(', ')})`, t);
    }
  }

  private parseSortKeys(): SortKey[] {
    const keys: SortKey[] = [];
    do {
      const expr = this.parseExpr();
      let desc = true;
      if (this.isWord('asc')) {
        this.next();
        desc = false;
      } else if (this.isWord('desc')) this.next();
      let nullsFirst: boolean | undefined;
      if (this.isWord('nulls')) {
        this.next();
        if (this.isWord('first')) nullsFirst = true;
        else if (this.isWord('last')) nullsFirst = false;
        else this.fail("expected 'first' or 'last' after 'nulls'");
        this.next();
      }
      keys.push({ expr, desc, ...(nullsFirst !== undefined ? { nullsFirst } : {}) });
    } while (this.isOp(',') && this.next());
    return keys;
  }

  private parseNamedList(allowTuple: boolean): NamedExpr[] {
    const items: NamedExpr[] = [];
    do {
      const start = this.peek();
      if (allowTuple && this.isOp('(') && this.peek(1).kind === 'ident' && (this.isOp(',', 2) || this.isOp(')', 2))) {
        // (a, b) = percentiles(...)
        const save = this.i;
        this.next();
        const names: string[] = [];
        let ok = true;
        for (;;) {
          const n = this.peek();
          if (n.kind !== 'ident') {
            ok = false;
            break;
          }
          names.push(this.next().text);
          if (this.isOp(',')) {
            this.next();
            continue;
          }
          break;
        }
        if (ok && this.isOp(')') && this.isOp('=', 1)) {
          this.next();
          this.next();
          items.push({ names, expr: this.parseExpr(), pos: start.offset });
          continue;
        }
        this.i = save;
      }
      if (start.kind === 'ident' && this.isOp('=', 1)) {
        this.next();
        this.next();
        items.push({ names: [start.text], expr: this.parseExpr(), pos: start.offset });
      } else {
        items.push({ expr: this.parseExpr(), pos: start.offset });
      }
    } while (this.isOp(',') && this.next());
    return items;
  }

  parseExpr(): Expr {
    return this.parseOr();
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isWord('or')) {
      const t = this.next();
      left = { k: 'binary', op: 'or', left, right: this.parseAnd(), pos: t.offset };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseCompare();
    while (this.isWord('and')) {
      const t = this.next();
      left = { k: 'binary', op: 'and', left, right: this.parseCompare(), pos: t.offset };
    }
    return left;
  }

  private parseCompare(): Expr {
    const left = this.parseAdd();
    const t = this.peek();
    if (t.kind === 'op' && COMPARISON.has(t.text)) {
      this.next();
      return { k: 'binary', op: t.text === '<>' ? '!=' : t.text, left, right: this.parseAdd(), pos: t.offset };
    }
    const word = t.kind === 'ident' ? t.text.toLowerCase() : t.kind === 'op' && t.text.startsWith('!') ? t.text : '';
    if (word === 'in' || word === 'in~' || word === '!in' || word === '!in~' || (t.kind === 'op' && t.text === 'in~')) {
      const op = (t.kind === 'op' ? t.text : word) as 'in' | '!in' | 'in~' | '!in~';
      this.next();
      this.expectOp('(', `after '${op}'`);
      if (this.peek().kind === 'ident' && this.isOp('|', 1)) this.unsupported(`'${op}' with a tabular expression is not supported; list the values`, this.peek());
      const list: Expr[] = [];
      if (!this.isOp(')')) {
        do list.push(this.parseExpr());
        while (this.isOp(',') && this.next());
      }
      this.expectOp(')', `to close the '${op}' list`);
      return { k: 'in', op, left, list, pos: t.offset };
    }
    if (word === 'between' || word === '!between') {
      this.next();
      this.expectOp('(', `after '${word}'`);
      const lo = this.parseAdd();
      this.expectOp('..', `in '${word} (low .. high)'`);
      const hi = this.parseAdd();
      this.expectOp(')', `to close '${word} (low .. high)'`);
      return { k: 'between', negate: word === '!between', left, lo, hi, pos: t.offset };
    }
    const bare = word.startsWith('!') ? word.slice(1) : word;
    if (STRING_OPS.has(bare)) {
      this.next();
      return { k: 'binary', op: word, left, right: this.parseAdd(), pos: t.offset };
    }
    if (['matches', 'has_any', 'has_all', 'contains_any', 'in_any'].includes(word)) {
      this.unsupported(`the '${t.text}' operator is not supported by the emulator's KQL interpreter`, t);
    }
    return left;
  }

  private parseAdd(): Expr {
    let left = this.parseMul();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      left = { k: 'binary', op: t.text, left, right: this.parseMul(), pos: t.offset };
    }
    return left;
  }

  private parseMul(): Expr {
    let left = this.parseUnary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const t = this.next();
      left = { k: 'binary', op: t.text, left, right: this.parseUnary(), pos: t.offset };
    }
    return left;
  }

  private parseUnary(): Expr {
    if (++this.depth > MAX_DEPTH) this.fail(`the expression is nested more than ${MAX_DEPTH} levels deep`);
    try {
      return this.parseUnaryInner();
    } finally {
      this.depth--;
    }
  }

  private parseUnaryInner(): Expr {
    if (this.isOp('-') || this.isOp('+')) {
      const t = this.next();
      return { k: 'unary', op: t.text as '-' | '+', operand: this.parseUnary(), pos: t.offset };
    }
    const e = this.parsePrimary();
    if (this.isOp('.') || this.isOp('[')) this.unsupported('dynamic property access (x.y, x[i]) is not supported by the emulator\'s KQL interpreter', this.peek());
    return e;
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.next();
        return { k: 'lit', type: t.real ? 'real' : 'long', value: t.value as number, pos: t.offset };
      case 'timespan':
        this.next();
        return { k: 'lit', type: 'timespan', value: t.value as number, pos: t.offset };
      case 'string':
        this.next();
        return { k: 'lit', type: 'string', value: t.value as string, pos: t.offset };
      case 'datetime': {
        this.next();
        const raw = t.value as string;
        if (raw.toLowerCase() === 'null') return { k: 'lit', type: 'datetime', value: null, pos: t.offset };
        const ms = parseDatetimeLiteral(raw);
        if (ms === undefined) this.fail(`'${t.text}' is not a datetime literal (write datetime(2026-01-01), datetime(2026-01-01 12:00:00.5) or datetime(2026-01-01T12:00:00Z))`, t);
        return { k: 'lit', type: 'datetime', value: ms, raw, pos: t.offset };
      }
      case 'timespanfn': {
        this.next();
        const raw = t.value as string;
        if (raw.toLowerCase() === 'null') return { k: 'lit', type: 'timespan', value: null, pos: t.offset };
        const ms = parseTimespanLiteral(raw);
        if (ms === undefined) this.fail(`'${t.text}' is not a timespan literal (write timespan(0.12:34:56.7), timespan(2) for 2 days, or 5m)`, t);
        return { k: 'lit', type: 'timespan', value: ms, pos: t.offset };
      }
      case 'ident': {
        this.next();
        const lower = t.text.toLowerCase();
        if (lower === 'true' || lower === 'false') return { k: 'lit', type: 'bool', value: lower === 'true', pos: t.offset };
        if (this.isOp('(')) {
          this.next();
          const typed = TYPED_NULLS[lower];
          if (typed && this.isWord('null') && this.isOp(')', 1)) {
            this.next();
            this.next();
            return { k: 'lit', type: typed, value: null, pos: t.offset };
          }
          const args: Expr[] = [];
          if (!this.isOp(')')) {
            do {
              if (this.isOp('*') && (this.isOp(')', 1) || this.isOp(',', 1))) {
                this.unsupported(`'*' as an argument of '${t.text}()' is not supported`, this.peek());
              }
              args.push(this.parseExpr());
            } while (this.isOp(',') && this.next());
          }
          this.expectOp(')', `to close '${t.text}('`);
          return { k: 'call', name: lower, args, pos: t.offset };
        }
        return { k: 'name', name: t.text, pos: t.offset };
      }
      case 'op':
        if (t.text === '(') {
          this.next();
          const e = this.parseExpr();
          this.expectOp(')', 'to close the parenthesis');
          return e;
        }
        if (t.text === '[' || t.text === '{') this.unsupported('dynamic literals are not supported by the emulator\'s KQL interpreter', t);
        this.fail(`expected a value, found ${this.describe(t)}`, t);
        break;
      case 'eof':
        this.fail('the query ends where a value was expected', t);
    }
    this.fail(`expected a value, found ${this.describe(t)}`, t);
  }
}

/** Parses a query; throws KqlError (syntax or unsupported) with the position of the offending token. */
export function parseKql(text: string): Query {
  return new Parser(text).parseQuery();
}

/**
 * Epoch milliseconds of a KQL datetime literal's inside: `2026-01-01`, `2026-01-01 12:00`, `2026-01-01 12:00:00.5`,
 * `2026-01-01T12:00:00Z`, up to 7 fractional digits (100 ns ticks). Always UTC.
 */
export function parseDatetimeLiteral(raw: string): number | undefined {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*Z?$/i.exec(raw.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = ''] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  const base = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s));
  if (new Date(base).getUTCDate() !== day) return undefined;
  return base + (frac ? Number(`0.${frac}`) * 1000 : 0);
}

/** Milliseconds of a `timespan(…)` inside: `[-][d.]hh:mm[:ss[.fffffff]]`, a bare number of days, or a unit literal like `5m`. */
export function parseTimespanLiteral(raw: string): number | undefined {
  const text = raw.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text) * 86_400_000;
  const unit = /^(-?\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(text);
  if (unit) {
    const per: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1, microsecond: 0.001, tick: 0.0001 };
    const u = per[(unit[2] ?? '').toLowerCase()];
    return u === undefined ? undefined : Number(unit[1]) * u;
  }
  const m = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/.exec(text);
  if (!m) return undefined;
  const [, neg, days = '0', h, mi, s = '0', frac = ''] = m;
  if (Number(mi) > 59 || Number(s) > 59) return undefined;
  const ms = ((Number(days) * 24 + Number(h)) * 60 + Number(mi)) * 60_000 + Number(s) * 1000 + (frac ? Number(`0.${frac}`) * 1000 : 0);
  return neg ? -ms : ms;
}
