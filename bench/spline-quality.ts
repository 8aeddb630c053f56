/**
 * Quality of spline flows on the toy data sets, measured the way `bench/quality.ts` measures the default
 * recipe: the same data (`streams(seed)` and `splitDataset` of the CLI: 1,000 training points with 10%
 * held out for validation, 10,000 fresh test points), the same training (Adam, batch 64, early stopping
 * on the validation NLL with the best weights kept, weight averaging), the same `evaluate` (test NLL and
 * the paired KL(p‖q) estimate). The model is a Chain built here (`bench/spline-models.ts`):
 * [Standardize, (coupling, reverse permutation) × layers], so `--kind affine` with the defaults is the
 * default RealNVP's architecture and gives the comparison on the same seeds.
 *
 *   npx tsx bench/spline-quality.ts [--kind spline|affine] [--seeds 1,2,3] [--datasets a,b]
 *     [--layers 8] [--hidden 32] [--depth 1] [--bins 8] [--bound 3] [--epochs 1000] [--patience 80]
 *     [--lr 1e-3] [--ema 0.995] [--batch 64] [--noise 0] [--whiten] [--out bench/spline-quality.json]
 *
 * `--noise` is fit's noise regularisation (Gaussian noise on every training batch, as a fraction of each
 * feature's standard deviation; 0 = none, the default recipe).
 *
 * Slow (minutes per data set and seed): not part of `npm run bench`.
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { datasetByName, splitDataset, streams } from '../src/cli/data.ts';
import { Standardize } from '../src/flow/standardize.ts';
import { Whiten } from '../src/flow/whiten.ts';
import { evaluate } from '../src/train/evaluate.ts';
import { fit } from '../src/train/fit.ts';
import { buildModel, describeSpec, type ModelSpec } from './spline-models.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const num = (name: string, fallback: number) => (flag(name) !== undefined ? Number(flag(name)) : fallback);
const seeds = (flag('seeds') ?? '1,2,3').split(',').map(Number);
const names = (flag('datasets') ?? 'two-moons,eight-gaussians,circles,checkerboard,post-mixture,mixture-8d,mixture-16d').split(',');
const kind = (flag('kind') ?? 'spline') as ModelSpec['kind'];
const spec: ModelSpec = { kind, layers: num('layers', 8), hidden: num('hidden', 32), depth: num('depth', 1), bins: num('bins', 8), bound: num('bound', 3) };
const recipe = { epochs: num('epochs', 1000), patience: num('patience', 80), lr: num('lr', 1e-3), ema: num('ema', 0.995), batchSize: num('batch', 64), noise: num('noise', 0) };
const outFile = flag('out') ?? 'bench/spline-quality.json';
// --whiten: Whiten.fit(train) first instead of Standardize.fit(train) (the spline recipe's front).
const whiten = args.includes('--whiten');

interface Row { dataset: string; seed: number; nll: number; nllStdErr: number; kl?: number | undefined; klStdErr?: number | undefined; entropy?: number | undefined; epochs: number; bestEpoch: number; seconds: number }
const rows: Row[] = [];
console.log(`${describeSpec(spec)}; Adam lr ${recipe.lr}, batch ${recipe.batchSize}, ≤ ${recipe.epochs} epochs, patience ${recipe.patience}, ema ${recipe.ema}, noise ${recipe.noise}; seeds ${seeds.join(',')}`);
for (const name of names) {
  for (const seed of seeds) {
    const s = streams(seed);
    const target = datasetByName(name);
    const split = splitDataset(target, 1000, 10_000, 0.1, s);
    const model = buildModel(spec, target.dim, s.init, whiten ? Whiten.fit(split.train) : Standardize.fit(split.train));
    const history = fit(model, split.train, { ...recipe, rng: s.shuffle, ...(split.val !== undefined ? { validation: split.val } : {}) });
    const e = evaluate(model, split.test, target);
    const row: Row = { dataset: name, seed, nll: e.nll, nllStdErr: e.nllStdErr, kl: e.kl, klStdErr: e.klStdErr, entropy: e.entropy, epochs: history.epochs, bestEpoch: history.bestEpoch, seconds: history.seconds };
    rows.push(row);
    const f = (v: number | undefined, d = 4) => (v === undefined ? '—' : v.toFixed(d));
    console.log(`${name.padEnd(16)} seed ${seed}  NLL ${f(row.nll)} ± ${f(row.nllStdErr)}  KL ${f(row.kl)} ± ${f(row.klStdErr)}  epochs ${row.epochs} (best ${row.bestEpoch})  ${row.seconds.toFixed(0)} s`);
  }
  const mine = rows.filter((r) => r.dataset === name && r.kl !== undefined);
  if (mine.length > 1) console.log(`${name.padEnd(16)} mean KL ${(mine.reduce((a, r) => a + r.kl!, 0) / mine.length).toFixed(4)} over ${mine.length} seeds`);
}
writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), spec, recipe, node: process.version, rows }, null, 1) + '\n');
console.log(`wrote ${outFile}`);
