/**
 * `flowgrad sample`: draws points from a trained model, as CSV on stdout or into a file.
 *
 * @module
 */

import { Rng } from '../rng/rng.ts';
import { toCsv } from '../data/csv.ts';
import type { CommandSpec, Flags } from './args.ts';
import { checkOutFile, writeAtomicChunks } from './fsx.ts';
import { formatCount } from './report.ts';
import { readRun } from './run-dir.ts';

/**
 * The flags and help text of `flowgrad sample`.
 * @example parseArgs(sampleSpec, ['--model', 'runs/post', '-n', '1000']);
 */
export const sampleSpec: CommandSpec = {
  name: 'sample',
  summary: 'Draws N points from a trained model and writes them as CSV (a header row with the training columns, or x0,x1,...), to stdout or to --out FILE.csv.',
  usage: '--model DIR -n N [--seed S] [--out FILE.csv] [--force]',
  flags: {
    model: { type: 'string', value: 'DIR', help: 'the run folder written by train' },
    n: { type: 'integer', short: 'n', min: 1, max: 100_000_000, help: 'number of points' },
    seed: { type: 'integer', min: 0, max: 4294967295, value: 'S', help: 'seed of the samples (0)' },
    out: { type: 'string', value: 'FILE.csv', help: 'write to this file instead of stdout (atomically)' },
    force: { type: 'boolean', help: 'overwrite an existing --out file' },
  },
  notes: ['Example:', '  flowgrad sample --model runs/post -n 1000 --out samples.csv'],
};

/**
 * Runs `sample`; returns the exit code.
 * @example sample(parseArgs(sampleSpec, ['--model', 'runs/post', '-n', '1000', '--out', 'samples.csv'])); // 0
 */
export function sample(flags: Flags): number {
  const dir = flags.require<string>('model');
  const n = flags.require<number>('n');
  const out = flags.string('out');
  if (out !== undefined) checkOutFile(out, flags.boolean('force') === true);
  const run = readRun(dir);
  for (const note of run.notes) process.stderr.write(`flowgrad: note: ${note}\n`);
  const rng = new Rng(flags.integer('seed') ?? 0);
  // In chunks, so that memory stays small for large n; the stream of base draws is the same as in one go.
  const chunk = 10_000;
  const header = run.columns.join(',') + '\n';
  // Progress on stderr for long runs (at most every two seconds), so a large -n is not a silent wait.
  let last = performance.now();
  function* csvChunks(): Generator<string> {
    yield header;
    for (let done = 0; done < n; done += chunk) {
      yield toCsv(run.flow.sample(Math.min(chunk, n - done), rng));
      const t = performance.now();
      if (t - last >= 2000) {
        last = t;
        process.stderr.write(`flowgrad: sampled ${formatCount(Math.min(n, done + chunk))} of ${formatCount(n)} points\n`);
      }
    }
  }
  if (out === undefined) {
    for (const text of csvChunks()) process.stdout.write(text);
    return 0;
  }
  // Streamed into the temporary file chunk by chunk, then renamed: memory stays small for any n.
  writeAtomicChunks(out, csvChunks());
  return 0;
}
