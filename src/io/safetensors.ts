/**
 * Model weights in the safetensors format, as pure functions over `Uint8Array` (no file system, so the
 * same code runs in Node, browsers, Deno, Bun and workers).
 *
 * The format (https://github.com/huggingface/safetensors#format; reference reader and writer in
 * `safetensors/src/tensor.rs` of that repository):
 * ```
 * [8 bytes]  N, the header length: an unsigned 64-bit little-endian integer
 * [N bytes]  the header: UTF-8 JSON, an object
 *              { "__metadata__"?: { string: string },
 *                "<name>": { "dtype": "F64", "shape": [2, 3], "data_offsets": [begin, end] }, ... }
 *            padded with trailing spaces (0x20); the reference writer pads N to a multiple of 8
 * [rest]     the data section: each tensor's values, little-endian, row-major, at
 *            [begin, end) counted from the first byte after the header
 * ```
 * The loader treats every file as hostile. Like the reference reader it requires the tensors'
 * byte ranges, sorted by offset, to tile the data section exactly: the first starts at 0, each starts
 * where the previous one ends, the last ends at the end of the file; and each range's length must
 * equal (product of shape) × (dtype size). Every number is checked before it is used, so a bad file
 * gives a {@link SafetensorsError} saying what is wrong and where, never another exception, a hang
 * or an allocation larger than a small multiple of the file (at most 8 bytes of float64 per byte of
 * data).
 *
 * Where this reader and the reference differ: it also refuses a BOOL byte other than 0 or 1, an
 * integer value that float64 cannot hold exactly, and a shape or offset above 2^53 - 1 (even in a
 * zero-element tensor); it accepts numbers the reference's JSON reader would refuse as not integers
 * (`8.0`, `8e0`), because `JSON.parse` cannot tell them from `8`. A key given twice keeps its last
 * value, as in the reference's map of tensors.
 *
 * @module
 */
import { Tensor } from '../autograd/tensor.ts';

/**
 * The dtypes the format defines (reference `Dtype` enum).
 * @example safetensorsHeader(bytes).entries[0].dtype; // 'F64'
 */
export type SafetensorsDtype =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'F8_E8M0'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64'
  | 'C64'
  | 'F4'
  | 'F6_E2M3'
  | 'F6_E3M2';

/**
 * One tensor as the header describes it.
 * @example const { name, dtype, shape }: SafetensorsEntry = safetensorsHeader(bytes).entries[0];
 */
export interface SafetensorsEntry {
  /** The tensor's name (the header key). */
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  /** The shape as written in the file (any rank; `[]` is a scalar). */
  readonly shape: readonly number[];
  /** `[begin, end)` in bytes, counted from the start of the data section. */
  readonly dataOffsets: readonly [begin: number, end: number];
  /** Number of elements: the product of `shape` (1 for a scalar). */
  readonly size: number;
}

/**
 * A parsed and validated header.
 * @example const header: SafetensorsHeader = safetensorsHeader(bytes); header.metadata.format;
 */
export interface SafetensorsHeader {
  /** N, the length of the JSON header in bytes (padding included). */
  readonly headerLength: number;
  /** Where the data section starts in the file: 8 + N. */
  readonly dataStart: number;
  /** Length of the data section in bytes. */
  readonly dataLength: number;
  /** The tensors, in data-offset order. */
  readonly entries: readonly SafetensorsEntry[];
  /** The `__metadata__` map (empty when the file has none). */
  readonly metadata: Record<string, string>;
}

/**
 * Options of {@link saveSafetensors}.
 * @example saveSafetensors(model.stateDict(), {}, { dtype: 'F32' }); // half the bytes, rounded to float32
 */
export interface SaveSafetensorsOptions {
  /** The dtype written for every tensor: `'F64'` (default, exact) or `'F32'`. */
  dtype?: 'F64' | 'F32';
  /**
   * Which 1×n tensors are vectors, written with shape `[n]` as PyTorch stores biases (default: none;
   * every tensor is written `[rows, cols]`). A tensor with more than one row is always written 2-D.
   */
  vector?: (name: string, tensor: Tensor) => boolean;
}

/**
 * Options of {@link safetensorsHeader}.
 * @example safetensorsHeader(bytes, { maxHeaderBytes: 1_000_000 });
 */
export interface SafetensorsHeaderOptions {
  /** The largest header accepted, in bytes; checked before anything is decoded. Default 100,000,000. */
  maxHeaderBytes?: number;
}

/**
 * Options of {@link loadSafetensors}.
 * @example loadSafetensors(bytes, { requireFinite: true, maxHeaderBytes: 1_000_000 });
 */
export interface LoadSafetensorsOptions extends SafetensorsHeaderOptions {
  /** Refuse a file holding NaN or ±∞ (the error names the tensor and the index). Default false. */
  requireFinite?: boolean;
  /**
   * Which tensors to load (default: all). The others are listed in `skipped` and neither decoded nor
   * checked against flowgrad's limits (a rank-3 tensor a model does not use does not fail the file);
   * the header is validated whole either way.
   */
  include?: (name: string) => boolean;
}

/**
 * What {@link loadSafetensors} returns.
 * @example const { tensors, metadata }: LoadedSafetensors = loadSafetensors(bytes);
 */
export interface LoadedSafetensors {
  /** The tensors by name, as float64 matrices (rank 0 → 1×1, rank 1 `[n]` → 1×n). */
  tensors: Record<string, Tensor>;
  /** The `__metadata__` map (empty when the file has none). */
  metadata: Record<string, string>;
  /** The entries left out by `include` (empty without it). */
  skipped: SafetensorsEntry[];
}

/**
 * Thrown for a file that is not valid safetensors or holds something flowgrad cannot load, and for
 * tensors or metadata that cannot be saved. The message says what is wrong and where: the byte
 * offset, the tensor's name, the index of the value.
 *
 * @example
 * try { loadSafetensors(new Uint8Array(3)); } catch (e) { e instanceof SafetensorsError; } // true
 */
export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
}

// ---------------------------------------------------------------------------------------------------
// Constants

/** The reference implementation's header limit (`MAX_HEADER_SIZE`). */
const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

/** Bits per element of each dtype (reference `Dtype::bitsize`). */
const DTYPE_BITS: ReadonlyMap<string, number> = new Map<SafetensorsDtype, number>([
  ['BOOL', 8],
  ['U8', 8],
  ['I8', 8],
  ['F8_E5M2', 8],
  ['F8_E4M3', 8],
  ['F8_E8M0', 8],
  ['I16', 16],
  ['U16', 16],
  ['F16', 16],
  ['BF16', 16],
  ['I32', 32],
  ['U32', 32],
  ['F32', 32],
  ['F64', 64],
  ['I64', 64],
  ['U64', 64],
  ['C64', 64],
  ['F4', 4],
  ['F6_E2M3', 6],
  ['F6_E3M2', 6],
]);

/** The dtypes {@link loadSafetensors} converts to float64. */
const LOADABLE: ReadonlySet<string> = new Set(['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL']);

const textEncoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------------
// Writing

/**
 * Serialises tensors (and an optional string→string metadata map) to safetensors bytes, laid out as
 * the reference writer does: tensors sorted by name (code-point order, like Rust's `String`), data
 * contiguous from offset 0, `__metadata__` first in the header, the header padded with spaces to a
 * multiple of 8 bytes. Every tensor is written with shape `[rows, cols]` in one dtype, `F64` (exact,
 * `-0` and subnormals included) unless `options.dtype` is `'F32'`.
 *
 * Refused with a {@link SafetensorsError} naming the tensor: an empty name, the reserved name
 * `__metadata__`, a name given twice (possible with an array or Map of pairs), a name that is not
 * well-formed Unicode, a NaN or ±∞ value, a value too large for float32 when saving `F32`; and a
 * metadata value that is not a string.
 *
 * @example
 * const bytes = saveSafetensors({ weight: tensor([[1, 2], [3, 4]]) }, { format: 'flowgrad' });
 * loadSafetensors(bytes).tensors.weight.toArray(); // [[1, 2], [3, 4]]
 */
export function saveSafetensors(
  tensors: Record<string, Tensor> | Iterable<readonly [string, Tensor]>,
  metadata?: Record<string, string>,
  options: SaveSafetensorsOptions = {},
): Uint8Array {
  const dtype = options.dtype ?? 'F64';
  if (dtype !== 'F64' && dtype !== 'F32') {
    throw new SafetensorsError(`saveSafetensors: dtype must be 'F64' or 'F32', got ${describe(dtype)}`);
  }
  const bytesPerValue = dtype === 'F64' ? 8 : 4;
  const named = collectTensors(tensors);
  const meta = collectMetadata(metadata);
  for (const [name, t] of named) checkWritable(name, t, dtype);

  // The header, in the reference's order: metadata first, then tensors by name with contiguous offsets.
  const fields: string[] = [];
  if (meta.length > 0) {
    const pairs = meta.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`);
    fields.push(`"__metadata__":{${pairs.join(',')}}`);
  }
  let dataLength = 0;
  for (const [name, t] of named) {
    const begin = dataLength;
    const end = begin + t.rows * t.cols * bytesPerValue;
    const shape = t.rows === 1 && options.vector?.(name, t) === true ? `[${t.cols}]` : `[${t.rows},${t.cols}]`;
    fields.push(`${JSON.stringify(name)}:{"dtype":"${dtype}","shape":${shape},"data_offsets":[${begin},${end}]}`);
    dataLength = end;
  }
  const json = textEncoder.encode(`{${fields.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > DEFAULT_MAX_HEADER_BYTES) {
    throw new SafetensorsError(`saveSafetensors: the header would be ${headerLength} bytes, over the format's limit of ${DEFAULT_MAX_HEADER_BYTES}`);
  }

  const out = new Uint8Array(8 + headerLength + dataLength);
  const view = new DataView(out.buffer);
  // headerLength < 2^32, so the high word of the 64-bit length is 0.
  view.setUint32(0, headerLength, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [, t] of named) {
    const data = t.data;
    if (dtype === 'F64') {
      for (let i = 0; i < data.length; i++) view.setFloat64(at + 8 * i, data[i], true);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i], true);
    }
    at += data.length * bytesPerValue;
  }
  return out;
}

/** Validated (name, tensor) pairs sorted by name in code-point order. */
function collectTensors(tensors: Record<string, Tensor> | Iterable<readonly [string, Tensor]>): [string, Tensor][] {
  if (typeof tensors !== 'object' || tensors === null) {
    throw new SafetensorsError(`saveSafetensors: expected an object of tensors or an iterable of [name, tensor] pairs, got ${describe(tensors)}`);
  }
  const pairs: [string, Tensor][] = [];
  if (Symbol.iterator in tensors) {
    for (const pair of tensors as Iterable<readonly [string, Tensor]>) pairs.push([pair[0], pair[1]]);
  } else {
    for (const name of Object.keys(tensors)) pairs.push([name, (tensors as Record<string, Tensor>)[name]]);
  }
  const seen = new Set<string>();
  for (const [name, t] of pairs) {
    if (typeof name !== 'string') throw new SafetensorsError(`saveSafetensors: tensor names must be strings, got ${describe(name)}`);
    if (name === '') throw new SafetensorsError('saveSafetensors: a tensor name must not be empty');
    if (name === '__metadata__') throw new SafetensorsError('saveSafetensors: the tensor name "__metadata__" is reserved for the metadata map');
    const bad = loneSurrogateAt(name);
    if (bad >= 0) throw new SafetensorsError(`saveSafetensors: tensor name ${quote(name)} is not well-formed Unicode (lone surrogate at index ${bad})`);
    if (seen.has(name)) throw new SafetensorsError(`saveSafetensors: tensor ${quote(name)} is given twice`);
    seen.add(name);
    if (!(t instanceof Tensor) || !(t.data instanceof Float64Array) || t.data.length !== t.rows * t.cols) {
      throw new SafetensorsError(`saveSafetensors: ${quote(name)} is not a Tensor`);
    }
  }
  pairs.sort((a, b) => compareCodePoints(a[0], b[0]));
  return pairs;
}

/** Validated metadata pairs, in the object's key order. */
function collectMetadata(metadata: Record<string, string> | undefined): [string, string][] {
  if (metadata === undefined) return [];
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new SafetensorsError(`saveSafetensors: metadata must be an object of strings, got ${describe(metadata)}`);
  }
  const pairs: [string, string][] = [];
  for (const key of Object.keys(metadata)) {
    const value: unknown = metadata[key];
    if (typeof value !== 'string') {
      throw new SafetensorsError(`saveSafetensors: metadata value for ${quote(key)} must be a string, got ${describe(value)}`);
    }
    const badKey = loneSurrogateAt(key);
    if (badKey >= 0) throw new SafetensorsError(`saveSafetensors: metadata key ${quote(key)} is not well-formed Unicode (lone surrogate at index ${badKey})`);
    const badValue = loneSurrogateAt(value);
    if (badValue >= 0) throw new SafetensorsError(`saveSafetensors: metadata value for ${quote(key)} is not well-formed Unicode (lone surrogate at index ${badValue})`);
    pairs.push([key, value]);
  }
  return pairs;
}

/** Refuses NaN/±∞, and values that overflow float32 when saving F32. */
function checkWritable(name: string, t: Tensor, dtype: 'F64' | 'F32'): void {
  const data = t.data;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (!Number.isFinite(x)) {
      throw new SafetensorsError(`saveSafetensors: tensor ${quote(name)} holds ${x} at index ${i} (${position(i, t.cols)}); safetensors files from flowgrad hold finite values only`);
    }
    if (dtype === 'F32' && !Number.isFinite(Math.fround(x))) {
      throw new SafetensorsError(`saveSafetensors: tensor ${quote(name)} value ${x} at index ${i} (${position(i, t.cols)}) is out of float32 range`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading

/**
 * Parses and validates a safetensors file's header without converting any tensor data: the 64-bit
 * length, the JSON, every entry's dtype, shape and offsets, and the tiling of the data section.
 * Throws a {@link SafetensorsError} for anything {@link loadSafetensors} would refuse except what
 * depends on the values or on flowgrad's limits (rank above 2, dtypes it cannot convert).
 *
 * @example
 * const header = safetensorsHeader(saveSafetensors({ weight: tensor([[1, 2], [3, 4]]) }));
 * header.entries.map((e) => `${e.name} ${e.dtype} [${e.shape}]`); // ['weight F64 [2,2]']
 */
export function safetensorsHeader(bytes: Uint8Array, options: SafetensorsHeaderOptions = {}): SafetensorsHeader {
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!Number.isSafeInteger(maxHeaderBytes) || maxHeaderBytes < 0) {
    throw new SafetensorsError(`safetensors: maxHeaderBytes must be a non-negative integer, got ${describe(maxHeaderBytes)}`);
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new SafetensorsError(`safetensors: expected the file as a Uint8Array, got ${describe(bytes)}`);
  }
  if (bytes.length < 8) {
    throw new SafetensorsError(`safetensors: the file is ${bytes.length} bytes, shorter than the 8-byte header length that starts every safetensors file`);
  }

  // N is a u64; read it as two u32 words so that it is checked before it becomes a (lossy) number.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  if (high > 0x1fffff) {
    const n = (BigInt(high) << 32n) | BigInt(low);
    throw new SafetensorsError(`safetensors: the header length in bytes 0-7 is ${n}, not a safe integer (above 2^53 - 1)`);
  }
  const headerLength = high * 2 ** 32 + low;
  if (headerLength > maxHeaderBytes) {
    throw new SafetensorsError(`safetensors: the header length in bytes 0-7 is ${headerLength}, over the limit of ${maxHeaderBytes} bytes (maxHeaderBytes)`);
  }
  const dataStart = 8 + headerLength;
  if (dataStart > bytes.length) {
    throw new SafetensorsError(`safetensors: the header length in bytes 0-7 is ${headerLength}, so the header would end at byte ${dataStart}, past the end of the ${bytes.length}-byte file`);
  }
  const dataLength = bytes.length - dataStart;

  const parsed = parseHeaderJson(bytes, headerLength);
  const { entries, metadata } = readEntries(parsed);
  checkTiling(entries, dataLength);
  return { headerLength, dataStart, dataLength, entries, metadata };
}

/**
 * Reads a safetensors file into float64 tensors. Accepts the dtypes F64, F32, F16, BF16, I64, I32,
 * I16, I8, U64, U32, U16, U8 and BOOL (integers must be exactly representable as float64; BOOL bytes
 * must be 0 or 1); rank 0 becomes 1×1, rank 1 `[n]` becomes 1×n (PyTorch biases), rank 2 is kept.
 * The values are copied: the tensors never alias `bytes`.
 *
 * Every file is treated as hostile: anything malformed (see {@link safetensorsHeader}), a rank above 2,
 * a dtype flowgrad cannot convert, and, with `requireFinite`, a NaN or ±∞ value, is refused with a
 * {@link SafetensorsError} saying what and where.
 *
 * @example
 * const bytes = saveSafetensors({ bias: tensor([[0.5, -1]]) }, { epochs: '20' });
 * const { tensors, metadata } = loadSafetensors(bytes, { requireFinite: true });
 * tensors.bias.shape; // [1, 2]
 * metadata.epochs; // '20'
 */
export function loadSafetensors(bytes: Uint8Array, options: LoadSafetensorsOptions = {}): LoadedSafetensors {
  const headerOptions: SafetensorsHeaderOptions = options.maxHeaderBytes === undefined ? {} : { maxHeaderBytes: options.maxHeaderBytes };
  const header = safetensorsHeader(bytes, headerOptions);
  const requireFinite = options.requireFinite === true;
  const include = options.include;
  const skipped = include === undefined ? [] : header.entries.filter((e) => !include(e.name));
  const wanted = include === undefined ? header.entries : header.entries.filter((e) => include(e.name));

  // Everything that can be refused from the header alone is refused before anything is allocated.
  for (const entry of wanted) {
    if (entry.shape.length > 2) {
      throw new SafetensorsError(`safetensors: tensor ${quote(entry.name)} has rank ${entry.shape.length} (shape [${entry.shape.join(', ')}]); flowgrad loads rank 0, 1 and 2 only`);
    }
    if (!LOADABLE.has(entry.dtype)) {
      throw new SafetensorsError(`safetensors: tensor ${quote(entry.name)} has dtype ${entry.dtype}, which flowgrad cannot convert to float64 (it reads ${[...LOADABLE].join(', ')})`);
    }
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors: Record<string, Tensor> = Object.create(null) as Record<string, Tensor>;
  for (const entry of wanted) {
    const shape = entry.shape;
    const rows = shape.length === 2 ? shape[0] : 1;
    const cols = shape.length === 2 ? shape[1] : shape.length === 1 ? shape[0] : 1;
    const data = decodeValues(view, header.dataStart + entry.dataOffsets[0], entry);
    if (requireFinite) {
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i])) {
          throw new SafetensorsError(`safetensors: tensor ${quote(entry.name)} holds ${data[i]} at index ${i} (${position(i, cols)}), and requireFinite is set`);
        }
      }
    }
    tensors[entry.name] = Tensor.from(rows, cols, data);
  }
  return { tensors, metadata: header.metadata, skipped };
}

/** Decodes the header bytes as UTF-8 and parses them as JSON. */
function parseHeaderJson(bytes: Uint8Array, headerLength: number): unknown {
  const headerBytes = bytes.subarray(8, 8 + headerLength);
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, where JSON.parse refuses it as the reference does.
    // TextDecoder refuses views of a SharedArrayBuffer in browsers, so decode a copy of those.
    const decodable = headerBytes.buffer instanceof ArrayBuffer ? headerBytes : headerBytes.slice();
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(decodable);
  } catch {
    const at = invalidUtf8At(headerBytes);
    const where = at >= 0 ? ` (byte 0x${headerBytes[at].toString(16).padStart(2, '0')} at file offset ${8 + at})` : '';
    throw new SafetensorsError(`safetensors: the header (bytes 8-${8 + headerLength}) is not valid UTF-8${where}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new SafetensorsError(`safetensors: the header (bytes 8-${8 + headerLength}) is not valid JSON: ${truncate(reason, 200)}`);
  }
}

/** Checks the header object's shape and every entry on its own; returns entries sorted by offset. */
function readEntries(parsed: unknown): { entries: SafetensorsEntry[]; metadata: Record<string, string> } {
  if (!isObject(parsed)) {
    throw new SafetensorsError(`safetensors: the header must be a JSON object, got ${kind(parsed)}`);
  }
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries: SafetensorsEntry[] = [];
  for (const name of Object.keys(parsed)) {
    const value = parsed[name];
    if (name === '__metadata__') {
      // The reference reads Option<HashMap<String, String>>, so null means "no metadata".
      if (value === null) continue;
      if (!isObject(value)) throw new SafetensorsError(`safetensors: "__metadata__" must be an object of strings, got ${kind(value)}`);
      for (const key of Object.keys(value)) {
        const text = value[key];
        if (typeof text !== 'string') {
          throw new SafetensorsError(`safetensors: "__metadata__" value for ${quote(key)} must be a string, got ${kind(text)}`);
        }
        metadata[key] = text;
      }
      continue;
    }
    entries.push(readEntry(name, value));
  }
  entries.sort(compareEntries);
  return { entries, metadata };
}

/** Validates one tensor entry: dtype, shape, data_offsets, element count and byte count. */
function readEntry(name: string, value: unknown): SafetensorsEntry {
  const where = `safetensors: tensor ${quote(name)}`;
  if (!isObject(value)) {
    throw new SafetensorsError(`${where}: its entry must be an object with "dtype", "shape" and "data_offsets", got ${kind(value)}`);
  }
  const dtype = value['dtype'];
  if (dtype === undefined) throw new SafetensorsError(`${where}: its entry has no "dtype"`);
  if (typeof dtype !== 'string' || !DTYPE_BITS.has(dtype)) {
    throw new SafetensorsError(`${where} has unknown dtype ${describe(dtype)} (the format defines ${[...DTYPE_BITS.keys()].join(', ')})`);
  }
  const bits = DTYPE_BITS.get(dtype)!;

  const shape = value['shape'];
  if (shape === undefined) throw new SafetensorsError(`${where}: its entry has no "shape"`);
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    throw new SafetensorsError(`${where}: "shape" must be an array of non-negative integers, got ${describe(shape)}`);
  }
  // Element count, checked at every step like the reference's try_fold(checked_mul).
  let size = 1;
  for (const dim of shape as number[]) {
    size *= dim;
    if (!Number.isSafeInteger(size)) {
      throw new SafetensorsError(`${where}: shape ${describe(shape)} has more elements than 2^53 - 1`);
    }
  }
  const totalBits = size * bits;
  if (!Number.isSafeInteger(totalBits)) {
    throw new SafetensorsError(`${where}: shape ${describe(shape)} of ${dtype} has more bytes than 2^53 - 1`);
  }
  if (totalBits % 8 !== 0) {
    throw new SafetensorsError(`${where}: shape ${describe(shape)} of ${dtype} is ${totalBits} bits, not a whole number of bytes`);
  }

  const offsets = value['data_offsets'];
  if (offsets === undefined) throw new SafetensorsError(`${where}: its entry has no "data_offsets"`);
  // Integers too large to be exact (above 2^53 - 1) are offsets out of range, not malformed ones.
  if (Array.isArray(offsets) && offsets.length === 2 && offsets.every((o) => typeof o === 'number' && Number.isInteger(o) && o >= 0) && !offsets.every(isNonNegativeInteger)) {
    throw new SafetensorsError(`${where}: data_offsets ${describe(offsets)} run past the end of the data section (an offset above 2^53 - 1 lies beyond any file)`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !isNonNegativeInteger(offsets[0]) || !isNonNegativeInteger(offsets[1]) || offsets[0] > offsets[1]) {
    throw new SafetensorsError(`${where}: "data_offsets" must be two non-negative integers [begin, end] with begin <= end, got ${describe(offsets)}`);
  }
  const begin = offsets[0] as number, end = offsets[1] as number;
  const byteCount = totalBits / 8;
  if (end - begin !== byteCount) {
    throw new SafetensorsError(`${where}: ${dtype} with shape [${(shape as number[]).join(', ')}] needs ${byteCount} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: (shape as number[]).slice(), dataOffsets: [begin, end], size };
}

/** The reference's coverage rule: sorted by offset, the ranges tile [0, dataLength) exactly. */
function checkTiling(entries: readonly SafetensorsEntry[], dataLength: number): void {
  let covered = 0;
  let previous: SafetensorsEntry | null = null;
  for (const entry of entries) {
    const [begin, end] = entry.dataOffsets;
    const where = `safetensors: tensor ${quote(entry.name)}`;
    if (end > dataLength) {
      throw new SafetensorsError(`${where}: data_offsets [${begin}, ${end}] run past the end of the ${dataLength}-byte data section`);
    }
    if (begin < covered && previous !== null) {
      const [pb, pe] = previous.dataOffsets;
      throw new SafetensorsError(`${where}: data_offsets [${begin}, ${end}] overlap tensor ${quote(previous.name)} at [${pb}, ${pe}]`);
    }
    if (begin > covered) {
      const after = previous === null ? 'the data section starts at offset 0' : `tensor ${quote(previous.name)} ends at ${covered}`;
      throw new SafetensorsError(`${where}: data_offsets [${begin}, ${end}] leave bytes ${covered}-${begin} of the data section uncovered (${after}); tensors must be contiguous`);
    }
    covered = end;
    previous = entry;
  }
  if (covered !== dataLength) {
    throw new SafetensorsError(`safetensors: the tensors cover ${covered} bytes but the data section is ${dataLength} bytes: ${dataLength - covered} trailing bytes belong to no tensor`);
  }
}

/** Converts one tensor's bytes to float64, reading little-endian with DataView (copies, never aliases). */
function decodeValues(view: DataView, start: number, entry: SafetensorsEntry): Float64Array {
  const n = entry.size;
  const out = new Float64Array(n);
  switch (entry.dtype) {
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(start + 8 * i, true);
      break;
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(start + 4 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToNumber(view.getUint16(start + 2 * i, true));
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) out[i] = bfloat16ToNumber(view.getUint16(start + 2 * i, true));
      break;
    case 'I64':
      for (let i = 0; i < n; i++) out[i] = exactInteger(view.getBigInt64(start + 8 * i, true), entry, i);
      break;
    case 'U64':
      for (let i = 0; i < n; i++) out[i] = exactInteger(view.getBigUint64(start + 8 * i, true), entry, i);
      break;
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(start + 4 * i, true);
      break;
    case 'U32':
      for (let i = 0; i < n; i++) out[i] = view.getUint32(start + 4 * i, true);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(start + 2 * i, true);
      break;
    case 'U16':
      for (let i = 0; i < n; i++) out[i] = view.getUint16(start + 2 * i, true);
      break;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = view.getInt8(start + i);
      break;
    case 'U8':
      for (let i = 0; i < n; i++) out[i] = view.getUint8(start + i);
      break;
    case 'BOOL':
      for (let i = 0; i < n; i++) {
        const b = view.getUint8(start + i);
        if (b > 1) {
          throw new SafetensorsError(`safetensors: tensor ${quote(entry.name)} is BOOL but byte ${i} of its data is 0x${b.toString(16).padStart(2, '0')}, not 0 or 1`);
        }
        out[i] = b;
      }
      break;
    default:
      // Unreachable: loadSafetensors refuses the other dtypes before allocating.
      throw new SafetensorsError(`safetensors: tensor ${quote(entry.name)} has dtype ${entry.dtype}, which flowgrad cannot convert`);
  }
  return out;
}

// F16 (IEEE 754 binary16): sign s, exponent e (5 bits, bias 15), mantissa m (10 bits)
// value = (-1)^s · 2^(e-15) · (1 + m/2^10) for 0 < e < 31;  (-1)^s · 2^-14 · m/2^10 for e = 0;  ±∞ or NaN for e = 31
function halfToNumber(bits: number): number {
  const sign = (bits & 0x8000) !== 0 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * (1024 + m) * 2 ** (e - 25);
}

// BF16 (bfloat16, the top half of a float32): sign s, exponent e (8 bits, bias 127), mantissa m (7 bits)
// value = (-1)^s · 2^(e-127) · (1 + m/2^7) for 0 < e < 255;  (-1)^s · 2^-126 · m/2^7 for e = 0;  ±∞ or NaN for e = 255
function bfloat16ToNumber(bits: number): number {
  const sign = (bits & 0x8000) !== 0 ? -1 : 1;
  const e = (bits >> 7) & 0xff;
  const m = bits & 0x7f;
  if (e === 0) return sign * m * 2 ** -133;
  if (e === 255) return m === 0 ? sign * Infinity : NaN;
  return sign * (128 + m) * 2 ** (e - 134);
}

/** A 64-bit integer as a number, refused when float64 cannot hold it exactly. */
function exactInteger(value: bigint, entry: SafetensorsEntry, index: number): number {
  const x = Number(value);
  if (BigInt(x) !== value) {
    throw new SafetensorsError(`safetensors: tensor ${quote(entry.name)} is ${entry.dtype} and its value ${value} at index ${index} cannot be represented exactly as a float64`);
  }
  return x;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Orders entries by [begin, end] like the reference. Ties (zero-size tensors, or overlaps about to be
 * refused) keep the header's order, since Array.prototype.sort is stable; comparing names as well
 * would make a header of a million empty tensors several times slower.
 */
function compareEntries(a: SafetensorsEntry, b: SafetensorsEntry): number {
  if (a.dataOffsets[0] !== b.dataOffsets[0]) return a.dataOffsets[0] - b.dataOffsets[0];
  return a.dataOffsets[1] - b.dataOffsets[1];
}

/** Compares strings by Unicode code point, which is the byte order of their UTF-8 (Rust's `String` order). */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; ) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

/** Index of the first lone surrogate in `s` (which UTF-8 cannot encode), or -1. */
function loneSurrogateAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return i;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return i;
    }
  }
  return -1;
}

/**
 * Index of the first byte that makes `bytes` ill-formed UTF-8, or -1 (Unicode Standard, Table 3-7:
 * well-formed byte sequences). Used only to say where the decoder failed.
 */
function invalidUtf8At(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i];
    if (b0 <= 0x7f) {
      i += 1;
      continue;
    }
    let need: number, lo = 0x80, hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
    else if (b0 === 0xe0) (need = 2), (lo = 0xa0);
    else if (b0 >= 0xe1 && b0 <= 0xec) need = 2;
    else if (b0 === 0xed) (need = 2), (hi = 0x9f);
    else if (b0 >= 0xee && b0 <= 0xef) need = 2;
    else if (b0 === 0xf0) (need = 3), (lo = 0x90);
    else if (b0 >= 0xf1 && b0 <= 0xf3) need = 3;
    else if (b0 === 0xf4) (need = 3), (hi = 0x8f);
    else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= bytes.length) return i;
      const b = bytes[i + k];
      const min = k === 1 ? lo : 0x80, max = k === 1 ? hi : 0xbf;
      if (b < min || b > max) return i + k;
    }
    i += need + 1;
  }
  return -1;
}

/** `row r, col c` of flat index i in a matrix with `cols` columns. */
function position(index: number, cols: number): string {
  if (cols === 0) return `row 0, col ${index}`;
  return `row ${Math.floor(index / cols)}, col ${index % cols}`;
}

/** A name in double quotes, JSON-escaped and shortened, for messages. */
function quote(name: string): string {
  return truncate(JSON.stringify(name), 120);
}

/** A value as short JSON text for messages. */
function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function' || typeof value === 'symbol') return typeof value;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  return truncate(text ?? String(value), 80);
}

/** The JSON kind of a value, with the value when short. */
function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array ${describe(value)}`;
  if (typeof value === 'object') return `an object ${describe(value)}`;
  return `${typeof value} ${describe(value)}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
