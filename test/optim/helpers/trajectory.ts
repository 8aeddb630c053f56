/**
 * Replays the PyTorch trajectories of test/fixtures/optimizers.json: ten steps on the loss
 * sum((w − target)²) + 0.1·sum(sin(3w)), whose gradient 2(w − target) + 0.3·cos(3w) is set directly on
 * the parameter, so that only the optimizer is under test.
 */
import { tensor, type Tensor } from '../../../src/autograd/tensor.ts';
import type { Optimizer } from '../../../src/optim/optimizer.ts';
import { assertClose } from '../../helpers/assert.ts';
import { loadFixture } from '../../helpers/fixtures.ts';

export interface OptimizerCase {
  optimizer: 'Adam' | 'AdamW' | 'SGD';
  /** PyTorch's option names (snake_case), only those that differ from the defaults. */
  options: Record<string, number | boolean | number[]>;
  initial: number[][];
  target: number[][];
  steps: number[][][];
}

/** The fixture's cases for one optimizer. */
export function casesFor(optimizer: OptimizerCase['optimizer']): OptimizerCase[] {
  const all = loadFixture<{ cases: OptimizerCase[] }>('optimizers.json').cases;
  return all.filter((c) => c.optimizer === optimizer);
}

/** PyTorch's option names in flowgrad's camelCase: weight_decay -> weightDecay. */
export function camelOptions(options: OptimizerCase['options']): Record<string, number | boolean | number[]> {
  const out: Record<string, number | boolean | number[]> = {};
  for (const [key, value] of Object.entries(options)) out[key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  return out;
}

/** Sets w.grad = 2(w − target) + 0.3·cos(3w), reusing the grad buffer when there is one. */
export function setFixtureGradient(w: Tensor, target: Float64Array): void {
  const g = w.grad ?? new Float64Array(w.size);
  for (let i = 0; i < g.length; i++) g[i] = 2 * (w.data[i]! - target[i]!) + 0.3 * Math.cos(3 * w.data[i]!);
  w.grad = g;
}

/** Runs the case with the optimizer `make` builds and compares w after every step to 1e-12 relative. */
export function replay(c: OptimizerCase, make: (params: Tensor[], options: Record<string, number | boolean | number[]>) => Optimizer): void {
  const w = tensor(c.initial);
  const target = tensor(c.target).data;
  const opt = make([w], camelOptions(c.options));
  for (let t = 0; t < c.steps.length; t++) {
    setFixtureGradient(w, target);
    opt.step();
    assertClose(w.data, c.steps[t]!, `${c.optimizer} ${JSON.stringify(c.options)} after step ${t + 1}`, { rtol: 1e-12 });
  }
}
