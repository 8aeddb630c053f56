/**
 * The run folder of `flowgrad sbi train`, built beside its destination and swapped in as `train`'s
 * is (`run-out.ts`):
 * ```
 * DIR/simulations.csv         the simulations trained on: a header of parameter then data names, one row each
 * DIR/simulations.json        where they came from, the seed, how many ran and how many were dropped (NaN or ±∞)
 * DIR/model.safetensors       the posterior's weights
 * DIR/config.json             the posterior's config, with the training record and its "status"
 * DIR/checkpoint.safetensors  an interrupted or diverged run: the state to continue from (--resume DIR)
 * DIR/.flowgrad-run.json      the manifest: the files the run wrote (--force replaces only those)
 * ```
 * The simulations are written as soon as they exist, before training, so that neither a Ctrl-C nor a
 * divergence costs a simulation; `--resume DIR` trains on them again and never simulates.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Tensor } from '../autograd/tensor.ts';
import { parseCsv, toCsv } from '../data/csv.ts';
import { CliError } from './errors.ts';
import { readBytes, readText, writeAtomicChunks, writeFileAtomic } from './fsx.ts';
import { RUN_FILES } from './run-out.ts';

/**
 * The file names of an sbi run folder.
 * @example join(dir, SBI_FILES.simulations); // DIR/simulations.csv
 */
export const SBI_FILES = {
  simulations: 'simulations.csv',
  record: 'simulations.json',
  weights: RUN_FILES.weights,
  config: RUN_FILES.config,
  checkpoint: RUN_FILES.checkpoint,
} as const;

/**
 * Every file an sbi run may write (for `planOut`'s check of the user's files in the way).
 * @example planOut(dir, { force, resume: false, writes: SBI_WRITES });
 */
export const SBI_WRITES: readonly string[] = Object.values(SBI_FILES);

/**
 * What simulations.json holds.
 * @example const record: SimulationsRecord = readSimulations('runs/tm').record; record.dropped; // 0
 */
export interface SimulationsRecord {
  format: 'flowgrad-sbi-simulations';
  /** Where the simulations came from: `task two-moons`, `simulator ./sim.mjs` or the CSV file given. */
  source: string;
  /** The benchmark task, or null. */
  task: string | null;
  /** The seed of the simulations and of the training. */
  seed: number;
  /** Simulations run (or rows read), and those dropped for a NaN or ±∞. */
  simulated: number;
  dropped: number;
  /** Rows in simulations.csv (simulated − dropped). */
  rows: number;
  parameterNames: string[];
  dataNames: string[];
  /** The prior's box, or null. */
  support: { low: number[]; high: number[] } | null;
  /** SHA-256 of simulations.csv, checked when a run resumes. */
  sha256: string;
}

/** Rows of CSV text per chunk written. */
const ROWS_PER_CHUNK = 10_000;

/**
 * Writes simulations.csv (θ columns, then x columns; numbers printed so that they read back exactly)
 * and then simulations.json into `dir`, each atomically; returns the record.
 * @example writeSimulations(plan.staging, theta, x, { source: 'task two-moons', task: 'two-moons', seed: 0, simulated: 1000, dropped: 0, parameterNames, dataNames, support });
 */
export function writeSimulations(dir: string, theta: Tensor, x: Tensor, about: Omit<SimulationsRecord, 'format' | 'rows' | 'sha256'>): SimulationsRecord {
  const k = theta.cols, d = x.cols, n = theta.rows;
  const hash = createHash('sha256');
  function* chunks(): Generator<string> {
    for (let start = 0; start < n; start += ROWS_PER_CHUNK) {
      const m = Math.min(ROWS_PER_CHUNK, n - start), both = new Float64Array(m * (k + d));
      for (let i = 0; i < m; i++) {
        both.set(theta.data.subarray((start + i) * k, (start + i + 1) * k), i * (k + d));
        both.set(x.data.subarray((start + i) * d, (start + i + 1) * d), i * (k + d) + k);
      }
      const text = toCsv(Tensor.from(m, k + d, both), start === 0 ? [...about.parameterNames, ...about.dataNames] : undefined);
      hash.update(text);
      yield text;
    }
  }
  writeAtomicChunks(join(dir, SBI_FILES.simulations), chunks());
  const record: SimulationsRecord = { format: 'flowgrad-sbi-simulations', ...about, rows: n, sha256: hash.digest('hex') };
  writeFileAtomic(join(dir, SBI_FILES.record), JSON.stringify(record, null, 2) + '\n');
  return record;
}

/**
 * Reads the simulations of a run folder back (for `--resume`), checked against their record: the
 * names, the row count and the SHA-256.
 * @example const { theta, x, record } = readSimulations('runs/tm');
 */
export function readSimulations(dir: string): { theta: Tensor; x: Tensor; record: SimulationsRecord } {
  const recordPath = join(dir, SBI_FILES.record), csvPath = join(dir, SBI_FILES.simulations);
  let record: SimulationsRecord;
  try {
    record = JSON.parse(readText(recordPath, { what: 'simulations record' })) as SimulationsRecord;
  } catch (e) {
    if (e instanceof CliError) throw new CliError(`${dir} holds no simulations to resume from (${e.message}); it was written before sbi train kept them: train it again`);
    throw new CliError(`${recordPath}: not valid JSON`);
  }
  if (record.format !== 'flowgrad-sbi-simulations' || !Array.isArray(record.parameterNames) || !Array.isArray(record.dataNames)) throw new CliError(`${recordPath}: not a flowgrad simulations record`);
  const bytes = readBytes(csvPath, { maxBytes: 2 ** 40, what: 'simulations file' });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== record.sha256) throw new CliError(`${csvPath} has changed since it was written (its SHA-256 differs from ${recordPath}); the run cannot be resumed on other simulations`);
  const table = parseCsv(Buffer.from(bytes).toString('utf8'), { header: true });
  const k = record.parameterNames.length, d = record.dataNames.length, n = table.data.rows;
  if (table.data.cols !== k + d || n !== record.rows) throw new CliError(`${csvPath}: ${n}×${table.data.cols} numbers, the record says ${record.rows}×${k + d}`);
  const theta = new Float64Array(n * k), x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    theta.set(table.data.data.subarray(i * (k + d), i * (k + d) + k), i * k);
    x.set(table.data.data.subarray(i * (k + d) + k, (i + 1) * (k + d)), i * d);
  }
  return { theta: Tensor.from(n, k, theta), x: Tensor.from(n, d, x), record };
}
