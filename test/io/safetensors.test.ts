import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor, tensor } from '../../src/autograd/index.ts';
import { loadSafetensors, safetensorsHeader, saveSafetensors, SafetensorsError } from '../../src/io/index.ts';
import { assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';

// ---------------------------------------------------------------------------------------------------
// Helpers

const encoder = new TextEncoder();

/** A file from header text and data bytes; `length` overrides the 8-byte header length (default: the text's). */
function assemble(header: string, data: ArrayLike<number> = [], length?: bigint): Uint8Array {
  const text = encoder.encode(header);
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(Array.from(data), 8 + text.length);
  return out;
}

/** Little-endian float64 bytes of the values. */
function f64Bytes(values: readonly number[]): number[] {
  const view = new DataView(new ArrayBuffer(8 * values.length));
  values.forEach((v, i) => view.setFloat64(8 * i, v, true));
  return Array.from(new Uint8Array(view.buffer));
}

/** A one-tensor header. */
function entry(name: string, dtype: string, shape: unknown, offsets: unknown): string {
  return `${JSON.stringify(name)}:${JSON.stringify({ dtype, shape, data_offsets: offsets })}`;
}

function refused(bytes: Uint8Array, patterns: (RegExp | string)[], options: Parameters<typeof loadSafetensors>[1] = {}): Error {
  return assertThrows(() => loadSafetensors(bytes, options), patterns, SafetensorsError);
}

function bitsOf(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0);
}

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fileURLToPath(new URL(`../fixtures/safetensors/${name}`, import.meta.url))));
}

// ---------------------------------------------------------------------------------------------------
// Round trips

test('F64 round trip is bit-exact, including -0, subnormals and the largest doubles', () => {
  const values = [0, -0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308, 0.1, Math.PI, -1e-300, 123456789.123];
  const w = Tensor.from(1, values.length, new Float64Array(values));
  const m = tensor([[1, 2, 3], [4, 5, 6]]);
  const { tensors } = loadSafetensors(saveSafetensors({ w, m }));
  assert.equal(tensors.w.shape, [1, values.length]);
  for (let i = 0; i < values.length; i++) assert.is(bitsOf(tensors.w.data[i]), bitsOf(values[i]), `bits of value ${i}`);
  assert.equal(tensors.m.toArray(), [[1, 2, 3], [4, 5, 6]]);
});

test('F32 round trip keeps every value to float32 precision', () => {
  const values = [0.1, -0, 1e-45, 1.17549435e-38, 3.4028234663852886e38, -2.5, 1 / 3, 16777217];
  const { tensors } = loadSafetensors(saveSafetensors({ w: Tensor.from(2, 4, new Float64Array(values)) }, undefined, { dtype: 'F32' }));
  assert.equal(tensors.w.shape, [2, 4]);
  for (let i = 0; i < values.length; i++) assert.ok(Object.is(tensors.w.data[i], Math.fround(values[i])), `value ${i}: ${tensors.w.data[i]} vs ${Math.fround(values[i])}`);
  assert.is(safetensorsHeader(saveSafetensors({ w: tensor([[1]]) }, undefined, { dtype: 'F32' })).entries[0].dtype, 'F32');
});

test('F64 round trip holds for any finite matrix (property)', () => {
  check(
    fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 16, maxLength: 16 }), (rows, cols, pool) => {
      const data = new Float64Array(pool.slice(0, rows * cols));
      const { tensors } = loadSafetensors(saveSafetensors({ t: Tensor.from(rows, cols, data) }));
      assert.equal(tensors.t.shape, [rows, cols]);
      for (let i = 0; i < data.length; i++) assert.is(bitsOf(tensors.t.data[i]), bitsOf(data[i]));
    }),
  );
});

test('metadata round trips, non-ASCII and escaped characters included', () => {
  const metadata = { format: 'pt', note: 'ünïcode "quoted" \\ back\nslash\t\u0001', '𝔣𝔩𝔬𝔴': '✓', empty: '' };
  const loaded = loadSafetensors(saveSafetensors({ w: tensor([[1]]) }, metadata));
  assert.equal({ ...loaded.metadata }, metadata);
  assert.equal({ ...loadSafetensors(saveSafetensors({ w: tensor([[1]]) })).metadata }, {});
});

test('saving accepts a Map or an array of [name, tensor] pairs', () => {
  const a = tensor([[1, 2]]), b = tensor([[3]]);
  const fromRecord = saveSafetensors({ b, a });
  assert.equal(saveSafetensors(new Map([['a', a], ['b', b]])), fromRecord);
  assert.equal(saveSafetensors([['b', b], ['a', a]]), fromRecord);
});

test('a name such as __proto__ is an ordinary tensor name when loading', () => {
  const file = assemble(`{${entry('__proto__', 'F64', [1], [0, 8])},${entry('constructor', 'F64', [], [8, 16])}}`, f64Bytes([1, 2]));
  const { tensors } = loadSafetensors(file);
  assert.equal(Object.keys(tensors).sort(), ['__proto__', 'constructor']);
  assert.is(tensors['__proto__'].data[0], 1);
  assert.is(tensors['constructor'].data[0], 2);
  const again = loadSafetensors(saveSafetensors(tensors));
  assert.is(again.tensors['__proto__'].data[0], 1);
});

// ---------------------------------------------------------------------------------------------------
// Known files

test('a hand-assembled file of little-endian doubles is read as written', () => {
  // Header (109 bytes) + 3 spaces of padding = 112 = 0x70.
  const header = '{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"s":{"dtype":"F64","shape":[],"data_offsets":[16,24]}}   ';
  assert.is(header.length, 112);
  const bytes = new Uint8Array([
    0x70, 0, 0, 0, 0, 0, 0, 0, // N = 112, little-endian u64
    ...encoder.encode(header),
    0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // 1.0
    0, 0, 0, 0, 0, 0, 0x04, 0xc0, // -2.5
    0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f, // 0.1
  ]);
  const { tensors, metadata } = loadSafetensors(bytes);
  assert.equal(tensors.w.shape, [1, 2]); // rank 1 [2] -> 1×2
  assert.equal(Array.from(tensors.w.data), [1, -2.5]);
  assert.equal(tensors.s.shape, [1, 1]); // rank 0 -> 1×1
  assert.is(tensors.s.data[0], 0.1);
  assert.equal({ ...metadata }, {});
  const header2 = safetensorsHeader(bytes);
  assert.is(header2.headerLength, 112);
  assert.is(header2.dataStart, 120);
  assert.is(header2.dataLength, 24);
  assert.equal(header2.entries.map((e) => [e.name, e.dtype, e.shape, e.dataOffsets, e.size]), [
    ['w', 'F64', [2], [0, 16], 2],
    ['s', 'F64', [], [16, 24], 1],
  ]);
});

test('the writer reproduces the reference implementation\'s own test vectors byte for byte', () => {
  // safetensors/src/tensor.rs, test_empty: an empty dict, without and with metadata.
  assert.equal(Array.from(saveSafetensors({})), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  assert.equal(Array.from(saveSafetensors({}, { framework: 'pt' })), [
    40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
  ]);
  // test_serialization's tensor "attn.0" (F32 0..5), here with the rank-2 shape [2, 3] flowgrad writes:
  // two bytes shorter than the reference's "[1,2,3]", so two spaces of padding keep N = 64.
  const expected = [
    64, 0, 0, 0, 0, 0, 0, 0,
    ...encoder.encode('{"attn.0":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}  '),
    0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
  ];
  assert.equal(Array.from(saveSafetensors({ 'attn.0': tensor([[0, 1, 2], [3, 4, 5]]) }, undefined, { dtype: 'F32' })), expected);
});

test('the reference implementation\'s rank-3 test vector parses, and loading it names the rank', () => {
  // safetensors/src/tensor.rs, test_serialization_forced_alignement: "attn0", F32, shape [1, 1, 2, 3].
  const bytes = new Uint8Array([
    72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111,
    102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32, 32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
  ]);
  const header = safetensorsHeader(bytes);
  assert.equal(header.entries[0].shape, [1, 1, 2, 3]);
  assert.is(header.entries[0].size, 6);
  refused(bytes, ['tensor "attn0" has rank 4', 'shape [1, 1, 2, 3]', 'rank 0, 1 and 2 only']);
});

test('a file in the reference writer\'s layout with mixed dtypes loads with the exact values', () => {
  // Made by test/fixtures/safetensors/make_reference_fixture.py (Python json + struct, F16 by struct 'e').
  const bytes = fixture('reference-mixed.safetensors');
  const header = safetensorsHeader(bytes);
  assert.is(header.headerLength % 8, 0);
  // Reference order: descending dtype alignment, then name.
  assert.equal(header.entries.map((e) => e.name), ['num_batches_tracked', 'layer.weight', 'layer.bias', 'é', 'ints', 'brain', 'half', 'bytes', 'mask']);
  const { tensors, metadata } = loadSafetensors(bytes, { requireFinite: true });
  assert.equal({ ...metadata }, { format: 'pt' });
  const got = (name: string) => ({ shape: tensors[name].shape, values: Array.from(tensors[name].data) });
  assert.equal(got('layer.weight'), { shape: [2, 2], values: [0.1, -0, 5e-324, 1.7976931348623157e308] });
  assert.ok(Object.is(tensors['layer.weight'].data[1], -0));
  assert.equal(got('layer.bias'), { shape: [1, 3], values: [1.5, -2.25, 3.0517578125e-5] });
  assert.equal(got('half'), { shape: [2, 2], values: [1.5, -0, 2 ** -24, 65504] });
  assert.ok(Object.is(tensors.half.data[1], -0));
  assert.equal(got('brain'), { shape: [1, 3], values: [1, -3.140625, 2 ** -130] });
  assert.equal(got('num_batches_tracked'), { shape: [1, 1], values: [-7] });
  assert.equal(got('ints'), { shape: [2, 1], values: [2147483647, -2147483648] });
  assert.equal(got('bytes'), { shape: [1, 4], values: [0, 1, 128, 255] });
  assert.equal(got('mask'), { shape: [1, 2], values: [1, 0] });
  assert.equal(got('é'), { shape: [1, 1], values: [42] });
});

test('saved tensors are in name order (code points), contiguous from 0, with the header padded to 8 bytes', () => {
  const bytes = saveSafetensors({ 'é': tensor([[1]]), b: tensor([[1, 2]]), a: tensor([[1], [2], [3]]), '\u{1F600}': tensor([[1]]), '\uFB01': tensor([[1]]) });
  const header = safetensorsHeader(bytes);
  // U+FB01 sorts before U+1F600 by code point (and by UTF-8 bytes), although its UTF-16 unit is larger than 0xD83D.
  assert.equal(header.entries.map((e) => e.name), ['a', 'b', 'é', '\uFB01', '\u{1F600}']);
  assert.equal(header.entries.map((e) => e.dataOffsets), [[0, 24], [24, 40], [40, 48], [48, 56], [56, 64]]);
  assert.is(header.headerLength % 8, 0);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + header.headerLength));
  assert.ok(text.startsWith('{"a":{"dtype":"F64","shape":[3,1],"data_offsets":[0,24]},'), text);
  const json = text.replace(/ +$/, '');
  assert.ok(json.endsWith('}}'), 'the JSON ends the header, before the padding');
  assert.ok(text.length - json.length < 8, 'fewer than 8 spaces of padding');
});

test('loaded tensors are copies: changing the input bytes afterwards changes nothing', () => {
  const bytes = saveSafetensors({ w: tensor([[1, 2], [3, 4]]) });
  const { tensors } = loadSafetensors(bytes);
  assert.is.not(tensors.w.data.buffer, bytes.buffer);
  bytes.fill(0xff, bytes.length - 32);
  assert.equal(tensors.w.toArray(), [[1, 2], [3, 4]]);
});

test('a file held at an odd offset inside a larger buffer loads the same', () => {
  const file = saveSafetensors({ w: tensor([[1.25, -2]]) }, undefined, { dtype: 'F32' });
  const big = new Uint8Array(file.length + 8);
  big.set(file, 3);
  const { tensors } = loadSafetensors(big.subarray(3, 3 + file.length));
  assert.equal(Array.from(tensors.w.data), [1.25, -2]);
});

test('zero-element tensors keep their shapes', () => {
  const file = assemble(`{${entry('empty', 'F64', [0], [0, 0])},${entry('rows', 'F32', [0, 3], [0, 0])},${entry('x', 'F64', [], [0, 8])}}`, f64Bytes([7]));
  const { tensors } = loadSafetensors(file);
  assert.equal(tensors.empty.shape, [1, 0]);
  assert.equal(tensors.rows.shape, [0, 3]);
  assert.equal(Array.from(tensors.x.data), [7]);
  assert.equal(loadSafetensors(saveSafetensors({ z: Tensor.zeros(0, 5) })).tensors.z.shape, [0, 5]);
});

// ---------------------------------------------------------------------------------------------------
// Dtype conversion

test('F16 decoding gives the binary16 values, including subnormals, infinities and NaN', () => {
  const cases: [number, number][] = [
    [0x3c00, 1], [0xc000, -2], [0x3555, 0.333251953125], [0x7bff, 65504], [0x0400, 2 ** -14], [0x03ff, 1023 * 2 ** -24],
    [0x0001, 2 ** -24], [0x8001, -(2 ** -24)], [0x0000, 0], [0x8000, -0], [0x7c00, Infinity], [0xfc00, -Infinity], [0x7e00, NaN], [0xfe01, NaN],
  ];
  const data: number[] = [];
  for (const [bits] of cases) data.push(bits & 0xff, bits >> 8);
  const { tensors } = loadSafetensors(assemble(`{${entry('h', 'F16', [cases.length], [0, 2 * cases.length])}}`, data));
  cases.forEach(([bits, value], i) => assert.ok(Object.is(tensors.h.data[i], value), `0x${bits.toString(16)}: got ${tensors.h.data[i]}, expected ${value}`));
});

test('F16 decoding is exact and increasing over every positive finite bit pattern', () => {
  const data = new Uint8Array(2 * 0x7c00);
  for (let bits = 0; bits < 0x7c00; bits++) (data[2 * bits] = bits & 0xff), (data[2 * bits + 1] = bits >> 8);
  const { tensors } = loadSafetensors(assemble(`{${entry('h', 'F16', [0x7c00], [0, data.length])}}`, data));
  const h = tensors.h.data;
  const float16 = (globalThis as { Float16Array?: new (b: ArrayBuffer) => ArrayLike<number> }).Float16Array;
  const oracle = float16 !== undefined ? new float16(data.slice().buffer) : null; // little-endian hosts only
  for (let bits = 1; bits < 0x7c00; bits++) {
    // Each step is one ulp of the binade it leaves: 2^-24 for subnormals and the first normal binade,
    // doubling with each binade after.
    const e = (bits - 1) >> 10;
    const ulp = 2 ** (Math.max(e, 1) - 25);
    assert.is(h[bits] - h[bits - 1], ulp, `step at 0x${bits.toString(16)}`);
    if (oracle !== null) assert.is(h[bits], oracle[bits]);
  }
});

test('BF16 decoding agrees with float32 for every bit pattern', () => {
  const data = new Uint8Array(2 * 65536);
  for (let bits = 0; bits < 65536; bits++) (data[2 * bits] = bits & 0xff), (data[2 * bits + 1] = bits >> 8);
  const { tensors } = loadSafetensors(assemble(`{${entry('b', 'BF16', [65536], [0, data.length])}}`, data));
  const scratch = new DataView(new ArrayBuffer(4));
  for (let bits = 0; bits < 65536; bits++) {
    scratch.setUint32(0, bits * 65536);
    const expected = scratch.getFloat32(0);
    const got = tensors.b.data[bits];
    if (!(Number.isNaN(expected) && Number.isNaN(got)) && !Object.is(got, expected)) assert.unreachable(`0x${bits.toString(16)}: got ${got}, expected ${expected}`);
  }
});

test('integer dtypes convert exactly, and a 64-bit value float64 cannot hold is refused', () => {
  const view = new DataView(new ArrayBuffer(8 * 3 + 8 * 2 + 4 + 2 * 2 + 2 + 2));
  let at = 0;
  for (const v of [-(2n ** 53n), 2n ** 60n, -1n]) (view.setBigInt64(at, v, true), (at += 8));
  for (const v of [2n ** 64n - 2n ** 11n, 0n]) (view.setBigUint64(at, v, true), (at += 8));
  view.setUint32(at, 4294967295, true), (at += 4);
  view.setInt16(at, -32768, true), view.setUint16(at + 2, 65535, true), (at += 4);
  view.setInt8(at, -128), view.setUint8(at + 1, 200), (at += 2);
  view.setUint8(at, 1), view.setUint8(at + 1, 0);
  const header = `{${[
    entry('i64', 'I64', [3], [0, 24]),
    entry('u64', 'U64', [2], [24, 40]),
    entry('u32', 'U32', [], [40, 44]),
    entry('i16', 'I16', [1], [44, 46]),
    entry('u16', 'U16', [1], [46, 48]),
    entry('i8', 'I8', [1], [48, 49]),
    entry('u8', 'U8', [1], [49, 50]),
    entry('bool', 'BOOL', [2], [50, 52]),
  ].join(',')}}`;
  const { tensors } = loadSafetensors(assemble(header, new Uint8Array(view.buffer)));
  assert.equal(Array.from(tensors.i64.data), [-(2 ** 53), 2 ** 60, -1]);
  assert.equal(Array.from(tensors.u64.data), [2 ** 64 - 2 ** 11, 0]);
  assert.equal(Array.from(tensors.u32.data), [4294967295]);
  assert.equal([tensors.i16.data[0], tensors.u16.data[0], tensors.i8.data[0], tensors.u8.data[0]], [-32768, 65535, -128, 200]);
  assert.equal(Array.from(tensors.bool.data), [1, 0]);

  const inexact = new DataView(new ArrayBuffer(16));
  inexact.setBigInt64(8, 2n ** 53n + 1n, true);
  refused(assemble(`{${entry('step', 'I64', [2], [0, 16])}}`, new Uint8Array(inexact.buffer)), ['tensor "step" is I64', '9007199254740993 at index 1', 'exactly as a float64']);
});

test('a BOOL byte other than 0 or 1 is refused', () => {
  refused(assemble(`{${entry('mask', 'BOOL', [3], [0, 3])}}`, [1, 0, 2]), ['tensor "mask" is BOOL', 'byte 2', '0x02', 'not 0 or 1']);
});

test('a dtype the format defines but flowgrad cannot convert is refused by name, and still listed by the header reader', () => {
  const file = assemble(`{${entry('q', 'F8_E4M3', [2, 2], [0, 4])}}`, [1, 2, 3, 4]);
  assert.is(safetensorsHeader(file).entries[0].dtype, 'F8_E4M3');
  refused(file, ['tensor "q" has dtype F8_E4M3', 'cannot convert to float64', 'F64, F32, F16, BF16']);
  // Sub-byte dtypes count bits: 3 F4 values are 12 bits, not whole bytes.
  assertThrows(() => safetensorsHeader(assemble(`{${entry('f4', 'F4', [3], [0, 2])}}`, [0, 0])), ['tensor "f4"', 'F4 is 12 bits, not a whole number of bytes'], SafetensorsError);
  assert.is(safetensorsHeader(assemble(`{${entry('f4', 'F4', [4], [0, 2])}}`, [0, 0])).entries[0].size, 4);
});

test('a tensor of rank 3 is refused with its name and shape', () => {
  refused(assemble(`{${entry('conv.weight', 'F64', [1, 1, 1], [0, 8])}}`, f64Bytes([1])), ['tensor "conv.weight" has rank 3', 'shape [1, 1, 1]']);
});

// ---------------------------------------------------------------------------------------------------
// What saving refuses

test('saving refuses NaN and infinities, naming the tensor and the index', () => {
  assertThrows(() => saveSafetensors({ ok: tensor([[1]]), bad: tensor([[1, 2, 3], [4, NaN, 6]]) }), ['tensor "bad" holds NaN at index 4', 'row 1, col 1'], SafetensorsError);
  assertThrows(() => saveSafetensors({ w: tensor([[-Infinity]]) }), ['tensor "w" holds -Infinity at index 0'], SafetensorsError);
});

test('saving as F32 refuses a value beyond float32 range', () => {
  assertThrows(() => saveSafetensors({ w: tensor([[1, 1e39]]) }, undefined, { dtype: 'F32' }), ['tensor "w" value 1e+39 at index 1', 'out of float32 range'], SafetensorsError);
  assertThrows(() => saveSafetensors({ w: tensor([[1]]) }, undefined, { dtype: 'F16' as 'F32' }), ["dtype must be 'F64' or 'F32'", '"F16"'], SafetensorsError);
});

test('saving refuses an empty, reserved, repeated or ill-formed tensor name', () => {
  const t = tensor([[1]]);
  assertThrows(() => saveSafetensors({ '': t }), ['tensor name must not be empty'], SafetensorsError);
  assertThrows(() => saveSafetensors({ __metadata__: t }), ['"__metadata__" is reserved'], SafetensorsError);
  assertThrows(() => saveSafetensors([['w', t], ['v', t], ['w', t]]), ['tensor "w" is given twice'], SafetensorsError);
  assertThrows(() => saveSafetensors({ ['a\uD800b']: t }), ['not well-formed Unicode', 'lone surrogate at index 1'], SafetensorsError);
  assertThrows(() => saveSafetensors({ w: { rows: 1, cols: 1, data: [1] } as unknown as Tensor }), ['"w" is not a Tensor'], SafetensorsError);
});

test('saving refuses metadata values that are not strings', () => {
  assertThrows(() => saveSafetensors({ w: tensor([[1]]) }, { epochs: 3 as unknown as string }), ['metadata value for "epochs" must be a string', 'got 3'], SafetensorsError);
  assertThrows(() => saveSafetensors({}, ['x'] as unknown as Record<string, string>), ['metadata must be an object of strings'], SafetensorsError);
});

// ---------------------------------------------------------------------------------------------------
// What loading refuses: every file is hostile

test('a file shorter than 8 bytes is refused', () => {
  refused(new Uint8Array(5), ['the file is 5 bytes', 'shorter than the 8-byte header length']);
  refused(new Uint8Array(0), ['the file is 0 bytes']);
});

test('a header length beyond the end of the file is refused', () => {
  refused(assemble('{}', [], 100n), ['header length in bytes 0-7 is 100', 'would end at byte 108', 'past the end of the 10-byte file']);
});

test('a header over the 100 MB limit is refused before anything is decoded', () => {
  // The file is 16 bytes: the limit is checked before the length is compared with the file.
  refused(assemble('{}      ', [], 100_000_001n), ['header length in bytes 0-7 is 100000001', 'over the limit of 100000000 bytes']);
  refused(assemble('{}      '), ['header length in bytes 0-7 is 8', 'over the limit of 4 bytes (maxHeaderBytes)'], { maxHeaderBytes: 4 });
  assertThrows(() => loadSafetensors(assemble('{}'), { maxHeaderBytes: -1 }), ['maxHeaderBytes must be a non-negative integer'], SafetensorsError);
});

test('vectors are written 1-D when asked, and tensors left out by include are skipped unchecked', () => {
  const bytes = saveSafetensors({ weight: tensor([[1, 2]]), bias: tensor([[3, 4]]), big: tensor([[1], [2]]) }, {}, { vector: (name) => name !== 'weight' });
  const header = safetensorsHeader(bytes);
  assert.equal(Object.fromEntries(header.entries.map((e) => [e.name, e.shape])), { big: [2, 1], bias: [2], weight: [1, 2] });
  assert.equal(loadSafetensors(bytes).tensors.bias.shape, [1, 2]);
  // A rank-3 tensor fails a whole load, but not one that leaves it out.
  const rank3 = assemble(`{${entry('a', 'F64', [1], [0, 8])},${entry('cube', 'F64', [1, 1, 1], [8, 16])}}`, f64Bytes([1, 2]));
  refused(rank3, ['tensor "cube" has rank 3']);
  const partial = loadSafetensors(rank3, { include: (name) => name === 'a' });
  assert.equal(Object.keys(partial.tensors), ['a']);
  assert.equal(partial.skipped.map((e) => e.name), ['cube']);
});

test('a header length that is not a safe integer is refused', () => {
  refused(assemble('{}', [], 2n ** 64n - 1n), ['header length in bytes 0-7 is 18446744073709551615', 'not a safe integer']);
  refused(assemble('{}', [], 2n ** 53n), ['is 9007199254740992', 'not a safe integer']);
});

test('a header that is not valid UTF-8 is refused with the offending byte and its offset', () => {
  const file = assemble('{"a":1}');
  file[12] = 0xff;
  refused(file, ['not valid UTF-8', 'byte 0xff at file offset 12']);
  // An overlong encoding and a surrogate encoded in UTF-8 are ill-formed too.
  refused(assemble('{}      ', []).map((b, i) => (i === 9 ? 0xc0 : i === 10 ? 0xaf : b)), ['not valid UTF-8', 'file offset 9']);
  const surrogate = assemble('{"\u00e9\u00e9":1}');
  surrogate.set([0xed, 0xa0, 0x80], 10);
  refused(surrogate, ['not valid UTF-8', 'byte 0xa0 at file offset 11']);
});

test('a header that is not JSON is refused', () => {
  refused(assemble('{"w": {"dtype": "F64",'), ['the header (bytes 8-30) is not valid JSON']);
  refused(assemble('{}\0\0\0\0\0\0'), ['not valid JSON']); // padding must be spaces
  refused(assemble('\uFEFF{}'), ['not valid JSON']); // a byte-order mark is not JSON whitespace
});

test('a header that is not a JSON object is refused', () => {
  refused(assemble('[1, 2]  '), ['the header must be a JSON object, got an array [1,2]']);
  refused(assemble('null    '), ['must be a JSON object, got null']);
  refused(assemble('"x"     '), ['must be a JSON object, got string "x"']);
});

test('a __metadata__ that is not a map of strings is refused', () => {
  refused(assemble('{"__metadata__":{"epochs":3}}'), ['"__metadata__" value for "epochs" must be a string, got number 3']);
  refused(assemble('{"__metadata__":["a"]}'), ['"__metadata__" must be an object of strings, got an array']);
  assert.equal({ ...loadSafetensors(assemble('{"__metadata__":null}')).metadata }, {});
});

test('a tensor entry that is not an object with the three fields is refused', () => {
  refused(assemble('{"w":[0,8]}'), ['tensor "w": its entry must be an object', 'got an array [0,8]']);
  refused(assemble('{"w":{"shape":[1],"data_offsets":[0,8]}}', f64Bytes([1])), ['tensor "w": its entry has no "dtype"']);
  refused(assemble('{"w":{"dtype":"F64","data_offsets":[0,8]}}', f64Bytes([1])), ['tensor "w": its entry has no "shape"']);
  refused(assemble('{"w":{"dtype":"F64","shape":[1]}}', f64Bytes([1])), ['tensor "w": its entry has no "data_offsets"']);
});

test('an unknown dtype is refused with the tensor name and the dtype', () => {
  refused(assemble(`{${entry('w', 'F128', [1], [0, 16])}}`, new Uint8Array(16)), ['tensor "w" has unknown dtype "F128"', 'the format defines BOOL']);
  refused(assemble(`{${entry('w', 'f64', [1], [0, 8])}}`, f64Bytes([1])), ['unknown dtype "f64"']);
  refused(assemble(`{${entry('w', 'toString', [1], [0, 8])}}`, f64Bytes([1])), ['unknown dtype "toString"']);
});

test('a shape that is not an array of non-negative safe integers is refused', () => {
  for (const shape of [[-1], [1.5], ['2'], [2 ** 53], 3, null, [[1]]]) {
    refused(assemble(`{${entry('w', 'F64', shape, [0, 8])}}`, f64Bytes([1])), ['tensor "w": "shape" must be an array of non-negative integers', `got ${JSON.stringify(shape)}`]);
  }
});

test('a shape whose element count overflows is refused', () => {
  refused(assemble(`{${entry('w', 'F64', [2 ** 30, 2 ** 30, 2 ** 30, 0], [0, 0])}}`), ['tensor "w": shape [1073741824,1073741824,1073741824,0] has more elements than 2^53 - 1']);
  refused(assemble(`{${entry('w', 'F64', [2 ** 50], [0, 8])}}`, f64Bytes([1])), ['tensor "w": shape [1125899906842624] of F64 has more bytes than 2^53 - 1']);
});

test('data_offsets too large to be exact are reported as out of range, not as malformed', () => {
  for (const offsets of [[0, 2 ** 53], [2 ** 60, 2 ** 60 + 8], [0, 1e300]]) {
    refused(assemble(`{${entry('w', 'F64', [1], offsets)}}`, f64Bytes([1])), ['tensor "w": data_offsets', 'run past the end of the data section', 'above 2^53 - 1']);
  }
  refused(assemble(`{${entry('w', 'F64', [1], [100, 108])}}`, f64Bytes([1])), ['data_offsets [100, 108] run past the end of the 8-byte data section']);
});

test('data_offsets that are not two ordered non-negative integers are refused', () => {
  for (const offsets of [[8, 0], [0], [0, 8, 16], [-8, 0], [0, 8.5], '0,8']) {
    refused(assemble(`{${entry('w', 'F64', [1], offsets)}}`, f64Bytes([1])), ['tensor "w": "data_offsets" must be two non-negative integers [begin, end] with begin <= end', `got ${JSON.stringify(offsets)}`]);
  }
});

test('a byte count that disagrees with shape and dtype is refused', () => {
  refused(assemble(`{${entry('w', 'F32', [2, 3], [0, 20])}}`, new Uint8Array(20)), ['tensor "w": F32 with shape [2, 3] needs 24 bytes, but data_offsets [0, 20] hold 20']);
});

test('data_offsets beyond the data section are refused', () => {
  refused(assemble(`{${entry('w', 'F64', [2], [0, 16])}}`, f64Bytes([1])), ['tensor "w": data_offsets [0, 16] run past the end of the 8-byte data section']);
  refused(assemble(`{${entry('w', 'F64', [1], [4096, 4104])}}`, f64Bytes([1])), ['data_offsets [4096, 4104] run past the end']);
});

test('overlapping data_offsets are refused, naming both tensors', () => {
  refused(assemble(`{${entry('a', 'F64', [2], [0, 16])},${entry('b', 'F64', [1], [8, 16])}}`, f64Bytes([1, 2])), ['tensor "b": data_offsets [8, 16] overlap tensor "a" at [0, 16]']);
  // Two names over the same bytes overlap as well.
  refused(assemble(`{${entry('a', 'F64', [1], [0, 8])},${entry('b', 'F64', [1], [0, 8])}}`, f64Bytes([1])), ['tensor "b": data_offsets [0, 8] overlap tensor "a" at [0, 8]']);
});

test('a gap between tensors is refused, as the reference does', () => {
  refused(assemble(`{${entry('a', 'F64', [1], [0, 8])},${entry('b', 'F64', [1], [16, 24])}}`, f64Bytes([1, 2, 3])), ['tensor "b": data_offsets [16, 24] leave bytes 8-16 of the data section uncovered', 'tensor "a" ends at 8', 'must be contiguous']);
  refused(assemble(`{${entry('a', 'F64', [1], [8, 16])}}`, f64Bytes([1, 2])), ['tensor "a": data_offsets [8, 16] leave bytes 0-8', 'the data section starts at offset 0']);
});

test('trailing bytes after the last tensor are refused', () => {
  refused(assemble(`{${entry('a', 'F64', [1], [0, 8])}}`, [...f64Bytes([1]), 0]), ['the tensors cover 8 bytes but the data section is 9 bytes: 1 trailing bytes belong to no tensor']);
  refused(assemble('{}', [1, 2, 3]), ['cover 0 bytes but the data section is 3 bytes']);
});

test('with requireFinite, a NaN or infinity is refused with the tensor and the index', () => {
  const file = assemble(`{${entry('w', 'F64', [2, 2], [0, 32])}}`, f64Bytes([1, 2, 3, NaN]));
  refused(file, ['tensor "w" holds NaN at index 3 (row 1, col 1)', 'requireFinite'], { requireFinite: true });
  assert.ok(Number.isNaN(loadSafetensors(file).tensors.w.data[3]), 'loaded as is without requireFinite');
  refused(assemble(`{${entry('h', 'F16', [3], [0, 6])}}`, [0, 0x3c, 0, 0x7c, 0, 0]), ['tensor "h" holds Infinity at index 1 (row 0, col 1)'], { requireFinite: true });
});

test('something that is not a Uint8Array is refused, not crashed on', () => {
  refused([1, 2, 3] as unknown as Uint8Array, ['expected the file as a Uint8Array']);
  refused(new ArrayBuffer(16) as unknown as Uint8Array, ['expected the file as a Uint8Array']);
});

// ---------------------------------------------------------------------------------------------------
// Fuzzing: any input gives a well-formed result or a SafetensorsError, quickly

/** Loads `bytes`; fails unless the outcome is a well-formed result or a SafetensorsError, within a second. */
function loadsOrRefuses(bytes: Uint8Array): 'loaded' | 'refused' {
  const started = performance.now();
  let outcome: 'loaded' | 'refused';
  try {
    const { tensors, metadata } = loadSafetensors(bytes);
    for (const name of Object.keys(tensors)) {
      const t = tensors[name];
      assert.ok(t instanceof Tensor, `${name} is a Tensor`);
      assert.ok(t.data instanceof Float64Array && t.data.length === t.rows * t.cols, `${name} has rows·cols values`);
      assert.ok(t.data.length === 0 || t.data.buffer !== bytes.buffer, `${name} does not alias the input`);
    }
    for (const key of Object.keys(metadata)) assert.type(metadata[key], 'string');
    outcome = 'loaded';
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw new Error(`expected a SafetensorsError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    outcome = 'refused';
  }
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms`);
  return outcome;
}

test('random bytes load or are refused with a SafetensorsError', () => {
  check(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => void loadsOrRefuses(bytes)));
  // With a plausible header length, so that the UTF-8 and JSON stages see the random bytes.
  check(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 320 }), (body, n) => {
      const bytes = new Uint8Array(8 + body.length);
      new DataView(bytes.buffer).setUint32(0, n, true);
      bytes.set(body, 8);
      loadsOrRefuses(bytes);
    }),
  );
});

/** A small valid file from random tensors and metadata. */
const validFile = fc
  .record({
    tensors: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }).filter((s) => s !== '__metadata__'), fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 })), { maxKeys: 4 }),
    metadata: fc.option(fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }), { nil: undefined }),
    dtype: fc.constantFrom('F64' as const, 'F32' as const),
  })
  .map(({ tensors, metadata, dtype }) => {
    const named: Record<string, Tensor> = {};
    for (const [name, [rows, cols, v]] of Object.entries(tensors)) named[name] = Tensor.from(rows, cols, new Float64Array(rows * cols).fill(v));
    return saveSafetensors(named, metadata, { dtype });
  });

test('valid files with random byte changes, truncations and extensions load or are refused with a SafetensorsError', () => {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), value: fc.constant(0) }),
    fc.record({ kind: fc.constant('extend' as const), at: fc.nat({ max: 16 }), value: fc.integer({ min: 0, max: 255 }) }),
  );
  check(
    fc.property(validFile, fc.array(edit, { minLength: 1, maxLength: 4 }), (file, edits) => {
      assert.is(loadsOrRefuses(file), 'loaded');
      let bytes = file.slice();
      for (const { kind, at, value } of edits) {
        if (kind === 'set' && bytes.length > 0) bytes[at % bytes.length] = value;
        else if (kind === 'truncate') bytes = bytes.slice(0, at % (bytes.length + 1));
        else if (kind === 'extend') bytes = Uint8Array.from([...bytes, ...new Array<number>(at + 1).fill(value)]);
      }
      loadsOrRefuses(bytes);
    }),
  );
});

test('headers with random dtypes, shapes and offsets load or are refused with a SafetensorsError', () => {
  const dtype = fc.constantFrom('F64', 'F32', 'F16', 'BF16', 'I64', 'U64', 'I32', 'U32', 'I16', 'U16', 'I8', 'U8', 'BOOL', 'F8_E4M3', 'F4', 'C64', 'F128', '', 'toString');
  const count = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: -3, max: 40 }), fc.constantFrom(2 ** 53, 2 ** 64, 1.5, -0));
  const anyJson = fc.oneof(fc.constant(null), fc.boolean(), fc.string({ maxLength: 3 }), fc.array(fc.integer(), { maxLength: 3 }), fc.constant({}));
  const shape = fc.oneof({ weight: 4, arbitrary: fc.array(count, { maxLength: 4 }) }, { weight: 1, arbitrary: anyJson });
  const offsets = fc.oneof({ weight: 4, arbitrary: fc.tuple(count, count) }, { weight: 1, arbitrary: fc.array(count, { maxLength: 3 }) }, { weight: 1, arbitrary: anyJson });
  const tensorEntry = fc.oneof({ weight: 6, arbitrary: fc.record({ dtype, shape, data_offsets: offsets }, { requiredKeys: [] }) }, { weight: 1, arbitrary: anyJson });
  const header = fc.dictionary(fc.oneof(fc.string({ maxLength: 4 }), fc.constant('__metadata__')), tensorEntry, { maxKeys: 4 });
  check(
    fc.property(header, fc.uint8Array({ maxLength: 96 }), fc.nat({ max: 7 }), (object, data, pad) => {
      loadsOrRefuses(assemble(JSON.stringify(object) + ' '.repeat(pad), data));
    }),
  );
  // Headers that are right but for one number: the offsets of a valid layout, nudged.
  check(
    fc.property(fc.array(fc.tuple(dtype, fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 })), { minLength: 1, maxLength: 4 }), fc.nat(), fc.integer({ min: -9, max: 9 }), (specs, which, nudge) => {
      const sizes: Record<string, number> = { F64: 8, I64: 8, U64: 8, C64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F4: 1 };
      const fields: string[] = [];
      let end = 0;
      specs.forEach(([d, s], i) => {
        const n = (sizes[d] ?? 1) * s.reduce((p, x) => p * x, 1);
        const offsetsHere = [end, end + n];
        if (i === which % specs.length) offsetsHere[nudge % 2 === 0 ? 0 : 1] += nudge;
        fields.push(entry(`t${i}`, d, s, offsetsHere));
        end += n;
      });
      loadsOrRefuses(assemble(`{${fields.join(',')}}`, new Uint8Array(end)));
    }),
  );
});

test.run();
