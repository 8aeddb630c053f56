/**
 * The classifier two-sample test (C2ST; D. Lopez-Paz & M. Oquab, "Revisiting Classifier Two-Sample
 * Tests", ICLR 2017) with sbibm's protocol (`sbibm/metrics/c2st.py`): z-score both samples by the first
 * one's mean and standard deviation, train an MLP classifier to tell them apart, and report its
 * 5-fold shuffled cross-validated accuracy. 0.5: indistinguishable; 1: perfectly separable.
 *
 * sbibm uses scikit-learn's `MLPClassifier(activation="relu", hidden_layer_sizes=(10·dim, 10·dim),
 * max_iter=10000, solver="adam")` with its defaults, reproduced here on flowgrad's own engine:
 * - Glorot-uniform initial weights and biases, bound √(6/(fan_in + fan_out)) (sklearn's `_init_coef`);
 * - Adam with lr 10⁻³, β = (0.9, 0.999), ε = 10⁻⁸; minibatches of min(200, n), reshuffled each epoch;
 * - the log-loss plus the L2 penalty ½·α·Σ‖W‖²/batch on the weights (not the biases), α = 10⁻⁴;
 * - stopping when the epoch's mean training loss has not fallen by tol = 10⁻⁴ below the best for more
 *   than 10 consecutive epochs (`n_iter_no_change`), or after `max_iter` = 10000 epochs;
 * - one logistic output unit, class 1 when its probability exceeds ½.
 * Differences: our generator and Adam (PyTorch's form: ε added to √v̂ rather than sklearn's ε added to
 * √v with the bias correction folded into the step size; the same to ~10⁻⁸ relative), so single values
 * differ from sklearn's while the protocol is the same. The fold split follows sklearn's `KFold`:
 * shuffled indices, the first n mod k folds one row longer.
 *
 * @module
 */

import { checkOptionKeys } from '../autograd/options.ts';
import { BufferArena, noGrad, Tensor } from '../autograd/tensor.ts';
import { uniform } from '../nn/init.ts';
import { Linear, MLP } from '../nn/layers.ts';
import { Adam } from '../optim/adam.ts';
import { Rng } from '../rng/rng.ts';

/**
 * Options of {@link c2st}; the defaults are sbibm's and scikit-learn's.
 * @example c2st(a, b, { rng: new Rng(1), folds: 5 });
 */
export interface C2stOptions {
  /** The seeded generator (fold split, initial weights, batch order). */
  rng: Rng;
  /** Number of cross-validation folds (default 5). */
  folds?: number;
  /** Z-score both samples by the first one's mean and standard deviation (default true). */
  zScore?: boolean;
  /** Maximum training epochs per fold (sklearn's `max_iter`, default 10000). */
  maxEpochs?: number;
  /** Minimum improvement of the epoch loss (sklearn's `tol`, default 1e-4). */
  tol?: number;
  /** Epochs without improvement tolerated (sklearn's `n_iter_no_change`, default 10). */
  patience?: number;
  /** Minibatch size (default 200, as sklearn's `min(200, n)`). */
  batchSize?: number;
  /** Adam's learning rate (default 1e-3). */
  lr?: number;
  /** The L2 penalty α (default 1e-4). */
  alpha?: number;
  /** Hidden width (default 10·dim). */
  hidden?: number;
}

/**
 * The per-fold details of a {@link c2stDetailed} run.
 * @example const { accuracy, folds } = c2stDetailed(a, b, { rng });
 */
export interface C2stReport {
  /** Mean accuracy over the folds. */
  accuracy: number;
  /** Each fold's held-out accuracy and the epochs it trained. */
  folds: { accuracy: number; epochs: number }[];
}

const OPTIONS = ['rng', 'folds', 'zScore', 'maxEpochs', 'tol', 'patience', 'batchSize', 'lr', 'alpha', 'hidden'] as const;

/**
 * The C2ST accuracy between samples `a` and `b` (n×d and m×d).
 *
 * @example
 * const post = referencePosterior(task, x);
 * c2st(post.sample(10_000, new Rng(1)), flowSamples, { rng: new Rng(2) }); // ≈ 0.5 when they agree
 */
export function c2st(a: Tensor, b: Tensor, options: C2stOptions): number {
  return c2stDetailed(a, b, options).accuracy;
}

/**
 * {@link c2st} with each fold's accuracy and training epochs.
 * @example c2stDetailed(a, b, { rng: new Rng(0) }).folds.map((f) => f.epochs);
 */
export function c2stDetailed(a: Tensor, b: Tensor, options: C2stOptions): C2stReport {
  const plan = c2stPlan(a, b, options);
  return c2stCombine(plan.folds.map((fold) => c2stFold(plan, fold)));
}

/**
 * Everything a C2ST's folds need, made up front so that the folds are independent jobs (run in order by
 * {@link c2stDetailed}, or in worker threads by a caller: {@link c2stFold} of each, then
 * {@link c2stCombine}, gives the same report bit for bit). Plain data (typed arrays and numbers), so it
 * can be posted to a worker.
 * @example const plan = c2stPlan(a, b, { rng: new Rng(0) }); c2stCombine(plan.folds.map((f) => c2stFold(plan, f)));
 */
export interface C2stPlan {
  /** Both samples, z-scored, n×d row-major. */
  data: Float64Array;
  /** 0 for the rows of the first sample, 1 for the second. */
  labels: Float64Array;
  d: number;
  /** The classifier's options (those of {@link C2stOptions} but the generator). */
  options: Omit<C2stOptions, 'rng'>;
  /** Per fold: the training and held-out row indices and the state of the fold's own generator. */
  folds: { train: Int32Array; test: Int32Array; rngState: number[] }[];
}

/**
 * Checks the samples, z-scores them, splits them into folds and forks each fold's generator (in that
 * order, from `options.rng`): the first half of {@link c2stDetailed}.
 * @example const plan = c2stPlan(reference, samples, { rng: new Rng(3) }); plan.folds.length; // 5
 */
export function c2stPlan(a: Tensor, b: Tensor, options: C2stOptions): C2stPlan {
  checkOptionKeys('c2st', options, OPTIONS);
  const { rng, ...classifier } = options;
  if (rng === undefined || typeof rng.uniform !== 'function') throw new TypeError('c2st: pass { rng } (a seeded Rng)');
  if (a.cols !== b.cols) throw new RangeError(`c2st: the samples must have one dimension, got ${a.rows}×${a.cols} and ${b.rows}×${b.cols}`);
  const d = a.cols, folds = options.folds ?? 5, n = a.rows + b.rows;
  if (!Number.isInteger(folds) || folds < 2 || folds > n) throw new RangeError(`c2st: folds must be an integer in 2..${n}, got ${folds}`);
  if (a.rows < 2) throw new RangeError(`c2st: the first sample needs at least 2 rows for its standard deviation, got ${a.rows}`);
  for (const [name, t] of [['first', a], ['second', b]] as const) {
    for (let k = 0; k < t.data.length; k++) if (!Number.isFinite(t.data[k]!)) throw new RangeError(`c2st: the ${name} sample has a non-finite value at row ${Math.floor(k / d)}, column ${k % d}`);
  }

  // Both samples in one matrix, labels 0 (a) and 1 (b), z-scored by a's mean and std (ddof 1, torch.std).
  const data = new Float64Array(n * d), labels = new Float64Array(n);
  data.set(a.data, 0);
  data.set(b.data, a.data.length);
  labels.fill(1, a.rows);
  if (options.zScore ?? true) {
    for (let j = 0; j < d; j++) {
      let mean = 0;
      for (let i = 0; i < a.rows; i++) mean += a.data[i * d + j]!;
      mean /= a.rows;
      let ss = 0;
      for (let i = 0; i < a.rows; i++) ss += (a.data[i * d + j]! - mean) ** 2;
      const std = Math.sqrt(ss / (a.rows - 1)) || 1;
      for (let i = 0; i < n; i++) data[i * d + j] = (data[i * d + j]! - mean) / std;
    }
  }

  // KFold(shuffle=True): a permutation cut into folds, the first n mod k one longer.
  const order = rng.permutation(n);
  const plan: C2stPlan = { data, labels, d, options: classifier, folds: [] };
  let start = 0;
  for (let f = 0; f < folds; f++) {
    const size = Math.floor(n / folds) + (f < n % folds ? 1 : 0);
    const test = order.slice(start, start + size);
    const train = Int32Array.from([...order.subarray(0, start), ...order.subarray(start + size)]);
    start += size;
    plan.folds.push({ train, test, rngState: rng.fork().getState() });
  }
  return plan;
}

/**
 * One fold of a {@link c2stPlan}: trains the classifier on the fold's training rows (sklearn's
 * MLPClassifier fit, below) and scores it on the held-out rows.
 * @example const plan = c2stPlan(a, b, { rng: new Rng(0) }); c2stFold(plan, plan.folds[0]!).accuracy;
 */
export function c2stFold(plan: Pick<C2stPlan, 'data' | 'labels' | 'd' | 'options'>, fold: C2stPlan['folds'][number]): { accuracy: number; epochs: number } {
  const { data, labels, d } = plan;
  const rng = new Rng(0);
  rng.setState(fold.rngState);
  const net = trainClassifier(data, labels, d, fold.train.slice(), plan.options, rng);
  const test = fold.test;
  const correct = noGrad(() => {
    const logits = net.forward(gather(data, d, test)).data;
    let c = 0;
    for (let i = 0; i < test.length; i++) if ((logits[i]! > 0 ? 1 : 0) === labels[test[i]!]) c++;
    return c;
  });
  return { accuracy: correct / test.length, epochs: net.epochs };
}

/**
 * The report of a C2ST from its folds' results, in fold order: the mean held-out accuracy.
 * @example c2stCombine([{ accuracy: 0.5, epochs: 12 }, { accuracy: 0.6, epochs: 14 }]).accuracy; // 0.55
 */
export function c2stCombine(folds: readonly { accuracy: number; epochs: number }[]): C2stReport {
  const report: C2stReport = { accuracy: 0, folds: [] };
  for (const f of folds) {
    report.folds.push({ accuracy: f.accuracy, epochs: f.epochs });
    report.accuracy += f.accuracy / folds.length;
  }
  return report;
}

function gather(data: Float64Array, d: number, rows: ArrayLike<number>): Tensor {
  const out = new Float64Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) out.set(data.subarray(rows[i]! * d, rows[i]! * d + d), i * d);
  return Tensor.from(rows.length, d, out);
}

/** sklearn's MLPClassifier fit: Adam on the log-loss + L2, stopping on a stalled training loss. */
function trainClassifier(data: Float64Array, labels: Float64Array, d: number, train: Int32Array, options: Omit<C2stOptions, 'rng'>, rng: Rng): MLP & { epochs: number } {
  const hidden = options.hidden ?? 10 * d;
  const maxEpochs = options.maxEpochs ?? 10000, tol = options.tol ?? 1e-4, patience = options.patience ?? 10;
  const alpha = options.alpha ?? 1e-4, lr = options.lr ?? 1e-3;
  const batchSize = Math.min(options.batchSize ?? 200, train.length);
  const net = new MLP([d, hidden, hidden, 1], { activation: 'relu', rng }) as MLP & { epochs: number };
  for (const layer of net.layers) {
    if (!(layer instanceof Linear)) continue;
    const bound = Math.sqrt(6 / (layer.inFeatures + layer.outFeatures));
    uniform(layer.weight, -bound, bound, rng);
    if (layer.bias !== null) uniform(layer.bias, -bound, bound, rng);
  }
  const weights = net.layers.filter((l): l is Linear => l instanceof Linear).map((l) => l.weight);
  const params = net.parameters();
  const optimizer = new Adam(params, { lr });
  const arena = new BufferArena();
  const batch = new Float64Array(batchSize * d), y = new Float64Array(batchSize), seed = new Float64Array(batchSize);
  let best = Infinity, stalled = 0, epoch = 0;
  while (epoch < maxEpochs) {
    epoch++;
    rng.shuffle<number, Int32Array>(train);
    let epochLoss = 0;
    for (let s = 0; s < train.length; s += batchSize) {
      const m = Math.min(batchSize, train.length - s);
      for (let i = 0; i < m; i++) {
        const r = train[s + i]!;
        batch.set(data.subarray(r * d, r * d + d), i * d);
        y[i] = labels[r]!;
      }
      for (const p of params) if (p.grad !== null) p.grad.fill(0);
      arena.reset();
      let loss = arena.run(() => {
        const logits = net.forward(Tensor.from(m, d, m === batchSize ? batch : batch.subarray(0, m * d)));
        // Log-loss of a logit l and label y: softplus(l) − y·l; its derivative in l is σ(l) − y.
        let total = 0;
        const g = m === batchSize ? seed : seed.subarray(0, m);
        for (let i = 0; i < m; i++) {
          const l = logits.data[i]!;
          total += Math.max(l, 0) + Math.log1p(Math.exp(-Math.abs(l))) - y[i]! * l;
          g[i] = (1 / (1 + Math.exp(-l)) - y[i]!) / m;
        }
        logits.backward(g);
        return total / m;
      });
      // L2 penalty ½·α·Σ‖W‖²/m: its gradient α·W/m joins the weights' gradients.
      let l2 = 0;
      for (const w of weights) {
        const wd = w.data, gw = w.grad!;
        for (let k = 0; k < wd.length; k++) {
          l2 += wd[k]! * wd[k]!;
          gw[k]! += (alpha * wd[k]!) / m;
        }
      }
      loss += (0.5 * alpha * l2) / m;
      optimizer.step();
      epochLoss += loss * m;
    }
    epochLoss /= train.length;
    // sklearn's _update_no_improvement_count.
    if (epochLoss > best - tol) stalled++;
    else stalled = 0;
    if (epochLoss < best) best = epochLoss;
    if (stalled > patience) break;
  }
  net.epochs = epoch;
  return net;
}
