/**
 * `flowgrad sbi train`, `sbi sample` and `sbi eval`: neural posterior estimation from the command line.
 *
 * - train: simulations from a task (`--task`), a simulator module (`--simulator`, in worker threads) or a
 *   CSV file (`--data sims.csv --params K`: the first K columns are θ); rows with NaN or ±∞ are counted,
 *   reported and dropped; writes DIR/config.json and DIR/model.safetensors (src/io's model format, with
 *   the posterior's metadata).
 * - sample: n posterior samples for each row of an observation CSV (a header row, then one row of
 *   numbers per observation); the output has a header of parameter names (and a leading `observation`
 *   column, 1-based, when there are several).
 * - eval: C2ST against the task's reference posterior for a few fresh observations (θ* from the prior
 *   with the given seed, x simulated from it).
 *
 * @module
 */

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../autograd/tensor.ts';
import { toCsv } from '../data/csv.ts';
import { Rng } from '../rng/rng.ts';
import { c2st } from '../sbi/c2st.ts';
import { NeuralPosterior, NPE_DEFAULTS, trainNpe } from '../sbi/npe.ts';
import { referencePosterior } from '../sbi/reference.ts';
import { getTask } from '../sbi/tasks.ts';
import type { CommandSpec, Flags } from './args.ts';
import { CliError, UsageError } from './errors.ts';
import { checkOutFile, readText, writeAtomicChunks, writeFileAtomic } from './fsx.ts';
import { loadSimulator, simulatorSource } from './sbi-simulator.ts';
import { simulateInWorkers } from './sbi-workers.ts';

const FILES = { config: 'config.json', weights: 'model.safetensors' } as const;

/**
 * The flags of `flowgrad sbi train`.
 * @example parseArgs(sbiTrainSpec, ['--task', 'two-moons', '--simulations', '10000', '--out', 'runs/tm']);
 */
export const sbiTrainSpec: CommandSpec = {
  name: 'sbi train',
  summary: 'Trains a neural posterior q(θ | x) (the default NPE recipe: a conditional neural spline flow, 5 couplings × two layers of 50 ReLU units, K = 10 bins) on simulations from a task, your simulator module, or a CSV file; writes DIR/config.json and DIR/model.safetensors.',
  usage: '(--task NAME | --simulator FILE.mjs) --simulations N --out DIR [--seed S] [--workers W] [--epochs E] | --data FILE.csv --params K --out DIR [--seed S]',
  flags: {
    task: { type: 'string', value: 'NAME', help: 'a benchmark task (flowgrad sbi tasks); sbibm spelling accepted' },
    simulator: { type: 'string', value: 'FILE.mjs', help: 'a module exporting prior, dataDim and simulate(theta, rng) (see flowgrad sbi simulate --help)' },
    data: { type: 'string', value: 'FILE.csv', help: 'simulations made elsewhere: one row per simulation, θ columns first' },
    params: { type: 'integer', min: 2, max: 100000, value: 'K', help: 'with --data: the number of θ columns' },
    simulations: { type: 'integer', min: 10, max: 100_000_000, value: 'N', help: 'number of simulations (with --task or --simulator)' },
    out: { type: 'string', value: 'DIR', help: 'the folder to write the model to' },
    seed: { type: 'integer', min: 0, max: 4294967295, value: 'S', help: 'seed of the simulations and the training (0)' },
    workers: { type: 'integer', min: 1, max: 256, value: 'W', help: 'simulation worker threads (default: the available cores, at most 8; 1 for a task)' },
    epochs: { type: 'integer', min: 1, max: 1_000_000, value: 'E', help: `maximum training epochs (${NPE_DEFAULTS.epochs}; training stops early when validation stalls for ${NPE_DEFAULTS.patience})` },
    force: { type: 'boolean', help: 'overwrite an existing model in DIR' },
  },
  notes: ['Examples:', '  flowgrad sbi train --task two-moons --simulations 10000 --out runs/two-moons', '  flowgrad sbi train --data sims.csv --params 3 --out runs/mine'],
};

/**
 * The flags of `flowgrad sbi sample`.
 * @example parseArgs(sbiSampleSpec, ['--model', 'runs/tm', '--observation', 'obs.csv', '-n', '10000', '--out', 'post.csv']);
 */
export const sbiSampleSpec: CommandSpec = {
  name: 'sbi sample',
  summary: 'Draws N posterior samples for each observation in a CSV file (a header row, then one row per observation) and writes them as CSV with a header of parameter names.',
  usage: '--model DIR --observation FILE.csv -n N --out FILE.csv [--seed S] [--force]',
  flags: {
    model: { type: 'string', value: 'DIR', help: 'the folder written by sbi train' },
    observation: { type: 'string', value: 'FILE.csv', help: 'the observed data: a header row and one or more rows of numbers' },
    n: { type: 'integer', short: 'n', min: 1, max: 100_000_000, help: 'samples per observation' },
    out: { type: 'string', value: 'FILE.csv', help: 'the CSV file to write (atomically)' },
    seed: { type: 'integer', min: 0, max: 4294967295, value: 'S', help: 'seed of the samples (0)' },
    force: { type: 'boolean', help: 'overwrite an existing --out file' },
  },
  notes: ['Example:', '  flowgrad sbi sample --model runs/two-moons --observation obs.csv -n 10000 --out posterior.csv'],
};

/**
 * The flags of `flowgrad sbi eval`.
 * @example parseArgs(sbiEvalSpec, ['--model', 'runs/tm']);
 */
export const sbiEvalSpec: CommandSpec = {
  name: 'sbi eval',
  summary: "C2ST (sbibm's protocol; 0.5 is perfect) between the model's posterior and the task's reference posterior, for a few fresh observations.",
  usage: '--model DIR [--observations K] [--samples N] [--seed S] [--task NAME]',
  flags: {
    model: { type: 'string', value: 'DIR', help: 'the folder written by sbi train (trained on a task)' },
    observations: { type: 'integer', min: 1, max: 100, value: 'K', help: 'fresh observations (3)' },
    samples: { type: 'integer', min: 100, max: 1_000_000, value: 'N', help: 'samples of each posterior for C2ST (10000, as sbibm)' },
    seed: { type: 'integer', min: 0, max: 4294967295, value: 'S', help: 'seed of the observations and samples (1)' },
    task: { type: 'string', value: 'NAME', help: 'the task the model must have been trained on (default: the one it was)' },
  },
};

/**
 * Reads the posterior in a folder written by `sbi train`; anything missing or corrupt is one CliError.
 * @example const posterior = readPosterior('runs/two-moons');
 */
export function readPosterior(dir: string): NeuralPosterior {
  const configPath = join(dir, FILES.config), weightsPath = join(dir, FILES.weights);
  if (!existsSync(configPath)) throw new CliError(`${dir}: no ${FILES.config} (not a model folder written by flowgrad sbi train)`);
  const configJson = readText(configPath);
  let weights: Uint8Array;
  try {
    weights = new Uint8Array(readFileSync(weightsPath));
  } catch {
    throw new CliError(`${dir}: cannot read ${FILES.weights}`);
  }
  try {
    return NeuralPosterior.load(configJson, weights);
  } catch (e) {
    throw new CliError(`${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * A CSV of simulations or observations that may hold NaN, ±∞ or empty cells (kept as NaN for the
 * caller to count): an optional header row, then rows of numbers of one width.
 * @example readLenientCsv('sims.csv'); // { columns, rows: 1000, cols: 5, data }
 */
export function readLenientCsv(path: string): { columns: string[] | null; data: Tensor } {
  const lines = readText(path).split(/\r?\n/);
  let columns: string[] | null = null, width = -1, start = 0;
  while (start < lines.length && lines[start]!.trim() === '') start++;
  if (start >= lines.length) throw new CliError(`${path}: the file is empty`);
  const first = lines[start]!.split(',').map((c) => c.trim());
  if (first.some((c) => c !== '' && !isNumberCell(c))) {
    columns = first;
    width = first.length;
    start++;
  }
  const values: number[] = [];
  let rows = 0;
  for (let i = start; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue;
    const cells = lines[i]!.split(',').map((c) => c.trim());
    if (width < 0) width = cells.length;
    if (cells.length !== width) throw new CliError(`${path}: line ${i + 1} has ${cells.length} values, expected ${width}${columns !== null ? ` (the header has ${width} columns)` : ''}`);
    cells.forEach((c, j) => {
      if (!isNumberCell(c)) throw new CliError(`${path}: line ${i + 1}, column ${j + 1}: "${c}" is not a number`);
      values.push(c === '' ? NaN : Number(c.replace(/^([+-]?)inf(inity)?$/i, '$1Infinity').replace(/^nan$/i, 'NaN')));
    });
    rows++;
  }
  if (rows === 0) throw new CliError(`${path}: no rows of numbers`);
  return { columns, data: Tensor.from(rows, width, Float64Array.from(values)) };
}

function isNumberCell(c: string): boolean {
  return c === '' || /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(c) || /^(?:nan|[+-]?inf(?:inity)?)$/i.test(c);
}

function nonFiniteRows(t: Tensor): boolean[] {
  const out: boolean[] = new Array(t.rows).fill(false);
  for (let k = 0; k < t.data.length; k++) if (!Number.isFinite(t.data[k]!)) out[Math.floor(k / t.cols)] = true;
  return out;
}

/**
 * Runs `sbi train`.
 * @example await sbiTrain(parseArgs(sbiTrainSpec, ['--task', 'two-moons', '--simulations', '1000', '--out', 'runs/tm']));
 */
export async function sbiTrain(flags: Flags): Promise<number> {
  const out = flags.require<string>('out');
  const seed = flags.integer('seed') ?? 0;
  const force = flags.boolean('force') === true;
  if (existsSync(join(out, FILES.config)) && !force) throw new CliError(`${out} already holds a model; pass --force to overwrite it`);
  let theta: Tensor, x: Tensor, taskName: string | null = null, support = null as { low: readonly number[]; high: readonly number[] } | null;
  let parameterNames: string[], dataNames: string[], source: string, dropped = 0, simulated = 0;
  const dataPath = flags.string('data');
  if (dataPath !== undefined) {
    if (flags.has('task') || flags.has('simulator') || flags.has('simulations')) throw new UsageError('sbi train: --data takes no --task, --simulator or --simulations; see flowgrad sbi train --help');
    const k = flags.require<number>('params');
    const csv = readLenientCsv(dataPath);
    if (csv.data.cols <= k) throw new CliError(`${dataPath}: --params ${k} leaves no data columns (the file has ${csv.data.cols})`);
    const bad = nonFiniteRows(csv.data);
    const keep = bad.map((b, i) => (b ? -1 : i)).filter((i) => i >= 0);
    dropped = csv.data.rows - keep.length;
    simulated = csv.data.rows;
    const d = csv.data.cols, t = new Float64Array(keep.length * k), v = new Float64Array(keep.length * (d - k));
    keep.forEach((r, i) => {
      t.set(csv.data.data.subarray(r * d, r * d + k), i * k);
      v.set(csv.data.data.subarray(r * d + k, (r + 1) * d), i * (d - k));
    });
    theta = Tensor.from(keep.length, k, t);
    x = Tensor.from(keep.length, d - k, v);
    const cols = csv.columns ?? [...Array.from({ length: k }, (_, i) => `theta${i + 1}`), ...Array.from({ length: d - k }, (_, i) => `x${i + 1}`)];
    parameterNames = cols.slice(0, k);
    dataNames = cols.slice(k);
    source = dataPath;
  } else {
    if (flags.has('params')) throw new UsageError('sbi train: --params goes with --data; see flowgrad sbi train --help');
    const src = simulatorSource(flags, 'sbi train');
    const n = flags.require<number>('simulations');
    const { simulator, label } = await loadSimulator(src);
    const workers = flags.integer('workers') ?? (src.kind === 'task' ? 1 : Math.min(8, availableParallelism()));
    const data = await simulateInWorkers(src, n, { seed, workers });
    ({ theta, x, dropped, simulated } = data);
    parameterNames = [...simulator.parameterNames];
    dataNames = [...simulator.dataNames];
    support = simulator.prior.support;
    if (src.kind === 'task') taskName = getTask(src.name).name;
    source = label;
  }
  process.stderr.write(`${source}: ${simulated} simulations${dropped > 0 ? `, ${dropped} dropped (NaN or ±∞)` : ''}; training on ${theta.rows}\n`);
  if (theta.rows < 20) throw new CliError(`${source}: only ${theta.rows} usable simulations; NPE needs more`);
  const started = performance.now();
  let lastLine = 0;
  const { posterior, history } = trainNpe(theta, x, {
    rng: new Rng(seed),
    ...(flags.integer('epochs') !== undefined ? { epochs: flags.integer('epochs')! } : {}),
    support,
    task: taskName,
    parameterNames,
    dataNames,
    onEpoch: (e) => {
      const now = performance.now();
      if (now - lastLine > 2000 || e.epoch === 1) {
        lastLine = now;
        process.stderr.write(`epoch ${e.epoch}: train ${e.trainLoss.toFixed(3)}, validation ${e.valNll.toFixed(3)} (best ${e.bestValNll.toFixed(3)} at epoch ${e.bestEpoch}), ${e.elapsed.toFixed(1)} s\n`);
      }
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const { configJson, weights } = posterior.save({ training: { recipe: NPE_DEFAULTS, seed, source, simulations: simulated, dropped, epochs: history.epochs, bestEpoch: history.bestEpoch, bestValidationLoss: history.bestValNll, stopReason: history.stopReason, seconds } });
  mkdirSync(out, { recursive: true });
  writeFileAtomic(join(out, FILES.weights), weights);
  writeFileAtomic(join(out, FILES.config), configJson);
  process.stderr.write(`trained in ${seconds.toFixed(1)} s (${history.epochs} epochs, ${history.stopReason}, best validation −log q ${history.bestValNll.toFixed(3)} at epoch ${history.bestEpoch}); wrote ${out}\n`);
  return 0;
}

/**
 * Runs `sbi sample`.
 * @example sbiSample(parseArgs(sbiSampleSpec, ['--model', 'runs/tm', '--observation', 'obs.csv', '-n', '100', '--out', 'p.csv']));
 */
export function sbiSample(flags: Flags): number {
  const posterior = readPosterior(flags.require<string>('model'));
  const obsPath = flags.require<string>('observation');
  const n = flags.require<number>('n');
  const out = flags.require<string>('out');
  checkOutFile(out, flags.boolean('force') === true);
  const obs = readLenientCsv(obsPath).data;
  const { xDim, dataNames, task } = posterior.meta;
  if (obs.cols !== xDim) throw new CliError(`${obsPath}: the observation has ${obs.cols} columns, the model${task !== null ? ` (task ${task})` : ''} expects ${xDim} (${dataNames.join(', ')})`);
  for (let k = 0; k < obs.data.length; k++) {
    if (!Number.isFinite(obs.data[k]!)) throw new CliError(`${obsPath}: observation row ${Math.floor(k / xDim) + 1}, column ${dataNames[k % xDim]} is ${obs.data[k]}; an observation must be finite`);
  }
  const rng = new Rng(flags.integer('seed') ?? 0);
  const several = obs.rows > 1;
  const header = (several ? ['observation', ...posterior.meta.parameterNames] : posterior.meta.parameterNames).join(',') + '\n';
  function* chunks(): Generator<string> {
    yield header;
    for (let r = 0; r < obs.rows; r++) {
      const row = obs.data.subarray(r * xDim, (r + 1) * xDim);
      for (let done = 0; done < n; done += 10_000) {
        const m = Math.min(10_000, n - done);
        let s = posterior.sample(m, row, rng);
        if (several) {
          const d = s.cols, withIndex = new Float64Array(m * (d + 1));
          for (let i = 0; i < m; i++) {
            withIndex[i * (d + 1)] = r + 1;
            withIndex.set(s.data.subarray(i * d, (i + 1) * d), i * (d + 1) + 1);
          }
          s = Tensor.from(m, d + 1, withIndex);
        }
        yield toCsv(s);
      }
    }
  }
  writeAtomicChunks(out, chunks());
  process.stderr.write(`wrote ${n} samples for each of ${obs.rows} observation${several ? 's' : ''} to ${out}\n`);
  return 0;
}

/**
 * Runs `sbi eval`.
 * @example sbiEval(parseArgs(sbiEvalSpec, ['--model', 'runs/tm']));
 */
export function sbiEval(flags: Flags): number {
  const dir = flags.require<string>('model');
  const posterior = readPosterior(dir);
  const trained = posterior.meta.task;
  const asked = flags.string('task');
  if (trained === null) throw new CliError(`${dir}: this model was trained on simulations of your own (not a benchmark task), so there is no reference posterior to compare with`);
  if (asked !== undefined && getTask(asked).name !== trained) throw new CliError(`${dir}: the model was trained for task ${trained}, not ${getTask(asked).name}`);
  const task = getTask(trained);
  const K = flags.integer('observations') ?? 3, samples = flags.integer('samples') ?? 10000, seed = flags.integer('seed') ?? 1;
  const rng = new Rng(seed);
  const scores: number[] = [];
  for (let k = 1; k <= K; k++) {
    const theta = task.prior.sample(1, rng), x = task.simulate(theta, rng).data;
    const ref = referencePosterior(task, x).sample(samples, rng.fork());
    const q = posterior.sample(samples, x, rng.fork());
    const score = c2st(ref, q, { rng: rng.fork() });
    scores.push(score);
    process.stdout.write(`observation ${k}: C2ST ${score.toFixed(3)}\n`);
  }
  const mean = scores.reduce((s, v) => s + v, 0) / scores.length;
  process.stdout.write(`task ${trained}: mean C2ST ${mean.toFixed(3)} over ${K} fresh observations (seed ${seed}, ${samples} samples each; 0.5 is perfect)\n`);
  return 0;
}
