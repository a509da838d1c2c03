// Errors of the KQL interpreter. Each names the construct at fault and where it is (offset, line, column),
// so the Logs query API can answer 400 with Azure's envelope and a person can find the mistake.

/** What went wrong: the text does not parse, a name or type does not fit, or the construct is valid Kusto the emulator does not run. */
export type KqlErrorKind = 'syntax' | 'semantic' | 'unsupported';

/** Thrown for a query the interpreter refuses; `offset` is 0-based, `line` and `column` 1-based. */
export class KqlError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(
    readonly kind: KqlErrorKind,
    readonly detail: string,
    readonly offset: number,
    readonly token: string,
    text: string,
  ) {
    const { line, column } = lineColumn(text, offset);
    super(`${detail} (line ${line}, column ${column})`);
    this.name = 'KqlError';
    this.line = line;
    this.column = column;
  }
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}
