/**
 * The mid-size products of an NPE training step (rows 256, widths 3 to 63: the default recipe's
 * conditioners 3 → 50 → 50 → 29 on two-moons and 15 → 50 → 50 → 145 on a 10-D task, and the C2ST
 * classifier's 200×10→100), forward with the fused bias and ReLU, input gradient with the activation's
 * derivative and bias gradient, and weight gradient, in GFLOP/s. `npx tsx bench/mid-products.ts
 * --against DIR` times them interleaved against another source tree's kernels (DIR/src, e.g. `git
 * archive` of an older commit) in one process and checks that both give the same bits.
 *
 * @module
 */

import { pathToFileURL } from 'node:url';
import * as mm from '../src/autograd/matmul.ts';
import { interleave, summarize } from './stats.ts';

type Kernels = Pick<typeof mm, 'linearActivationForward' | 'linearInputGradActivation' | 'linearBackward'>;

/** A product shape: rows n, layer nIn → nOut. */
export interface MidShape { n: number; nIn: number; nOut: number }

/** The shapes of the NPE step and the C2ST classifier. */
export const MID_SHAPES: readonly MidShape[] = [
  { n: 256, nIn: 3, nOut: 50 }, { n: 256, nIn: 50, nOut: 50 }, { n: 256, nIn: 50, nOut: 29 },
  { n: 256, nIn: 15, nOut: 50 }, { n: 256, nIn: 50, nOut: 145 }, { n: 200, nIn: 10, nOut: 100 },
];

function values(size: number, seed: number): Float64Array {
  const a = new Float64Array(size);
  let s = seed >>> 0;
  for (let k = 0; k < size; k++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[k] = s / 2 ** 31 - 1;
  }
  return a;
}

/** The three passes of one layer as runnable closures over fixed inputs (outputs written to `out`). */
export function midPasses(k: Kernels, s: MidShape) {
  const { n, nIn, nOut } = s;
  const X = values(n * nIn, 1), W = values(nOut * nIn, 2), b = values(nOut, 3), G = values(n * nOut, 4);
  const H = X.map((v) => Math.max(v, 0));
  const o = new Float64Array(n * nOut), dA = new Float64Array(n * nIn), gb = new Float64Array(nIn), gW = new Float64Array(nOut * nIn), gx = new Float64Array(n * nIn);
  return {
    forward: () => (k.linearActivationForward(X, n, nIn, W, nOut, b, 0, 1, false, o), o),
    inputGrad: () => (gb.fill(0), k.linearInputGradActivation(G, n, nOut, W, nIn, H, 0, 1, false, dA, gb), dA[0]! + gb[nIn - 1]!),
    weightGrad: () => (gW.fill(0), k.linearBackward(G, X, n, nIn, W, nOut, null, gW, null), gW),
    // linear's dx = dOut·W alone (the first layer's input gradient)
    dx: () => (gx.fill(0), k.linearBackward(G, X, n, nIn, W, nOut, gx, null, null), gx),
    outputs: { o, dA, gb, gW, gx },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--against');
  const other: Kernels | null = i > 0 ? await import(pathToFileURL(`${process.argv[i + 1]}/src/autograd/matmul.ts`).href) : null;
  for (const s of MID_SHAPES) {
    const flops = 2 * s.n * s.nIn * s.nOut;
    const mine = midPasses(mm, s), theirs = other !== null ? midPasses(other, s) : null;
    const cells: string[] = [];
    for (const pass of ['forward', 'inputGrad', 'weightGrad', 'dx'] as const) {
      const cs = [{ name: 'this', run: () => (mine[pass](), 0) }];
      if (theirs !== null) cs.unshift({ name: 'other', run: () => (theirs[pass](), 0) });
      const r = interleave(cs, { warmupSteps: 200, rounds: 10, stepsPerBlock: 100 });
      const gf = r.times.map((t) => flops / summarize(t).median / 1e6);
      cells.push(`${pass} ${gf.map((g) => g.toFixed(2)).join(' → ')}${theirs !== null ? ` (${(gf[1]! / gf[0]!).toFixed(2)}×)` : ''}`);
    }
    let same = '';
    if (theirs !== null) {
      const eq = (a: Float64Array, c: Float64Array) => a.every((v, k) => Object.is(v, c[k]));
      same = (['o', 'dA', 'gb', 'gW', 'gx'] as const).every((key) => eq(mine.outputs[key], theirs.outputs[key])) ? ' same bits' : ' DIFFERENT BITS';
    }
    console.log(`${s.n}×${s.nIn}→${s.nOut}: GFLOP/s ${cells.join(', ')}${same}`);
  }
}
