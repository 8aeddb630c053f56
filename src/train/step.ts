/**
 * One training step, the hot path: zero the gradients (in place, no allocation), forward to the per-row
 * log-densities, backward from the mean NLL, check for NaN/∞, optionally clip, and update. `fit` runs
 * it for every minibatch; the benchmarks time exactly this.
 *
 * @module
 */

import { BufferArena, firstNonFinite, type Tensor } from '../autograd/tensor.ts';
import type { Module } from '../nn/module.ts';
import { clipGradNorm } from '../optim/clip.ts';
import type { Optimizer } from '../optim/optimizer.ts';

/**
 * Thrown by {@link TrainStep.run} when the loss, a gradient or an updated parameter is not finite.
 * @example try { step.run(batch); } catch (e) { if (e instanceof NonFiniteStepError) step.restoreLastGood(); }
 */
export class NonFiniteStepError extends Error {
  override readonly name = 'NonFiniteStepError';
}

/**
 * A reusable training step for a density model (minimises the mean negative log-likelihood).
 * It keeps a copy of the parameters from before the last update, so that a step that produces a
 * non-finite value can be undone with {@link TrainStep.restoreLastGood}.
 *
 * @example
 * const step = new TrainStep(flow, new Adam(flow.parameters(), { lr: 1e-3 }));
 * const loss = step.run(batch); // mean NLL of the batch before the update, nats
 */
export class TrainStep {
  private readonly named: [string, Tensor][];
  private readonly params: Tensor[];
  private readonly lastGood: Float64Array[];
  private seed: Float64Array = new Float64Array(0);
  private started = false;
  /**
   * Buffers of the step's graph, reused from one step to the next and owned by this step: a tensor made
   * inside `run` (by the model's forward, even under noGrad) is unreadable after the next `run` begins
   * (reading it throws RecycledTensorError). Copy what you keep.
   */
  readonly arena = new BufferArena();

  constructor(
    readonly model: Module & { logProb(x: Tensor): Tensor },
    readonly optimizer: Optimizer,
    readonly options: { clipGradNorm?: number } = {},
  ) {
    this.named = model.namedParameters();
    this.params = this.named.map(([, p]) => p);
    this.lastGood = this.params.map((p) => p.data.slice());
  }

  /**
   * Runs one step on `batch` and returns its loss (before the update). Throws {@link NonFiniteStepError}.
   * @example for (const batch of batches) epochLoss += step.run(batch);
   */
  run(batch: Tensor): number {
    const params = this.params;
    for (let k = 0; k < params.length; k++) {
      const g = params[k]!.grad;
      if (g !== null) g.fill(0);
    }
    const rows = batch.rows;
    if (this.seed.length !== rows) this.seed = new Float64Array(rows).fill(-1 / rows);
    // The graph lives in the arena: nothing made inside outlives this call.
    this.arena.reset();
    const loss = this.arena.run(() => {
      const lp = this.model.logProb(batch);
      // Before the first update, "the last good weights" are those after the first forward, which may
      // have set values from data (ActNorm's initialisation) that the constructor's copy lacks.
      if (!this.started) {
        for (let k = 0; k < params.length; k++) this.lastGood[k]!.set(params[k]!.data);
        this.started = true;
      }
      let total = 0;
      for (let i = 0; i < rows; i++) total -= lp.data[i]!;
      const mean = total / rows;
      if (!Number.isFinite(mean)) throw new NonFiniteStepError(`the loss is ${mean}`);
      // d(mean NLL)/d logProb_i = -1/n
      lp.backward(this.seed);
      return mean;
    });
    for (let k = 0; k < params.length; k++) {
      const g = params[k]!.grad;
      if (g !== null && firstNonFinite(g) >= 0) throw new NonFiniteStepError(`the gradient of ${this.named[k]![0]} is not finite`);
    }
    if (this.options.clipGradNorm !== undefined) clipGradNorm(params, this.options.clipGradNorm);
    for (let k = 0; k < params.length; k++) this.lastGood[k]!.set(params[k]!.data);
    this.optimizer.step();
    for (let k = 0; k < params.length; k++) {
      if (firstNonFinite(params[k]!.data) >= 0) throw new NonFiniteStepError(`the update made ${this.named[k]![0]} non-finite`);
    }
    return loss;
  }

  /**
   * Puts back the parameters from before the last update.
   * @example step.restoreLastGood(); // after a NonFiniteStepError
   */
  restoreLastGood(): void {
    for (let k = 0; k < this.params.length; k++) this.params[k]!.data.set(this.lastGood[k]!);
  }
}
