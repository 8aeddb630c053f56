/**
 * The command line's errors: each becomes one line `flowgrad: <message>` on stderr and an exit code
 * (2 for usage errors, 1 for everything else).
 *
 * @module
 */

import { ShapeError } from '../autograd/tensor.ts';
import { CsvError } from '../data/csv.ts';
import { FlowInputError } from '../flow/bijection.ts';
import { ModelFileError } from '../io/model.ts';
import { SafetensorsError } from '../io/safetensors.ts';
import { StateDictError } from '../nn/module.ts';
import { OptimizerStateDictError } from '../optim/optimizer.ts';
import { CheckpointError } from '../train/checkpoint.ts';
import { TrainingDivergedError } from '../train/fit.ts';

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

/**
 * The library's error classes that describe the user's input (bad data, a model file that does not
 * fit, a shape that cannot be used), reported as one line like a CliError; any other error is a bug
 * and is reported as an internal error. Classified by class, never by message wording. RangeError is
 * what the library throws for an out-of-range value.
 */
const USER_ERRORS: readonly (new (...args: never[]) => Error)[] = [
  ShapeError, FlowInputError, StateDictError, OptimizerStateDictError, CheckpointError, TrainingDivergedError, CsvError, ModelFileError, SafetensorsError, RangeError,
];

/**
 * Whether an error describes the user's input (one line, exit 1) rather than a bug in flowgrad.
 * @example isUserError(new CsvError('line 2: "a" is not a number', 2, 1, 'a')); // true
 */
export function isUserError(e: unknown): boolean {
  return e instanceof CliError || USER_ERRORS.some((C) => e instanceof C);
}

/**
 * An error as it crosses a worker boundary (structured clone keeps neither class nor fields).
 * @example const wire: WireError = errorToWire(new CliError('no such file', 1));
 */
export interface WireError {
  /** The class name, for rebuilding. */
  name: string;
  message: string;
  stack: string | undefined;
  /** A CliError's exit code. */
  exitCode: number | null;
  /** Whether it is a user error (see {@link isUserError}). */
  user: boolean;
}

/**
 * @example worker.postMessage({ type: 'error', error: errorToWire(e) });
 */
export function errorToWire(e: unknown): WireError {
  const error = e instanceof Error ? e : new Error(String(e));
  return { name: error.name, message: error.message, stack: error.stack, exitCode: e instanceof CliError ? e.exitCode : null, user: isUserError(e) };
}

/**
 * Rebuilds an error sent by {@link errorToWire}: a user error becomes a CliError with the same message
 * and exit code; anything else an Error of the same name and stack (an internal error).
 * @example reject(errorFromWire(reply.error));
 */
export function errorFromWire(w: WireError): Error {
  const error = w.user ? new CliError(w.message, w.exitCode ?? 1) : new Error(w.message);
  if (!w.user) Object.defineProperty(error, 'name', { value: w.name });
  if (w.stack !== undefined) error.stack = w.stack;
  return error;
}
