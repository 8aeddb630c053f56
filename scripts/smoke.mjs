/**
 * The cross-runtime smoke test: plain ESM JavaScript that runs unchanged in Node, Deno, Bun and a browser
 * (it imports the built package from ../dist/, so run `npm run build` first).
 *
 * It trains the post's model (RealNVP.post, 16 layers of 1->64->1 conditioners) for a few epochs on 256
 * points of the post's mixture, and the default model for one epoch, all from fixed seeds, then reports a
 * fingerprint of each: the final training loss (shortest round-trip decimal and its IEEE-754 bits), the
 * validation NLL, the sum of the weights and an FNV-1a hash of their Float64Array bytes, and a sample
 * drawn through the inverse; plus, to tell where two runtimes part, hashes of the data and the initial
 * weights, every step's loss bits, and a digest of the Math functions the library uses. Two runtimes
 * that compute every operation identically print identical fingerprints; `scripts/test-runtimes.mjs`
 * compares them.
 *
 * Run: `node scripts/smoke.mjs`, `deno run --allow-read scripts/smoke.mjs`, `bun scripts/smoke.mjs`, or
 * import `fingerprint` from a page (scripts/smoke.html does).
 *
 * @module
 */
import { fit, postMixture, RealNVP, Rng } from '../dist/index.js';

/** FNV-1a (32-bit) over the bytes of Float64Arrays, in order, as 8 hex digits. */
function fnv1a(arrays) {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < bytes.length; i++) {
      h ^= bytes[i];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h.toString(16).padStart(8, '0');
}

/** The IEEE-754 bits of a double as 16 hex digits (big-endian, whatever the platform). */
function bits(x) {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}

/**
 * Which Math functions this runtime computes like another: for each function the library uses, an FNV-1a
 * hash of its results on 2,000 fixed arguments (spread over the range training sees), and of `beta ** t`
 * for integer t (Adam's bias corrections). Two runtimes with the same hashes round these functions
 * identically on those arguments.
 */
function mathDigest() {
  const n = 2000;
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = -20 + 40 * ((i * 0.6180339887498949 + 0.1234) % 1);
  const fns = {
    exp: (x) => Math.exp(x),
    log: (x) => Math.log(Math.abs(x)),
    log1p: (x) => Math.log1p(Math.abs(x)),
    tanh: (x) => Math.tanh(x / 8),
    sqrt: (x) => Math.sqrt(Math.abs(x)),
    sin: (x) => Math.sin(x),
    cos: (x) => Math.cos(x),
    atan2: (x, y) => Math.atan2(x, y),
    pow: (x, y) => Math.pow(Math.abs(x), y / 7),
    hypot: (x, y) => Math.hypot(x, y),
  };
  const out = {};
  for (const [name, f] of Object.entries(fns)) {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) y[i] = f(xs[i], xs[(i + 1) % n]);
    out[name] = fnv1a([y]);
  }
  // Integer powers, as in Adam's bias corrections 1 - beta1^t and 1 - beta2^t.
  const powers = new Float64Array(2000);
  for (let t = 1; t <= 1000; t++) {
    powers[t - 1] = 0.9 ** t;
    powers[999 + t] = 0.999 ** t;
  }
  out.powInt = fnv1a([powers]);
  return out;
}

/** Trains one model and summarises it. */
function trainOne(name, makeFlow, epochs) {
  const data = postMixture.sample(256, new Rng(11));
  const val = postMixture.sample(256, new Rng(12));
  const flow = makeFlow();
  const init = fnv1a(flow.parameters().map((p) => p.data));
  const stepLosses = [];
  const history = fit(flow, data, {
    epochs,
    batchSize: 64,
    lr: 1e-3,
    rng: new Rng(13),
    validation: val,
    restoreBest: false,
    onStep: (_step, loss) => stepLosses.push(bits(loss)),
  });
  const weights = flow.parameters().map((p) => p.data);
  let sum = 0;
  let count = 0;
  for (const w of weights) {
    for (let i = 0; i < w.length; i++) sum += w[i];
    count += w.length;
  }
  const drawn = flow.sample(4, new Rng(14)).data;
  const loss = history.trainLoss[history.trainLoss.length - 1];
  const valNll = history.valNll[history.valNll.length - 1];
  return {
    name,
    dataHash: fnv1a([data.data, val.data]),
    initHash: init,
    stepLossBits: stepLosses,
    epochs: history.epochs,
    steps: history.steps,
    parameters: count,
    loss,
    lossBits: bits(loss),
    valNll,
    weightSum: sum,
    weightHash: fnv1a(weights),
    sampleHash: fnv1a([drawn]),
    sample: Array.from(drawn.subarray(0, 2)),
  };
}

/**
 * Runs the smoke test (about a second) and returns the fingerprint of both models.
 *
 * @example
 * const { models } = fingerprint();
 * models[0].loss; // the post's model's last training loss
 */
export function fingerprint() {
  return {
    math: mathDigest(),
    models: [
      trainOne('post', () => RealNVP.post({ dim: 2, rng: new Rng(7) }), 10),
      trainOne('default', () => new RealNVP({ dim: 2, rng: new Rng(7) }), 1),
    ],
  };
}

// Run as a script (Node, Deno, Bun): print the fingerprint as one JSON line. In a page, the importer calls
// fingerprint() itself.
const isScript = typeof document === 'undefined' && typeof importScripts === 'undefined';
if (isScript) console.log(JSON.stringify(fingerprint()));
