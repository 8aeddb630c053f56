/**
 * `flowgrad eval`: the test NLL of a trained model on a CSV file or on fresh points of a toy data set,
 * and KL(p‖q) with its standard error where the data set's density is known.
 *
 * @module
 */

import type { Tensor } from '../autograd/tensor.ts';
import { datasets } from '../data/datasets.ts';
import { Rng } from '../rng/rng.ts';
import type { Target } from '../data/target.ts';
import { evaluate } from '../train/evaluate.ts';
import type { CommandSpec, Flags } from './args.ts';
import { datasetByName, readCsv } from './data.ts';
import { CliError, UsageError } from './errors.ts';
import { formatEvaluation, jsonNumbers } from './report.ts';
import { readRun } from './run-dir.ts';

/**
 * The flags and help text of `flowgrad eval`.
 * @example parseArgs(evalSpec, ['--model', 'runs/post', '--dataset', 'post-mixture']);
 */
export const evalSpec: CommandSpec = {
  name: 'eval',
  summary: 'Evaluates a trained model: test NLL in nats and bits/dim, and KL(p‖q) ± its standard error and the entropy H(p) when the data set\'s density is known.',
  usage: '--model DIR  --data FILE.csv | --dataset NAME  [--n N] [--seed S] [--json]',
  flags: {
    model: { type: 'string', value: 'DIR', help: 'the run folder written by train' },
    data: { type: 'string', value: 'FILE.csv', help: 'evaluate on every row of a CSV file' },
    dataset: { type: 'string', value: 'NAME', choices: Object.keys(datasets), help: 'evaluate on fresh points of a toy data set' },
    n: { type: 'integer', min: 2, help: 'points drawn from --dataset (10000)' },
    seed: { type: 'integer', min: 0, max: 4294967295, value: 'S', help: 'seed of the --dataset points (1)' },
    json: { type: 'boolean', help: 'print one JSON object: nll, nllStdErr, bitsPerDim, n and, where known, kl, klStdErr, entropy' },
  },
  notes: ['Example:', '  flowgrad eval --model runs/post --dataset post-mixture --json'],
};

/**
 * Runs `eval`; returns the exit code.
 * @example evalCommand(parseArgs(evalSpec, ['--model', 'runs/post', '--dataset', 'post-mixture'])); // 0, prints the test NLL and KL
 */
export function evalCommand(flags: Flags): number {
  const dir = flags.require<string>('model');
  const dataPath = flags.string('data');
  const datasetName = flags.string('dataset');
  if ((dataPath === undefined) === (datasetName === undefined)) throw new UsageError('eval: give exactly one of --data FILE.csv or --dataset NAME; see flowgrad eval --help');
  if (dataPath !== undefined && (flags.has('n') || flags.has('seed'))) throw new UsageError('eval: --n and --seed apply to --dataset only; see flowgrad eval --help');
  const run = readRun(dir);
  let x: Tensor, target: Target | undefined, name: string;
  if (datasetName !== undefined) {
    target = datasetByName(datasetName);
    if (target.dim !== run.flow.dim) throw new CliError(`${datasetName} has ${target.dim} columns, the model in ${dir} expects ${run.flow.dim}`);
    x = target.sample(flags.integer('n') ?? 10_000, new Rng(flags.integer('seed') ?? 1));
    name = datasetName;
  } else {
    const csv = readCsv(dataPath!);
    if (csv.data.cols !== run.flow.dim) throw new CliError(`${dataPath} has ${csv.data.cols} columns, the model in ${dir} expects ${run.flow.dim}`);
    if (csv.hasHeader && csv.columns.join(',') !== run.columns.join(',') && run.data !== null) {
      throw new CliError(`${dataPath} has columns ${csv.columns.join(', ')}, the model was trained on ${run.columns.join(', ')}`);
    }
    x = csv.data;
    name = dataPath!;
  }
  const e = evaluate(run.flow, x, target);
  if (flags.boolean('json') === true) {
    process.stdout.write(JSON.stringify({ model: dir, data: name, ...e }, jsonNumbers) + '\n');
  } else {
    process.stdout.write(`Model ${dir} on ${name}:\n`);
    process.stdout.write(formatEvaluation(e, name));
  }
  return 0;
}
