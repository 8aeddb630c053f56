/**
 * Writes the small trained posterior the `sbi check` tests load: NPE on gaussian-linear (5,000
 * simulations, seed 1; a small flow of 4 couplings with 16 hidden units, so that the file stays small
 * and the checks run fast), in the folder layout of `flowgrad sbi train`. It passes every check at
 * 1,000 pairs (see test/cli/sbi-check.test.ts).
 *
 *   npx tsx scripts/sbi-check-fixture.ts [outDir]   (default test/fixtures/sbi-gaussian-linear)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../src/rng/rng.ts';
import { trainNpe } from '../src/sbi/npe.ts';
import { simulateDataset } from '../src/sbi/simulator.ts';
import { getTask } from '../src/sbi/tasks.ts';

const out = process.argv[2] ?? join(import.meta.dirname, '..', 'test', 'fixtures', 'sbi-gaussian-linear');
const task = getTask('gaussian-linear');
const { theta, x } = simulateDataset(task, 5000, { seed: 1 });
// The affine recipe the fixture was made with (NPE_DEFAULTS before the spline default), so it regenerates as committed.
const recipe = { layers: 4, hidden: 16, coupling: 'affine' as const, depth: 2, activation: 'tanh' as const, batchSize: 128, lr: 1e-3, lrPlateau: null };
const { posterior, history } = trainNpe(theta, x, { rng: new Rng(0), support: task.prior.support, task: task.name, parameterNames: task.parameterNames, dataNames: task.dataNames, ...recipe });
const { configJson, weights } = posterior.save({ training: { recipe, seed: 1, source: `task ${task.name}`, simulations: 5000, epochs: history.epochs, stopReason: history.stopReason } });
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'config.json'), configJson);
writeFileSync(join(out, 'model.safetensors'), weights);
console.log(`trained ${history.epochs} epochs (${history.stopReason}); wrote ${out}`);
