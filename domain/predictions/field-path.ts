/**
 * Field paths into a model's response (or a request row): `isFraud`, `scores.fraud`, `$.predictions[0].label`,
 * `$['merchant category']`. A tiny subset of JSONPath — names, array indexes, quoted names — enough to name
 * one field; no wildcards or filters (a gate compares one value per request). Pure.
 *
 * Also the *shape* of a value (keys and types, never values), for messages such as "label path
 * `$.predictions[0].label` does not exist; the responses look like {isFraud: boolean, fraudProbability: number}".
 */

/** One step of a path: an object key or an array index. */
export type PathStep = string | number;

/** Why a path text cannot be parsed, or the steps. */
export function parseFieldPath(text: string): { steps: PathStep[] } | { problem: string } {
  const src = text.trim();
  if (src === '') return { problem: 'is empty: name the field, e.g. "isFraud" or "$.predictions[0].label"' };
  let i = 0;
  const steps: PathStep[] = [];
  if (src.startsWith('$')) {
    i = 1;
    if (src.length === 1) return { problem: '"$" alone names the whole response, not a field: e.g. "$.isFraud"' };
    if (src[1] !== '.' && src[1] !== '[') return { problem: `"${src}": after "$" comes "." or "[", e.g. "$.isFraud"` };
  }
  const NAME = /^[A-Za-z_][A-Za-z0-9_-]*/;
  let first = !src.startsWith('$');
  while (i < src.length) {
    const ch = src[i];
    if (ch === '.' || first) {
      if (ch === '.') i += 1;
      first = false;
      const m = NAME.exec(src.slice(i));
      if (!m) return { problem: `"${src}": expected a field name at position ${i + 1} (letters, digits, "_" or "-"; quote other names as ['name'])` };
      steps.push(m[0]);
      i += m[0].length;
    } else if (ch === '[') {
      const rest = src.slice(i);
      const index = /^\[(\d{1,9})\]/.exec(rest);
      const quoted = /^\[(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\]/.exec(rest);
      if (index) {
        steps.push(Number(index[1]));
        i += index[0].length;
      } else if (quoted) {
        steps.push((quoted[1] ?? quoted[2] ?? '').replace(/\\(.)/g, '$1'));
        i += quoted[0].length;
      } else {
        return { problem: `"${src}": "[" at position ${i + 1} must hold an index like [0] or a quoted name like ['label'] (no wildcards or filters)` };
      }
    } else {
      return { problem: `"${src}": unexpected "${ch}" at position ${i + 1}` };
    }
  }
  return { steps };
}

/** The path written back in one canonical form (`$.predictions[0].label`). */
export function formatFieldPath(steps: readonly PathStep[]): string {
  return (
    '$' +
    steps
      .map((s) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(s) ? `.${s}` : `['${s.replace(/['\\]/g, '\\$&')}']`))
      .join('')
  );
}

/** The value at `steps`, or `undefined` when the path does not exist in `value`. */
export function valueAt(value: unknown, steps: readonly PathStep[]): unknown {
  let v: unknown = value;
  for (const s of steps) {
    if (typeof s === 'number') {
      if (!Array.isArray(v) || s >= v.length) return undefined;
      v = v[s];
    } else {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, s)) return undefined;
      v = (v as Record<string, unknown>)[s];
    }
  }
  return v;
}

/**
 * The shape of a value — keys and JSON types only, never a value — e.g.
 * `{predictions: [{label: boolean, score: number}], model: string}`. Depth, keys per object (12) and
 * length are bounded; an array shows its first element's shape. Keys are field names, not data, but a
 * key that looks like data (longer than 40 characters) is shown as `…`.
 */
export function shapeOf(value: unknown, depth = 4): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return depth <= 0 ? '[…]' : `[${shapeOf(value[0], depth - 1)}]`;
  }
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return typeof value;
    case 'object': {
      const keys = Object.keys(value as object);
      if (keys.length === 0) return '{}';
      if (depth <= 0) return '{…}';
      const shown = keys.slice(0, 12).map((k) => {
        const name = k.length > 40 ? '…' : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? k : JSON.stringify(k);
        return `${name}: ${shapeOf((value as Record<string, unknown>)[k], depth - 1)}`;
      });
      if (keys.length > 12) shown.push(`… ${keys.length - 12} more`);
      return `{${shown.join(', ')}}`;
    }
    default:
      return typeof value;
  }
}
