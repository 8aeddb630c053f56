/**
 * The derivative rule of every op, as text: the single source for `explain()`, `toDot()` and the two
 * comment lines written above each op's code (a test reads the sources and fails if they drift apart).
 *
 * Each entry is `[formula, local derivative]`. `dOut` is the gradient arriving at the output; the rule
 * says what is accumulated (`+=`) into each input's gradient.
 *
 * @module
 */

/**
 * `[formula, derivative]` for each op name.
 * @example RULES.exp; // ['out = exp(x)', 'dx = dOut·out']
 */
export const RULES: Readonly<Record<string, readonly [string, string]>> = {
  leaf: ['a leaf: values given, not computed', 'gradient accumulates here'],
  add: ['out = a + b (broadcast)', 'da = dOut, db = dOut (summed over broadcast axes)'],
  sub: ['out = a - b (broadcast)', 'da = dOut, db = -dOut (summed over broadcast axes)'],
  mul: ['out = a·b (broadcast)', 'da = dOut·b, db = dOut·a (summed over broadcast axes)'],
  div: ['out = a / b (broadcast)', 'da = dOut / b, db = -dOut·a / b² (summed over broadcast axes)'],
  neg: ['out = -x', 'dx = -dOut'],
  exp: ['out = exp(x)', 'dx = dOut·out'],
  log: ['out = log(x)', 'dx = dOut / x'],
  tanh: ['out = tanh(x)', 'dx = dOut·(1 - out²)'],
  sigmoid: ['out = 1 / (1 + exp(-x))', 'dx = dOut·out·(1 - out)'],
  softplus: ['out = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))', 'dx = dOut·sigmoid(x)'],
  relu: ['out = max(x, 0)', 'dx = dOut·(x > 0 ? 1 : 0)'],
  leakyRelu: ['out = x > 0 ? x : slope·x', 'dx = dOut·(x > 0 ? 1 : slope)'],
  square: ['out = x²', 'dx = dOut·2x'],
  sqrt: ['out = √x', 'dx = dOut / (2·out)'],
  abs: ['out = |x|', 'dx = dOut·sign(x)'],
  scale: ['out = c·x', 'dx = dOut·c'],
  addScalar: ['out = x + c', 'dx = dOut'],
  powScalar: ['out = x^p', 'dx = dOut·p·x^(p-1)'],
  matmul: ['out = A·B', 'dA = dOut·Bᵀ, dB = Aᵀ·dOut'],
  transpose: ['out = xᵀ', 'dx = dOutᵀ'],
  linear: ['out = x·Wᵀ + b', 'dx = dOut·W, dW = dOutᵀ·x, db = Σ_rows dOut'],
  mlp: ['out = act_L(…act_1(x·W_1ᵀ + b_1)…·W_Lᵀ + b_L)', 'dA_l = dH_l ⊙ act_l\'(A_l), dW_l = dA_lᵀ·H_(l-1), db_l = Σ_rows dA_l, dH_(l-1) = dA_l·W_l'],
  sum: ['out = Σ x (over all entries, rows (axis 0) or columns (axis 1))', 'dx = dOut broadcast back to x'],
  mean: ['out = Σ x / n (over all entries, rows (axis 0) or columns (axis 1))', 'dx = dOut / n broadcast back to x'],
  sliceCols: ['out = x[:, start:end]', 'dx[:, start:end] = dOut'],
  concatCols: ['out = [a | b | ...] (side by side)', 'da = dOut[:, columns of a], db = dOut[:, columns of b], ...'],
  gatherCols: ['out[:, j] = x[:, indices[j]]', 'dx[:, indices[j]] = dOut[:, j]'],
};

/**
 * The rule of `op` as one line, `formula; derivative`.
 * @example ruleText('exp'); // 'out = exp(x); dx = dOut·out'
 */
export function ruleText(op: string): string {
  const rule = RULES[op];
  return rule === undefined ? `${op} (no rule recorded)` : `${rule[0]}; ${rule[1]}`;
}
