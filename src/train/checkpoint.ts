/**
 * Checkpoints of a training run: everything `fit` needs to continue a run exactly where it stopped —
 * the model's parameters and buffers, the optimizer's state, the shuffle generator's state, the epoch
 * (and, inside an interrupted epoch, its row order and position), the history, the early-stopping
 * counters and best weights, and the weight average. A run stopped and resumed from its checkpoint ends
 * bit-identical to one that never stopped.
 *
 * A {@link FitState} converts to and from a flat dict of named tensors plus string metadata
 * ({@link checkpointToDict}, {@link checkpointFromDict}): exactly what `saveSafetensors` writes and
 * `loadSafetensors` reads, so a checkpoint is one safetensors file (F64, exact).
 *
 * @module
 */

import { Tensor } from '../autograd/tensor.ts';
import type { OptimizerStateDict } from '../optim/optimizer.ts';

/**
 * Where an interrupted epoch stood: its row order, the index of the next batch's first row, and the
 * loss sum and batch count so far.
 * @example const partial: EpochPosition = { order: Int32Array.from([2, 0, 1]), next: 2, lossSum: 3.1, batches: 1 };
 */
export interface EpochPosition {
  order: Int32Array;
  next: number;
  lossSum: number;
  batches: number;
}

/**
 * The state of a training run between two steps.
 * @example fit(flow, train, { epochs: 100, batchSize: 64, rng, checkpoint: { every: 10, save: (state: FitState) => keep(state) } });
 */
export interface FitState {
  /** Epochs finished. */
  epoch: number;
  /** Steps run. */
  steps: number;
  /** Inside an interrupted epoch: where it stood; null at an epoch boundary. */
  partial: EpochPosition | null;
  /** Per-epoch records so far. */
  trainLoss: number[];
  valNll: number[];
  stepsPerSecond: number[];
  bestValNll: number;
  bestEpoch: number;
  /** Epochs since the best validation NLL. */
  sinceBest: number;
  /** Seconds of training so far. */
  seconds: number;
  /** The first step's loss, the reference for catching a loss that explodes (NaN before the first step). */
  firstLoss: number;
  /** The shuffle generator's state (`Rng.getState()`). */
  rng: number[];
  /** The model's parameters and buffers by name (copies). */
  model: Record<string, Tensor>;
  /** The optimizer's state (`optimizer.stateDict()`). */
  optimizer: OptimizerStateDict;
  /** The parameters of the best validation epoch, in `parameters()` order (null without). */
  best: Float64Array[] | null;
  /** The weight average, in `parameters()` order (null without `ema`). */
  shadow: Float64Array[] | null;
  /** Set when the run diverged after this state: what happened. */
  diverged: string | null;
}

/**
 * The `format` value in a checkpoint's metadata.
 * @example checkpointToDict(state).metadata.format; // 'flowgrad-checkpoint'
 */
export const CHECKPOINT_FORMAT = 'flowgrad-checkpoint';

/**
 * A checkpoint that cannot be read back: malformed, or of another format or model.
 * @example try { checkpointFromDict({}, {}); } catch (e) { e instanceof CheckpointError; } // true
 */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

/**
 * JSON text of a checkpoint record, with NaN and ±∞ (which JSON lacks) written as the strings "NaN",
 * "Infinity", "-Infinity"; {@link parseCheckpointJson} reads them back.
 * @example checkpointJson({ best: NaN }); // '{"best":"NaN"}'
 */
export function checkpointJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

/**
 * Parses what {@link checkpointJson} wrote, the non-finite numbers back as numbers (throws on bad JSON).
 * @example parseCheckpointJson('{"best":"NaN"}'); // { best: NaN }
 */
export function parseCheckpointJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v));
}

/**
 * A copy of a dict of named tensors (each array copied), for a state kept while training goes on.
 * @example const kept = copyTensors(model.stateDict());
 */
export function copyTensors(dict: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(dict).map(([name, t]) => [name, Tensor.from(t.rows, t.cols, t.data.slice())]));
}

/**
 * A {@link FitState} as named tensors and string metadata, ready for `saveSafetensors(tensors, metadata)`.
 * Tensors: `model.<name>`, `optimizer.<k>.<buffer>`, `best.<k>`, `shadow.<k>`, `order`; the rest is JSON
 * in `metadata.state`. Extra metadata (e.g. the run's config) is kept as given.
 *
 * @example
 * const { tensors, metadata } = checkpointToDict(state, { config: configJson });
 * const bytes = saveSafetensors(tensors, metadata);
 */
export function checkpointToDict(state: FitState, extra: Record<string, string> = {}): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(state.model)) tensors[`model.${name}`] = Tensor.from(t.rows, t.cols, t.data.slice());
  const params = state.optimizer.params.map((p, k) => {
    for (const [buffer, values] of Object.entries(p.buffers)) tensors[`optimizer.${k}.${buffer}`] = Tensor.from(p.shape[0], p.shape[1], Float64Array.from(values));
    return { shape: p.shape, step: p.step, buffers: Object.keys(p.buffers) };
  });
  const vectors = (prefix: string, list: Float64Array[] | null) => list?.forEach((a, k) => (tensors[`${prefix}.${k}`] = Tensor.from(1, a.length, a.slice())));
  vectors('best', state.best);
  vectors('shadow', state.shadow);
  if (state.partial !== null) tensors.order = Tensor.from(1, state.partial.order.length, Float64Array.from(state.partial.order));
  const json = {
    epoch: state.epoch, steps: state.steps,
    partial: state.partial === null ? null : { next: state.partial.next, lossSum: state.partial.lossSum, batches: state.partial.batches },
    trainLoss: state.trainLoss, valNll: state.valNll, stepsPerSecond: state.stepsPerSecond,
    bestValNll: state.bestValNll, bestEpoch: state.bestEpoch, sinceBest: state.sinceBest, seconds: state.seconds, firstLoss: state.firstLoss,
    rng: state.rng, optimizer: { optimizer: state.optimizer.optimizer, options: state.optimizer.options, params },
    best: state.best?.length ?? null, shadow: state.shadow?.length ?? null, diverged: state.diverged,
  };
  // JSON has no NaN or ±∞: numbers are written as strings where they may be non-finite.
  const text = checkpointJson(json);
  return { tensors, metadata: { ...extra, format: CHECKPOINT_FORMAT, state: text } };
}

/**
 * Reads back what {@link checkpointToDict} wrote (after `loadSafetensors`); a malformed checkpoint is a
 * {@link CheckpointError} naming the field.
 *
 * @example
 * const { tensors, metadata } = loadSafetensors(bytes);
 * const state = checkpointFromDict(tensors, metadata);
 */
export function checkpointFromDict(tensors: Readonly<Record<string, Tensor>>, metadata: Readonly<Record<string, string>>): FitState {
  if (metadata.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`checkpoint: metadata.format is ${JSON.stringify(metadata.format)}, expected "${CHECKPOINT_FORMAT}" (not a flowgrad checkpoint)`);
  let j: Record<string, unknown>;
  try {
    j = parseCheckpointJson(metadata.state ?? '') as Record<string, unknown>;
  } catch {
    throw new CheckpointError('checkpoint: metadata.state is not valid JSON');
  }
  if (typeof j !== 'object' || j === null) throw new CheckpointError('checkpoint: metadata.state must be an object');
  const int = (name: string, min = 0): number => {
    const v = j[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new CheckpointError(`checkpoint: ${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const num = (name: string, v: unknown = j[name]): number => {
    if (typeof v !== 'number') throw new CheckpointError(`checkpoint: ${name} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const numbers = (name: string): number[] => {
    const v = j[name];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw new CheckpointError(`checkpoint: ${name} must be an array of numbers`);
    return v as number[];
  };
  const tensor = (name: string): Tensor => {
    const t = tensors[name];
    if (t === undefined) throw new CheckpointError(`checkpoint: tensor "${name}" is missing`);
    return t;
  };
  const model: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) if (name.startsWith('model.')) model[name.slice(6)] = t;
  const opt = j.optimizer as { optimizer?: unknown; options?: unknown; params?: unknown } | undefined;
  if (typeof opt !== 'object' || opt === null || !Array.isArray(opt.params)) throw new CheckpointError('checkpoint: optimizer must be an object with params');
  const optimizer = {
    optimizer: opt.optimizer,
    options: opt.options,
    params: (opt.params as { shape: [number, number]; step: number; buffers: string[] }[]).map((p, k) => {
      const buffers: Record<string, number[]> = {};
      for (const b of Array.isArray(p.buffers) ? p.buffers : []) buffers[b] = Array.from(tensor(`optimizer.${k}.${b}`).data);
      return { shape: p.shape, step: p.step, buffers };
    }),
  } as OptimizerStateDict;
  const list = (prefix: string): Float64Array[] | null => {
    const count = j[prefix];
    if (count === null) return null;
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) throw new CheckpointError(`checkpoint: ${prefix} must be a count or null`);
    return Array.from({ length: count }, (_, k) => tensor(`${prefix}.${k}`).data.slice());
  };
  const p = j.partial as { next?: unknown; lossSum?: unknown; batches?: unknown } | null;
  let partial: EpochPosition | null = null;
  if (p !== null && p !== undefined) {
    const order = tensor('order').data;
    const next = num('partial.next', p.next), batches = num('partial.batches', p.batches);
    if (!Number.isSafeInteger(next) || next < 0 || next > order.length || !Number.isSafeInteger(batches) || batches < 1) throw new CheckpointError('checkpoint: partial.next and partial.batches are out of range');
    partial = { order: Int32Array.from(order), next, lossSum: num('partial.lossSum', p.lossSum), batches };
  }
  const diverged = j.diverged;
  if (diverged !== null && typeof diverged !== 'string') throw new CheckpointError('checkpoint: diverged must be a string or null');
  return {
    epoch: int('epoch'), steps: int('steps'), partial,
    trainLoss: numbers('trainLoss'), valNll: numbers('valNll'), stepsPerSecond: numbers('stepsPerSecond'),
    bestValNll: num('bestValNll'), bestEpoch: int('bestEpoch'), sinceBest: int('sinceBest'), seconds: num('seconds'), firstLoss: num('firstLoss'),
    rng: numbers('rng'), model, optimizer, best: list('best'), shadow: list('shadow'), diverged,
  };
}
