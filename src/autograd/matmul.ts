/**
 * Matrix products: `matmul`, `transpose`, and the fused `linear` layer (x·Wᵀ + b as one graph node, a
 * custom gradient over its reference `add(matmul(x, transpose(W)), b)`). The products are 4×4 register
 * tiles: sixteen running sums, each value loaded serving several multiply-adds. Products of 64 or more
 * in every dimension, and mid-size ones (an NPE conditioner's 256×50·50×29 and its gradients, see "Mid-size
 * panels" below), first copy their operands into panels (see "Panels" below), where the tiles run faster;
 * smaller ones read their operands in place.
 *
 * @module
 */

import { add } from './elementwise.ts';
import { defineOp } from './op.ts';
import { formatShape, ShapeError, type Tensor } from './tensor.ts';

/**
 * Matrix product of an m×k and a k×n tensor.
 * @example matmul(tensor([[1, 2]]), tensor([[3], [4]])).toArray(); // [[11]]
 */
export const matmul = defineOp({
  name: 'matmul',
  formula: 'out = A·B',
  derivative: 'dA = dOut·Bᵀ, dB = Aᵀ·dOut',
  forward(ctx, a: Tensor, b: Tensor) {
    if (a.cols !== b.rows) {
      throw new ShapeError(`matmul: cannot multiply ${formatShape(a.rows, a.cols)} by ${formatShape(b.rows, b.cols)} (inner sizes ${a.cols} and ${b.rows} differ)`);
    }
    const m = a.rows, k = a.cols, n = b.cols, A = a.data, B = b.data;
    const o = ctx.output(m * n);
    productAB(A, B, m, k, n, o);
    return {
      rows: m, cols: n, data: o, inputs: [a, b],
      backward(dOut, grad) {
        const gA = grad(a), gB = grad(b);
        if (gA !== null) accumulateABt(dOut, B, m, n, k, gA);
        if (gB !== null) accumulateAtB(A, dOut, m, k, n, gB);
      },
    };
  },
});

/** o = A·B for A m×k, B k×n (o m×n, overwritten): the tiles below over A's rows and the rows of Bᵀ. */
function productAB(A: Float64Array, B: Float64Array, m: number, k: number, n: number, o: Float64Array): void {
  if (panelsPay(m, n, k)) panelTiles(rowPanels(A, m, k, 0), columnPanels(B, k, n, 1), m, n, k, o, SET);
  else dotTiles(A, transposed(B, k, n, 0), m, n, k, o, false);
}

/** gA += G·Bᵀ for G m×n, B k×n (gA m×k): gA[i, p] += Σ_j G[i, j]·B[p, j], rows against rows. */
function accumulateABt(G: Float64Array, B: Float64Array, m: number, n: number, k: number, gA: Float64Array): void {
  dotTiles(G, B, m, k, n, gA, true);
}

/** gB += Aᵀ·G for A m×k, G m×n (gB k×n): gB[p, j] += Σ_i Aᵀ[p, i]·Gᵀ[j, i], rows of Aᵀ against rows of Gᵀ. */
function accumulateAtB(A: Float64Array, G: Float64Array, m: number, k: number, n: number, gB: Float64Array): void {
  if (panelsPay(k, n, m)) panelTiles(columnPanels(A, m, k, 0), columnPanels(G, m, n, 1), k, n, m, gB, ADD);
  else dotTiles(transposed(A, m, k, 0), transposed(G, m, n, 1), k, n, m, gB, true);
}

/**
 * Scratch space for transposed operands: two arrays, grown when too small, private to this file. A
 * transposed copy lives only during the call that made it (no tensor ever refers to it), so reusing
 * the space cannot change any value a caller holds; it saves an off-heap allocation per product.
 */
const scratch: Float64Array[] = [new Float64Array(0), new Float64Array(0)];

/** The r×c matrix M transposed (c×r) into scratch space `slot` (0 or 1), valid until the next call with that slot. */
function transposed(M: Float64Array, r: number, c: number, slot: 0 | 1): Float64Array {
  const size = r * c;
  if (scratch[slot]!.length < size) scratch[slot] = new Float64Array(Math.max(size, 2 * scratch[slot]!.length));
  const t = scratch[slot]!;
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = M[i * c + j]!;
  return t;
}

/** Values of P (float64) per row block of {@link dotTiles}: 256 KiB, within a level-2 cache. */
const BLOCK_VALUES = 32768;

/**
 * out[i, j] (+)= Σ_t P[i, t]·Q[j, t] for P rowsP×len and Q rowsQ×len, out rowsP×rowsQ: written when
 * `accumulate` is false, added to when true. 4×4 register tiles: sixteen running sums, each of the eight
 * values loaded per step serving four multiply-adds; four rows of Q stay in cache while the rows of P
 * stream past. Each sum runs over t in order, as the plain dot product does.
 */
function dotTiles(P: Float64Array, Q: Float64Array, rowsP: number, rowsQ: number, len: number, out: Float64Array, accumulate: boolean): void {
  if (panelsPay(rowsP, rowsQ, len)) panelTiles(rowPanels(P, rowsP, len, 0), rowPanels(Q, rowsQ, len, 1), rowsP, rowsQ, len, out, accumulate ? ADD : SET);
  else dotTilesInPlace(P, Q, rowsP, rowsQ, len, out, accumulate);
}

/** {@link dotTiles} reading P and Q in place (a function of its own, so that its loop compiles alone). */
function dotTilesInPlace(P: Float64Array, Q: Float64Array, rowsP: number, rowsQ: number, len: number, out: Float64Array, accumulate: boolean): void {
  const p4 = rowsP - (rowsP % 4), q4 = rowsQ - (rowsQ % 4);
  // blocks of P's rows that stay in the level-2 cache while every group of four rows of Q passes
  const block = Math.max(4, 4 * Math.floor(BLOCK_VALUES / (4 * Math.max(len, 1))));
  for (let i0 = 0; i0 < p4; i0 += block) {
  const iEnd = Math.min(p4, i0 + block);
  for (let j = 0; j < q4; j += 4) {
    const q0 = j * len, q1 = q0 + len, q2 = q1 + len, q3 = q2 + len;
    for (let i = i0; i < iEnd; i += 4) {
      const r0 = i * len, r1 = r0 + len, r2 = r1 + len, r3 = r2 + len;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let t = 0; t < len; t++) {
        const b0 = Q[q0 + t]!, b1 = Q[q1 + t]!, b2 = Q[q2 + t]!, b3 = Q[q3 + t]!;
        const a0 = P[r0 + t]!, a1 = P[r1 + t]!, a2 = P[r2 + t]!, a3 = P[r3 + t]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      let at = i * rowsQ + j;
      if (accumulate) {
        out[at]! += c00; out[at + 1]! += c01; out[at + 2]! += c02; out[at + 3]! += c03;
        at += rowsQ;
        out[at]! += c10; out[at + 1]! += c11; out[at + 2]! += c12; out[at + 3]! += c13;
        at += rowsQ;
        out[at]! += c20; out[at + 1]! += c21; out[at + 2]! += c22; out[at + 3]! += c23;
        at += rowsQ;
        out[at]! += c30; out[at + 1]! += c31; out[at + 2]! += c32; out[at + 3]! += c33;
      } else {
        out[at] = c00; out[at + 1] = c01; out[at + 2] = c02; out[at + 3] = c03;
        at += rowsQ;
        out[at] = c10; out[at + 1] = c11; out[at + 2] = c12; out[at + 3] = c13;
        at += rowsQ;
        out[at] = c20; out[at + 1] = c21; out[at + 2] = c22; out[at + 3] = c23;
        at += rowsQ;
        out[at] = c30; out[at + 1] = c31; out[at + 2] = c32; out[at + 3] = c33;
      }
    }
  }
  }
  // edges: the last rowsP % 4 rows for every column, the last rowsQ % 4 columns of the tiled rows
  for (let i = 0; i < rowsP; i++) {
    for (let j = i < p4 ? q4 : 0; j < rowsQ; j++) {
      let acc = 0;
      for (let t = 0; t < len; t++) acc += P[i * len + t]! * Q[j * len + t]!;
      if (accumulate) out[i * rowsQ + j]! += acc;
      else out[i * rowsQ + j] = acc;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Panels. Every product here is out[i, j] (+)= Σ_t P[i, t]·Q[j, t], "rows of P against rows of Q" (a
// matrix read by columns gives the rows of its transpose). For a large product each operand is first
// copied into panels of four of its rows, interleaved: step t of a panel holds P[4g, t], P[4g + 1, t],
// P[4g + 2, t], P[4g + 3, t] side by side (a last panel with fewer rows is padded with zeros, which only
// ever meet entries that are not stored). The tile loop then reads both panels at the same four indices
// 4t..4t+3 from their start, so V8 computes each index once for two loads, where the in-place loops
// compute eight. The panels are plain arrays of doubles, not Float64Arrays: once a process registers
// module hooks (`node --import tsx`, as `npm run bench` and the tests run), V8 checks on every
// typed-array read that its buffer was not detached; an array's reads carry no such check.
//
// Measured interleaved in one process against the code before panels (`npx tsx`-run comparison of
// matmul n×n·n×n, best of 12, load 2.7): forward 3.48 -> 4.36 GFLOP/s at 256 and 3.50 -> 4.77 at 512,
// forward + backward 3.50 -> 4.60 and 2.85 -> 4.37; forward at 64 3.11 -> 3.86. Plain-array panels against
// Float64Array panels at 256: 4.46 against 3.94. The copies cost ~1/rows + 1/cols of the work, so below
// 64 they do not pay: with the threshold at 16 or 32 the post's training step at dim 32 (16-wide
// conditioner inputs) ran 5-15% slower; at 64 the steps at dim 128 run 9-15% faster and no smaller
// product changes (TrainStep old against new, interleaved blocks, load 3.3-3.7).
//
// A panel tile's sixteen sums plus the eight values loaded per step are 24 live doubles, and V8 has 15
// vector registers to give (xmm15 is its scratch). In the one-pass loop's machine code (`node
// --print-opt-code`, V8 11.3) twelve of the sixteen sums went through the stack every step (stored at
// the loop head, read back by the additions), and five products waited there too. {@link tiles}
// therefore makes each tile in two passes of eight sums (columns j, j + 1, then j + 2, j + 3), each step
// loading four values of P and two of Q; in each pass only two sums go through the stack. Interleaved in
// one process against the one-pass tile (same inputs, alternating blocks, `taskset -c 1`, medians of 11,
// load 2.4-2.6; the results equal bit for bit): matmul forward 4.31 -> 4.99 GFLOP/s at 256, 4.15 -> 5.00
// at 512, forward + backward 4.05 -> 4.74 and 4.16 -> 5.07; forward 3.64 -> 4.01 at 64. Tried on the
// panel tiles and not kept: the step loop unrolled by two (-10%); each value of P loaded just before its
// multiply-adds (-1 to -6%); 4×3, 3×4 and 2×4 tiles on panels of three or two rows (+2-7% over one pass,
// below two passes); blocking the steps (len) in 128, 256 or 512 with running sums kept in out (-5 to
// -12%); other row-block sizes (±2%); Float64Array panels with two passes (-20 to -28%). The in-place
// loops over Float64Arrays (below 64) lose 8-11% with two passes (products 64×64·64×8 to 512×16·16×64),
// so they keep one.
//
// Mid-size panels. With every dimension at least 24 and one at least 128 (rows of a batch of 256 against
// widths 29 to 63), or over 128 steps or more with both other dimensions at least 8 (the weight gradient
// dW = dOutᵀ·x of a layer with 8 to 23 inputs, summed over the batch), the copies are 1/24 + 1/128 of the
// work or less and the panels pay. Interleaved against the in-place loops in one process (`npx tsx
// bench/mid-products.ts --against` the tree before, load 5.5-7, GFLOP/s old -> new, the same bits):
// forward with bias and ReLU 256×50→50 3.41 -> 4.35, 256×50→29 3.47 -> 3.87, 256×50→145 3.80 -> 4.68;
// dA = dOut·W ⊙ relu' with db 3.21 -> 4.35, 3.03 -> 3.55, 3.38 -> 4.84; dW 3.10 -> 4.99, 3.10 -> 4.40,
// 3.39 -> 5.34, and through the second rule 256×15→50 2.30 -> 4.21 and 200×10→100 2.45 -> 3.82. With the
// forward and dA of 15 or 10 inputs or outputs through panels too (every dimension from 8): 0.89-1.04×,
// not taken. The post's products at dim 32 (64×16·16×64, batch 64) stay in place, as measured above, and
// a weight gradient that takes row blocks (see "Row blocks" below) keeps them.
// A tile at the edge of out (the 29th output, the 49th and 50th of 50) is summed as a whole tile over the
// zero-padded panels, and only its entries inside out are stored ({@link storeEdge}): the padding lanes
// meet only each other, so every stored sum is the same; this replaced a scalar loop per edge entry
// (256×50→50 forward 4.06 -> 4.42 GFLOP/s, dW 4.54 -> 4.93).

/**
 * Reusable panels for one operand of a product: arrays of doubles, kept by panel size (a training loop
 * uses the same few sizes every step, so after the first step nothing is allocated).
 */
class PanelSpace {
  #bySize = new Map<number, number[][]>();

  /** `count` panels of `size` values each (their values are whatever the last product left). */
  panels(count: number, size: number): number[][] {
    let list = this.#bySize.get(size);
    if (list === undefined) this.#bySize.set(size, (list = []));
    while (list.length < count) {
      // filled with a double from the start, so the array holds unboxed doubles (V8's PACKED_DOUBLE)
      const panel: number[] = [];
      for (let k = 0; k < size; k++) panel.push(0.5);
      list.push(panel);
    }
    return list;
  }
}

/**
 * The two panel operands of a product (slot 0 for P, 1 for Q), private to this file. A panel copy lives
 * only during the product that made it (no tensor ever refers to it), so reusing the space cannot change
 * any value a caller holds; it saves an allocation per product.
 */
const spaces = [new PanelSpace(), new PanelSpace()] as const;

/** Products at least this large in each of rows, columns and length go through panels (see above). */
const PANEL_MIN = 64;

/** Mid-size products go through panels when every dimension is at least this and one is at least {@link PANEL_MID_LONG} (see "Mid-size panels" above). */
const PANEL_MID_MIN = 24, PANEL_MID_LONG = 128;

/** Products over {@link PANEL_MID_LONG} steps or more (weight gradients over a batch) go through panels from this many rows and columns. */
const PANEL_THIN = 8;

/** Whether a rows×cols product over `len` steps is worth copying into panels (the copies are ~1/rows + 1/cols of the work). */
function panelsPay(rows: number, cols: number, len: number): boolean {
  if (rows >= PANEL_MIN && cols >= PANEL_MIN && len >= PANEL_MIN) return true;
  if (len >= PANEL_MID_LONG && Math.min(rows, cols) >= PANEL_THIN) return true;
  return Math.min(rows, cols, len) >= PANEL_MID_MIN && Math.max(rows, cols, len) >= PANEL_MID_LONG;
}

/** The rows of M (rows×len, row-major) as panels: panel g, step t, lane c = M[4g + c, t]. */
function rowPanels(M: Float64Array, rows: number, len: number, slot: 0 | 1): number[][] {
  const count = Math.ceil(rows / 4), panels = spaces[slot].panels(count, 4 * len);
  for (let g = 0; g < count; g++) {
    const p = panels[g]!;
    for (let c = 0; c < 4; c++) {
      const r = 4 * g + c;
      if (r < rows) for (let t = 0; t < len; t++) p[4 * t + c] = M[r * len + t]!;
      else for (let t = 0; t < len; t++) p[4 * t + c] = 0;
    }
  }
  return panels;
}

/** The columns of M (len×cols, row-major) as panels, i.e. the rows of Mᵀ: panel g, step t, lane c = M[t, 4g + c]. */
function columnPanels(M: Float64Array, len: number, cols: number, slot: 0 | 1): number[][] {
  const count = Math.ceil(cols / 4), panels = spaces[slot].panels(count, 4 * len);
  for (let g = 0; g < count; g++) {
    const p = panels[g]!, j = 4 * g;
    if (j + 4 <= cols) {
      for (let t = 0; t < len; t++) {
        const at = t * cols + j;
        p[4 * t] = M[at]!; p[4 * t + 1] = M[at + 1]!; p[4 * t + 2] = M[at + 2]!; p[4 * t + 3] = M[at + 3]!;
      }
    } else {
      for (let t = 0; t < len; t++) for (let c = 0; c < 4; c++) p[4 * t + c] = j + c < cols ? M[t * cols + j + c]! : 0;
    }
  }
  return panels;
}

/**
 * How {@link panelTiles} stores a sum v = Σ_t P[i, t]·Q[j, t] at out[i, j], by `kind`: 0 (SET) out = v;
 * 1 (ADD) out += v; 2 out = act(v + bias[j]) (a linear layer's forward); 3 out = v·act'(H[i, j]) and
 * gb[j] += out (the backward through the layer below, with that layer's bias gradient).
 */
interface TileStore {
  kind: 0 | 1 | 2 | 3;
  bias: Float64Array | null;
  slope: number;
  rise: number;
  isTanh: boolean;
  H: Float64Array | null;
  gb: Float64Array | null;
}
const SET: TileStore = { kind: 0, bias: null, slope: 0, rise: 0, isTanh: false, H: null, gb: null };
const ADD: TileStore = { ...SET, kind: 1 };

/**
 * out[i, j] (+)= Σ_t P[i, t]·Q[j, t] for P rowsP×len and Q rowsQ×len given as panels, out rowsP×rowsQ,
 * stored as `store` says: one 4×4 tile per pair of panels; a panel of Q stays in cache while a block of
 * P's panels streams past. Each sum runs over t in order from 0, as the plain dot product does, so the
 * result is that of the textbook loop to the last bit.
 */
function panelTiles(P: readonly number[][], Q: readonly number[][], rowsP: number, rowsQ: number, len: number, out: Float64Array, store: TileStore): void {
  const gP = Math.ceil(rowsP / 4), gQ = Math.ceil(rowsQ / 4);
  // blocks of P's panels that stay in the level-2 cache while every panel of Q passes
  const block = Math.max(1, Math.floor(BLOCK_VALUES / (4 * Math.max(len, 1))));
  for (let g0 = 0; g0 < gP; g0 += block) {
    for (let h = 0; h < gQ; h++) tiles(P, g0, Math.min(gP, g0 + block), Q[h]!, len, out, rowsP, rowsQ, 4 * h, store);
  }
}

/**
 * The 4×4 tiles of P's panels g0..gEnd-1 against one panel q of Q (out's columns j..j+3), each in two
 * passes over the panels: eight running sums per pass (columns j, j + 1, then j + 2, j + 3), each of the
 * six values loaded per step serving two or four multiply-adds (see "Panels" above for why two passes).
 * (A function of its own, called once per panel of Q: V8 then keeps the sums in registers rather than
 * the caller's loop state, and pays no call per tile.) Tiles at the edge of out are summed the same way and
 * stored by {@link storeEdge}.
 */
function tiles(P: readonly number[][], g0: number, gEnd: number, q: readonly number[], len: number, out: Float64Array, rowsP: number, rowsQ: number, j: number, store: TileStore): void {
  const kind = store.kind, end = 4 * len, end2 = j + 2 < rowsQ ? end : 0;
  for (let g = g0; g < gEnd; g++) {
    const p = P[g]!, i = 4 * g;
    // columns j, j + 1 of the tile, then j + 2, j + 3: eight sums per pass fit in registers
    let c00 = 0, c01 = 0, c10 = 0, c11 = 0, c20 = 0, c21 = 0, c30 = 0, c31 = 0;
    for (let s = 0; s < end; s += 4) {
      const b0 = q[s]!, b1 = q[s + 1]!;
      const a0 = p[s]!, a1 = p[s + 1]!, a2 = p[s + 2]!, a3 = p[s + 3]!;
      c00 += a0 * b0; c01 += a0 * b1; c10 += a1 * b0; c11 += a1 * b1;
      c20 += a2 * b0; c21 += a2 * b1; c30 += a3 * b0; c31 += a3 * b1;
    }
    let c02 = 0, c03 = 0, c12 = 0, c13 = 0, c22 = 0, c23 = 0, c32 = 0, c33 = 0;
    // (at the edge with only columns j, j + 1 inside out, the second pass would sum padding only)
    for (let s = 0; s < end2; s += 4) {
      const b2 = q[s + 2]!, b3 = q[s + 3]!;
      const a0 = p[s]!, a1 = p[s + 1]!, a2 = p[s + 2]!, a3 = p[s + 3]!;
      c02 += a0 * b2; c03 += a0 * b3; c12 += a1 * b2; c13 += a1 * b3;
      c22 += a2 * b2; c23 += a2 * b3; c32 += a3 * b2; c33 += a3 * b3;
    }
    let at = i * rowsQ + j;
    if (i + 4 > rowsP || j + 4 > rowsQ) {
      // a tile at the edge of out: its sums are those of the entries inside (the padding lanes only meet
      // each other), stored one by one
      storeEdge(out, at, rowsP - i, rowsQ - j, rowsQ, j, store, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33);
    } else if (kind === 0) {
      out[at] = c00; out[at + 1] = c01; out[at + 2] = c02; out[at + 3] = c03;
      at += rowsQ;
      out[at] = c10; out[at + 1] = c11; out[at + 2] = c12; out[at + 3] = c13;
      at += rowsQ;
      out[at] = c20; out[at + 1] = c21; out[at + 2] = c22; out[at + 3] = c23;
      at += rowsQ;
      out[at] = c30; out[at + 1] = c31; out[at + 2] = c32; out[at + 3] = c33;
    } else if (kind === 1) {
      out[at]! += c00; out[at + 1]! += c01; out[at + 2]! += c02; out[at + 3]! += c03;
      at += rowsQ;
      out[at]! += c10; out[at + 1]! += c11; out[at + 2]! += c12; out[at + 3]! += c13;
      at += rowsQ;
      out[at]! += c20; out[at + 1]! += c21; out[at + 2]! += c22; out[at + 3]! += c23;
      at += rowsQ;
      out[at]! += c30; out[at + 1]! += c31; out[at + 2]! += c32; out[at + 3]! += c33;
    } else if (kind === 2) {
      storeActivated(out, at, rowsQ, j, store, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33);
    } else {
      storeGradActivated(out, at, rowsQ, j, store, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33);
    }
  }
}

/** out[i + a, j + b] = act(c_ab + bias[j + b]) for one tile, `at` the index of out[i, j]. */
function storeActivated(out: Float64Array, at: number, stride: number, j: number, store: TileStore,
  c00: number, c01: number, c02: number, c03: number, c10: number, c11: number, c12: number, c13: number,
  c20: number, c21: number, c22: number, c23: number, c30: number, c31: number, c32: number, c33: number): void {
  const { bias, slope, rise, isTanh } = store;
  const e0 = bias !== null ? bias[j]! : 0, e1 = bias !== null ? bias[j + 1]! : 0;
  const e2 = bias !== null ? bias[j + 2]! : 0, e3 = bias !== null ? bias[j + 3]! : 0;
  out[at] = activate(c00 + e0, slope, rise, isTanh); out[at + 1] = activate(c01 + e1, slope, rise, isTanh);
  out[at + 2] = activate(c02 + e2, slope, rise, isTanh); out[at + 3] = activate(c03 + e3, slope, rise, isTanh);
  at += stride;
  out[at] = activate(c10 + e0, slope, rise, isTanh); out[at + 1] = activate(c11 + e1, slope, rise, isTanh);
  out[at + 2] = activate(c12 + e2, slope, rise, isTanh); out[at + 3] = activate(c13 + e3, slope, rise, isTanh);
  at += stride;
  out[at] = activate(c20 + e0, slope, rise, isTanh); out[at + 1] = activate(c21 + e1, slope, rise, isTanh);
  out[at + 2] = activate(c22 + e2, slope, rise, isTanh); out[at + 3] = activate(c23 + e3, slope, rise, isTanh);
  at += stride;
  out[at] = activate(c30 + e0, slope, rise, isTanh); out[at + 1] = activate(c31 + e1, slope, rise, isTanh);
  out[at + 2] = activate(c32 + e2, slope, rise, isTanh); out[at + 3] = activate(c33 + e3, slope, rise, isTanh);
}

/** out[i + a, j + b] = c_ab·act'(H[i + a, j + b]) for one tile, and gb[j + b] += its column of four, in row order. */
function storeGradActivated(out: Float64Array, at: number, stride: number, j: number, store: TileStore,
  c00: number, c01: number, c02: number, c03: number, c10: number, c11: number, c12: number, c13: number,
  c20: number, c21: number, c22: number, c23: number, c30: number, c31: number, c32: number, c33: number): void {
  const { slope, rise, isTanh, gb } = store, H = store.H!;
  const d00 = c00 * derivativeAt(H[at]!, slope, rise, isTanh), d01 = c01 * derivativeAt(H[at + 1]!, slope, rise, isTanh);
  const d02 = c02 * derivativeAt(H[at + 2]!, slope, rise, isTanh), d03 = c03 * derivativeAt(H[at + 3]!, slope, rise, isTanh);
  out[at] = d00; out[at + 1] = d01; out[at + 2] = d02; out[at + 3] = d03;
  at += stride;
  const d10 = c10 * derivativeAt(H[at]!, slope, rise, isTanh), d11 = c11 * derivativeAt(H[at + 1]!, slope, rise, isTanh);
  const d12 = c12 * derivativeAt(H[at + 2]!, slope, rise, isTanh), d13 = c13 * derivativeAt(H[at + 3]!, slope, rise, isTanh);
  out[at] = d10; out[at + 1] = d11; out[at + 2] = d12; out[at + 3] = d13;
  at += stride;
  const d20 = c20 * derivativeAt(H[at]!, slope, rise, isTanh), d21 = c21 * derivativeAt(H[at + 1]!, slope, rise, isTanh);
  const d22 = c22 * derivativeAt(H[at + 2]!, slope, rise, isTanh), d23 = c23 * derivativeAt(H[at + 3]!, slope, rise, isTanh);
  out[at] = d20; out[at + 1] = d21; out[at + 2] = d22; out[at + 3] = d23;
  at += stride;
  const d30 = c30 * derivativeAt(H[at]!, slope, rise, isTanh), d31 = c31 * derivativeAt(H[at + 1]!, slope, rise, isTanh);
  const d32 = c32 * derivativeAt(H[at + 2]!, slope, rise, isTanh), d33 = c33 * derivativeAt(H[at + 3]!, slope, rise, isTanh);
  out[at] = d30; out[at + 1] = d31; out[at + 2] = d32; out[at + 3] = d33;
  // db += Σ_rows dA, row after row as a plain loop adds them (the panels run down the rows in order)
  if (gb !== null) {
    gb[j] = gb[j]! + d00 + d10 + d20 + d30;
    gb[j + 1] = gb[j + 1]! + d01 + d11 + d21 + d31;
    gb[j + 2] = gb[j + 2]! + d02 + d12 + d22 + d32;
    gb[j + 3] = gb[j + 3]! + d03 + d13 + d23 + d33;
  }
}

/** The sixteen sums of an edge tile, for {@link storeEdge} (private to this file; only read within one call). */
const edgeSums = new Float64Array(16);

/**
 * A tile at the edge of out, `at` the index of out[i, j], rows i..i + ra - 1 and columns j..j + cb - 1
 * inside out (ra, cb < 4 for one of them): each entry stored as {@link panelTiles}' `kind` says, the
 * bias gradient taking its column's entries in row order.
 */
function storeEdge(out: Float64Array, at: number, ra: number, cb: number, stride: number, j: number, store: TileStore,
  c00: number, c01: number, c02: number, c03: number, c10: number, c11: number, c12: number, c13: number,
  c20: number, c21: number, c22: number, c23: number, c30: number, c31: number, c32: number, c33: number): void {
  const S = edgeSums;
  S[0] = c00; S[1] = c01; S[2] = c02; S[3] = c03; S[4] = c10; S[5] = c11; S[6] = c12; S[7] = c13;
  S[8] = c20; S[9] = c21; S[10] = c22; S[11] = c23; S[12] = c30; S[13] = c31; S[14] = c32; S[15] = c33;
  const { kind, bias, slope, rise, isTanh, H, gb } = store;
  const rows = Math.min(ra, 4), cols = Math.min(cb, 4);
  for (let a = 0; a < rows; a++) {
    for (let b = 0; b < cols; b++) {
      const v = S[4 * a + b]!, k = at + a * stride + b;
      if (kind === 0) out[k] = v;
      else if (kind === 1) out[k]! += v;
      else if (kind === 2) out[k] = activate(v + (bias !== null ? bias[j + b]! : 0), slope, rise, isTanh);
      else {
        const d = v * derivativeAt(H![k]!, slope, rise, isTanh);
        out[k] = d;
        if (gb !== null) gb[j + b]! += d;
      }
    }
  }
}

/**
 * Transpose.
 * @example transpose(tensor([[1, 2]])).toArray(); // [[1], [2]]
 */
export const transpose = defineOp({
  name: 'transpose',
  formula: 'out = xᵀ',
  derivative: 'dx = dOutᵀ',
  forward(ctx, x: Tensor) {
    const r = x.rows, c = x.cols, v = x.data;
    const o = ctx.output(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) o[j * r + i] = v[i * c + j]!;
    return {
      rows: c, cols: r, data: o, inputs: [x],
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx !== null) for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) gx[i * c + j]! += dOut[j * r + i]!;
      },
    };
  },
});

/**
 * The affine map of a linear layer in one graph node, with PyTorch's weight layout: x is n×in, W is
 * out×in, b is 1×out (or omitted). Output n×out. A custom gradient over its reference
 * `add(matmul(x, transpose(W)), b)`, which `explain(out, { expand: true })` shows.
 *
 * @example
 * linear(tensor([[1, 2]]), tensor([[1, 1], [0, 1]]), tensor([[0, 10]])).toArray(); // [[3, 12]]
 */
export const linear = defineOp({
  name: 'linear',
  formula: 'out = x·Wᵀ + b',
  derivative: 'dx = dOut·W, dW = dOutᵀ·x, db = Σ_rows dOut',
  forward(ctx, x: Tensor, W: Tensor, b?: Tensor | null) {
    const n = x.rows, nIn = x.cols, nOut = W.rows;
    if (W.cols !== nIn) {
      throw new ShapeError(`linear: input ${formatShape(n, nIn)} does not fit weight ${formatShape(W.rows, W.cols)} (weight is out×in, so its columns must equal the input's ${nIn} columns)`);
    }
    if (b != null && (b.rows !== 1 || b.cols !== nOut)) {
      throw new ShapeError(`linear: bias must be 1×${nOut} for weight ${formatShape(W.rows, W.cols)}, got ${formatShape(b.rows, b.cols)}`);
    }
    const X = x.data, w = W.data;
    const o = ctx.output(n * nOut);
    linearForward(X, n, nIn, w, nOut, b != null ? b.data : null, o);
    return {
      rows: n, cols: nOut, data: o, inputs: b != null ? [x, W, b] : [x, W],
      backward(dOut, grad) {
        linearBackward(dOut, X, n, nIn, w, nOut, grad(x), grad(W), b != null ? grad(b) : null);
      },
    };
  },
  reference: (x: Tensor, W: Tensor, b?: Tensor | null) => (b != null ? add(matmul(x, transpose(W)), b) : matmul(x, transpose(W))),
});

/**
 * out (+)= A·B for A m×k, B k×n, out m×n, reading B's rows directly (no transposed copy): each step
 * loads four values down a column of A and four along a row of B. Used by `linear`'s dx = dOut·W, whose
 * operands are small enough that the strided reads of A stay in cache.
 */
function tilesAB(A: Float64Array, B: Float64Array, m: number, k: number, n: number, out: Float64Array): void {
  if (panelsPay(m, n, k)) panelTiles(rowPanels(A, m, k, 0), columnPanels(B, k, n, 1), m, n, k, out, ADD);
  else tilesABInPlace(A, B, m, k, n, out);
}

/** {@link tilesAB} reading A and B in place. */
function tilesABInPlace(A: Float64Array, B: Float64Array, m: number, k: number, n: number, out: Float64Array): void {
  const m4 = m - (m % 4), n4 = n - (n % 4);
  for (let i = 0; i < m4; i += 4) {
    const r0 = i * k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
    for (let j = 0; j < n4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let p = 0; p < k; p++) {
        const bp = p * n + j;
        const b0 = B[bp]!, b1 = B[bp + 1]!, b2 = B[bp + 2]!, b3 = B[bp + 3]!;
        const a0 = A[r0 + p]!, a1 = A[r1 + p]!, a2 = A[r2 + p]!, a3 = A[r3 + p]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      let at = i * n + j;
      out[at]! += c00; out[at + 1]! += c01; out[at + 2]! += c02; out[at + 3]! += c03;
      at += n;
      out[at]! += c10; out[at + 1]! += c11; out[at + 2]! += c12; out[at + 3]! += c13;
      at += n;
      out[at]! += c20; out[at + 1]! += c21; out[at + 2]! += c22; out[at + 3]! += c23;
      at += n;
      out[at]! += c30; out[at + 1]! += c31; out[at + 2]! += c32; out[at + 3]! += c33;
    }
  }
  for (let i = 0; i < m; i++) {
    for (let j = i < m4 ? n4 : 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += A[i * k + p]! * B[p * n + j]!;
      out[i * n + j]! += acc;
    }
  }
}

/**
 * out += Aᵀ·B for A m×k, B m×n, out k×n, reading both by rows (four values along a row of each per
 * step). Used by `linear`'s dW = dOutᵀ·X.
 */
function tilesAtB(A: Float64Array, B: Float64Array, m: number, k: number, n: number, out: Float64Array): void {
  // row blocks before mid-size panels: for a wide second operand they keep reading it along its rows
  const rowBlocks = m >= ROW_BLOCKS_MIN && n >= ROW_BLOCKS_MIN_WIDTH;
  const large = k >= PANEL_MIN && n >= PANEL_MIN && m >= PANEL_MIN;
  if (large || (!rowBlocks && panelsPay(k, n, m))) panelTiles(columnPanels(A, m, k, 0), columnPanels(B, m, n, 1), k, n, m, out, ADD);
  else if (rowBlocks) tilesAtBRowBlocks(A, B, m, k, n, out);
  else tilesAtBInPlace(A, B, m, k, n, out);
}

// Row blocks. In a training step dW = dOutᵀ·H of a layer with few outputs (k ≤ 63) and a wide input
// (n ≥ 128) reads H, the hidden activations saved by the forward pass long before and since evicted to
// the level-3 cache. {@link tilesAtBInPlace} walks H down its columns, four at a time: one value group
// per row at a stride of n doubles (2 KiB at n = 256), which the hardware prefetcher does not follow, so
// each of H's cache lines comes from level 3 at full latency. {@link tilesAtBRowBlocks} instead runs the
// same tiles over blocks of 16 rows, the tiles' running sums kept in scratch between blocks: each block
// (16 rows of H, 32 KiB at n = 256) is read along its rows, tile after tile, and stays in cache for the
// block's tiles. Stored and read back as doubles, every sum still runs over i in order from 0, so the
// results equal the in-place loop's to the last bit. Interleaved in one process (TrainStep on
// RealNVP.post, `taskset -c 1`, medians of 8 blocks, load 2.5): dim 8 hidden 256 batch 512 106.2 ->
// 93.6 ms per step (these products 30.6 -> 17.7 ms of it), dim 32 hidden 256 batch 512 309.7 -> 301.5;
// at hidden 64 (512-byte rows) no gain, hence the width threshold. Applied to dW of the first layer too
// (the wide operand dOut, just written and still in cache) it lost: 2.97 -> 2.19 GFLOP/s in isolation.

/** Products dW = dOutᵀ·H with at least this many rows (batch) and columns (H's width) go through row blocks. */
const ROW_BLOCKS_MIN = 256, ROW_BLOCKS_MIN_WIDTH = 128;

/** Rows per block of {@link tilesAtBRowBlocks}: 8 and 16 measured alike; 16 halves the sums' stores and reloads. */
const ROW_BLOCK = 16;

/** The running sums of {@link tilesAtBRowBlocks} between row blocks, grown when too small (private to this file). */
let blockSums = new Float64Array(0);

/**
 * {@link tilesAtBInPlace} over blocks of {@link ROW_BLOCK} rows (see "Row blocks" above): the sixteen
 * running sums of each tile are read from {@link blockSums} before a block and stored after it, and
 * added to out after the last block. Each sum runs over i in order from 0, as in the in-place loop.
 */
function tilesAtBRowBlocks(A: Float64Array, B: Float64Array, m: number, k: number, n: number, out: Float64Array): void {
  const k4 = k - (k % 4), n4 = n - (n % 4);
  if (blockSums.length < k4 * n4) blockSums = new Float64Array(Math.max(k4 * n4, 2 * blockSums.length));
  const S = blockSums;
  S.fill(0, 0, k4 * n4);
  for (let i0 = 0; i0 < m; i0 += ROW_BLOCK) {
    const iEnd = Math.min(m, i0 + ROW_BLOCK);
    for (let p = 0; p < k4; p += 4) {
      for (let j = 0; j < n4; j += 4) {
        const s0 = p * n4 + j, s1 = s0 + n4, s2 = s1 + n4, s3 = s2 + n4;
        let c00 = S[s0]!, c01 = S[s0 + 1]!, c02 = S[s0 + 2]!, c03 = S[s0 + 3]!;
        let c10 = S[s1]!, c11 = S[s1 + 1]!, c12 = S[s1 + 2]!, c13 = S[s1 + 3]!;
        let c20 = S[s2]!, c21 = S[s2 + 1]!, c22 = S[s2 + 2]!, c23 = S[s2 + 3]!;
        let c30 = S[s3]!, c31 = S[s3 + 1]!, c32 = S[s3 + 2]!, c33 = S[s3 + 3]!;
        for (let i = i0; i < iEnd; i++) {
          const ai = i * k + p, bi = i * n + j;
          const a0 = A[ai]!, a1 = A[ai + 1]!, a2 = A[ai + 2]!, a3 = A[ai + 3]!;
          const b0 = B[bi]!, b1 = B[bi + 1]!, b2 = B[bi + 2]!, b3 = B[bi + 3]!;
          c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
          c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
          c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
          c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        }
        S[s0] = c00; S[s0 + 1] = c01; S[s0 + 2] = c02; S[s0 + 3] = c03;
        S[s1] = c10; S[s1 + 1] = c11; S[s1 + 2] = c12; S[s1 + 3] = c13;
        S[s2] = c20; S[s2 + 1] = c21; S[s2 + 2] = c22; S[s2 + 3] = c23;
        S[s3] = c30; S[s3 + 1] = c31; S[s3 + 2] = c32; S[s3 + 3] = c33;
      }
    }
  }
  for (let p = 0; p < k4; p++) for (let j = 0; j < n4; j++) out[p * n + j]! += S[p * n4 + j]!;
  // edges: the last k % 4 rows of out for every column, the last n % 4 columns of the tiled rows
  for (let p = 0; p < k; p++) {
    for (let j = p < k4 ? n4 : 0; j < n; j++) {
      let acc = 0;
      for (let i = 0; i < m; i++) acc += A[i * k + p]! * B[i * n + j]!;
      out[p * n + j]! += acc;
    }
  }
}

/** {@link tilesAtB} reading A and B in place. */
function tilesAtBInPlace(A: Float64Array, B: Float64Array, m: number, k: number, n: number, out: Float64Array): void {
  const k4 = k - (k % 4), n4 = n - (n % 4);
  for (let p = 0; p < k4; p += 4) {
    for (let j = 0; j < n4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let i = 0; i < m; i++) {
        const ai = i * k + p, bi = i * n + j;
        const a0 = A[ai]!, a1 = A[ai + 1]!, a2 = A[ai + 2]!, a3 = A[ai + 3]!;
        const b0 = B[bi]!, b1 = B[bi + 1]!, b2 = B[bi + 2]!, b3 = B[bi + 3]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      let at = p * n + j;
      out[at]! += c00; out[at + 1]! += c01; out[at + 2]! += c02; out[at + 3]! += c03;
      at += n;
      out[at]! += c10; out[at + 1]! += c11; out[at + 2]! += c12; out[at + 3]! += c13;
      at += n;
      out[at]! += c20; out[at + 1]! += c21; out[at + 2]! += c22; out[at + 3]! += c23;
      at += n;
      out[at]! += c30; out[at + 1]! += c31; out[at + 2]! += c32; out[at + 3]! += c33;
    }
  }
  for (let p = 0; p < k; p++) {
    for (let j = p < k4 ? n4 : 0; j < n; j++) {
      let acc = 0;
      for (let i = 0; i < m; i++) acc += A[i * k + p]! * B[i * n + j]!;
      out[p * n + j]! += acc;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The loops of `linear`, shared with the fused `mlp` op. With one to three inputs and more outputs (the
// post's Linear(1, 64), an NPE conditioner's 3 → 50) the few-input loops below ("wide": the bias added
// first); otherwise the products are matmul's 4×4 register tiles (`dotTiles`), the bias added after
// them, as the reference add(matmul(x, transpose(W)), b) does. The few-input loops hold four outputs'
// weights (or weight-gradient sums) in locals while the rows pass, each entry's terms in the order of
// the plain loop they replaced (one output index innermost, dW[q, p] += dOut[i, q]·x[i, p] row by row):
// interleaved against it (`bench/mid-products.ts`, 256×3→50, load 5.5-7) forward with ReLU 0.47-0.59 ->
// 1.61-1.88 GFLOP/s, dW 0.61 -> 3.60, dx 0.88 -> 2.86, the same bits.

/** Whether the few-inputs loop order is used for an nIn -> nOut layer. */
function isWide(nIn: number, nOut: number): boolean {
  return nIn > 0 && nIn < 4 && nIn < nOut;
}

// Few inputs (one to three, "wide" layers: the post's Linear(1, 64), an NPE conditioner's first layer
// |A| + xDim = 3 → 50). Each output is b[q] + x0·W[q, 0], then + x1·W[q, 1], then + x2·W[q, 2] (the bias
// first, unlike the tiles, which add it last), and a weight gradient entry dW[q, p] takes dOut[i, q]·x[i, p]
// row after row. The loops below keep that order for every entry; they hold the weights (or the weight
// gradient's running values) of four outputs in locals while the rows pass, and apply the activation as
// each value is stored.

/** o[i, q] = act(b[q] + Σ_p X[i, p]·W[q, p]) for nIn ≤ 3 (b added first, then the inputs in order; act the identity for slope 1, rise 0). */
function wideForward(X: Float64Array, n: number, nIn: number, w: Float64Array, nOut: number, bias: Float64Array | null,
  slope: number, rise: number, isTanh: boolean, o: Float64Array): void {
  const q4 = nOut - (nOut % 4), two = nIn > 1, three = nIn > 2;
  for (let j = 0; j < q4; j += 4) {
    const a = j * nIn;
    const w00 = w[a]!, w10 = w[a + nIn]!, w20 = w[a + 2 * nIn]!, w30 = w[a + 3 * nIn]!;
    const w01 = two ? w[a + 1]! : 0, w11 = two ? w[a + nIn + 1]! : 0, w21 = two ? w[a + 2 * nIn + 1]! : 0, w31 = two ? w[a + 3 * nIn + 1]! : 0;
    const w02 = three ? w[a + 2]! : 0, w12 = three ? w[a + nIn + 2]! : 0, w22 = three ? w[a + 2 * nIn + 2]! : 0, w32 = three ? w[a + 3 * nIn + 2]! : 0;
    for (let i = 0; i < n; i++) {
      const r = i * nIn, x0 = X[r]!;
      let v0: number, v1: number, v2: number, v3: number;
      if (bias !== null) {
        v0 = bias[j]! + x0 * w00; v1 = bias[j + 1]! + x0 * w10; v2 = bias[j + 2]! + x0 * w20; v3 = bias[j + 3]! + x0 * w30;
      } else {
        v0 = x0 * w00; v1 = x0 * w10; v2 = x0 * w20; v3 = x0 * w30;
      }
      if (two) {
        const x1 = X[r + 1]!;
        v0 += x1 * w01; v1 += x1 * w11; v2 += x1 * w21; v3 += x1 * w31;
      }
      if (three) {
        const x2 = X[r + 2]!;
        v0 += x2 * w02; v1 += x2 * w12; v2 += x2 * w22; v3 += x2 * w32;
      }
      const at = i * nOut + j;
      o[at] = activate(v0, slope, rise, isTanh); o[at + 1] = activate(v1, slope, rise, isTanh);
      o[at + 2] = activate(v2, slope, rise, isTanh); o[at + 3] = activate(v3, slope, rise, isTanh);
    }
  }
  for (let q = q4; q < nOut; q++) {
    for (let i = 0; i < n; i++) {
      let v = bias !== null ? bias[q]! + X[i * nIn]! * w[q * nIn]! : X[i * nIn]! * w[q * nIn]!;
      for (let p = 1; p < nIn; p++) v += X[i * nIn + p]! * w[q * nIn + p]!;
      o[i * nOut + q] = activate(v, slope, rise, isTanh);
    }
  }
}

/** gW[q, p] += Σ_i dOut[i, q]·X[i, p] for nIn ≤ 3, each entry taking its terms row after row (from its current value). */
function wideWeightGrad(g: Float64Array, X: Float64Array, n: number, nIn: number, nOut: number, gW: Float64Array): void {
  const q4 = nOut - (nOut % 4), two = nIn > 1, three = nIn > 2;
  for (let j = 0; j < q4; j += 4) {
    const a = j * nIn;
    let c00 = gW[a]!, c10 = gW[a + nIn]!, c20 = gW[a + 2 * nIn]!, c30 = gW[a + 3 * nIn]!;
    let c01 = two ? gW[a + 1]! : 0, c11 = two ? gW[a + nIn + 1]! : 0, c21 = two ? gW[a + 2 * nIn + 1]! : 0, c31 = two ? gW[a + 3 * nIn + 1]! : 0;
    let c02 = three ? gW[a + 2]! : 0, c12 = three ? gW[a + nIn + 2]! : 0, c22 = three ? gW[a + 2 * nIn + 2]! : 0, c32 = three ? gW[a + 3 * nIn + 2]! : 0;
    for (let i = 0; i < n; i++) {
      const r = i * nIn, at = i * nOut + j;
      const g0 = g[at]!, g1 = g[at + 1]!, g2 = g[at + 2]!, g3 = g[at + 3]!, x0 = X[r]!;
      c00 += g0 * x0; c10 += g1 * x0; c20 += g2 * x0; c30 += g3 * x0;
      if (two) {
        const x1 = X[r + 1]!;
        c01 += g0 * x1; c11 += g1 * x1; c21 += g2 * x1; c31 += g3 * x1;
      }
      if (three) {
        const x2 = X[r + 2]!;
        c02 += g0 * x2; c12 += g1 * x2; c22 += g2 * x2; c32 += g3 * x2;
      }
    }
    gW[a] = c00; gW[a + nIn] = c10; gW[a + 2 * nIn] = c20; gW[a + 3 * nIn] = c30;
    if (two) { gW[a + 1] = c01; gW[a + nIn + 1] = c11; gW[a + 2 * nIn + 1] = c21; gW[a + 3 * nIn + 1] = c31; }
    if (three) { gW[a + 2] = c02; gW[a + nIn + 2] = c12; gW[a + 2 * nIn + 2] = c22; gW[a + 3 * nIn + 2] = c32; }
  }
  for (let q = q4; q < nOut; q++) {
    for (let p = 0; p < nIn; p++) {
      let c = gW[q * nIn + p]!;
      for (let i = 0; i < n; i++) c += g[i * nOut + q]! * X[i * nIn + p]!;
      gW[q * nIn + p] = c;
    }
  }
}

/** gx[i, p] += Σ_q dOut[i, q]·W[q, p] for nIn ≤ 3, each sum over q in order from 0: two rows at a time, all their inputs' sums in locals. */
function wideInputGrad(g: Float64Array, n: number, nIn: number, w: Float64Array, nOut: number, gx: Float64Array): void {
  const n2 = n - (n % 2), two = nIn > 1, three = nIn > 2;
  for (let i = 0; i < n2; i += 2) {
    const r0 = i * nOut, r1 = r0 + nOut;
    let c00 = 0, c01 = 0, c02 = 0, c10 = 0, c11 = 0, c12 = 0;
    for (let q = 0; q < nOut; q++) {
      const g0 = g[r0 + q]!, g1 = g[r1 + q]!, a = q * nIn, w0 = w[a]!;
      c00 += g0 * w0; c10 += g1 * w0;
      if (two) {
        const w1 = w[a + 1]!;
        c01 += g0 * w1; c11 += g1 * w1;
      }
      if (three) {
        const w2 = w[a + 2]!;
        c02 += g0 * w2; c12 += g1 * w2;
      }
    }
    const x0 = i * nIn, x1 = x0 + nIn;
    gx[x0]! += c00; gx[x1]! += c10;
    if (two) { gx[x0 + 1]! += c01; gx[x1 + 1]! += c11; }
    if (three) { gx[x0 + 2]! += c02; gx[x1 + 2]! += c12; }
  }
  for (let i = n2; i < n; i++) {
    for (let p = 0; p < nIn; p++) {
      let acc = 0;
      for (let q = 0; q < nOut; q++) acc += g[i * nOut + q]! * w[q * nIn + p]!;
      gx[i * nIn + p]! += acc;
    }
  }
}

/**
 * o[i, q] = b[q] + Σ_p X[i, p]·W[q, p] for an n×nIn input and an nOut×nIn weight; overwrites o.
 * @example linearForward(x.data, x.rows, x.cols, W.data, W.rows, b.data, o); // o = x·Wᵀ + b, row-major
 */
export function linearForward(X: Float64Array, n: number, nIn: number, w: Float64Array, nOut: number, bias: Float64Array | null, o: Float64Array): void {
  if (isWide(nIn, nOut)) {
    wideForward(X, n, nIn, w, nOut, bias, 1, 0, false, o);
    return;
  }
  // o = X·Wᵀ (rows of X against rows of W), then + b
  dotTiles(X, w, n, nOut, nIn, o, false);
  if (bias !== null) for (let i = 0; i < n; i++) for (let q = 0; q < nOut; q++) o[i * nOut + q]! += bias[q]!;
}

/**
 * Accumulates dx += dOut·W, dW += dOutᵀ·X, db += Σ_rows dOut (each skipped when its buffer is null).
 * @example linearBackward(out.grad!, x.data, x.rows, x.cols, W.data, W.rows, gradBuffer(x), gradBuffer(W), null);
 */
export function linearBackward(g: Float64Array, X: Float64Array, n: number, nIn: number, w: Float64Array, nOut: number, gx: Float64Array | null, gW: Float64Array | null, gb: Float64Array | null): void {
  // db[q] += Σ_i dOut[i, q]
  if (gb !== null) for (let i = 0; i < n; i++) for (let q = 0; q < nOut; q++) gb[q]! += g[i * nOut + q]!;
  if (isWide(nIn, nOut)) {
    if (gW !== null) wideWeightGrad(g, X, n, nIn, nOut, gW);
    if (gx !== null) wideInputGrad(g, n, nIn, w, nOut, gx);
    return;
  }
  // dx += dOut·W (n×nOut · nOut×nIn);  dW += dOutᵀ·X (nOut×n · n×nIn)
  if (gx !== null) tilesAB(g, w, n, nOut, nIn, gx);
  if (gW !== null) tilesAtB(g, X, n, nOut, nIn, gW);
}

// ---------------------------------------------------------------------------------------------------
// The same products with the next elementwise step done where each tile is stored, for the fused `mlp`:
// the forward's bias and activation, the backward's activation derivative. Each saves a pass over an
// n×width matrix (at a dim-8 conditioner's 64×64 hidden layer that pass costs about as much as the
// product). The values are those of the separate passes: act(c + b) with c the same sum, dH·act'(H)
// with dH the same sum.
//
// An activation is given as numbers: piecewise-linear with factor slope + rise·[v > 0] (identity: slope
// 1, rise 0; relu: 0, 1; leakyRelu(α): α, 1 - α), or tanh when `isTanh`.

/** act(v): tanh, or v·(slope + rise·[v > 0]) (branch-free: exactly v, slope·v or 0). */
function activate(v: number, slope: number, rise: number, isTanh: boolean): number {
  return isTanh ? Math.tanh(v) : v * (slope + rise * +(v > 0));
}

/** act'(a) read off the output h = act(a): 1 - h² for tanh, else slope + rise·[h > 0] (h has a's sign). */
function derivativeAt(h: number, slope: number, rise: number, isTanh: boolean): number {
  return isTanh ? 1 - h * h : slope + rise * +(h > 0);
}

/**
 * o[i, q] = act(Σ_p X[i, p]·W[q, p] + b[q]) for an n×nIn input and an nOut×nIn weight (b may be null);
 * overwrites o. The products of {@link linearForward} (same sums), the bias and activation applied as
 * each 4×4 tile is stored. For the few-inputs case it runs `linearForward` and then one pass.
 * @example linearActivationForward(x.data, 64, 4, W.data, 64, b.data, 0.01, 0.99, false, o); // leakyRelu(x·Wᵀ + b)
 */
export function linearActivationForward(X: Float64Array, n: number, nIn: number, w: Float64Array, nOut: number, bias: Float64Array | null,
  slope: number, rise: number, isTanh: boolean, o: Float64Array): void {
  if (isWide(nIn, nOut)) {
    wideForward(X, n, nIn, w, nOut, bias, slope, rise, isTanh, o);
    return;
  }
  if (nIn === 0) {
    linearForward(X, n, nIn, w, nOut, bias, o);
    for (let k = 0; k < n * nOut; k++) o[k] = activate(o[k]!, slope, rise, isTanh);
    return;
  }
  if (panelsPay(n, nOut, nIn)) panelTiles(rowPanels(X, n, nIn, 0), rowPanels(w, nOut, nIn, 1), n, nOut, nIn, o, { kind: 2, bias, slope, rise, isTanh, H: null, gb: null });
  else if (nIn === 4) linearActivation4(X, n, w, nOut, bias, slope, rise, isTanh, o);
  else linearActivationInPlace(X, n, nIn, w, nOut, bias, slope, rise, isTanh, o);
}

/**
 * {@link linearActivationForward} for four inputs (a dim-8 post conditioner's first layer): the sixteen
 * weights of four outputs stay in locals while every row passes, four values read per row for sixteen
 * multiply-adds (the tiles read thirty-two for sixty-four, with four steps per tile). Each sum runs over
 * the four inputs in order from 0, as the tiles do, so the values are the same to the last bit. The post's
 * training step at dim 8, one engine with this loop on and off between blocks of steps (load 4.7): 0.84×
 * at hidden 64 batch 512, 0.93-0.97× at hidden 64/256 batch 64 and hidden 256 batch 512. (The same idea
 * for the backward's four-output layer was 15-18% slower at batch 512 and is not used.)
 */
function linearActivation4(X: Float64Array, n: number, w: Float64Array, nOut: number, bias: Float64Array | null,
  slope: number, rise: number, isTanh: boolean, o: Float64Array): void {
  const q4 = nOut - (nOut % 4);
  for (let j = 0; j < q4; j += 4) {
    const w00 = w[4 * j]!, w01 = w[4 * j + 1]!, w02 = w[4 * j + 2]!, w03 = w[4 * j + 3]!;
    const w10 = w[4 * j + 4]!, w11 = w[4 * j + 5]!, w12 = w[4 * j + 6]!, w13 = w[4 * j + 7]!;
    const w20 = w[4 * j + 8]!, w21 = w[4 * j + 9]!, w22 = w[4 * j + 10]!, w23 = w[4 * j + 11]!;
    const w30 = w[4 * j + 12]!, w31 = w[4 * j + 13]!, w32 = w[4 * j + 14]!, w33 = w[4 * j + 15]!;
    const e0 = bias !== null ? bias[j]! : 0, e1 = bias !== null ? bias[j + 1]! : 0;
    const e2 = bias !== null ? bias[j + 2]! : 0, e3 = bias !== null ? bias[j + 3]! : 0;
    for (let i = 0; i < n; i++) {
      const x0 = X[4 * i]!, x1 = X[4 * i + 1]!, x2 = X[4 * i + 2]!, x3 = X[4 * i + 3]!, at = i * nOut + j;
      o[at] = activate(0 + x0 * w00 + x1 * w01 + x2 * w02 + x3 * w03 + e0, slope, rise, isTanh);
      o[at + 1] = activate(0 + x0 * w10 + x1 * w11 + x2 * w12 + x3 * w13 + e1, slope, rise, isTanh);
      o[at + 2] = activate(0 + x0 * w20 + x1 * w21 + x2 * w22 + x3 * w23 + e2, slope, rise, isTanh);
      o[at + 3] = activate(0 + x0 * w30 + x1 * w31 + x2 * w32 + x3 * w33 + e3, slope, rise, isTanh);
    }
  }
  for (let i = 0; i < n; i++) {
    for (let q = q4; q < nOut; q++) {
      let acc = 0;
      for (let t = 0; t < 4; t++) acc += X[4 * i + t]! * w[4 * q + t]!;
      o[i * nOut + q] = activate(acc + (bias !== null ? bias[q]! : 0), slope, rise, isTanh);
    }
  }
}

/** {@link linearActivationForward}'s tiles reading X and W in place. */
function linearActivationInPlace(X: Float64Array, n: number, nIn: number, w: Float64Array, nOut: number, bias: Float64Array | null,
  slope: number, rise: number, isTanh: boolean, o: Float64Array): void {
  const len = nIn, n4 = n - (n % 4), q4 = nOut - (nOut % 4);
  // blocks of X's rows that stay in the level-2 cache while every group of four rows of W passes (as dotTiles)
  const block = Math.max(4, 4 * Math.floor(BLOCK_VALUES / (4 * len)));
  for (let i0 = 0; i0 < n4; i0 += block) {
  const iEnd = Math.min(n4, i0 + block);
  for (let j = 0; j < q4; j += 4) {
    const q0 = j * len, q1 = q0 + len, q2 = q1 + len, q3 = q2 + len;
    const e0 = bias !== null ? bias[j]! : 0, e1 = bias !== null ? bias[j + 1]! : 0;
    const e2 = bias !== null ? bias[j + 2]! : 0, e3 = bias !== null ? bias[j + 3]! : 0;
    for (let i = i0; i < iEnd; i += 4) {
      const r0 = i * len, r1 = r0 + len, r2 = r1 + len, r3 = r2 + len;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let t = 0; t < len; t++) {
        const b0 = w[q0 + t]!, b1 = w[q1 + t]!, b2 = w[q2 + t]!, b3 = w[q3 + t]!;
        const a0 = X[r0 + t]!, a1 = X[r1 + t]!, a2 = X[r2 + t]!, a3 = X[r3 + t]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      let at = i * nOut + j;
      o[at] = activate(c00 + e0, slope, rise, isTanh); o[at + 1] = activate(c01 + e1, slope, rise, isTanh);
      o[at + 2] = activate(c02 + e2, slope, rise, isTanh); o[at + 3] = activate(c03 + e3, slope, rise, isTanh);
      at += nOut;
      o[at] = activate(c10 + e0, slope, rise, isTanh); o[at + 1] = activate(c11 + e1, slope, rise, isTanh);
      o[at + 2] = activate(c12 + e2, slope, rise, isTanh); o[at + 3] = activate(c13 + e3, slope, rise, isTanh);
      at += nOut;
      o[at] = activate(c20 + e0, slope, rise, isTanh); o[at + 1] = activate(c21 + e1, slope, rise, isTanh);
      o[at + 2] = activate(c22 + e2, slope, rise, isTanh); o[at + 3] = activate(c23 + e3, slope, rise, isTanh);
      at += nOut;
      o[at] = activate(c30 + e0, slope, rise, isTanh); o[at + 1] = activate(c31 + e1, slope, rise, isTanh);
      o[at + 2] = activate(c32 + e2, slope, rise, isTanh); o[at + 3] = activate(c33 + e3, slope, rise, isTanh);
    }
  }
  }
  // edges: the last n % 4 rows for every output, the last nOut % 4 outputs of the tiled rows
  for (let i = 0; i < n; i++) {
    for (let q = i < n4 ? q4 : 0; q < nOut; q++) {
      let acc = 0;
      for (let t = 0; t < len; t++) acc += X[i * len + t]! * w[q * len + t]!;
      o[i * nOut + q] = activate(acc + (bias !== null ? bias[q]! : 0), slope, rise, isTanh);
    }
  }
}

/**
 * dA[i, p] = (Σ_q dOut[i, q]·W[q, p])·act'(H[i, p]) for dOut n×nOut, W nOut×nIn, H n×nIn the previous
 * layer's output (act' read off it): `linear`'s dx = dOut·W (same sums) times the previous activation's
 * derivative, as each tile is stored; overwrites dA. With `gb` (the previous layer's bias gradient)
 * also gb[p] += Σ_i dA[i, p], in row order (the tiles run down the rows of each column group, and the
 * edge rows come last).
 * @example linearInputGradActivation(dOut, 64, 4, W.data, 64, h, 0.01, 0.99, false, dA, gb);
 */
export function linearInputGradActivation(g: Float64Array, n: number, nOut: number, w: Float64Array, nIn: number, H: Float64Array,
  slope: number, rise: number, isTanh: boolean, dA: Float64Array, gb: Float64Array | null): void {
  if (panelsPay(n, nIn, nOut)) panelTiles(rowPanels(g, n, nOut, 0), columnPanels(w, nOut, nIn, 1), n, nIn, nOut, dA, { kind: 3, bias: null, slope, rise, isTanh, H, gb });
  else linearInputGradInPlace(g, n, nOut, w, nIn, H, slope, rise, isTanh, dA, gb);
}

/** {@link linearInputGradActivation}'s tiles reading dOut and W in place. */
function linearInputGradInPlace(g: Float64Array, n: number, nOut: number, w: Float64Array, nIn: number, H: Float64Array,
  slope: number, rise: number, isTanh: boolean, dA: Float64Array, gb: Float64Array | null): void {
  const m = n, k = nOut, m4 = m - (m % 4), n4 = nIn - (nIn % 4);
  for (let i = 0; i < m4; i += 4) {
    const r0 = i * k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
    for (let j = 0; j < n4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let p = 0; p < k; p++) {
        const bp = p * nIn + j;
        const b0 = w[bp]!, b1 = w[bp + 1]!, b2 = w[bp + 2]!, b3 = w[bp + 3]!;
        const a0 = g[r0 + p]!, a1 = g[r1 + p]!, a2 = g[r2 + p]!, a3 = g[r3 + p]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      let at = i * nIn + j;
      const d00 = c00 * derivativeAt(H[at]!, slope, rise, isTanh), d01 = c01 * derivativeAt(H[at + 1]!, slope, rise, isTanh);
      const d02 = c02 * derivativeAt(H[at + 2]!, slope, rise, isTanh), d03 = c03 * derivativeAt(H[at + 3]!, slope, rise, isTanh);
      dA[at] = d00; dA[at + 1] = d01; dA[at + 2] = d02; dA[at + 3] = d03;
      at += nIn;
      const d10 = c10 * derivativeAt(H[at]!, slope, rise, isTanh), d11 = c11 * derivativeAt(H[at + 1]!, slope, rise, isTanh);
      const d12 = c12 * derivativeAt(H[at + 2]!, slope, rise, isTanh), d13 = c13 * derivativeAt(H[at + 3]!, slope, rise, isTanh);
      dA[at] = d10; dA[at + 1] = d11; dA[at + 2] = d12; dA[at + 3] = d13;
      at += nIn;
      const d20 = c20 * derivativeAt(H[at]!, slope, rise, isTanh), d21 = c21 * derivativeAt(H[at + 1]!, slope, rise, isTanh);
      const d22 = c22 * derivativeAt(H[at + 2]!, slope, rise, isTanh), d23 = c23 * derivativeAt(H[at + 3]!, slope, rise, isTanh);
      dA[at] = d20; dA[at + 1] = d21; dA[at + 2] = d22; dA[at + 3] = d23;
      at += nIn;
      const d30 = c30 * derivativeAt(H[at]!, slope, rise, isTanh), d31 = c31 * derivativeAt(H[at + 1]!, slope, rise, isTanh);
      const d32 = c32 * derivativeAt(H[at + 2]!, slope, rise, isTanh), d33 = c33 * derivativeAt(H[at + 3]!, slope, rise, isTanh);
      dA[at] = d30; dA[at + 1] = d31; dA[at + 2] = d32; dA[at + 3] = d33;
      // db += Σ_rows dA, row after row as a plain loop adds them
      if (gb !== null) {
        gb[j] = gb[j]! + d00 + d10 + d20 + d30;
        gb[j + 1] = gb[j + 1]! + d01 + d11 + d21 + d31;
        gb[j + 2] = gb[j + 2]! + d02 + d12 + d22 + d32;
        gb[j + 3] = gb[j + 3]! + d03 + d13 + d23 + d33;
      }
    }
  }
  for (let i = 0; i < m; i++) {
    for (let j = i < m4 ? n4 : 0; j < nIn; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += g[i * k + p]! * w[p * nIn + j]!;
      const d = acc * derivativeAt(H[i * nIn + j]!, slope, rise, isTanh);
      dA[i * nIn + j] = d;
      if (gb !== null) gb[j]! += d;
    }
  }
}
