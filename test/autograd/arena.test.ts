import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BufferArena, exp, leakyRelu, linear, matmul, mul, noGrad, RecycledTensorError, setBufferChecks, sum, tanh, Tensor } from '../../src/autograd/index.ts';
import { allocRaw } from '../../src/autograd/tensor.ts';
import { assertThrows } from '../helpers/assert.ts';

function weights(seed: number): Tensor[] {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const make = (r: number, c: number) => {
    const t = Tensor.zeros(r, c, { requiresGrad: true });
    for (let i = 0; i < t.size; i++) t.data[i] = next();
    return t;
  };
  return [make(6, 3), make(4, 3), make(1, 4), make(4, 2)];
}

function loss(x: Tensor, W: Tensor, b: Tensor, M: Tensor): Tensor {
  const h = linear(x, W, b); // 6×4
  return sum(mul(tanh(matmul(leakyRelu(h), M)), matmul(h, M)));
}

test('gradients computed inside an arena equal those computed without one, bit for bit, step after step', () => {
  const [x, W, b, M] = weights(7);
  const reference: Float64Array[] = [];
  for (const t of [W!, b!]) t.grad = null;
  loss(x!, W!, b!, M!).backward();
  reference.push(W!.grad!.slice(), b!.grad!.slice());

  const arena = new BufferArena();
  for (let step = 0; step < 3; step++) {
    W!.grad = null;
    b!.grad = null;
    arena.reset();
    arena.run(() => loss(x!, W!, b!, M!).backward());
    assert.equal(Array.from(W!.grad!), Array.from(reference[0]!), `step ${step}: dW`);
    assert.equal(Array.from(b!.grad!), Array.from(reference[1]!), `step ${step}: db`);
  }
});

test('an arena reuses its buffers after reset instead of growing', () => {
  const [x, W, b, M] = weights(3);
  const arena = new BufferArena();
  arena.run(() => loss(x!, W!, b!, M!).backward());
  const bytes = arena.bytes;
  assert.ok(bytes > 0, 'the arena holds the graph buffers');
  for (let i = 0; i < 5; i++) {
    arena.reset();
    arena.run(() => loss(x!, W!, b!, M!).backward());
  }
  assert.is(arena.bytes, bytes);
});

test('leaf gradients never come from the arena, so they survive a reset', () => {
  const [x, W, b, M] = weights(5);
  const arena = new BufferArena();
  arena.run(() => loss(x!, W!, b!, M!).backward());
  const kept = W!.grad!.slice();
  arena.reset();
  arena.run(() => sum(linear(x!, Tensor.ones(2, 3), null)).item());
  assert.equal(Array.from(W!.grad!), Array.from(kept));
});

test('outside an arena every op output is a fresh array', () => {
  const a = Tensor.ones(2, 2);
  const y1 = tanh(a), y2 = tanh(a);
  assert.is.not(y1.data, y2.data);
});

test('a tensor kept from inside run is unreadable after the next reset: data and grad throw RecycledTensorError', () => {
  const arena = new BufferArena();
  const x = Tensor.from(1, 2, new Float64Array([0, 1]), { requiresGrad: true });
  const kept = arena.run(() => {
    const y = exp(x);
    sum(y).backward();
    return y;
  });
  const under = arena.run(() => noGrad(() => exp(x)));
  assert.equal(Array.from(kept.data), [1, Math.E], 'readable until the reset');
  assert.ok(kept.grad !== null);
  arena.reset();
  assertThrows(() => kept.data, ['exp output (1×2) was made inside a BufferArena', 'Copy what you keep'], RecycledTensorError);
  assertThrows(() => kept.grad, ['its gradient buffer now belongs to a later step'], RecycledTensorError);
  assertThrows(() => under.data, ['exp output'], RecycledTensorError);
  // leaves are never the arena's
  assert.equal(Array.from(x.data), [0, 1]);
  assert.ok(x.grad !== null);
});

test('checking mode NaN-fills recycled buffers and raw op buffers, so a kept Float64Array or an unwritten entry shows', () => {
  const previous = setBufferChecks(true);
  try {
    const arena = new BufferArena();
    const x = Tensor.from(1, 2, new Float64Array([0, 1]));
    const raw = arena.run(() => exp(x).data);
    arena.reset();
    assert.ok(Number.isNaN(raw[0]!) && Number.isNaN(raw[1]!), 'a kept raw buffer reads NaN after the reset');
    const fresh = allocRaw(3);
    assert.ok(fresh.every(Number.isNaN), 'an output buffer is NaN until the op writes it');
  } finally {
    setBufferChecks(previous);
  }
});


test('outside an arena every buffer is fresh: kept outputs and gradients keep their values through 20,000 later ops of every size', () => {
  const x = Tensor.from(1, 8, Float64Array.from({ length: 8 }, (_, k) => k + 1), { requiresGrad: true });
  const kept = exp(x);
  const keptValues = Array.from(kept.data);
  sum(kept).backward();
  const keptGrad = Array.from(x.grad!);
  const seen = new Set<Float64Array>();
  for (let k = 0; k < 20000; k++) {
    // sizes 1..1500 cross the small-buffer limit; each output must start zeroed or fully written
    const n = 1 + ((k * 7919) % 1500);
    const o = allocRaw(n);
    o.fill(k);
    if (k < 50) seen.add(o);
  }
  assert.equal(Array.from(kept.data), keptValues, 'a kept output changed');
  assert.equal(Array.from(x.grad!), keptGrad, 'a kept leaf gradient changed');
  // distinct buffers never overlap
  const spans = [...seen].map((b) => [b.buffer, b.byteOffset, b.byteOffset + b.byteLength] as const);
  for (let i = 0; i < spans.length; i++) for (let j = i + 1; j < spans.length; j++) {
    const [bi, si, ei] = spans[i]!, [bj, sj, ej] = spans[j]!;
    assert.ok(bi !== bj || ei <= sj || ej <= si, `buffers ${i} and ${j} overlap`);
  }
});

test.run();
