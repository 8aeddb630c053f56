/**
 * Elementwise ops. Binary ops broadcast a 1×1, 1×n or m×1 operand against m×n (either side), and their
 * backward sums the gradient back to each operand's shape: reading an operand at a broadcast index and
 * accumulating (`+=`) at that same index does exactly that.
 *
 * Each op: the formula and its local derivative in the two comment lines above it (the same text as
 * `RULES` in `rules.ts`), the forward loop, then the backward closure.
 *
 * @module
 */

import { allocRaw, formatShape, gradBuffer, result, ShapeError, type Tensor } from './tensor.ts';

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

// out = a + b (broadcast)
// da = dOut, db = dOut (summed over broadcast axes)
/**
 * Elementwise sum with broadcasting.
 * @example add(tensor([[1, 2]]), tensor([[10]])).toArray(); // [[11, 12]]
 */
export function add(a: Tensor, b: Tensor): Tensor {
  const s = broadcast('add', a, b);
  const o = allocRaw(s.rows * s.cols), x = a.data, y = b.data;
  for (let i = 0, k = 0; i < s.rows; i++) {
    for (let j = 0; j < s.cols; j++, k++) o[k] = x[i * s.aRow + j * s.aCol]! + y[i * s.bRow + j * s.bCol]!;
  }
  const out = result('add', s.rows, s.cols, o, [a, b]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!;
      const ga = a.requiresGrad ? gradBuffer(a) : null;
      const gb = b.requiresGrad ? gradBuffer(b) : null;
      for (let i = 0, k = 0; i < s.rows; i++) {
        for (let j = 0; j < s.cols; j++, k++) {
          if (ga !== null) ga[i * s.aRow + j * s.aCol]! += g[k]!;
          if (gb !== null) gb[i * s.bRow + j * s.bCol]! += g[k]!;
        }
      }
    };
  }
  return out;
}

// out = a - b (broadcast)
// da = dOut, db = -dOut (summed over broadcast axes)
/**
 * Elementwise difference with broadcasting.
 * @example sub(tensor([[5, 6]]), tensor([[1, 2]])).toArray(); // [[4, 4]]
 */
export function sub(a: Tensor, b: Tensor): Tensor {
  const s = broadcast('sub', a, b);
  const o = allocRaw(s.rows * s.cols), x = a.data, y = b.data;
  for (let i = 0, k = 0; i < s.rows; i++) {
    for (let j = 0; j < s.cols; j++, k++) o[k] = x[i * s.aRow + j * s.aCol]! - y[i * s.bRow + j * s.bCol]!;
  }
  const out = result('sub', s.rows, s.cols, o, [a, b]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!;
      const ga = a.requiresGrad ? gradBuffer(a) : null;
      const gb = b.requiresGrad ? gradBuffer(b) : null;
      for (let i = 0, k = 0; i < s.rows; i++) {
        for (let j = 0; j < s.cols; j++, k++) {
          if (ga !== null) ga[i * s.aRow + j * s.aCol]! += g[k]!;
          if (gb !== null) gb[i * s.bRow + j * s.bCol]! -= g[k]!;
        }
      }
    };
  }
  return out;
}

// out = a·b (broadcast)
// da = dOut·b, db = dOut·a (summed over broadcast axes)
/**
 * Elementwise (Hadamard) product with broadcasting.
 * @example mul(tensor([[1, 2], [3, 4]]), tensor([[10], [100]])).toArray(); // [[10, 20], [300, 400]]
 */
export function mul(a: Tensor, b: Tensor): Tensor {
  const s = broadcast('mul', a, b);
  const o = allocRaw(s.rows * s.cols), x = a.data, y = b.data;
  for (let i = 0, k = 0; i < s.rows; i++) {
    for (let j = 0; j < s.cols; j++, k++) o[k] = x[i * s.aRow + j * s.aCol]! * y[i * s.bRow + j * s.bCol]!;
  }
  const out = result('mul', s.rows, s.cols, o, [a, b]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!;
      const ga = a.requiresGrad ? gradBuffer(a) : null;
      const gb = b.requiresGrad ? gradBuffer(b) : null;
      for (let i = 0, k = 0; i < s.rows; i++) {
        for (let j = 0; j < s.cols; j++, k++) {
          const ia = i * s.aRow + j * s.aCol, ib = i * s.bRow + j * s.bCol;
          if (ga !== null) ga[ia]! += g[k]! * y[ib]!;
          if (gb !== null) gb[ib]! += g[k]! * x[ia]!;
        }
      }
    };
  }
  return out;
}

// out = a / b (broadcast)
// da = dOut / b, db = -dOut·a / b² (summed over broadcast axes)
/**
 * Elementwise quotient with broadcasting.
 * @example div(tensor([[1, 2]]), tensor([[2]])).toArray(); // [[0.5, 1]]
 */
export function div(a: Tensor, b: Tensor): Tensor {
  const s = broadcast('div', a, b);
  const o = allocRaw(s.rows * s.cols), x = a.data, y = b.data;
  for (let i = 0, k = 0; i < s.rows; i++) {
    for (let j = 0; j < s.cols; j++, k++) o[k] = x[i * s.aRow + j * s.aCol]! / y[i * s.bRow + j * s.bCol]!;
  }
  const out = result('div', s.rows, s.cols, o, [a, b]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!;
      const ga = a.requiresGrad ? gradBuffer(a) : null;
      const gb = b.requiresGrad ? gradBuffer(b) : null;
      for (let i = 0, k = 0; i < s.rows; i++) {
        for (let j = 0; j < s.cols; j++, k++) {
          const ia = i * s.aRow + j * s.aCol, ib = i * s.bRow + j * s.bCol;
          const yb = y[ib]!;
          if (ga !== null) ga[ia]! += g[k]! / yb;
          if (gb !== null) gb[ib]! -= (g[k]! * x[ia]!) / (yb * yb);
        }
      }
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Unary ops: out has x's shape; k runs over every entry.

// out = -x
// dx = -dOut
/**
 * Negation.
 * @example neg(tensor([[1, -2]])).toArray(); // [[-1, 2]]
 */
export function neg(x: Tensor): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) o[k] = -v[k]!;
  const out = result('neg', x.rows, x.cols, o, [x]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let k = 0; k < g.length; k++) gx[k]! -= g[k]!;
    };
  }
  return out;
}

// out = exp(x)
// dx = dOut·out
/**
 * Elementwise e^x.
 * @example exp(tensor([[0, 1]])).toArray(); // [[1, 2.718281828459045]]
 */
export function exp(x: Tensor): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) o[k] = Math.exp(v[k]!);
  const out = result('exp', x.rows, x.cols, o, [x]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let k = 0; k < g.length; k++) gx[k]! += g[k]! * o[k]!;
    };
  }
  return out;
}

// out = log(x)
// dx = dOut / x
/**
 * Natural logarithm.
 * @example log(tensor([[1, Math.E]])).toArray(); // [[0, 1]]
 */
export function log(x: Tensor): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) o[k] = Math.log(v[k]!);
  const out = result('log', x.rows, x.cols, o, [x]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let k = 0; k < g.length; k++) gx[k]! += g[k]! / v[k]!;
    };
  }
  return out;
}

// out = tanh(x)
// dx = dOut·(1 - out²)
/**
 * Hyperbolic tangent.
 * @example tanh(tensor([[0]])).toArray(); // [[0]]
 */
export function tanh(x: Tensor): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) o[k] = Math.tanh(v[k]!);
  const out = result('tanh', x.rows, x.cols, o, [x]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let k = 0; k < g.length; k++) gx[k]! += g[k]! * (1 - o[k]! * o[k]!);
    };
  }
  return out;
}

// out = 1 / (1 + exp(-x))
// dx = dOut·out·(1 - out)
/**
 * Logistic sigmoid, computed without overflow for large |x|.
 * @example sigmoid(tensor([[0]])).toArray(); // [[0.5]]
 */
export function sigmoid(x: Tensor): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) o[k] = stableSigmoid(v[k]!);
  const out = result('sigmoid', x.rows, x.cols, o, [x]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let k = 0; k < g.length; k++) gx[k]! += g[k]! * o[k]! * (1 - o[k]!);
    };
  }
  return out;
}

/**
 * σ(x) = 1/(1+e^-x) for x ≥ 0, e^x/(1+e^x) otherwise: never evaluates exp of a large positive number.
 * @example stableSigmoid(0); // 0.5
 */
export function stableSigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

// out = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))
// dx = dOut·sigmoid(x)
/**
 * Softplus, log(1 + eˣ), in the stable form that neither overflows for large x nor loses precision
 * for very negative x.
 * @example softplus(tensor([[0, 1000]])).toArray(); // [[0.6931471805599453, 1000]]
 */
export function softplus(x: Tensor): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) {
    const t = v[k]!;
    o[k] = Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
  }
  const out = result('softplus', x.rows, x.cols, o, [x]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let k = 0; k < g.length; k++) gx[k]! += g[k]! * stableSigmoid(v[k]!);
    };
  }
  return out;
}

// out = max(x, 0)
// dx = dOut·(x > 0 ? 1 : 0)
/**
 * Rectified linear unit.
 * @example relu(tensor([[-1, 2]])).toArray(); // [[0, 2]]
 */
export function relu(x: Tensor): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) o[k] = v[k]! > 0 ? v[k]! : 0;
  const out = result('relu', x.rows, x.cols, o, [x]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let k = 0; k < g.length; k++) if (v[k]! > 0) gx[k]! += g[k]!;
    };
  }
  return out;
}

// out = x > 0 ? x : slope·x
// dx = dOut·(x > 0 ? 1 : slope)
/**
 * Leaky ReLU with PyTorch's default slope 0.01.
 * @example leakyRelu(tensor([[-1, 2]])).toArray(); // [[-0.01, 2]]
 */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) o[k] = v[k]! > 0 ? v[k]! : slope * v[k]!;
  const out = result('leakyRelu', x.rows, x.cols, o, [x]);
  out.detailKey = 'slope';
  out.detailValue = slope;
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let k = 0; k < g.length; k++) gx[k]! += v[k]! > 0 ? g[k]! : slope * g[k]!;
    };
  }
  return out;
}

// out = x²
// dx = dOut·2x
/**
 * Elementwise square.
 * @example square(tensor([[-3]])).toArray(); // [[9]]
 */
export function square(x: Tensor): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) o[k] = v[k]! * v[k]!;
  const out = result('square', x.rows, x.cols, o, [x]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let k = 0; k < g.length; k++) gx[k]! += 2 * g[k]! * v[k]!;
    };
  }
  return out;
}

// out = √x
// dx = dOut / (2·out)
/**
 * Elementwise square root.
 * @example sqrt(tensor([[4]])).toArray(); // [[2]]
 */
export function sqrt(x: Tensor): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) o[k] = Math.sqrt(v[k]!);
  const out = result('sqrt', x.rows, x.cols, o, [x]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let k = 0; k < g.length; k++) gx[k]! += g[k]! / (2 * o[k]!);
    };
  }
  return out;
}

// out = |x|
// dx = dOut·sign(x)
/**
 * Absolute value (gradient 0 at x = 0, as in PyTorch).
 * @example abs(tensor([[-2]])).toArray(); // [[2]]
 */
export function abs(x: Tensor): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) o[k] = Math.abs(v[k]!);
  const out = result('abs', x.rows, x.cols, o, [x]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let k = 0; k < g.length; k++) gx[k]! += g[k]! * Math.sign(v[k]!);
    };
  }
  return out;
}

// out = c·x
// dx = dOut·c
/**
 * Multiplies by a constant.
 * @example scale(tensor([[1, 2]]), 3).toArray(); // [[3, 6]]
 */
export function scale(x: Tensor, c: number): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) o[k] = c * v[k]!;
  const out = result('scale', x.rows, x.cols, o, [x]);
  out.detailKey = 'c';
  out.detailValue = c;
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let k = 0; k < g.length; k++) gx[k]! += c * g[k]!;
    };
  }
  return out;
}

// out = x + c
// dx = dOut
/**
 * Adds a constant.
 * @example addScalar(tensor([[1, 2]]), 1).toArray(); // [[2, 3]]
 */
export function addScalar(x: Tensor, c: number): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) o[k] = v[k]! + c;
  const out = result('addScalar', x.rows, x.cols, o, [x]);
  out.detailKey = 'c';
  out.detailValue = c;
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let k = 0; k < g.length; k++) gx[k]! += g[k]!;
    };
  }
  return out;
}

// out = x^p
// dx = dOut·p·x^(p-1)
/**
 * Raises every entry to a constant power.
 * @example powScalar(tensor([[2, 3]]), 3).toArray(); // [[8, 27]]
 */
export function powScalar(x: Tensor, p: number): Tensor {
  const o = allocRaw(x.size), v = x.data;
  for (let k = 0; k < o.length; k++) o[k] = Math.pow(v[k]!, p);
  const out = result('powScalar', x.rows, x.cols, o, [x]);
  out.detailKey = 'p';
  out.detailValue = p;
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      // x^0 is the constant 1: its derivative is 0 everywhere, also at x = 0 where 0·x^(-1) would be NaN.
      if (p === 0) return;
      for (let k = 0; k < g.length; k++) gx[k]! += g[k]! * p * Math.pow(v[k]!, p - 1);
    };
  }
  return out;
}
