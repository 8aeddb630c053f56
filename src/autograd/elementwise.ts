/**
 * Elementwise ops. Binary ops broadcast a 1×1, 1×n or m×1 operand against m×n (either side), and their
 * backward sums the gradient back to each operand's shape: reading an operand at a broadcast index and
 * accumulating (`+=`) at that same index does exactly that.
 *
 * Each op is one `defineOp`: its formula and local derivative (the text `explain()` prints), the forward
 * loop, then right below it the backward, which only accumulates (`+=`).
 *
 * @module
 */

import { defineOp } from './op.ts';
import { formatShape, ShapeError, type Tensor } from './tensor.ts';

/** Output shape and read strides of two broadcast operands. */
interface Broadcast {
  rows: number;
  cols: number;
  /** Offset step per output row / column when reading a (0 along a broadcast axis). */
  aRow: number;
  aCol: number;
  bRow: number;
  bCol: number;
}

function broadcast(op: string, a: Tensor, b: Tensor): Broadcast {
  const rows = a.rows === b.rows ? a.rows : a.rows === 1 ? b.rows : b.rows === 1 ? a.rows : -1;
  const cols = a.cols === b.cols ? a.cols : a.cols === 1 ? b.cols : b.cols === 1 ? a.cols : -1;
  if (rows < 0 || cols < 0) {
    throw new ShapeError(`${op}: cannot broadcast ${formatShape(a.rows, a.cols)} with ${formatShape(b.rows, b.cols)} (each dimension must match or be 1)`);
  }
  return {
    rows,
    cols,
    aRow: a.rows === 1 ? 0 : a.cols,
    aCol: a.cols === 1 ? 0 : 1,
    bRow: b.rows === 1 ? 0 : b.cols,
    bCol: b.cols === 1 ? 0 : 1,
  };
}

/**
 * Elementwise sum with broadcasting.
 * @example add(tensor([[1, 2]]), tensor([[10]])).toArray(); // [[11, 12]]
 */
export const add = defineOp({
  name: 'add',
  formula: 'out = a + b (broadcast)',
  derivative: 'da = dOut, db = dOut (summed over broadcast axes)',
  forward(ctx, a: Tensor, b: Tensor) {
    const s = broadcast('add', a, b);
    const o = ctx.output(s.rows * s.cols), x = a.data, y = b.data;
    for (let i = 0, k = 0; i < s.rows; i++) {
      for (let j = 0; j < s.cols; j++, k++) o[k] = x[i * s.aRow + j * s.aCol]! + y[i * s.bRow + j * s.bCol]!;
    }
    return {
      rows: s.rows, cols: s.cols, data: o, inputs: [a, b],
      backward(dOut, grad) {
        const ga = grad(a), gb = grad(b);
        for (let i = 0, k = 0; i < s.rows; i++) {
          for (let j = 0; j < s.cols; j++, k++) {
            const ia = i * s.aRow + j * s.aCol, ib = i * s.bRow + j * s.bCol;
            if (ga !== null) ga[ia]! += dOut[k]!;
            if (gb !== null) gb[ib]! += dOut[k]!;
          }
        }
      },
    };
  },
});

/**
 * Elementwise difference with broadcasting.
 * @example sub(tensor([[5, 6]]), tensor([[1, 2]])).toArray(); // [[4, 4]]
 */
export const sub = defineOp({
  name: 'sub',
  formula: 'out = a - b (broadcast)',
  derivative: 'da = dOut, db = -dOut (summed over broadcast axes)',
  forward(ctx, a: Tensor, b: Tensor) {
    const s = broadcast('sub', a, b);
    const o = ctx.output(s.rows * s.cols), x = a.data, y = b.data;
    for (let i = 0, k = 0; i < s.rows; i++) {
      for (let j = 0; j < s.cols; j++, k++) o[k] = x[i * s.aRow + j * s.aCol]! - y[i * s.bRow + j * s.bCol]!;
    }
    return {
      rows: s.rows, cols: s.cols, data: o, inputs: [a, b],
      backward(dOut, grad) {
        const ga = grad(a), gb = grad(b);
        for (let i = 0, k = 0; i < s.rows; i++) {
          for (let j = 0; j < s.cols; j++, k++) {
            const ia = i * s.aRow + j * s.aCol, ib = i * s.bRow + j * s.bCol;
            if (ga !== null) ga[ia]! += dOut[k]!;
            if (gb !== null) gb[ib]! -= dOut[k]!;
          }
        }
      },
    };
  },
});

/**
 * Elementwise (Hadamard) product with broadcasting.
 * @example mul(tensor([[1, 2], [3, 4]]), tensor([[10], [100]])).toArray(); // [[10, 20], [300, 400]]
 */
export const mul = defineOp({
  name: 'mul',
  formula: 'out = a·b (broadcast)',
  derivative: 'da = dOut·b, db = dOut·a (summed over broadcast axes)',
  forward(ctx, a: Tensor, b: Tensor) {
    const s = broadcast('mul', a, b);
    const o = ctx.output(s.rows * s.cols), x = a.data, y = b.data;
    for (let i = 0, k = 0; i < s.rows; i++) {
      for (let j = 0; j < s.cols; j++, k++) o[k] = x[i * s.aRow + j * s.aCol]! * y[i * s.bRow + j * s.bCol]!;
    }
    return {
      rows: s.rows, cols: s.cols, data: o, inputs: [a, b],
      backward(dOut, grad) {
        const ga = grad(a), gb = grad(b);
        for (let i = 0, k = 0; i < s.rows; i++) {
          for (let j = 0; j < s.cols; j++, k++) {
            const ia = i * s.aRow + j * s.aCol, ib = i * s.bRow + j * s.bCol;
            if (ga !== null) ga[ia]! += dOut[k]! * y[ib]!;
            if (gb !== null) gb[ib]! += dOut[k]! * x[ia]!;
          }
        }
      },
    };
  },
});

/**
 * Elementwise quotient with broadcasting.
 * @example div(tensor([[1, 2]]), tensor([[2]])).toArray(); // [[0.5, 1]]
 */
export const div = defineOp({
  name: 'div',
  formula: 'out = a / b (broadcast)',
  derivative: 'da = dOut / b, db = -dOut·a / b² (summed over broadcast axes)',
  forward(ctx, a: Tensor, b: Tensor) {
    const s = broadcast('div', a, b);
    const o = ctx.output(s.rows * s.cols), x = a.data, y = b.data;
    for (let i = 0, k = 0; i < s.rows; i++) {
      for (let j = 0; j < s.cols; j++, k++) o[k] = x[i * s.aRow + j * s.aCol]! / y[i * s.bRow + j * s.bCol]!;
    }
    return {
      rows: s.rows, cols: s.cols, data: o, inputs: [a, b],
      backward(dOut, grad) {
        const ga = grad(a), gb = grad(b);
        for (let i = 0, k = 0; i < s.rows; i++) {
          for (let j = 0; j < s.cols; j++, k++) {
            const ia = i * s.aRow + j * s.aCol, ib = i * s.bRow + j * s.bCol;
            const yb = y[ib]!;
            if (ga !== null) ga[ia]! += dOut[k]! / yb;
            if (gb !== null) gb[ib]! -= (dOut[k]! * x[ia]!) / (yb * yb);
          }
        }
      },
    };
  },
});

// ---------------------------------------------------------------------------------------------------
// Unary ops: out has x's shape; k runs over every entry.

/**
 * Negation.
 * @example neg(tensor([[1, -2]])).toArray(); // [[-1, 2]]
 */
export const neg = defineOp({
  name: 'neg',
  formula: 'out = -x',
  derivative: 'dx = -dOut',
  forward(ctx, x: Tensor) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = -v[k]!;
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let k = 0; k < gx.length; k++) gx[k]! -= dOut[k]!;
      },
    };
  },
});

/**
 * Elementwise e^x.
 * @example exp(tensor([[0, 1]])).toArray(); // [[1, 2.718281828459045]]
 */
export const exp = defineOp({
  name: 'exp',
  formula: 'out = exp(x)',
  derivative: 'dx = dOut·out',
  forward(ctx, x: Tensor) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = Math.exp(v[k]!);
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let k = 0; k < gx.length; k++) gx[k]! += dOut[k]! * o[k]!;
      },
    };
  },
});

/**
 * Natural logarithm.
 * @example log(tensor([[1, Math.E]])).toArray(); // [[0, 1]]
 */
export const log = defineOp({
  name: 'log',
  formula: 'out = log(x)',
  derivative: 'dx = dOut / x',
  forward(ctx, x: Tensor) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = Math.log(v[k]!);
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let k = 0; k < gx.length; k++) gx[k]! += dOut[k]! / v[k]!;
      },
    };
  },
});

/**
 * Hyperbolic tangent.
 * @example tanh(tensor([[0]])).toArray(); // [[0]]
 */
export const tanh = defineOp({
  name: 'tanh',
  formula: 'out = tanh(x)',
  derivative: 'dx = dOut·(1 - out²)',
  forward(ctx, x: Tensor) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = Math.tanh(v[k]!);
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let k = 0; k < gx.length; k++) gx[k]! += dOut[k]! * (1 - o[k]! * o[k]!);
      },
    };
  },
});

/**
 * Logistic sigmoid, computed without overflow for large |x|.
 * @example sigmoid(tensor([[0]])).toArray(); // [[0.5]]
 */
export const sigmoid = defineOp({
  name: 'sigmoid',
  formula: 'out = 1 / (1 + exp(-x))',
  derivative: 'dx = dOut·out·(1 - out)',
  forward(ctx, x: Tensor) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = stableSigmoid(v[k]!);
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let k = 0; k < gx.length; k++) gx[k]! += dOut[k]! * o[k]! * (1 - o[k]!);
      },
    };
  },
});

/**
 * σ(x) = 1/(1+e^-x) for x ≥ 0, e^x/(1+e^x) otherwise: never evaluates exp of a large positive number.
 * @example stableSigmoid(0); // 0.5
 */
export function stableSigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * Softplus, log(1 + eˣ), in the stable form that neither overflows for large x nor loses precision
 * for very negative x.
 * @example softplus(tensor([[0, 1000]])).toArray(); // [[0.6931471805599453, 1000]]
 */
export const softplus = defineOp({
  name: 'softplus',
  formula: 'out = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))',
  derivative: 'dx = dOut·sigmoid(x)',
  forward(ctx, x: Tensor) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = Math.max(v[k]!, 0) + Math.log1p(Math.exp(-Math.abs(v[k]!)));
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let k = 0; k < gx.length; k++) gx[k]! += dOut[k]! * stableSigmoid(v[k]!);
      },
    };
  },
});

/**
 * Rectified linear unit.
 * @example relu(tensor([[-1, 2]])).toArray(); // [[0, 2]]
 */
export const relu = defineOp({
  name: 'relu',
  formula: 'out = max(x, 0)',
  derivative: 'dx = dOut·(x > 0 ? 1 : 0)',
  forward(ctx, x: Tensor) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = v[k]! > 0 ? v[k]! : 0;
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let k = 0; k < gx.length; k++) if (v[k]! > 0) gx[k]! += dOut[k]!;
      },
    };
  },
});

/**
 * Leaky ReLU with PyTorch's default slope 0.01.
 * @example leakyRelu(tensor([[-1, 2]])).toArray(); // [[-0.01, 2]]
 */
export const leakyRelu = defineOp({
  name: 'leakyRelu',
  formula: 'out = x > 0 ? x : slope·x',
  derivative: 'dx = dOut·(x > 0 ? 1 : slope)',
  forward(ctx, x: Tensor, slope: number = 0.01) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = v[k]! > 0 ? v[k]! : slope * v[k]!;
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      detail() { return `slope=${slope}`; },
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let k = 0; k < gx.length; k++) gx[k]! += v[k]! > 0 ? dOut[k]! : slope * dOut[k]!;
      },
    };
  },
});

/**
 * Elementwise square.
 * @example square(tensor([[-3]])).toArray(); // [[9]]
 */
export const square = defineOp({
  name: 'square',
  formula: 'out = x²',
  derivative: 'dx = dOut·2x',
  forward(ctx, x: Tensor) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = v[k]! * v[k]!;
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let k = 0; k < gx.length; k++) gx[k]! += 2 * dOut[k]! * v[k]!;
      },
    };
  },
});

/**
 * Elementwise square root.
 * @example sqrt(tensor([[4]])).toArray(); // [[2]]
 */
export const sqrt = defineOp({
  name: 'sqrt',
  formula: 'out = √x',
  derivative: 'dx = dOut / (2·out)',
  forward(ctx, x: Tensor) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = Math.sqrt(v[k]!);
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let k = 0; k < gx.length; k++) gx[k]! += dOut[k]! / (2 * o[k]!);
      },
    };
  },
});

/**
 * Absolute value (gradient 0 at x = 0, as in PyTorch).
 * @example abs(tensor([[-2]])).toArray(); // [[2]]
 */
export const abs = defineOp({
  name: 'abs',
  formula: 'out = |x|',
  derivative: 'dx = dOut·sign(x)',
  forward(ctx, x: Tensor) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = Math.abs(v[k]!);
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let k = 0; k < gx.length; k++) gx[k]! += dOut[k]! * Math.sign(v[k]!);
      },
    };
  },
});

/**
 * Multiplies by a constant.
 * @example scale(tensor([[1, 2]]), 3).toArray(); // [[3, 6]]
 */
export const scale = defineOp({
  name: 'scale',
  formula: 'out = c·x',
  derivative: 'dx = dOut·c',
  forward(ctx, x: Tensor, c: number) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = c * v[k]!;
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      detail() { return `c=${c}`; },
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let k = 0; k < gx.length; k++) gx[k]! += c * dOut[k]!;
      },
    };
  },
});

/**
 * Adds a constant.
 * @example addScalar(tensor([[1, 2]]), 1).toArray(); // [[2, 3]]
 */
export const addScalar = defineOp({
  name: 'addScalar',
  formula: 'out = x + c',
  derivative: 'dx = dOut',
  forward(ctx, x: Tensor, c: number) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = v[k]! + c;
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      detail() { return `c=${c}`; },
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let k = 0; k < gx.length; k++) gx[k]! += dOut[k]!;
      },
    };
  },
});

/**
 * Raises every entry to a constant power.
 * @example powScalar(tensor([[2, 3]]), 3).toArray(); // [[8, 27]]
 */
export const powScalar = defineOp({
  name: 'powScalar',
  formula: 'out = x^p',
  derivative: 'dx = dOut·p·x^(p-1)',
  forward(ctx, x: Tensor, p: number) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = Math.pow(v[k]!, p);
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      detail() { return `p=${p}`; },
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        // x^0 is the constant 1: its derivative is 0 everywhere, also at x = 0 where 0·x^(-1) would be NaN.
        if (p === 0) return;
        for (let k = 0; k < gx.length; k++) gx[k]! += dOut[k]! * p * Math.pow(v[k]!, p - 1);
      },
    };
  },
});
