/**
 * The spline recipe search: several candidate recipes in one process, each over the same data sets and
 * data seeds, measured as `bench/spline-quality.ts` measures one (same data, `fit`, `evaluate`), with
 * two more levers: weight decay (AdamW, decoupled) and the 'mixed' flow (spline and affine couplings
 * alternating). One candidate per line of the `--grid` file, a JSON object of
 * `{ name, kind, layers, hidden, depth, bins, bound, activation, permutation, whiten, lr, batchSize, ema,
 * patience, noise, weightDecay, outputDecay, plateau, plateauFactor, plateauRestore, points, epochs }` (absent fields: spline,
 * 4 layers, hidden 32×1, K 8, B 3, tanh, reverse permutations, standardised, lr 1e-3, batch 64, ema 0.995,
 * patience 80, noise 0, no decay, a constant rate, 1,000 points, at most 1,000 epochs).
 * `plateau` P turns on `fit`'s `lrPlateau: { patience: P, factor: plateauFactor (0.5), restoreBest: plateauRestore
 * (false) }`; `points` is the number of points drawn for training and validation (a tenth of them validation).
 * `whiten: true` puts `Whiten.fit(train)` first instead of `Standardize.fit(train)`; `outputDecay` λ decays
 * only the spline conditioners' last layers after each Adam step (w ← w·(1 − lr·λ), a pull toward the
 * identity; an experiment, not a library option).
 *
 *   npx tsx bench/spline-search.ts --grid FILE [--seeds 0,1,2] [--datasets a,b] [--out FILE.json]
 *
 * Slow (minutes per candidate): not part of `npm run bench`.
 *
 * @module
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { datasetByName, splitDataset, streams } from '../src/cli/data.ts';
import { Standardize } from '../src/flow/standardize.ts';
import { AdamW } from '../src/optim/adamw.ts';
import { Adam } from '../src/optim/adam.ts';
import type { Tensor } from '../src/autograd/tensor.ts';
import { SplineCoupling } from '../src/flow/spline-coupling.ts';
import type { MLP } from '../src/nn/layers.ts';
import { evaluate } from '../src/train/evaluate.ts';
import { fit } from '../src/train/fit.ts';
import type { ActivationName } from '../src/nn/layers.ts';
import { Whiten } from '../src/flow/whiten.ts';
import { buildModel, describeSpec, type ModelSpec } from './spline-models.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const seeds = (flag('seeds') ?? '0,1,2').split(',').map(Number);
const names = (flag('datasets') ?? 'two-moons,eight-gaussians,circles,checkerboard,post-mixture').split(',');
const outFile = flag('out') ?? 'bench/spline-search.jsonl';
const grid = readFileSync(flag('grid') ?? 'bench/spline-grid.jsonl', 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).map((l) => JSON.parse(l) as Record<string, number | string | boolean>);

// Experimental: Adam, then decoupled decay of the spline conditioners' last layers only (a pull toward the identity).
class OutputDecayAdam extends Adam {
  readonly decayed: Tensor[];
  constructor(model: ReturnType<typeof buildModel>, lr: number, readonly lambda: number) {
    super(model.parameters(), { lr });
    this.decayed = model.chain.steps.filter((b): b is SplineCoupling => b instanceof SplineCoupling).flatMap((b) => { const l = (b.net as MLP).lastLinear; return l.bias !== null ? [l.weight, l.bias] : [l.weight]; });
  }
  override step(): void {
    super.step();
    const f = 1 - this.lr * this.lambda;
    for (const p of this.decayed) for (let i = 0; i < p.data.length; i++) p.data[i] = p.data[i]! * f;
  }
}

for (const c of grid) {
  const spec: ModelSpec = { kind: (c.kind ?? 'spline') as ModelSpec['kind'], layers: Number(c.layers ?? 4), hidden: Number(c.hidden ?? 32), depth: Number(c.depth ?? 1), bins: Number(c.bins ?? 8), bound: Number(c.bound ?? 3), activation: (c.activation ?? 'tanh') as ActivationName, permutation: (c.permutation ?? 'reverse') as 'reverse' | 'random' };
  const lr = Number(c.lr ?? 1e-3), weightDecay = Number(c.weightDecay ?? 0);
  const recipe = { epochs: Number(c.epochs ?? 1000), patience: Number(c.patience ?? 80), ema: Number(c.ema ?? 0.995), batchSize: Number(c.batchSize ?? 64), noise: Number(c.noise ?? 0), ...(c.plateau !== undefined ? { lrPlateau: { patience: Number(c.plateau), factor: Number(c.plateauFactor ?? 0.5), restoreBest: c.plateauRestore === true } } : {}) };
  const points = Number(c.points ?? 1000);
  const title = `${String(c.name ?? '')}: ${describeSpec(spec)}, ${spec.activation}; lr ${lr}, wd ${weightDecay}, output decay ${Number(c.outputDecay ?? 0)}, whiten ${c.whiten === true ? 'yes' : 'no'}, batch ${recipe.batchSize}, ≤ ${recipe.epochs} epochs, patience ${recipe.patience}, ema ${recipe.ema}, noise ${recipe.noise}${recipe.lrPlateau !== undefined ? `, plateau ${recipe.lrPlateau.patience}×${recipe.lrPlateau.factor}${recipe.lrPlateau.restoreBest ? ' restore' : ''}` : ''}, ${points} points`;
  console.log(`== ${title}`);
  const means: string[] = [];
  for (const name of names) {
    const kls: number[] = [];
    let seconds = 0;
    for (const seed of seeds) {
      const s = streams(seed);
      const target = datasetByName(name);
      const split = splitDataset(target, points, 10_000, 0.1, s);
      const model = buildModel(spec, target.dim, s.init, c.whiten === true ? Whiten.fit(split.train) : Standardize.fit(split.train));
      const outputDecay = Number(c.outputDecay ?? 0);
      const optimizer = weightDecay > 0 ? { optimizer: new AdamW(model.parameters(), { lr, weightDecay }) } : outputDecay > 0 ? { optimizer: new OutputDecayAdam(model, lr, outputDecay) } : { lr };
      const history = fit(model, split.train, { ...recipe, ...optimizer, rng: s.shuffle, ...(split.val !== undefined ? { validation: split.val } : {}) });
      const e = evaluate(model, split.test, target);
      kls.push(e.kl!);
      seconds += history.seconds;
      console.log(`${name.padEnd(16)} seed ${seed}  NLL ${e.nll.toFixed(4)}  KL ${e.kl!.toFixed(4)} ± ${e.klStdErr!.toFixed(4)}  epochs ${history.epochs} (best ${history.bestEpoch})  ${history.seconds.toFixed(0)} s`);
      appendFileSync(outFile, JSON.stringify({ candidate: c, dataset: name, seed, nll: e.nll, kl: e.kl, klStdErr: e.klStdErr, epochs: history.epochs, bestEpoch: history.bestEpoch, seconds: history.seconds }) + '\n');
    }
    const m = kls.reduce((a, b) => a + b, 0) / kls.length;
    means.push(`${name} ${m.toFixed(3)}`);
    console.log(`${name.padEnd(16)} mean KL ${m.toFixed(4)} (${Math.min(...kls).toFixed(3)}-${Math.max(...kls).toFixed(3)}) over seeds ${seeds.join(',')}, ${(seconds / kls.length).toFixed(0)} s per run`);
  }
  console.log(`>> ${title} | ${means.join(', ')}`);
}
