// The KQL evaluator: runs a parsed query over in-memory tables. Expressions are type-checked and compiled
// once into closures over a row (an array in column order), then applied to every row. Semantics follow
// the Kusto docs (shared/reference/azure-monitor-logs-and-data-collection.md §3): case-sensitive `==`,
// inclusive `between`, one fixed `now()`, `order by` descending by default with nulls last, summarize with
// no `by` giving one row even on empty input, and nearest-rank percentiles computed exactly.
import { KqlError } from './errors.js';
import { parseKql, parseDatetimeLiteral, parseTimespanLiteral, type Expr, type NamedExpr, type Operator, type Query, type SortKey } from './parser.js';

/** Kusto's scalar types as the Logs query API names them in `columns[].type`. */
export type KType = 'bool' | 'int' | 'long' | 'real' | 'string' | 'datetime' | 'timespan' | 'dynamic' | 'guid';
/** datetime and timespan values are milliseconds (epoch / duration, fractions allowed); null is Kusto's null. */
export type Value = number | string | boolean | null;
export type Row = Value[];

export interface Column {
  name: string;
  type: KType;
}

export interface Table {
  columns: Column[];
  rows: Row[];
}

/** The tables a query may name. */
export interface Catalog {
  table(name: string): Table | undefined;
  names(): string[];
}

export interface RunOptions {
  /** `now()` for the whole query (epoch ms). */
  now: number;
  /** The API's `timespan`: source rows outside [start, end) of their TimeGenerated are left out. */
  timeRange?: { start: number; end: number };
  /** Kusto's result-set limit (default 500,000 records); past it the result is cut and `truncated` set. */
  maxResultRows?: number;
}

export interface RunResult {
  table: Table;
  /** Set when the result was cut at maxResultRows (the API answers it as a partial error). */
  truncated?: { limit: number; total: number };
}

/** Kusto's default result-set limit (dataexplorer-docs concepts/query-limits.md). */
export const KUSTO_RESULT_ROW_LIMIT = 500_000;

/** Ticks between 0001-01-01 and 1970-01-01, in ms: Kusto bins datetimes on its own epoch (matters for bins that do not divide a day). */
const KUSTO_EPOCH_OFFSET_MS = 62_135_596_800_000;

interface Compiled {
  type: KType;
  fn: (row: Row) => Value;
  /** Set when the value does not depend on the row. */
  constant?: boolean;
}

const isNumeric = (t: KType): boolean => t === 'int' || t === 'long' || t === 'real';
const isIntegral = (t: KType): boolean => t === 'int' || t === 'long';

interface Scope {
  columns: Column[];
  lets: Map<string, { type: KType; value: Value }>;
  now: number;
  text: string;
}

function semantic(scope: Scope, message: string, pos: number, token = ''): never {
  throw new KqlError('semantic', message, pos, token, scope.text);
}
function unsupported(scope: Scope, message: string, pos: number, token = ''): never {
  throw new KqlError('unsupported', message, pos, token, scope.text);
}

const constant = (type: KType, value: Value): Compiled => ({ type, fn: () => value, constant: true });

// ---------- scalar helpers ----------

/** Kusto's string form of a value (`tostring`). */
export function kustoString(type: KType, v: Value): string {
  if (v === null) return '';
  switch (type) {
    case 'datetime':
      return formatDatetime(v as number);
    case 'timespan':
      return formatTimespan(v as number);
    case 'bool':
      return v ? 'true' : 'false';
    default:
      return String(v);
  }
}

/** ISO 8601 in UTC with Kusto's 7 fractional digits when the value is not a whole second. */
export function formatDatetime(ms: number): string {
  const whole = Math.floor(ms / 1000) * 1000;
  const iso = new Date(whole).toISOString().slice(0, 19);
  const ticks = Math.round((ms - whole) * 10_000);
  return ticks === 0 ? `${iso}Z` : `${iso}.${String(Math.min(ticks, 9_999_999)).padStart(7, '0')}Z`;
}

/** `[-][d.]hh:mm:ss[.fffffff]`, Kusto's timespan text. */
export function formatTimespan(ms: number): string {
  const neg = ms < 0;
  let ticks = Math.round(Math.abs(ms) * 10_000);
  const frac = ticks % 10_000_000;
  ticks = (ticks - frac) / 10_000_000;
  const s = ticks % 60;
  const m = Math.floor(ticks / 60) % 60;
  const h = Math.floor(ticks / 3600) % 24;
  const d = Math.floor(ticks / 86400);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${neg ? '-' : ''}${d > 0 ? `${d}.` : ''}${two(h)}:${two(m)}:${two(s)}${frac ? `.${String(frac).padStart(7, '0')}` : ''}`;
}

const isWordChar = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/** Kusto `has`: the needle occurs as whole term(s), bounded by non-alphanumerics or the ends. */
function hasTerm(hay: string, needle: string, mode: 'term' | 'prefix' | 'suffix'): boolean {
  if (needle.length === 0) return true;
  let from = 0;
  for (;;) {
    const at = hay.indexOf(needle, from);
    if (at < 0) return false;
    const before = at === 0 || !isWordChar(hay[at - 1]) || !isWordChar(needle[0]);
    const after = at + needle.length === hay.length || !isWordChar(hay[at + needle.length]) || !isWordChar(needle[needle.length - 1]);
    if ((mode === 'term' && before && after) || (mode === 'prefix' && before) || (mode === 'suffix' && after)) return true;
    from = at + 1;
  }
}

function stringOp(op: string): (a: string, b: string) => boolean {
  switch (op) {
    case 'has':
      return (a, b) => hasTerm(a.toLowerCase(), b.toLowerCase(), 'term');
    case 'has_cs':
      return (a, b) => hasTerm(a, b, 'term');
    case 'hasprefix':
      return (a, b) => hasTerm(a.toLowerCase(), b.toLowerCase(), 'prefix');
    case 'hassuffix':
      return (a, b) => hasTerm(a.toLowerCase(), b.toLowerCase(), 'suffix');
    case 'contains':
      return (a, b) => a.toLowerCase().includes(b.toLowerCase());
    case 'contains_cs':
      return (a, b) => a.includes(b);
    case 'startswith':
      return (a, b) => a.toLowerCase().startsWith(b.toLowerCase());
    case 'startswith_cs':
      return (a, b) => a.startsWith(b);
    case 'endswith':
      return (a, b) => a.toLowerCase().endsWith(b.toLowerCase());
    case 'endswith_cs':
      return (a, b) => a.endsWith(b);
    default:
      throw new Error(`unknown string operator ${op}`);
  }
}

/** The class two types compare in, or undefined when Kusto would refuse the comparison. */
function comparable(a: KType, b: KType): 'number' | 'string' | 'bool' | 'datetime' | 'timespan' | undefined {
  if (isNumeric(a) && isNumeric(b)) return 'number';
  if (a !== b) return undefined;
  if (a === 'string' || a === 'guid') return 'string';
  if (a === 'bool' || a === 'datetime' || a === 'timespan') return a;
  return undefined;
}

function compareValues(a: Value, b: Value): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The nearest-rank percentile: sorted ascending, index ceil(P/100·n) − 1 (at least 0). Kusto's definition, computed exactly. */
export function nearestRank(sorted: number[], p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const x = (p / 100) * n;
  // Guard against 99.9 / 100 * 1000 = 999.0000000000001 rounding up a whole rank.
  const rank = Math.ceil(x - 1e-9 * Math.max(1, x));
  return sorted[Math.min(n, Math.max(1, rank)) - 1] as number;
}

// ---------- expressions ----------

const AGGREGATES = new Set(['count', 'countif', 'sum', 'sumif', 'avg', 'avgif', 'min', 'minif', 'max', 'maxif', 'dcount', 'dcountif', 'percentile', 'percentiles', 'percentiles_array']);
const KNOWN_UNSUPPORTED_AGGREGATES = new Set(['make_list', 'make_set', 'make_bag', 'arg_max', 'arg_min', 'stdev', 'stdevif', 'variance', 'varianceif', 'take_any', 'any', 'hll', 'tdigest', 'percentilew', 'percentilesw', 'make_list_if', 'make_set_if', 'count_distinct', 'buildschema']);

/** What an aggregate call contributes to summarize: accumulators per group, and how to read the result. */
interface AggregateSlot {
  make(): { add(row: Row): void; result(): Value };
  type: KType;
}

interface AggCollector {
  slots: AggregateSlot[];
}

function compileExpr(e: Expr, scope: Scope, agg?: AggCollector): Compiled {
  switch (e.k) {
    case 'lit':
      return constant(e.type, e.value);
    case 'name': {
      const idx = scope.columns.findIndex((c) => c.name === e.name);
      if (idx >= 0 && !agg) {
        const type = (scope.columns[idx] as Column).type;
        return { type, fn: (row) => row[idx] as Value };
      }
      const bound = scope.lets.get(e.name);
      if (bound) return constant(bound.type, bound.value);
      if (idx >= 0 && agg) semantic(scope, `summarize: column '${e.name}' must be inside an aggregation function such as count(), sum() or percentile(), or be listed after 'by'`, e.pos, e.name);
      const near = scope.columns.find((c) => c.name.toLowerCase() === e.name.toLowerCase());
      semantic(scope, `failed to resolve column or scalar named '${e.name}'${near ? ` (names are case-sensitive: did you mean '${near.name}'?)` : ''}`, e.pos, e.name);
    }
    // falls through (unreachable: semantic() throws)
    case 'unary': {
      const x = compileExpr(e.operand, scope, agg);
      if (!isNumeric(x.type) && x.type !== 'timespan') semantic(scope, `unary '${e.op}' needs a number or timespan, got ${x.type}`, e.pos, e.op);
      if (e.op === '+') return x;
      const type = x.type === 'int' ? 'long' : x.type;
      return { type, fn: (row) => { const v = x.fn(row); return v === null ? null : -(v as number); }, ...(x.constant ? { constant: true } : {}) };
    }
    case 'binary':
      return compileBinary(e, scope, agg);
    case 'in': {
      const left = compileExpr(e.left, scope, agg);
      const items = e.list.map((x) => compileExpr(x, scope, agg));
      const ci = e.op.endsWith('~');
      const negate = e.op.startsWith('!');
      for (const [i, it] of items.entries()) {
        if (!comparable(left.type, it.type)) semantic(scope, `'${e.op}': cannot compare ${left.type} with ${it.type} (item ${i + 1})`, e.list[i]?.pos ?? e.pos);
        if (ci && left.type !== 'string') semantic(scope, `'${e.op}' compares strings; the left side is ${left.type}`, e.pos, e.op);
      }
      const norm = (v: Value): Value => (ci && typeof v === 'string' ? v.toLowerCase() : typeof v === 'number' ? v : v);
      if (items.every((it) => it.constant)) {
        const set = new Set(items.map((it) => norm(it.fn([]))));
        return { type: 'bool', fn: (row) => { const v = left.fn(row); return v === null ? null : set.has(norm(v)) !== negate; } };
      }
      return {
        type: 'bool',
        fn: (row) => {
          const v = left.fn(row);
          if (v === null) return null;
          const n = norm(v);
          return items.some((it) => norm(it.fn(row)) === n) !== negate;
        },
      };
    }
    case 'between': {
      const left = compileExpr(e.left, scope, agg);
      const lo = compileExpr(e.lo, scope, agg);
      let hi = compileExpr(e.hi, scope, agg);
      if (left.type === 'datetime' && lo.type === 'datetime' && hi.type === 'timespan') {
        const span = hi;
        hi = { type: 'datetime', fn: (row) => { const a = lo.fn(row); const b = span.fn(row); return a === null || b === null ? null : (a as number) + (b as number); } };
      }
      if (!comparable(left.type, lo.type) || !comparable(left.type, hi.type) || left.type === 'string' || left.type === 'bool') {
        semantic(scope, `'between' needs numbers, datetimes or timespans of one kind; got ${left.type} between (${lo.type} .. ${hi.type})`, e.pos, 'between');
      }
      return {
        type: 'bool',
        fn: (row) => {
          const v = left.fn(row);
          const a = lo.fn(row);
          const b = hi.fn(row);
          if (v === null || a === null || b === null) return null;
          const inside = (v as number) >= (a as number) && (v as number) <= (b as number);
          return inside !== e.negate;
        },
      };
    }
    case 'call':
      return compileCall(e, scope, agg);
  }
}

function compileBinary(e: Extract<Expr, { k: 'binary' }>, scope: Scope, agg?: AggCollector): Compiled {
  const l = compileExpr(e.left, scope, agg);
  const r = compileExpr(e.right, scope, agg);
  const op = e.op;
  const both = (f: (a: Value, b: Value) => Value, type: KType): Compiled => ({
    type,
    fn: (row) => f(l.fn(row), r.fn(row)),
    ...(l.constant && r.constant ? { constant: true } : {}),
  });
  if (op === 'and' || op === 'or') {
    if (l.type !== 'bool' || r.type !== 'bool') semantic(scope, `'${op}' joins bool conditions; got ${l.type} ${op} ${r.type}`, e.pos, op);
    return op === 'and'
      ? both((a, b) => (a === false || b === false ? false : a === null || b === null ? null : true), 'bool')
      : both((a, b) => (a === true || b === true ? true : a === null || b === null ? null : false), 'bool');
  }
  if (['==', '!=', '<', '<=', '>', '>='].includes(op)) {
    const cls = comparable(l.type, r.type);
    if (!cls) semantic(scope, `cannot compare ${l.type} with ${r.type} using '${op}'`, e.pos, op);
    if ((cls === 'bool') && !['==', '!='].includes(op)) semantic(scope, `'${op}' does not order bools`, e.pos, op);
    const test: Record<string, (c: number) => boolean> = { '==': (c) => c === 0, '!=': (c) => c !== 0, '<': (c) => c < 0, '<=': (c) => c <= 0, '>': (c) => c > 0, '>=': (c) => c >= 0 };
    const t = test[op] as (c: number) => boolean;
    return both((a, b) => (a === null || b === null ? null : t(compareValues(a, b))), 'bool');
  }
  if (op === '=~' || op === '!~') {
    if (l.type !== 'string' || r.type !== 'string') semantic(scope, `'${op}' compares strings; got ${l.type} and ${r.type}`, e.pos, op);
    return both((a, b) => ((a as string).toLowerCase() === (b as string).toLowerCase()) === (op === '=~'), 'bool');
  }
  const bare = op.startsWith('!') ? op.slice(1) : op;
  if (['has', 'has_cs', 'contains', 'contains_cs', 'startswith', 'startswith_cs', 'endswith', 'endswith_cs', 'hasprefix', 'hassuffix'].includes(bare)) {
    if (r.type !== 'string') semantic(scope, `'${op}' needs a string on its right; got ${r.type}`, e.pos, op);
    const f = stringOp(bare);
    const neg = op.startsWith('!');
    const lt = l.type;
    return both((a, b) => (a === null || b === null ? null : f(typeof a === 'string' ? a : kustoString(lt, a), b as string) !== neg), 'bool');
  }
  // Arithmetic.
  const L = l.type;
  const R = r.type;
  const num = (f: (a: number, b: number) => number | null, type: KType): Compiled =>
    both((a, b) => (a === null || b === null ? null : f(a as number, b as number)), type);
  if (isNumeric(L) && isNumeric(R)) {
    const integral = isIntegral(L) && isIntegral(R);
    const type: KType = integral ? 'long' : 'real';
    switch (op) {
      case '+':
        return num((a, b) => a + b, type);
      case '-':
        return num((a, b) => a - b, type);
      case '*':
        return num((a, b) => a * b, type);
      case '/':
        return integral ? num((a, b) => (b === 0 ? null : Math.trunc(a / b)), type) : num((a, b) => a / b, type);
      case '%':
        return integral ? num((a, b) => (b === 0 ? null : a % b), type) : num((a, b) => a % b, type);
    }
  }
  if (L === 'datetime' && R === 'datetime' && op === '-') return num((a, b) => a - b, 'timespan');
  if (L === 'datetime' && R === 'timespan' && (op === '+' || op === '-')) return num((a, b) => (op === '+' ? a + b : a - b), 'datetime');
  if (L === 'timespan' && R === 'datetime' && op === '+') return num((a, b) => a + b, 'datetime');
  if (L === 'timespan' && R === 'timespan') {
    if (op === '+') return num((a, b) => a + b, 'timespan');
    if (op === '-') return num((a, b) => a - b, 'timespan');
    if (op === '/') return num((a, b) => a / b, 'real');
  }
  if (L === 'timespan' && isNumeric(R) && (op === '*' || op === '/')) return num((a, b) => (op === '*' ? a * b : a / b), 'timespan');
  if (isNumeric(L) && R === 'timespan' && op === '*') return num((a, b) => a * b, 'timespan');
  semantic(scope, `operator '${op}' is not defined for ${L} and ${R}${L === 'string' && op === '+' ? " (join strings with strcat())" : ''}`, e.pos, op);
}

function arg(e: Extract<Expr, { k: 'call' }>, i: number): Expr {
  return e.args[i] as Expr;
}

function expectArgs(scope: Scope, e: Extract<Expr, { k: 'call' }>, min: number, max = min): void {
  if (e.args.length < min || e.args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    semantic(scope, `${e.name}() takes ${want} argument${min === 1 && max === 1 ? '' : 's'}, got ${e.args.length}`, e.pos, e.name);
  }
}

function toNumber(type: KType, v: Value): number | null {
  if (v === null) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  const s = v.trim();
  if (s === '') return null;
  const n = Number(s);
  return Number.isNaN(n) && type === 'string' ? null : n;
}

/** `bin(x, size)` / `floor(x, size)`: round down to a multiple of size; datetimes on Kusto's 0001-01-01 epoch. */
function compileBin(scope: Scope, e: Extract<Expr, { k: 'call' }>, agg?: AggCollector): Compiled {
  expectArgs(scope, e, 2);
  const x = compileExpr(arg(e, 0), scope, agg);
  const size = compileExpr(arg(e, 1), scope, agg);
  const f = (v: Value, s: Value, offset: number): Value => {
    if (v === null || s === null || (s as number) <= 0) return null;
    const step = s as number;
    return Math.floor(((v as number) + offset) / step) * step - offset;
  };
  let type: KType;
  let offset = 0;
  if (x.type === 'datetime' && size.type === 'timespan') {
    type = 'datetime';
    offset = KUSTO_EPOCH_OFFSET_MS;
  } else if (x.type === 'timespan' && size.type === 'timespan') type = 'timespan';
  else if (isNumeric(x.type) && isNumeric(size.type)) type = isIntegral(x.type) && isIntegral(size.type) ? 'long' : 'real';
  else semantic(scope, `${e.name}() rounds a number, datetime or timespan down to a multiple of a size of the same kind (a timespan for datetimes); got ${e.name}(${x.type}, ${size.type})`, e.pos, e.name);
  return { type, fn: (row) => f(x.fn(row), size.fn(row), offset), ...(x.constant && size.constant ? { constant: true } : {}) };
}

function commonType(scope: Scope, types: KType[], pos: number, what: string): KType {
  const first = types[0] as KType;
  if (types.every((t) => t === first)) return first;
  if (types.every(isNumeric)) return types.every(isIntegral) ? 'long' : 'real';
  semantic(scope, `${what}: the branches have different types (${types.join(', ')})`, pos, what);
}

function compileCall(e: Extract<Expr, { k: 'call' }>, scope: Scope, agg?: AggCollector): Compiled {
  const name = e.name;
  if (AGGREGATES.has(name)) {
    if (!agg) semantic(scope, `aggregation function '${name}()' can only be used in summarize`, e.pos, name);
    if (name === 'percentiles') semantic(scope, "percentiles() gives several columns: use it on its own in summarize, e.g. 'summarize percentiles(TotalDurationMs, 50, 99)'", e.pos, name);
    return compileAggregateRef(e, scope, agg);
  }
  if (KNOWN_UNSUPPORTED_AGGREGATES.has(name)) unsupported(scope, `aggregation function '${name}()' is not supported by the emulator's KQL interpreter (supported: ${[...AGGREGATES].join(', ')})`, e.pos, name);
  const args = (): Compiled[] => e.args.map((a) => compileExpr(a, scope, agg));
  const unary = (type: KType, f: (v: Value, t: KType) => Value): Compiled => {
    expectArgs(scope, e, 1);
    const [a] = args() as [Compiled];
    return { type, fn: (row) => f(a.fn(row), a.type), ...(a.constant ? { constant: true } : {}) };
  };
  switch (name) {
    case 'now': {
      expectArgs(scope, e, 0, 1);
      if (e.args.length === 0) return constant('datetime', scope.now);
      const [off] = args() as [Compiled];
      if (off.type !== 'timespan' || !off.constant) semantic(scope, 'now(offset) takes a constant timespan', e.pos, name);
      return constant('datetime', scope.now + ((off.fn([]) as number) ?? 0));
    }
    case 'ago': {
      expectArgs(scope, e, 1);
      const [span] = args() as [Compiled];
      if (span.type !== 'timespan') semantic(scope, `ago() takes a timespan such as 5m or 1h, got ${span.type}`, e.pos, name);
      return { type: 'datetime', fn: (row) => { const v = span.fn(row); return v === null ? null : scope.now - (v as number); }, ...(span.constant ? { constant: true } : {}) };
    }
    case 'bin':
    case 'floor':
      if (name === 'floor' && e.args.length === 1) return unary('real', (v) => (v === null ? null : Math.floor(v as number)));
      return compileBin(scope, e, agg);
    case 'ceiling':
      return unary('real', (v) => (v === null ? null : Math.ceil(v as number)));
    case 'abs': {
      expectArgs(scope, e, 1);
      const [a] = args() as [Compiled];
      if (!isNumeric(a.type) && a.type !== 'timespan') semantic(scope, `abs() takes a number or timespan, got ${a.type}`, e.pos, name);
      return { type: a.type === 'int' ? 'long' : a.type, fn: (row) => { const v = a.fn(row); return v === null ? null : Math.abs(v as number); } };
    }
    case 'round': {
      expectArgs(scope, e, 1, 2);
      const [a, digits] = args() as [Compiled, Compiled | undefined];
      if (!isNumeric(a.type)) semantic(scope, `round() takes a number, got ${a.type}`, e.pos, name);
      return {
        type: a.type === 'int' ? 'long' : a.type,
        fn: (row) => {
          const v = a.fn(row);
          if (v === null) return null;
          const d = digits ? Number(digits.fn(row) ?? 0) : 0;
          const k = 10 ** d;
          return Math.round((v as number) * k) / k;
        },
      };
    }
    case 'not':
      return unary('bool', (v, t) => {
        if (t !== 'bool') semantic(scope, `not() takes a bool, got ${t}`, e.pos, name);
        return v === null ? null : !v;
      });
    case 'isnull':
      return unary('bool', (v) => v === null);
    case 'isnotnull':
      return unary('bool', (v) => v !== null);
    case 'isempty':
      return unary('bool', (v) => v === null || v === '');
    case 'isnotempty':
      return unary('bool', (v) => v !== null && v !== '');
    case 'tostring':
      return unary('string', (v, t) => kustoString(t, v));
    case 'toint':
    case 'tolong':
    case 'int':
    case 'long':
      return unary(name === 'toint' || name === 'int' ? 'int' : 'long', (v, t) => {
        const n = t === 'datetime' || t === 'timespan' ? (v === null ? null : (v as number) * 10_000) : toNumber(t, v);
        return n === null || Number.isNaN(n) ? null : Math.trunc(n);
      });
    case 'todouble':
    case 'toreal':
    case 'real':
    case 'double':
      return unary('real', (v, t) => {
        const n = t === 'datetime' || t === 'timespan' ? (v === null ? null : (v as number) * 10_000) : toNumber(t, v);
        return n === null || Number.isNaN(n) ? null : n;
      });
    case 'tobool':
    case 'toboolean':
      return unary('bool', (v) => {
        if (v === null) return null;
        if (typeof v === 'boolean') return v;
        if (typeof v === 'number') return v !== 0;
        const s = v.trim().toLowerCase();
        return s === 'true' || s === '1' ? true : s === 'false' || s === '0' ? false : null;
      });
    case 'todatetime':
      return unary('datetime', (v, t) => {
        if (v === null || t === 'datetime') return v;
        if (typeof v !== 'string') return null;
        const ms = parseDatetimeLiteral(v);
        if (ms !== undefined) return ms;
        const p = Date.parse(v);
        return Number.isNaN(p) ? null : p;
      });
    case 'totimespan':
      return unary('timespan', (v, t) => {
        if (v === null || t === 'timespan') return v;
        if (typeof v !== 'string') return null;
        return parseTimespanLiteral(v) ?? null;
      });
    case 'tolower':
    case 'toupper':
      return unary('string', (v, t) => {
        const s = typeof v === 'string' ? v : kustoString(t, v);
        return name === 'tolower' ? s.toLowerCase() : s.toUpperCase();
      });
    case 'strlen':
      return unary('long', (v, t) => (typeof v === 'string' ? v : kustoString(t, v)).length);
    case 'strcat': {
      expectArgs(scope, e, 1, 64);
      const parts = args();
      return { type: 'string', fn: (row) => parts.map((p) => kustoString(p.type, p.fn(row))).join('') };
    }
    case 'iff':
    case 'iif': {
      expectArgs(scope, e, 3);
      const [c, a, b] = args() as [Compiled, Compiled, Compiled];
      if (c.type !== 'bool') semantic(scope, `${name}() needs a bool condition, got ${c.type}`, e.pos, name);
      const type = commonType(scope, [a.type, b.type], e.pos, name);
      return { type, fn: (row) => (c.fn(row) === true ? a.fn(row) : b.fn(row)) };
    }
    case 'case': {
      if (e.args.length < 3 || e.args.length % 2 === 0) semantic(scope, 'case() takes pairs of (condition, value) and a final else value', e.pos, name);
      const parts = args();
      const conds = parts.filter((_, i) => i % 2 === 0 && i < parts.length - 1);
      const values = parts.filter((_, i) => i % 2 === 1);
      const otherwise = parts[parts.length - 1] as Compiled;
      for (const c of conds) if (c.type !== 'bool') semantic(scope, `case() conditions must be bools, got ${c.type}`, e.pos, name);
      const type = commonType(scope, [...values.map((v) => v.type), otherwise.type], e.pos, name);
      return {
        type,
        fn: (row) => {
          for (let i = 0; i < conds.length; i++) if ((conds[i] as Compiled).fn(row) === true) return (values[i] as Compiled).fn(row);
          return otherwise.fn(row);
        },
      };
    }
    case 'startofday':
    case 'startofhour':
    case 'startofminute': {
      const size = name === 'startofday' ? 86_400_000 : name === 'startofhour' ? 3_600_000 : 60_000;
      return unary('datetime', (v, t) => {
        if (t !== 'datetime') semantic(scope, `${name}() takes a datetime, got ${t}`, e.pos, name);
        return v === null ? null : Math.floor((v as number) / size) * size;
      });
    }
    default:
      unsupported(scope, `function '${e.name}()' is not supported by the emulator's KQL interpreter`, e.pos, e.name);
  }
}

// ---------- aggregates ----------

function aggregateSlot(scope: Scope, e: Extract<Expr, { k: 'call' }>): AggregateSlot {
  const name = e.name;
  const rowScope = scope; // aggregate arguments see the input row
  const compileArg = (i: number): Compiled => compileExpr(arg(e, i), rowScope);
  const predicate = (i: number): Compiled => {
    const p = compileArg(i);
    if (p.type !== 'bool') semantic(scope, `${name}() needs a bool condition as argument ${i + 1}, got ${p.type}`, arg(e, i).pos, name);
    return p;
  };
  const always: Compiled = constant('bool', true);
  switch (name) {
    case 'count':
    case 'countif': {
      if (name === 'count') expectArgs(scope, e, 0);
      else expectArgs(scope, e, 1);
      const p = name === 'countif' ? predicate(0) : always;
      return {
        type: 'long',
        make: () => {
          let n = 0;
          return { add: (row) => { if (p.fn(row) === true) n++; }, result: () => n };
        },
      };
    }
    case 'sum':
    case 'sumif':
    case 'avg':
    case 'avgif': {
      const conditional = name.endsWith('if');
      expectArgs(scope, e, conditional ? 2 : 1);
      const x = compileArg(0);
      const p = conditional ? predicate(1) : always;
      if (!isNumeric(x.type) && x.type !== 'timespan') semantic(scope, `${name}() takes a number or timespan, got ${x.type}`, arg(e, 0).pos, name);
      const isAvg = name.startsWith('avg');
      const type: KType = x.type === 'timespan' ? 'timespan' : isAvg ? 'real' : isIntegral(x.type) ? 'long' : 'real';
      return {
        type,
        make: () => {
          let s = 0;
          let n = 0;
          return {
            add: (row) => {
              if (p.fn(row) !== true) return;
              const v = x.fn(row);
              if (v === null) return;
              s += v as number;
              n++;
            },
            result: () => (isAvg ? (n === 0 ? null : s / n) : s),
          };
        },
      };
    }
    case 'min':
    case 'max':
    case 'minif':
    case 'maxif': {
      const conditional = name.endsWith('if');
      expectArgs(scope, e, conditional ? 2 : 1);
      const x = compileArg(0);
      const p = conditional ? predicate(1) : always;
      if (x.type === 'dynamic' || x.type === 'bool') semantic(scope, `${name}() cannot order ${x.type} values`, arg(e, 0).pos, name);
      const wantMax = name.startsWith('max');
      return {
        type: x.type,
        make: () => {
          let best: Value = null;
          return {
            add: (row) => {
              if (p.fn(row) !== true) return;
              const v = x.fn(row);
              if (v === null) return;
              if (best === null || (wantMax ? compareValues(v, best) > 0 : compareValues(v, best) < 0)) best = v;
            },
            result: () => best,
          };
        },
      };
    }
    case 'dcount':
    case 'dcountif': {
      const conditional = name === 'dcountif';
      expectArgs(scope, e, conditional ? 2 : 1, conditional ? 3 : 2);
      const x = compileArg(0);
      const p = conditional ? predicate(1) : always;
      return {
        type: 'long',
        make: () => {
          const seen = new Set<Value>();
          return {
            add: (row) => {
              if (p.fn(row) !== true) return;
              const v = x.fn(row);
              if (v !== null) seen.add(v);
            },
            result: () => seen.size,
          };
        },
      };
    }
    case 'percentile':
      return percentileSlot(scope, e, [percentArg(scope, e, 1)], false);
    case 'percentiles_array':
      expectArgs(scope, e, 2, 32);
      return percentileSlot(scope, e, e.args.slice(1).map((_, i) => percentArg(scope, e, i + 1)), true);
    default:
      throw new Error(`not an aggregate: ${name}`);
  }
}

function percentArg(scope: Scope, e: Extract<Expr, { k: 'call' }>, i: number): number {
  const a = e.args[i];
  if (!a) semantic(scope, `${e.name}() needs a percentile as argument ${i + 1}`, e.pos, e.name);
  const c = compileExpr(a, scope);
  const v = c.fn([]);
  if (!c.constant || !isNumeric(c.type) || typeof v !== 'number' || v < 0 || v > 100) {
    semantic(scope, `${e.name}(): the percentile must be a constant number from 0 to 100`, a.pos);
  }
  return v as number;
}

/** One percentile (or, as a dynamic array, several) of an expression over the group, nearest-rank. */
function percentileSlot(scope: Scope, e: Extract<Expr, { k: 'call' }>, ps: number[], asArray: boolean): AggregateSlot {
  if (!asArray) expectArgs(scope, e, 2);
  const x = compileExpr(arg(e, 0), scope);
  if (!isNumeric(x.type) && x.type !== 'datetime' && x.type !== 'timespan') semantic(scope, `${e.name}() takes numbers, datetimes or timespans, got ${x.type}`, arg(e, 0).pos, e.name);
  return {
    type: asArray ? 'dynamic' : x.type,
    make: () => {
      const values: number[] = [];
      return {
        add: (row) => {
          const v = x.fn(row);
          if (v !== null) values.push(v as number);
        },
        result: () => {
          values.sort((a, b) => a - b);
          if (asArray) return values.length === 0 ? null : JSON.stringify(ps.map((p) => nearestRank(values, p)));
          return nearestRank(values, ps[0] as number);
        },
      };
    },
  };
}

function compileAggregateRef(e: Extract<Expr, { k: 'call' }>, scope: Scope, agg: AggCollector): Compiled {
  const slot = aggregateSlot(scope, e);
  const index = agg.slots.length;
  agg.slots.push(slot);
  // In summarize, the compiled expression reads the group's aggregate results (a row of slot results).
  return { type: slot.type, fn: (aggRow) => aggRow[index] as Value };
}

// ---------- tabular operators ----------

/** The first column an expression names (for Kusto's default column names such as avg_X). */
function firstColumn(e: Expr): string | undefined {
  switch (e.k) {
    case 'name':
      return e.name;
    case 'call':
      for (const a of e.args) {
        const n = firstColumn(a);
        if (n) return n;
      }
      return undefined;
    case 'binary':
      return firstColumn(e.left) ?? firstColumn(e.right);
    case 'unary':
      return firstColumn(e.operand);
    case 'in':
    case 'between':
      return firstColumn(e.left);
    default:
      return undefined;
  }
}

const pctName = (p: number): string => String(p).replace('.', '_');

/** Kusto's default name for an aggregation: count_, countif_, avg_X, percentile_X_95, percentiles_X … */
function defaultAggName(e: Expr): string | undefined {
  if (e.k !== 'call' || !AGGREGATES.has(e.name)) return undefined;
  if (e.name === 'count' || e.name === 'countif') return `${e.name}_`;
  const col = e.args[0] ? (firstColumn(e.args[0]) ?? '') : '';
  if (e.name === 'percentile') {
    const p = e.args[1];
    return `percentile_${col}_${p && p.k === 'lit' && typeof p.value === 'number' ? pctName(p.value) : ''}`;
  }
  if (e.name === 'percentiles_array') return `percentiles_${col}`;
  return `${e.name}_${col}`;
}

function uniqueName(taken: Set<string>, wanted: string): string {
  if (!taken.has(wanted)) return wanted;
  for (let i = 1; ; i++) if (!taken.has(`${wanted}_${i}`)) return `${wanted}_${i}`;
}

function nextColumnName(taken: Set<string>): string {
  for (let i = 1; ; i++) if (!taken.has(`Column${i}`)) return `Column${i}`;
}

function constantCount(scope: Scope, e: Expr, what: string): number {
  const c = compileExpr(e, scope);
  const v = c.fn([]);
  if (!c.constant || !isNumeric(c.type) || typeof v !== 'number' || v < 0) semantic(scope, `${what} needs a constant, non-negative number of rows`, e.pos);
  return Math.floor(v as number);
}

function sortRows(scope: Scope, table: Table, keys: SortKey[]): Row[] {
  const compiled = keys.map((k) => {
    const c = compileExpr(k.expr, scope);
    if (c.type === 'dynamic') semantic(scope, 'cannot sort by a dynamic value', k.expr.pos);
    return { c, desc: k.desc, nullsFirst: k.nullsFirst ?? !k.desc };
  });
  const decorated = table.rows.map((row) => ({ row, keys: compiled.map((k) => k.c.fn(row)) }));
  decorated.sort((a, b) => {
    for (let i = 0; i < compiled.length; i++) {
      const k = compiled[i] as (typeof compiled)[number];
      const x = a.keys[i] as Value;
      const y = b.keys[i] as Value;
      if (x === null || y === null) {
        if (x === y) continue;
        return (x === null) === k.nullsFirst ? -1 : 1;
      }
      const c = compareValues(x, y);
      if (c !== 0) return k.desc ? -c : c;
    }
    return 0;
  });
  return decorated.map((d) => d.row);
}

function summarize(scope: Scope, table: Table, op: Extract<Operator, { op: 'summarize' }>): Table {
  const taken = new Set<string>();
  const columns: Column[] = [];
  // Group keys.
  const keys = op.by.map((item) => {
    const c = compileExpr(item.expr, scope);
    if (c.type === 'dynamic') semantic(scope, "summarize: cannot group 'by' a dynamic value", item.pos);
    const e = item.expr;
    const auto = e.k === 'name' ? e.name : e.k === 'call' && e.args[0]?.k === 'name' ? e.args[0].name : undefined;
    const name = uniqueName(taken, item.names?.[0] ?? auto ?? nextColumnName(taken));
    taken.add(name);
    columns.push({ name, type: c.type });
    return c;
  });
  // Aggregations: each output column reads a row of slot results.
  const collector: AggCollector = { slots: [] };
  const outputs: { type: KType; fn: (aggRow: Row) => Value }[] = [];
  for (const item of op.aggs) {
    const e = item.expr;
    if (e.k === 'call' && e.name === 'percentiles') {
      if (e.args.length < 2) semantic(scope, 'percentiles() needs an expression and at least one percentile', e.pos, e.name);
      const ps = e.args.slice(1).map((_, i) => percentArg(scope, e, i + 1));
      if (item.names && item.names.length !== ps.length) semantic(scope, `percentiles() gives ${ps.length} columns but ${item.names.length} names were given`, item.pos);
      const col = firstColumn(arg(e, 0)) ?? '';
      ps.forEach((p, i) => {
        const call: Extract<Expr, { k: 'call' }> = { k: 'call', name: 'percentile', args: [arg(e, 0), { k: 'lit', type: 'real', value: p, pos: e.pos }], pos: e.pos };
        const ref = compileAggregateRef(call, scope, collector);
        const name = uniqueName(taken, item.names?.[i] ?? `percentile_${col}_${pctName(p)}`);
        taken.add(name);
        columns.push({ name, type: ref.type });
        outputs.push(ref);
      });
      continue;
    }
    if (item.names && item.names.length > 1) semantic(scope, 'only percentiles() can fill several named columns', item.pos);
    const c = compileExpr(e, scope, collector);
    if (!containsAggregate(e)) semantic(scope, 'summarize: each item must use an aggregation function such as count(), sum(), avg() or percentile()', item.pos);
    const name = uniqueName(taken, item.names?.[0] ?? defaultAggName(e) ?? nextColumnName(taken));
    taken.add(name);
    columns.push({ name, type: c.type });
    outputs.push(c);
  }
  const slots = collector.slots;
  const groups = new Map<string, { key: Row; accs: { add(row: Row): void; result(): Value }[] }>();
  for (const row of table.rows) {
    const key = keys.map((k) => k.fn(row));
    let id = '';
    for (const v of key) id += `${v === null ? '\u0000' : typeof v === 'string' ? 's' : 'v'}${v === null ? '' : String(v)}\u0001`;
    let g = groups.get(id);
    if (!g) {
      g = { key, accs: slots.map((s) => s.make()) };
      groups.set(id, g);
    }
    for (const a of g.accs) a.add(row);
  }
  if (keys.length === 0 && groups.size === 0) groups.set('', { key: [], accs: slots.map((s) => s.make()) });
  const rows: Row[] = [];
  for (const g of groups.values()) {
    const results = g.accs.map((a) => a.result());
    rows.push([...g.key, ...outputs.map((o) => o.fn(results))]);
  }
  return { columns, rows };
}

function containsAggregate(e: Expr): boolean {
  switch (e.k) {
    case 'call':
      return AGGREGATES.has(e.name) || e.args.some(containsAggregate);
    case 'binary':
      return containsAggregate(e.left) || containsAggregate(e.right);
    case 'unary':
      return containsAggregate(e.operand);
    case 'in':
      return containsAggregate(e.left) || e.list.some(containsAggregate);
    case 'between':
      return containsAggregate(e.left) || containsAggregate(e.lo) || containsAggregate(e.hi);
    default:
      return false;
  }
}

function applyOperator(base: Scope, table: Table, op: Operator): Table {
  const scope: Scope = { ...base, columns: table.columns };
  switch (op.op) {
    case 'where': {
      const p = compileExpr(op.pred, scope);
      if (p.type !== 'bool') semantic(scope, `where: the condition must be a bool, got ${p.type}`, op.pred.pos);
      return { columns: table.columns, rows: table.rows.filter((row) => p.fn(row) === true) };
    }
    case 'extend': {
      let columns = [...table.columns];
      let rows = table.rows;
      for (const item of op.items) {
        const s: Scope = { ...base, columns };
        const c = compileExpr(item.expr, s);
        const taken = new Set(columns.map((x) => x.name));
        const name = item.names?.[0] ?? (item.expr.k === 'name' ? item.expr.name : nextColumnName(taken));
        const at = columns.findIndex((x) => x.name === name);
        if (at >= 0) {
          columns = columns.map((x, i) => (i === at ? { name, type: c.type } : x));
          rows = rows.map((r) => {
            const copy = r.slice();
            copy[at] = c.fn(r);
            return copy;
          });
        } else {
          columns = [...columns, { name, type: c.type }];
          rows = rows.map((r) => [...r, c.fn(r)]);
        }
      }
      return { columns, rows };
    }
    case 'project': {
      const taken = new Set<string>();
      const cols: Column[] = [];
      const fns = op.items.map((item) => {
        const c = compileExpr(item.expr, scope);
        const wanted = item.names?.[0] ?? (item.expr.k === 'name' ? item.expr.name : nextColumnName(taken));
        if (taken.has(wanted)) semantic(scope, `project: column '${wanted}' is given twice`, item.pos, wanted);
        taken.add(wanted);
        cols.push({ name: wanted, type: c.type });
        return c.fn;
      });
      return { columns: cols, rows: table.rows.map((r) => fns.map((f) => f(r))) };
    }
    case 'project-away': {
      const drop = new Set<number>();
      for (const n of op.names) {
        const i = table.columns.findIndex((c) => c.name === n.name);
        if (i < 0) semantic(scope, `project-away: no column named '${n.name}'`, n.pos, n.name);
        drop.add(i);
      }
      const keep = table.columns.map((_, i) => i).filter((i) => !drop.has(i));
      return { columns: keep.map((i) => table.columns[i] as Column), rows: table.rows.map((r) => keep.map((i) => r[i] as Value)) };
    }
    case 'project-rename': {
      const columns = [...table.columns];
      for (const p of op.pairs) {
        const i = columns.findIndex((c) => c.name === p.from);
        if (i < 0) semantic(scope, `project-rename: no column named '${p.from}'`, p.pos, p.from);
        columns[i] = { name: p.to, type: (columns[i] as Column).type };
      }
      return { columns, rows: table.rows };
    }
    case 'sort':
      return { columns: table.columns, rows: sortRows(scope, table, op.keys) };
    case 'take':
      return { columns: table.columns, rows: table.rows.slice(0, constantCount(scope, op.count, `'take'`)) };
    case 'top': {
      const n = constantCount(scope, op.count, `'top'`);
      return { columns: table.columns, rows: sortRows(scope, table, op.keys).slice(0, n) };
    }
    case 'count':
      return { columns: [{ name: 'Count', type: 'long' }], rows: [[table.rows.length]] };
    case 'distinct': {
      const items: NamedExpr[] = op.star ? table.columns.map((c) => ({ expr: { k: 'name', name: c.name, pos: op.pos }, pos: op.pos })) : op.items;
      const proj = applyOperator(base, table, { op: 'project', items, pos: op.pos });
      const seen = new Set<string>();
      return { columns: proj.columns, rows: proj.rows.filter((r) => { const id = JSON.stringify(r); if (seen.has(id)) return false; seen.add(id); return true; }) };
    }
    case 'summarize':
      return summarize(scope, table, op);
  }
}

/** Runs an already parsed query. */
export function evaluate(query: Query, text: string, catalog: Catalog, options: RunOptions): RunResult {
  const base: Scope = { columns: [], lets: new Map(), now: options.now, text };
  for (const l of query.lets) {
    const c = compileExpr(l.expr, base);
    if (!c.constant) semantic(base, `let ${l.name}: the value must not depend on a row`, l.pos, l.name);
    base.lets.set(l.name, { type: c.type, value: c.fn([]) });
  }
  const source = catalog.table(query.table.name);
  if (!source) {
    const near = catalog.names().find((n) => n.toLowerCase() === query.table.name.toLowerCase());
    semantic(base, `failed to resolve table '${query.table.name}'${near ? ` (names are case-sensitive: did you mean '${near}'?)` : ` (tables: ${catalog.names().join(', ')})`}`, query.table.pos, query.table.name);
  }
  let table: Table = source;
  const range = options.timeRange;
  const tg = source.columns.findIndex((c) => c.name === 'TimeGenerated');
  if (range && tg >= 0) {
    table = { columns: source.columns, rows: source.rows.filter((r) => { const t = r[tg] as number | null; return t !== null && t >= range.start && t < range.end; }) };
  }
  for (const op of query.ops) table = applyOperator(base, table, op);
  const limit = options.maxResultRows ?? KUSTO_RESULT_ROW_LIMIT;
  if (table.rows.length > limit) return { table: { columns: table.columns, rows: table.rows.slice(0, limit) }, truncated: { limit, total: table.rows.length } };
  return { table };
}

/** Parses and runs a KQL query; throws KqlError (with line and column) for anything it refuses. */
export function runKql(text: string, catalog: Catalog, options: RunOptions): RunResult {
  return evaluate(parseKql(text), text, catalog, options);
}
