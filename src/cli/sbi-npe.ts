/**
 * `flowgrad sbi train`, `sbi sample` and `sbi eval`: neural posterior estimation from the command line.
 *
 * - train: simulations from a task (`--task`), a simulator module (`--simulator`, in worker threads) or a
 *   CSV file (`--data sims.csv --params K`: the first K columns are θ); rows with NaN or ±∞ are counted,
 *   reported and dropped; writes a run folder (`sbi-run.ts`): the simulations first, before training,
 *   then DIR/config.json and DIR/model.safetensors (src/io's model format, with the posterior's metadata
 *   and the training's `status`). `--out` is checked before any work; Ctrl-C and divergence keep the run
 *   (with a checkpoint), and `--resume DIR` continues it bit for bit.
 * - sample: n posterior samples for each row of an observation CSV (a header row, then one row of
 *   numbers per observation); the output has a header of parameter names (and a leading `observation`
 *   column, 1-based, when there are several).
 * - eval: C2ST against the task's reference posterior for a few fresh observations (θ* from the prior
 *   with the given seed, x simulated from it).
 *
 * @module
 */

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../autograd/tensor.ts';
import { toCsv } from '../data/csv.ts';
import { readModelConfig } from '../io/model.ts';
import { Rng } from '../rng/rng.ts';
import { c2st } from '../sbi/c2st.ts';
import { NeuralPosterior, NPE_DEFAULTS, type NpeArchitecture, type NpeState } from '../sbi/npe.ts';
import { referencePosterior } from '../sbi/reference.ts';
import { getTask } from '../sbi/tasks.ts';
import type { CommandSpec, Flags } from './args.ts';
import { CliError, UsageError } from './errors.ts';
import { checkOutFile, linkChecked, readBytes, readText, removeTree, writeAtomicChunks, writeFileAtomic } from './fsx.ts';
import { isRegularFile } from './run-dir.ts';
import { besideRun, commitRun, planOut, recoverSwap, type OutPlan } from './run-out.ts';
import { readSimulations, SBI_FILES, SBI_WRITES, writeSimulations, type SimulationsRecord } from './sbi-run.ts';
import { loadSimulator, simulatorSource } from './sbi-simulator.ts';
import { readSbiCheckpoint, runSbiTrainJob, startingCheckpoint, type SbiJobOutcome, type SbiRunSpec } from './sbi-train-job.ts';
import { SimulationAborted, simulateInWorkers } from './sbi-workers.ts';

const FILES = { config: 'config.json', weights: 'model.safetensors' } as const;

/**
 * The flags of `flowgrad sbi train`.
 * @example parseArgs(sbiTrainSpec, ['--task', 'two-moons', '--simulations', '10000', '--out', 'runs/tm']);
 */
export const sbiTrainSpec: CommandSpec = {
  name: 'sbi train',
  summary: 'Trains a neural posterior q(θ | x) (the default NPE recipe: a conditional neural spline flow, 5 couplings × two layers of 50 ReLU units, K = 10 bins, then a small candidate, 3 couplings × 16, K = 4, kept where its validation loss is lower) on simulations from a task, your simulator module, or a CSV file; writes DIR/simulations.csv (before training), DIR/config.json and DIR/model.safetensors.',
  usage: '(--task NAME | --simulator FILE.mjs) --simulations N --out DIR [--seed S] [--workers W] [--epochs E] [--lr X] | --data FILE.csv --params K --out DIR [--seed S]   or   --resume DIR [--epochs E] [--lr X]',
  flags: {
    task: { type: 'string', value: 'NAME', help: 'a benchmark task (flowgrad sbi tasks); sbibm spelling accepted' },
    simulator: { type: 'string', value: 'FILE.mjs', help: 'a module exporting prior, dataDim and simulate(theta, rng) (see flowgrad sbi simulate --help)' },
    data: { type: 'string', value: 'FILE.csv', help: 'simulations made elsewhere: one row per simulation, θ columns first' },
    params: { type: 'integer', min: 2, max: 100000, value: 'K', help: 'with --data: the number of θ columns' },
    simulations: { type: 'integer', min: 10, max: 100_000_000, value: 'N', help: 'number of simulations (with --task or --simulator)' },
    out: { type: 'string', value: 'DIR', help: 'the run folder to write (checked before anything is simulated; refused if it exists and is not empty, unless --force)' },
    seed: { type: 'integer', min: 0, max: 4294967295, value: 'S', help: 'seed of the simulations and the training (0)' },
    workers: { type: 'integer', min: 1, max: 256, value: 'W', help: 'simulation worker threads (default: the available cores, at most 8; 1 for a task)' },
    epochs: { type: 'integer', min: 1, max: 1_000_000, value: 'E', help: `maximum training epochs (${NPE_DEFAULTS.epochs}; training stops early when validation stalls for ${NPE_DEFAULTS.patience})` },
    lr: { type: 'number', min: 0, exclusiveMin: true, value: 'X', help: `Adam's learning rate (${NPE_DEFAULTS.lr}); with --resume it replaces the rate the run had reached` },
    force: { type: 'boolean', help: 'replace an earlier run in DIR (only the files a flowgrad run wrote; yours are kept)' },
    resume: { type: 'string', value: 'DIR', help: 'continue an interrupted or diverged run from its checkpoint, on its saved simulations (never simulated again)' },
  },
  notes: [
    'The simulations are written to DIR/simulations.csv (with DIR/simulations.json: their source, seed and the',
    'NaN/±∞ rows dropped) before training starts. Ctrl-C while simulating keeps nothing (DIR is left as it was);',
    'Ctrl-C while training stops after the current step, writes the best posterior so far (config.json says',
    '"status": "interrupted"; sbi sample, eval and check read it) and a checkpoint, and exits 130; continue with',
    '--resume DIR, which ends on the same weights, bit for bit, as a run that was never stopped. A run that',
    'diverges keeps its last good state, marked "diverged", and exits 1 with what to try.',
    '',
    'Two architectures train in turn on the same split: the main flow, then the small candidate, which stops',
    'once it has trained as many epochs as the main flow without a lower validation loss; the lower one is',
    'kept (config.json\'s training.candidates lists both). A checkpoint says which one was training, so',
    '--resume continues inside either.',
    '',
    'Examples:',
    '  flowgrad sbi train --task two-moons --simulations 10000 --out runs/two-moons',
    '  flowgrad sbi train --data sims.csv --params 3 --out runs/mine',
    '  flowgrad sbi train --resume runs/two-moons',
  ],
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
 * A posterior whose training did not complete (interrupted, or diverged) is valid and is returned; `note`
 * (default: a line on stderr) is told so, with how to finish it.
 * @example const posterior = readPosterior('runs/two-moons');
 */
export function readPosterior(dir: string, note: ((text: string) => void) | null = (text) => process.stderr.write(`flowgrad: note: ${text}\n`)): NeuralPosterior {
  recoverSwap(dir);
  const configPath = join(dir, FILES.config), weightsPath = join(dir, FILES.weights);
  if (!existsSync(configPath)) throw new CliError(`${dir}: no ${FILES.config} (not a model folder written by flowgrad sbi train)`);
  const configJson = readText(configPath);
  let weights: Uint8Array;
  try {
    weights = new Uint8Array(readFileSync(weightsPath));
  } catch {
    throw new CliError(`${dir}: cannot read ${FILES.weights}`);
  }
  let posterior: NeuralPosterior, training: { status?: unknown; epochs?: unknown; bestEpoch?: unknown } | undefined;
  try {
    posterior = NeuralPosterior.load(configJson, weights);
    training = readModelConfig(configJson).extra.training as typeof training;
  } catch (e) {
    throw new CliError(`${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const status = training?.status;
  if (note !== null && (status === 'interrupted' || status === 'diverged')) {
    const at = `epoch ${String(training!.epochs)}${typeof training!.bestEpoch === 'number' && training!.bestEpoch > 0 ? `, best validation epoch ${training!.bestEpoch}` : ''}`;
    note(status === 'interrupted'
      ? `${dir} holds an interrupted training (stopped at ${at}): a valid posterior, trained for fewer epochs than asked; finish it with flowgrad sbi train --resume ${dir}`
      : `${dir} holds a training that diverged (${at}): its last good posterior; continue it with flowgrad sbi train --resume ${dir} --lr X (a lower rate)`);
  }
  return posterior;
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

/** Seconds between the checkpoints of a training (besides the one written at a stop or a divergence). */
const CHECKPOINT_SECONDS = 10;

/** How `sbi train` answers Ctrl-C (SIGINT) and SIGTERM, by phase. */
interface Interrupts {
  /** Aborted at the first press while simulating. */
  signal: AbortSignal;
  /** Set to 1 at the first press: training stops after the current step. */
  flag: Int32Array;
  phase: 'simulating' | 'training' | 'writing';
  /** The last checkpoint written (beside the run folder until the run is swapped in). */
  checkpoint: { epoch: number; steps: number } | null;
  dispose(): void;
}

function listenForInterrupts(out: string, staging: string): Interrupts {
  const controller = new AbortController();
  let presses = 0, lastPress = -Infinity;
  const state: Interrupts = {
    signal: controller.signal,
    flag: new Int32Array(new SharedArrayBuffer(4)),
    phase: 'simulating',
    checkpoint: null,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
  function onSignal(): void {
    const t = performance.now();
    // npm and tsx relay the terminal's Ctrl-C to us once more: within half a second it is the same press.
    if (t - lastPress < 500) return;
    lastPress = t;
    presses++;
    if (presses === 1) {
      Atomics.store(state.flag, 0, 1);
      controller.abort();
      const what = state.phase === 'simulating' ? 'stopping the simulations (none is kept half-written)'
        : state.phase === 'training' ? 'stopping after the current step; writing the best posterior so far and a checkpoint beside the simulations'
        : 'finishing the files being written';
      process.stderr.write(`\nflowgrad: ${what} (Ctrl-C again: quit at once)\n`);
      return;
    }
    const kept = state.phase !== 'simulating' && state.checkpoint !== null
      ? `the simulations and the checkpoint of epoch ${state.checkpoint.epoch}, step ${state.checkpoint.steps} stay in ${staging}; continue with flowgrad sbi train --resume ${out}`
      : state.phase === 'simulating' ? `nothing was kept; ${out} is as it was` : `nothing new was kept; ${out} is as it was`;
    process.stderr.write(`flowgrad: quitting at once; ${kept}\n`);
    process.exit(130);
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return state;
}

/** The simulations to train on, with their record (before it gets its row count and hash). */
interface Gathered {
  theta: Tensor;
  x: Tensor;
  about: Omit<SimulationsRecord, 'format' | 'rows' | 'sha256'>;
}

/** Reads `--data` (rows with NaN or ±∞ counted and dropped) or runs the simulator. */
async function gather(flags: Flags, seed: number, interrupts: Interrupts): Promise<Gathered> {
  const dataPath = flags.string('data');
  if (dataPath !== undefined) {
    const k = flags.require<number>('params');
    const csv = readLenientCsv(dataPath);
    if (csv.data.cols <= k) throw new CliError(`${dataPath}: --params ${k} leaves no data columns (the file has ${csv.data.cols})`);
    const bad = nonFiniteRows(csv.data);
    const keep = bad.map((b, i) => (b ? -1 : i)).filter((i) => i >= 0);
    const d = csv.data.cols, t = new Float64Array(keep.length * k), v = new Float64Array(keep.length * (d - k));
    keep.forEach((r, i) => {
      t.set(csv.data.data.subarray(r * d, r * d + k), i * k);
      v.set(csv.data.data.subarray(r * d + k, (r + 1) * d), i * (d - k));
    });
    const cols = csv.columns ?? [...Array.from({ length: k }, (_, i) => `theta${i + 1}`), ...Array.from({ length: d - k }, (_, i) => `x${i + 1}`)];
    return {
      theta: Tensor.from(keep.length, k, t),
      x: Tensor.from(keep.length, d - k, v),
      about: { source: dataPath, task: null, seed, simulated: csv.data.rows, dropped: csv.data.rows - keep.length, parameterNames: cols.slice(0, k), dataNames: cols.slice(k), support: null },
    };
  }
  const src = simulatorSource(flags, 'sbi train');
  const n = flags.require<number>('simulations');
  const { simulator, label } = await loadSimulator(src);
  const workers = flags.integer('workers') ?? (src.kind === 'task' ? 1 : Math.min(8, availableParallelism()));
  process.stderr.write(`${label}: simulating ${n} on ${workers} worker${workers > 1 ? 's' : ''}\n`);
  const data = await simulateInWorkers(src, n, { seed, workers, signal: interrupts.signal });
  const support = simulator.prior.support;
  return {
    theta: data.theta,
    x: data.x,
    about: {
      source: label, task: src.kind === 'task' ? getTask(src.name).name : null, seed, simulated: data.simulated, dropped: data.dropped,
      parameterNames: [...simulator.parameterNames], dataNames: [...simulator.dataNames], support: support === null ? null : { low: [...support.low], high: [...support.high] },
    },
  };
}

/**
 * Runs `sbi train`: checks the output folder before any work, simulates (or reads `--data`), writes the
 * simulations into the run folder, trains (stopping cleanly on Ctrl-C, keeping the last good state on a
 * divergence) and swaps the finished folder in; `--resume DIR` continues a run from its checkpoint.
 * Returns 0, 130 after an interrupt, 1 after a divergence.
 * @example await sbiTrain(parseArgs(sbiTrainSpec, ['--task', 'two-moons', '--simulations', '1000', '--out', 'runs/tm']));
 */
export async function sbiTrain(flags: Flags): Promise<number> {
  const resumeDir = flags.string('resume');
  if (resumeDir !== undefined) return await sbiResume(resumeDir, flags);
  const out = flags.require<string>('out');
  const seed = flags.integer('seed') ?? 0;
  if (flags.has('data')) {
    const misplaced = ['task', 'simulator', 'simulations', 'workers'].find((f) => flags.has(f));
    if (misplaced !== undefined) throw new UsageError(`sbi train: --data takes no --${misplaced}; see flowgrad sbi train --help`);
    flags.require<number>('params');
  } else {
    if (flags.has('params')) throw new UsageError('sbi train: --params goes with --data; see flowgrad sbi train --help');
    simulatorSource(flags, 'sbi train');
    flags.require<number>('simulations');
  }
  const spec: SbiRunSpec = { seed, epochs: flags.integer('epochs') ?? NPE_DEFAULTS.epochs, lr: flags.number('lr') ?? NPE_DEFAULTS.lr };
  // The output place, before anything is simulated, read or allocated.
  const force = flags.boolean('force') === true;
  if (!force && isRegularFile(join(out, SBI_FILES.checkpoint))) throw new CliError(`${out} holds an unfinished run; continue it with flowgrad sbi train --resume ${out}, or pass --force to replace it`);
  const plan = planOut(out, { force, resume: false, writes: SBI_WRITES, command: 'flowgrad sbi train' });
  const interrupts = listenForInterrupts(out, plan.staging);
  try {
    let gathered: Gathered;
    try {
      gathered = await gather(flags, seed, interrupts);
    } catch (e) {
      removeTree(plan.staging);
      if (!(e instanceof SimulationAborted)) throw e;
      process.stderr.write(`flowgrad: interrupted while simulating (${e.done} of ${e.total} chunks done); nothing was kept, ${out} is as it was; run the command again to start afresh\n`);
      return 130;
    }
    const { theta, x, about } = gathered;
    let record: SimulationsRecord;
    try {
      if (theta.rows < 20) throw new CliError(`${about.source}: only ${theta.rows} usable simulations; NPE needs more`);
      record = writeSimulations(plan.staging, theta, x, about);
    } catch (e) {
      removeTree(plan.staging);
      throw e;
    }
    process.stderr.write(`${about.source}: ${about.simulated} simulations${about.dropped > 0 ? `, ${about.dropped} dropped (NaN or ±∞)` : ''}; training on ${theta.rows} (kept in the run as ${SBI_FILES.simulations})\n`);
    return await trainInto(plan, record, theta, x, spec, null, null, interrupts);
  } finally {
    interrupts.dispose();
  }
}

/** `sbi train --resume DIR`: the run's own simulations and options, from its checkpoint. */
async function sbiResume(dir: string, flags: Flags): Promise<number> {
  const other = [...flags.values.keys()].find((k) => !['resume', 'epochs', 'lr'].includes(k));
  if (other !== undefined) throw new UsageError(`sbi train: --${other} cannot be given with --resume (the run continues on its own simulations and options; --epochs and --lr may change); see flowgrad sbi train --help`);
  recoverSwap(dir);
  // A checkpoint beside the folder (the process was killed) is newer than one in it.
  const { staging } = besideRun(dir);
  const from = isRegularFile(join(staging, SBI_FILES.checkpoint)) ? staging : dir;
  const checkpointPath = join(from, SBI_FILES.checkpoint);
  if (!isRegularFile(checkpointPath)) {
    if (!existsSync(dir)) throw new CliError(`${dir} does not exist; there is no run to resume`);
    throw new CliError(`${dir} has no checkpoint to resume from (a run that completed keeps none; train it again with more --epochs instead)`);
  }
  let state: NpeState, saved: SbiRunSpec;
  try {
    ({ state, spec: saved } = readSbiCheckpoint(readBytes(checkpointPath, { maxBytes: 2 ** 36, what: 'checkpoint' })));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${checkpointPath}: not an sbi train checkpoint (${(e as Error).message})`);
  }
  const { theta, x, record } = readSimulations(from);
  const spec: SbiRunSpec = { ...saved, epochs: flags.integer('epochs') ?? saved.epochs, lr: flags.number('lr') ?? saved.lr };
  if (spec.epochs < state.fit.epoch) throw new UsageError(`sbi train: the checkpoint is at epoch ${state.fit.epoch}; --epochs must be at least that`);
  const plan = planOut(dir, { force: false, resume: true, writes: SBI_WRITES, command: 'flowgrad sbi train' });
  const interrupts = listenForInterrupts(dir, plan.staging);
  try {
    if (from === dir) {
      try {
        for (const f of [SBI_FILES.simulations, SBI_FILES.record]) linkChecked(join(dir, f), join(plan.staging, f));
      } catch (e) {
        removeTree(plan.staging);
        throw e;
      }
    }
    const which = state.phase > 0 ? ` of architecture ${state.phase + 1} (the candidates before it are done)` : '';
    process.stderr.write(`resuming ${dir} from epoch ${state.fit.epoch}${which}, step ${state.fit.steps}${state.fit.diverged !== null ? ' (the run had diverged)' : ''}: ${record.rows} simulations from ${SBI_FILES.simulations} (none simulated again), at most ${spec.epochs} epochs, Adam lr ${flags.has('lr') ? spec.lr : `${state.fit.optimizer.options.lr} (as it stood)`}\n`);
    return await trainInto(plan, record, theta, x, spec, readBytes(checkpointPath, { maxBytes: 2 ** 36, what: 'checkpoint' }), flags.number('lr') ?? null, interrupts);
  } finally {
    interrupts.dispose();
  }
}

/** One line for an architecture of the selection: the main flow, or a candidate's overrides. */
function describeArchitecture(a: 'main' | NpeArchitecture): string {
  if (a === 'main') return `the main flow (${NPE_DEFAULTS.layers} spline couplings, hidden ${NPE_DEFAULTS.hidden}×${NPE_DEFAULTS.depth}, K ${NPE_DEFAULTS.bins})`;
  const parts = Object.entries(a).map(([k, v]) => `${k} ${String(v)}`);
  return `a candidate (${parts.join(', ')})`;
}

/** Trains on simulations already in `plan.staging`, writes the posterior there and swaps the run in. */
async function trainInto(plan: OutPlan, record: SimulationsRecord, theta: Tensor, x: Tensor, spec: SbiRunSpec, resume: Uint8Array | null, lr: number | null, interrupts: Interrupts): Promise<number> {
  const out = plan.dir, staging = plan.staging;
  const checkpointPath = join(staging, SBI_FILES.checkpoint);
  interrupts.phase = 'training';
  const started = performance.now();
  let lastLine = -Infinity;
  // Which architecture is training, and its last finished epoch (for the message of an interrupt).
  let phase = { index: 0, count: 1, epoch: 0 };
  let outcome: SbiJobOutcome;
  const data = {
    theta: { rows: theta.rows, cols: theta.cols, data: theta.data },
    x: { rows: x.rows, cols: x.cols, data: x.data },
    spec,
    support: record.support,
    task: record.task,
    parameterNames: record.parameterNames,
    dataNames: record.dataNames,
  };
  try {
    // A fresh run starts from its starting checkpoint, written first: from here on the run can be resumed.
    if (resume === null) {
      resume = startingCheckpoint(data);
      writeFileAtomic(checkpointPath, resume);
      interrupts.checkpoint = { epoch: 0, steps: 0 };
    }
    outcome = await runSbiTrainJob({
      ...data,
      checkpointSeconds: CHECKPOINT_SECONDS,
      resume,
      lr,
      stopFlag: interrupts.flag,
      training: { recipe: NPE_DEFAULTS, seed: spec.seed, source: record.source, simulations: record.simulated, dropped: record.dropped, lr: spec.lr, maxEpochs: spec.epochs },
    }, (m) => {
      if (m.type === 'checkpoint') {
        writeFileAtomic(checkpointPath, m.bytes);
        interrupts.checkpoint = { epoch: m.epoch, steps: m.steps };
        return;
      }
      if (m.type === 'architecture') {
        phase = { index: m.index, count: m.count, epoch: 0 };
        const why = m.index > 0 ? ', kept only if its validation −log q is lower; stopped once it has trained as many epochs as the main flow without being ahead' : '';
        if (m.count > 1) process.stderr.write(`architecture ${m.index + 1} of ${m.count}: ${describeArchitecture(m.architecture)}${why}\n`);
        lastLine = -Infinity;
        return;
      }
      const e = m.info, now = performance.now();
      phase.epoch = e.epoch;
      if (now - lastLine > 2000) {
        lastLine = now;
        process.stderr.write(`epoch ${e.epoch}: train ${e.trainLoss.toFixed(3)}, validation ${e.valNll.toFixed(3)} (best ${e.bestValNll.toFixed(3)} at epoch ${e.bestEpoch}), ${e.elapsed.toFixed(1)} s\n`);
      }
    });
    interrupts.phase = 'writing';
    writeFileAtomic(join(staging, SBI_FILES.weights), outcome.weights);
    writeFileAtomic(join(staging, SBI_FILES.config), outcome.configJson);
    const files: string[] = [SBI_FILES.simulations, SBI_FILES.record, SBI_FILES.weights, SBI_FILES.config];
    if (outcome.status === 'completed') rmSync(checkpointPath, { force: true }); // written by this run, of no further use
    else files.push(SBI_FILES.checkpoint);
    commitRun(plan, files);
  } catch (e) {
    // The simulations and a checkpoint are worth keeping (sbi train --resume finds them beside the folder).
    if (!isRegularFile(checkpointPath)) removeTree(staging);
    else if (e instanceof CliError) throw new CliError(`${e.message}; the simulations and the last checkpoint are kept in ${staging}: continue with flowgrad sbi train --resume ${out}`);
    throw e;
  }
  const h = outcome.history, seconds = (performance.now() - started) / 1000;
  if (outcome.status === 'interrupted') {
    const kept = h.bestEpoch > 0 ? `the best posterior so far (epoch ${h.bestEpoch})` : 'the posterior as it stood';
    const where = phase.index > 0 ? `interrupted in architecture ${phase.index + 1} of ${phase.count} (a candidate) at its epoch ${phase.epoch}` : `interrupted at epoch ${h.epochs}, step ${h.steps}`;
    process.stderr.write(`flowgrad: ${where}; ${out} holds the simulations, ${kept}, marked "status": "interrupted" in config.json, and a checkpoint; continue with flowgrad sbi train --resume ${out}\n`);
    return 130;
  }
  if (outcome.status === 'diverged') {
    const lower = Number(((lr ?? spec.lr) / 10).toPrecision(2));
    const kept = outcome.keptEpoch !== null && outcome.keptEpoch > 0 ? `the state of epoch ${outcome.keptEpoch}` : 'the starting state';
    process.stderr.write(`flowgrad: ${outcome.reason}. ${out} holds the simulations, the best posterior of ${kept} (config.json says "status": "diverged") and, in ${SBI_FILES.checkpoint}, that state; try a lower learning rate: flowgrad sbi train --resume ${out} --lr ${lower}\n`);
    return 1;
  }
  const kept = outcome.candidates.find((c) => c.chosen)!, others = outcome.candidates.filter((c) => !c.chosen);
  const name = (c: (typeof outcome.candidates)[number]) => (c.architecture === 'main' ? 'the main flow' : 'the candidate');
  const choice = others.length > 0 ? `; kept ${name(kept)} (validation −log q ${kept.bestValNll.toFixed(3)} against ${others.map((c) => `${name(c)}'s ${c.bestValNll.toFixed(3)}`).join(', ')})` : '';
  process.stderr.write(`trained in ${seconds.toFixed(1)} s (${h.epochs} epochs, ${h.stopReason}, best validation −log q ${h.bestValNll.toFixed(3)} at epoch ${h.bestEpoch})${choice}; wrote ${out}\n`);
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
