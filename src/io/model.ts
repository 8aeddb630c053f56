/**
 * Model files: a RealNVP as two parts, its configuration as JSON text (everything needed to rebuild the
 * architecture, plus optional extras such as the training history and metrics) and its weights as
 * safetensors bytes. Pure functions over strings and `Uint8Array` (no file system), so they run the same
 * in Node, browsers, Deno, Bun and workers; the caller reads and writes the files.
 *
 * The config document (`config.json` in a run folder):
 * ```
 * { "format": "flowgrad-realnvp", "version": 1,
 *   "model": { "preset": "default", "dim": 2, "layers": 16, ... },   // RealNVPConfig
 *   ...extras: "history", "metrics", "training", "data", ... }       // kept as given, not read back
 * ```
 * The weights carry the same format, version and model config in their `__metadata__`, so that a
 * weights file paired with the config of another model is refused even when the shapes happen to fit
 * (a random permutation, say).
 *
 * Loading treats both parts as hostile: every field of the model config is checked (type and range, the
 * message names the field), the weights must be finite, and a missing, unexpected or mis-shaped tensor
 * is refused. Every problem is a {@link ModelFileError} saying which part, what and where.
 *
 * @module
 */

import { noGrad, Tensor } from '../autograd/tensor.ts';
import { COUPLING_KINDS, MAX_BINS, RealNVP, type RealNVPConfig } from '../flow/real-nvp.ts';
import { StateDictError } from '../nn/module.ts';
import { loadSafetensors, safetensorsHeader, saveSafetensors, SafetensorsError } from './safetensors.ts';

/**
 * The `format` field of every flowgrad model config.
 * @example readModelConfig(configJson).format === MODEL_FORMAT; // true
 */
export const MODEL_FORMAT = 'flowgrad-realnvp';

/**
 * The config version this code writes and the newest it reads.
 * @example JSON.parse(saveModel(flow).configJson).version; // MODEL_VERSION, 1
 */
export const MODEL_VERSION = 1;

/**
 * Extras stored beside the model config; any JSON-serialisable values (non-finite numbers become null).
 * @example saveModel(flow, { metrics: { nll: 3.55 }, training: { epochs: 1000, lr: 2e-4 } });
 */
export interface SaveModelExtra {
  /** The training history (or a summary of it). */
  history?: unknown;
  /** Evaluation results, e.g. test NLL. */
  metrics?: unknown;
  /** Anything else worth keeping with the model: training options, data source, columns... */
  [key: string]: unknown;
}

/**
 * The two parts of a saved model.
 * @example const { configJson, weights }: SavedModel = saveModel(flow);
 */
export interface SavedModel {
  /** The config document as JSON text (pretty-printed, arrays of numbers on one line). */
  configJson: string;
  /** The weights as safetensors bytes (F64, exact). */
  weights: Uint8Array;
}

/**
 * A parsed and validated config document.
 * @example const doc: ModelDocument = readModelConfig(configJson); doc.model.layers; doc.extra.metrics;
 */
export interface ModelDocument {
  format: typeof MODEL_FORMAT;
  version: number;
  /** The validated model config. */
  model: RealNVPConfig;
  /** Every other top-level field, as stored (`history`, `metrics`, ...). */
  extra: Record<string, unknown>;
}

/**
 * A model file that cannot be read: `part` says which of the two (`'config'` or `'weights'`), the
 * message says what and where, e.g. `model config: model.layers must be an integer in 1..10000, got "16"`.
 *
 * @example
 * try { loadModel('{}', bytes); } catch (e) { (e as ModelFileError).part; } // 'config'
 */
export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
  constructor(
    message: string,
    /** Which part of the model is at fault. */
    readonly part: 'config' | 'weights',
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------------
// Saving

const RESERVED = ['format', 'version', 'model'];

/**
 * Serialises a RealNVP: its config (with `extra` beside it) as JSON text and its parameters and
 * buffers as F64 safetensors, bit-exact.
 *
 * @example
 * const { configJson, weights } = saveModel(flow, { metrics: { nll: 3.55 } });
 * const again = loadModel(configJson, weights); // same logProb to the last bit
 */
export function saveModel(flow: RealNVP, extra: SaveModelExtra = {}): SavedModel {
  if (!(flow instanceof RealNVP)) throw new TypeError('saveModel: expected a RealNVP');
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) throw new TypeError('saveModel: extra must be an object');
  for (const key of RESERVED) {
    if (Object.prototype.hasOwnProperty.call(extra, key)) throw new RangeError(`saveModel: extra must not contain "${key}" (it is reserved for the model config)`);
  }
  const model = validateModelConfig(flow.config, 'saveModel: model');
  const doc: Record<string, unknown> = { format: MODEL_FORMAT, version: MODEL_VERSION, model, ...extra };
  const configJson = prettyJson(doc) + '\n';
  const metadata = { format: MODEL_FORMAT, version: String(MODEL_VERSION), model: JSON.stringify(model) };
  const weights = saveSafetensors(flow.stateDict(), metadata, { dtype: 'F64', vector: isVectorName });
  return { configJson, weights };
}

/**
 * Whether a 1×n tensor of the state dict is saved as a vector `[n]`: everything but a weight matrix
 * (a Linear layer's `weight` is `[out, in]` in PyTorch, 2-D even with one output), so that biases load
 * into `torch.nn.Linear` as they are.
 */
function isVectorName(name: string): boolean {
  return !/(^|\.)weight$/.test(name);
}

// ---------------------------------------------------------------------------------------------------
// Loading

/**
 * Options of {@link loadModel}.
 * @example loadModel(configJson, bytes, { onNote: (note) => console.warn(note) });
 */
export interface LoadModelOptions {
  /** Told about tensors in the file that the model does not use (they are skipped). */
  onNote?: (note: string) => void;
}

/**
 * Parses and validates a config document: the format, the version (newer versions are refused) and
 * every field of the model config. Extras are returned as stored.
 *
 * @example
 * readModelConfig(configJson).model.dim; // 2
 * readModelConfig('{"format":"flowgrad-realnvp","version":1,"model":{"dim":"2"}}');
 * // ModelFileError: model config: model.preset must be 'default' or 'post', got undefined
 */
export function readModelConfig(configJson: string): ModelDocument {
  if (typeof configJson !== 'string') throw new ModelFileError(`model config: expected JSON text, got ${typeof configJson}`, 'config');
  let parsed: unknown;
  try {
    parsed = JSON.parse(configJson);
  } catch (e) {
    const text = configJson.trim() === '' ? 'the text is empty' : (e as Error).message;
    throw new ModelFileError(`model config: not valid JSON (${text})`, 'config');
  }
  if (!isObject(parsed)) throw new ModelFileError(`model config: expected a JSON object, got ${kind(parsed)}`, 'config');
  if (parsed.format !== MODEL_FORMAT) {
    throw new ModelFileError(`model config: format must be "${MODEL_FORMAT}", got ${show(parsed.format)} (not a flowgrad model config)`, 'config');
  }
  const version = parsed.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new ModelFileError(`model config: version must be a positive integer, got ${show(version)}`, 'config');
  }
  if (version > MODEL_VERSION) {
    throw new ModelFileError(`model config: version ${version} is newer than this flowgrad reads (up to ${MODEL_VERSION}); upgrade flowgrad`, 'config');
  }
  let model: RealNVPConfig;
  try {
    model = validateModelConfig(parsed.model, 'model');
  } catch (e) {
    if (e instanceof ConfigFieldError) throw new ModelFileError(`model config: ${e.message}`, 'config');
    throw e;
  }
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) if (!RESERVED.includes(key)) extra[key] = value;
  return { format: MODEL_FORMAT, version, model, extra };
}

/**
 * Rebuilds a RealNVP from its config text and safetensors weights, refusing anything that does not fit:
 * an invalid config field, weights that are not a safetensors file or hold NaN/±∞, weights saved for
 * another config, a missing, unexpected or mis-shaped tensor, a non-positive standardisation scale.
 * The model is returned in evaluation mode.
 *
 * @example
 * const flow = loadModel(readFileSync('run/config.json', 'utf8'), readFileSync('run/model.safetensors'));
 * flow.logProb(x);
 */
export function loadModel(configJson: string, weights: Uint8Array, options: LoadModelOptions = {}): RealNVP {
  const { model } = readModelConfig(configJson);
  if (!(weights instanceof Uint8Array)) throw new ModelFileError('model weights: expected the file as a Uint8Array', 'weights');
  const weightsError = (e: unknown): never => {
    if (e instanceof SafetensorsError) throw new ModelFileError(`model weights: ${e.message}`, 'weights');
    throw e;
  };
  let header: ReturnType<typeof safetensorsHeader>;
  try {
    header = safetensorsHeader(weights);
  } catch (e) {
    return weightsError(e);
  }
  // Refuse a config that the weights cannot fill before allocating its model (a hostile config could ask
  // for terabytes): this is a lower bound on its parameter count.
  let values = 0;
  for (const entry of header.entries) if (entry.shape.length <= 2) values += entry.size;
  const needed = minimumParameters(model);
  if (needed > values) {
    throw new ModelFileError(
      `model weights: the config describes at least ${needed} parameters (dim ${model.dim}, ${model.layers} layers, hidden ${model.hidden}) but the weights hold only ${values} values`,
      'weights',
    );
  }
  const meta = header.metadata;
  if (meta.format !== undefined && meta.format !== MODEL_FORMAT) {
    throw new ModelFileError(`model weights: __metadata__.format is "${meta.format}", expected "${MODEL_FORMAT}"`, 'weights');
  }
  if (meta.model !== undefined) {
    let saved: unknown;
    try {
      saved = JSON.parse(meta.model);
    } catch {
      throw new ModelFileError('model weights: __metadata__.model is not valid JSON', 'weights');
    }
    const differs = firstDifference(saved, model, 'model');
    if (differs !== null) {
      throw new ModelFileError(`model weights: saved for a different model config (${differs}); the config and weights files do not belong together`, 'weights');
    }
  }
  const flow = RealNVP.fromConfig(model);
  const names = new Set(Object.keys(flow.stateDict()));
  let loaded: ReturnType<typeof loadSafetensors>;
  try {
    loaded = loadSafetensors(weights, { requireFinite: true, include: (name) => names.has(name) });
  } catch (e) {
    return weightsError(e);
  }
  if (loaded.skipped.length > 0) {
    const list = loaded.skipped.map((e) => `${e.name} [${e.shape.join(', ')}] ${e.dtype}`);
    options.onNote?.(`the weights hold ${loaded.skipped.length} tensor${loaded.skipped.length > 1 ? 's' : ''} the model does not use, skipped: ${list.slice(0, 5).join('; ')}${list.length > 5 ? `; and ${list.length - 5} more` : ''}`);
  }
  try {
    flow.loadStateDict(loaded.tensors);
  } catch (e) {
    if (e instanceof StateDictError) {
      const [head, ...items] = e.message.replace(/^loadStateDict: /, '').split('\n').map((s) => s.trim());
      const problems = `${head} ${items.join('; ')}`;
      throw new ModelFileError(`model weights: do not fit the config: ${problems}`, 'weights');
    }
    throw e;
  }
  if (flow.standardize !== null) {
    const std = flow.standardize.std.data;
    for (let j = 0; j < std.length; j++) {
      if (!(std[j]! > 0)) throw new ModelFileError(`model weights: tensor "standardize.std" holds ${std[j]} at index ${j}; a standard deviation must be positive`, 'weights');
    }
  }
  if (flow.whiten !== null) {
    try {
      noGrad(() => flow.whiten!.inverse(Tensor.zeros(1, flow.dim)));
    } catch (e) {
      if (e instanceof RangeError) throw new ModelFileError(`model weights: tensor "whiten.matrix" is singular; a whitening matrix must be invertible`, 'weights');
      throw e;
    }
  }
  flow.eval();
  return flow;
}

// ---------------------------------------------------------------------------------------------------
// Validating the model config

/** A config field with the wrong type or range; turned into a ModelFileError by the callers. */
class ConfigFieldError extends Error {}

const LIMITS = { dim: 100_000, layers: 10_000, hidden: 1_000_000, depth: 1_000, bins: MAX_BINS } as const;
const SCALES = ['exp', 'tanh', 'softclamp'] as const;
const ACTIVATIONS = ['relu', 'leakyRelu', 'tanh', 'sigmoid', 'softplus'] as const;
const PERMUTATIONS = ['swap', 'reverse', 'random', 'none'] as const;
const FIELDS = ['preset', 'dim', 'layers', 'hidden', 'depth', 'scale', 'bound', 'activation', 'permutation', 'permutationIndices', 'actNorm', 'standardize', 'whiten', 'coupling', 'bins', 'splineBound', 'contextDim', 'standardizeContext', 'embedding', 'support'];

/** Checks every field of a RealNVPConfig; returns a fresh copy. `where` prefixes field names. */
function validateModelConfig(value: unknown, where: string): RealNVPConfig {
  if (!isObject(value)) throw new ConfigFieldError(`${where} must be an object, got ${kind(value)}`);
  for (const key of Object.keys(value)) {
    if (!FIELDS.includes(key)) throw new ConfigFieldError(`${where}.${key} is not a model config field (expected ${FIELDS.join(', ')})`);
  }
  const field = (name: string) => `${where}.${name}`;
  const preset = oneOf(field('preset'), value.preset, ['default', 'post'] as const);
  const dim = integer(field('dim'), value.dim, 2, LIMITS.dim);
  const layers = integer(field('layers'), value.layers, 1, LIMITS.layers);
  const hidden = integer(field('hidden'), value.hidden, 1, LIMITS.hidden);
  const depth = integer(field('depth'), value.depth, 1, LIMITS.depth);
  const scale = oneOf(field('scale'), value.scale, SCALES);
  if (typeof value.bound !== 'number' || !Number.isFinite(value.bound) || !(value.bound > 0)) {
    throw new ConfigFieldError(`${field('bound')} must be a finite number > 0, got ${show(value.bound)}`);
  }
  const bound = value.bound;
  const activation = oneOf(field('activation'), value.activation, ACTIVATIONS);
  const permutation = oneOf(field('permutation'), value.permutation, PERMUTATIONS);
  const actNorm = boolean(field('actNorm'), value.actNorm);
  const standardize = boolean(field('standardize'), value.standardize);
  const indices = value.permutationIndices;
  if (!Array.isArray(indices)) throw new ConfigFieldError(`${field('permutationIndices')} must be an array (one permutation per layer), got ${kind(indices)}`);
  if (indices.length !== layers) throw new ConfigFieldError(`${field('permutationIndices')} has ${indices.length} entries for ${layers} layers`);
  const permutationIndices: number[][] = indices.map((perm: unknown, i) => {
    const name = `${field('permutationIndices')}[${i}]`;
    if (!Array.isArray(perm) || perm.length !== dim) throw new ConfigFieldError(`${name} must be an array of ${dim} indices, got ${kind(perm)}`);
    const seen = new Uint8Array(dim);
    return perm.map((k: unknown, j) => {
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= dim) throw new ConfigFieldError(`${name}[${j}] must be an integer in 0..${dim - 1}, got ${show(k)}`);
      if (seen[k] === 1) throw new ConfigFieldError(`${name} is not a permutation: index ${k} appears twice`);
      seen[k] = 1;
      return k;
    });
  });
  if (preset === 'post' && Math.floor(dim / 2) < 1) throw new ConfigFieldError(`${field('dim')} is too small for the post's coupling`);
  const config: RealNVPConfig = { preset, dim, layers, hidden, depth, scale, bound, activation, permutation, permutationIndices, actNorm, standardize };
  if (value.whiten !== undefined) {
    if (boolean(field('whiten'), value.whiten)) {
      if (preset !== 'default') throw new ConfigFieldError(`${field('whiten')} needs preset 'default' (the post's model standardises at most)`);
      if (standardize) throw new ConfigFieldError(`${field('whiten')} and ${field('standardize')} are both true; a model whitens or standardises its features, not both`);
      config.whiten = true;
    }
  }
  // The optional fields of spline couplings, of a conditional flow and of a box support (present only when used).
  if (value.coupling !== undefined || value.bins !== undefined || value.splineBound !== undefined) {
    const coupling = oneOf(field('coupling'), value.coupling, COUPLING_KINDS);
    if (coupling !== 'affine') {
      if (preset !== 'default') throw new ConfigFieldError(`${field('coupling')} '${coupling}' needs preset 'default' (the post's model is affine)`);
      config.coupling = coupling;
      config.bins = integer(field('bins'), value.bins, 2, LIMITS.bins);
      if (typeof value.splineBound !== 'number' || !Number.isFinite(value.splineBound) || !(value.splineBound > 0)) {
        throw new ConfigFieldError(`${field('splineBound')} must be a finite number > 0, got ${show(value.splineBound)}`);
      }
      config.splineBound = value.splineBound;
    } else if (value.bins !== undefined || value.splineBound !== undefined) {
      throw new ConfigFieldError(`${field(value.bins !== undefined ? 'bins' : 'splineBound')} applies to spline couplings, but ${field('coupling')} is 'affine'`);
    }
  }
  if (value.contextDim !== undefined) config.contextDim = integer(field('contextDim'), value.contextDim, 1, LIMITS.dim);
  if (value.standardizeContext !== undefined) config.standardizeContext = boolean(field('standardizeContext'), value.standardizeContext);
  if (value.embedding !== undefined) {
    if (value.embedding !== null && !isObject(value.embedding)) throw new ConfigFieldError(`${field('embedding')} must be an embedding config object or null, got ${show(value.embedding)} (a custom embedding network cannot be saved)`);
    config.embedding = value.embedding as unknown as NonNullable<RealNVPConfig['embedding']>;
  }
  if (value.support !== undefined) {
    const box = value.support;
    if (!isObject(box) || !Array.isArray(box.lo) || !Array.isArray(box.hi) || box.lo.length !== dim || box.hi.length !== dim) throw new ConfigFieldError(`${field('support')} must be { lo, hi } with ${dim} numbers each, got ${show(box)}`);
    for (let j = 0; j < dim; j++) {
      const lo = box.lo[j], hi = box.hi[j];
      if (typeof lo !== 'number' || typeof hi !== 'number' || !Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) throw new ConfigFieldError(`${field('support')} coordinate ${j} needs finite lo < hi, got [${show(lo)}, ${show(hi)}]`);
    }
    config.support = { lo: [...(box.lo as number[])], hi: [...(box.hi as number[])] };
  }
  return config;
}

/** A lower bound on the parameter count of the model a config describes (the weight matrices alone). */
function minimumParameters(c: RealNVPConfig): number {
  const dimA = Math.floor(c.dim / 2), dimB = c.dim - dimA;
  if (c.preset === 'post') return c.layers * 2 * c.hidden * (dimA + dimB);
  // Affine: in |A|, out 2|B| per conditioner; spline: out |B|·(3K−1), at least as many. Both ≥ 3·min(|A|, |B|).
  return c.layers * ((c.depth - 1) * c.hidden * c.hidden + c.hidden * Math.min(dimA, dimB) * 3);
}

function integer(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigFieldError(`${name} must be an integer in ${min}..${max}, got ${show(v)}`);
  return v;
}

function boolean(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ConfigFieldError(`${name} must be true or false, got ${show(v)}`);
  return v;
}

function oneOf<const T extends readonly string[]>(name: string, v: unknown, choices: T): T[number] {
  if (typeof v !== 'string' || !choices.includes(v)) throw new ConfigFieldError(`${name} must be ${choices.map((c) => `'${c}'`).join(' or ')}, got ${show(v)}`);
  return v as T[number];
}

/** The path of the first difference between two JSON values, e.g. `model.layers: 8 vs 16`, or null. */
function firstDifference(a: unknown, b: unknown, path: string): string | null {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path} has ${a.length} vs ${b.length} entries`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const d = firstDifference(a[key], b[key], `${path}.${key}`);
      if (d !== null) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${show(a)} in the weights vs ${show(b)} in the config`;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = undefined;
  }
  text ??= String(v);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array ${show(v)}`;
  if (typeof v === 'object') return `an object ${show(v)}`;
  return `${typeof v} ${show(v)}`;
}

/**
 * JSON with two-space indentation, except that arrays holding only numbers (or nulls) stay on one line,
 * so permutation indices and histories read as rows, as do short arrays of strings (column names).
 * Non-finite numbers are written as null.
 */
function prettyJson(value: unknown, indent = ''): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return prettyJson((value as { toJSON(): unknown }).toJSON(), indent);
  const inner = indent + '  ';
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const items = Array.from(value as ArrayLike<unknown>);
    if (items.length === 0) return '[]';
    if (items.every((x) => typeof x === 'number' || x === null)) return `[${items.map((x) => prettyJson(x)).join(', ')}]`;
    if (items.every((x) => typeof x === 'string' || typeof x === 'boolean')) {
      const line = `[${items.map((x) => prettyJson(x)).join(', ')}]`;
      if (line.length <= 100) return line;
    }
    return `[\n${items.map((x) => inner + prettyJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`).join(',\n')}\n${indent}}`;
}
