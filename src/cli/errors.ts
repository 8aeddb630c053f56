/**
 * The command line's errors: each becomes one line `flowgrad: <message>` on stderr and an exit code
 * (2 for usage errors, 1 for everything else).
 *
 * @module
 */

/**
 * A failure to report to the user without a stack trace: a missing file, bad data, a corrupt model.
 * @example throw new CliError('data.csv: no such file');
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    /** The process exit code. */
    readonly exitCode: number = 1,
  ) {
    super(message);
  }
}

/**
 * A wrong command line: an unknown flag, a missing or malformed value. Exit code 2; the message ends
 * with where to find help, e.g. `unknown flag --epoch (did you mean --epochs?); see flowgrad train --help`.
 *
 * @example throw new UsageError('train: --out is required; see flowgrad train --help');
 */
export class UsageError extends CliError {
  override readonly name: string = 'UsageError';
  constructor(message: string) {
    super(message, 2);
  }
}

/**
 * The one line printed for an error: multi-line messages are joined, and errors that are not ours are
 * named so that a bug does not pass for a user mistake.
 *
 * @example oneLine(new RangeError('bad\n  value')); // 'bad; value'
 */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const flat = message.split('\n').map((s) => s.trim()).filter((s) => s !== '').join('; ').replace(/:;/g, ':');
  return flat === '' ? (error instanceof Error ? error.name : 'unknown error') : flat;
}
