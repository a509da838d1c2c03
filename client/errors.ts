/**
 * The CLI's failures, each tied to an exit code. Commands throw these (or let Temporal's errors through);
 * only client/cli.ts turns them into a message and an exit code.
 */

/** The documented exit codes (see `glidepath --help` and the README). */
export const ExitCode = { ok: 0, notPromoted: 1, invalidInput: 2, unreachable: 3, waitTimedOut: 4 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI knows how to explain: a one-line message and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** Thrown when the command line, a plan file or a message is not valid (exit 2). */
export class InvalidInputError extends CliError {
  constructor(
    message: string,
    /** Extra lines (e.g. every plan issue with its path), printed after the message. */
    readonly details: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, ExitCode.invalidInput, options);
    this.name = 'InvalidInputError';
  }
}

/** Thrown when Temporal (or Azure, through the rollout) cannot be reached or answers with an error (exit 3). */
export class UnreachableError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.unreachable, options);
    this.name = 'UnreachableError';
  }
}

/** Thrown when no rollout matches the id or endpoint given (exit 2: the input names nothing). */
export class RolloutNotFoundError extends InvalidInputError {
  constructor(what: string, options?: { cause?: unknown }) {
    super(`no rollout found for ${what}`, [], options);
    this.name = 'RolloutNotFoundError';
  }
}

/** Thrown by a running rollout's update validator: the message cannot apply now (exit 2). */
export class MessageRefusedError extends InvalidInputError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`refused: ${reason}`, [], options);
    this.name = 'MessageRefusedError';
  }
}

/** Thrown when the namespace lacks Glidepath's search attributes (exit 3: the server is not set up, not the input). */
export class SetupNeededError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.unreachable, options);
    this.name = 'SetupNeededError';
  }
}

/** Thrown when no worker polls the task queue a rollout runs on (exit 3): nothing would ever answer. */
export class NoWorkerError extends CliError {
  constructor(
    readonly taskQueue: string,
    options?: { cause?: unknown },
  ) {
    super(`no worker polls task queue '${taskQueue}': start one (glidepath worker with GLIDEPATH_TASK_QUEUE=${taskQueue}) — the rollout waits for it`, ExitCode.unreachable, options);
    this.name = 'NoWorkerError';
  }
}
