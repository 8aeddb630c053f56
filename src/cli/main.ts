#!/usr/bin/env node
/**
 * The `flowgrad` command line: `train`, `eval`, `sample`, `plot`, `info` and `help`. This folder is the
 * only part of flowgrad that uses Node's modules.
 *
 * Every failure is one line `flowgrad: <message>` on stderr, exit code 2 for a wrong command line and 1
 * for anything else (a missing file, bad data, a corrupt model), without a stack trace unless
 * FLOWGRAD_DEBUG=1.
 *
 * Run it in a clone with `npm run cli -- <command>` or `npx tsx src/cli/main.ts <command>`.
 *
 * @module
 */

import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatHelp, parseArgs, wantsHelp, type CommandSpec, type Flags } from './args.ts';
import { CliError, isUserError, oneLine, UsageError } from './errors.ts';
import { evalCommand, evalSpec } from './eval.ts';
import { info, infoSpec } from './info.ts';
import { plot, plotSpec } from './plot.ts';
import { sample, sampleSpec } from './sample.ts';
import { train, trainSpec } from './train.ts';
import { sbiMain } from './sbi.ts';

interface Command {
  spec: CommandSpec;
  /** One line for the command list. */
  brief: string;
  run: (flags: Flags) => number | Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  train: { spec: trainSpec, brief: 'train a flow on a toy data set or a CSV file; writes a run folder', run: train },
  eval: { spec: evalSpec, brief: 'test NLL (and KL where the density is known) of a trained model', run: evalCommand },
  sample: { spec: sampleSpec, brief: 'draw points from a trained model as CSV', run: sample },
  plot: { spec: plotSpec, brief: "redraw a run's figures (the post's Figure 1, samples, density, loss)", run: plot },
  info: { spec: infoSpec, brief: 'show a model: config, parameters, layers, training, metrics', run: info },
};

/**
 * The top-level help.
 * @example process.stdout.write(globalHelp()); // 'Usage: flowgrad <command> [flags]\n...'
 */
export function globalHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 4;
  const lines = [
    'Usage: flowgrad <command> [flags]',
    '',
    'RealNVP normalizing flows from the command line: train on a toy data set or your CSV file, evaluate,',
    'sample and plot.',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.brief}`),
    `  ${'sbi'.padEnd(width)}simulation-based inference: tasks, simulate, train, sample, eval, check (flowgrad sbi --help)`,
    `  ${'help'.padEnd(width)}this help; 'flowgrad help <command>' or 'flowgrad <command> --help' for a command's flags`,
    '',
    'Examples:',
    '  flowgrad train --dataset post-mixture --preset post --out runs/post',
    '  flowgrad train --data measurements.csv --out runs/mine',
    '  flowgrad eval --model runs/post --dataset post-mixture',
    '  flowgrad sample --model runs/mine -n 1000 --out samples.csv',
    '',
    'Errors are one line on stderr; exit code 2 for a wrong command line (and for no command at all), 1 otherwise,',
    '130 after Ctrl-C. FLOWGRAD_DEBUG=1 shows stack traces.',
  ];
  return lines.join('\n') + '\n';
}

function nearest(name: string): string {
  for (const known of Object.keys(COMMANDS)) {
    if (known.startsWith(name) || name.startsWith(known) || (known.length === name.length && [...known].filter((ch, i) => ch !== name[i]).length <= 2)) return ` (did you mean ${known}?)`;
  }
  return '';
}

/**
 * Runs the command line `argv` (without `node` and the script) and returns the exit code. Errors are
 * printed, never thrown.
 *
 * @example process.exitCode = await main(['info', '--model', 'runs/post']);
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const [name, ...rest] = argv;
    if (name === undefined) {
      // No command is a mistake (a script that lost its arguments should not pass): usage on stderr, exit 2.
      process.stderr.write(globalHelp());
      return 2;
    }
    if (name === 'help' || name === '--help' || name === '-h') {
      const topic = name === 'help' ? rest[0] : undefined;
      if (topic !== undefined) {
        const command = COMMANDS[topic];
        if (command === undefined || !Object.prototype.hasOwnProperty.call(COMMANDS, topic)) throw new UsageError(`unknown command "${topic}"${nearest(topic)}; see flowgrad --help`);
        process.stdout.write(formatHelp(command.spec));
      } else {
        process.stdout.write(globalHelp());
      }
      return 0;
    }
    if (name === '--version' || name === '-v') {
      process.stdout.write(`flowgrad ${version()}\n`);
      return 0;
    }
    if (name === 'sbi') return await sbiMain(rest);
    if (!Object.prototype.hasOwnProperty.call(COMMANDS, name)) {
      throw new UsageError(name.startsWith('-') ? `expected a command before ${name}; see flowgrad --help` : `unknown command "${name}"${nearest(name)}; see flowgrad --help`);
    }
    const command = COMMANDS[name]!;
    if (wantsHelp(rest)) {
      process.stdout.write(formatHelp(command.spec));
      return 0;
    }
    return await command.run(parseArgs(command.spec, rest));
  } catch (e) {
    return report(e);
  }
}

/**
 * The version in package.json (two folders up from both src/cli/main.ts and dist/cli/main.js).
 * @example version(); // '0.1.0'
 */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Prints an error as one line (or with its stack under FLOWGRAD_DEBUG=1) and returns the exit code. */
function report(e: unknown): number {
  const debug = process.env.FLOWGRAD_DEBUG === '1';
  if (debug && e instanceof Error && e.stack !== undefined) process.stderr.write(`${e.stack}\n`);
  if (e instanceof CliError) {
    process.stderr.write(`flowgrad: ${oneLine(e)}\n`);
    return e.exitCode;
  }
  // flowgrad's own validation errors (bad data, a model that cannot be built) are messages for the user;
  // anything else is a bug, and says so. Classified by class (errors.ts), not by wording.
  const known = isUserError(e);
  const hint = debug ? '' : ' (set FLOWGRAD_DEBUG=1 for the stack trace)';
  process.stderr.write(known ? `flowgrad: ${oneLine(e)}\n` : `flowgrad: internal error: ${oneLine(e)}${hint}\n`);
  return 1;
}

// Run when executed directly (not when imported by a test).
const entry = process.argv[1];
let isEntry = false;
try {
  isEntry = entry !== undefined && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
} catch {
  isEntry = false;
}
if (isEntry) {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    // `flowgrad sample ... | head`: the reader went away; stop quietly.
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
