/**
 * `npm run size`: how many bytes flowgrad adds to a page, next to TensorFlow.js.
 *
 * For the library (every .js file of dist/ except dist/cli, the Node-only command line) it prints the raw
 * size, the size with comments and redundant whitespace stripped (a small tokenizer here, no bundler; the
 * stripped copy is imported and run once to prove it still works), and both gzipped (node:zlib, level 9,
 * over the files concatenated as a bundle would hold them). When esbuild happens to be installed (tsx
 * brings it), it also prints a real minified bundle of the whole library and of a typical import
 * (`RealNVP, fit, Rng, postMixture`), tree-shaken. The peers are the minified builds that
 * @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm ship, read from `--peers <node_modules>` (default
 * /tmp/peers/node_modules: `cp -r <shared>/peers /tmp/peers && cd /tmp/peers && npm ci`), when present.
 *
 * Needs `npm run build` first.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const peersAt = process.argv.indexOf('--peers');
const peers = peersAt > 0 ? process.argv[peersAt + 1] : '/tmp/peers/node_modules';

// ---------------------------------------------------------------------------------------------------
// Stripping comments and whitespace

const KEYWORDS_BEFORE_REGEX = new Set(['return', 'typeof', 'instanceof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await']);
const isIdent = (c) => c !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

/**
 * Removes comments and collapses whitespace (a run holding a newline becomes one newline, so automatic
 * semicolon insertion is unchanged; any other run becomes one space where two tokens would otherwise
 * merge, else nothing). Strings, template literals and regular expressions are copied as they are.
 */
export function strip(src) {
  let out = '';
  let i = 0;
  let lastSignificant = ''; // the last non-space character emitted
  let lastWord = ''; // the last identifier emitted, for `return /re/`
  const templateDepth = []; // brace depth at each open `${`
  let braces = 0;
  let pendingSpace = '';
  const emit = (text) => {
    if (pendingSpace !== '') {
      const a = out[out.length - 1];
      const b = text[0];
      const merge = (isIdent(a) && isIdent(b)) || ((a === '+' || a === '-') && a === b) || (a === '/' && b === '/');
      if (pendingSpace === '\n') out += '\n';
      else if (merge) out += ' ';
      pendingSpace = '';
    }
    out += text;
    const t = text.trimEnd();
    if (t !== '') lastSignificant = t[t.length - 1];
  };
  const regexAllowed = () => lastSignificant === '' || '(,=:[!&|?{};+-*%<>~^'.includes(lastSignificant) || (isIdent(lastSignificant) && KEYWORDS_BEFORE_REGEX.has(lastWord));
  // Copies a string, template chunk or regex starting at i; returns the index after it.
  const scanQuoted = (quote) => {
    let j = i + 1;
    while (j < src.length) {
      const c = src[j];
      if (c === '\\') j += 2;
      else if (c === quote) return j + 1;
      else if (quote === '`' && c === '$' && src[j + 1] === '{') return -(j + 2); // enters an expression
      else j++;
    }
    throw new Error(`strip: unterminated ${quote} literal at ${i}`);
  };
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const body = src.slice(i, end + 2);
      i = end + 2;
      if (body.includes('\n')) pendingSpace = '\n';
      else if (pendingSpace === '') pendingSpace = ' ';
      continue;
    }
    if (/\s/.test(c)) {
      let j = i;
      let newline = false;
      while (j < src.length && /\s/.test(src[j])) {
        if (src[j] === '\n') newline = true;
        j++;
      }
      pendingSpace = newline || pendingSpace === '\n' ? '\n' : ' ';
      i = j;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      const end = scanQuoted(c);
      if (end < 0) {
        emit(src.slice(i, -end));
        templateDepth.push(braces);
        i = -end;
      } else {
        emit(src.slice(i, end));
        i = end;
      }
      lastWord = '';
      continue;
    }
    if (c === '}' && templateDepth.length > 0 && templateDepth[templateDepth.length - 1] === braces) {
      // Back inside a template literal: copy up to its end or the next `${`.
      templateDepth.pop();
      let j = i + 1;
      for (;;) {
        if (j >= src.length) throw new Error('strip: unterminated template literal');
        if (src[j] === '\\') j += 2;
        else if (src[j] === '`') {
          j++;
          break;
        } else if (src[j] === '$' && src[j + 1] === '{') {
          j += 2;
          templateDepth.push(braces);
          break;
        } else j++;
      }
      emit(src.slice(i, j));
      i = j;
      continue;
    }
    if (c === '/' && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length) {
        const d = src[j];
        if (d === '\\') j += 2;
        else if (d === '[') (inClass = true), j++;
        else if (d === ']') (inClass = false), j++;
        else if (d === '/' && !inClass) break;
        else if (d === '\n') throw new Error(`strip: unterminated regular expression at ${i}`);
        else j++;
      }
      j++;
      while (isIdent(src[j])) j++; // flags
      emit(src.slice(i, j));
      i = j;
      lastWord = '';
      continue;
    }
    if (isIdent(c)) {
      let j = i;
      while (isIdent(src[j])) j++;
      lastWord = src.slice(i, j);
      emit(lastWord);
      i = j;
      continue;
    }
    if (c === '{') braces++;
    if (c === '}') braces--;
    emit(c);
    lastWord = '';
    i++;
  }
  return out.trim() + '\n';
}

// ---------------------------------------------------------------------------------------------------
// Measuring

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const kB = (n) => (n / 1000).toFixed(1).padStart(7) + ' kB';

if (!existsSync(join(dist, 'index.js'))) {
  console.error('size: dist/index.js is missing; run `npm run build` first');
  process.exit(1);
}

const files = walk(dist).filter((f) => f.endsWith('.js') && !relative(dist, f).startsWith(`cli${sep}`));
const sources = files.map((f) => readFileSync(f, 'utf8'));
const stripped = sources.map(strip);

// The stripped copy must still work: import it and train one step.
const check = mkdtempSync(join(tmpdir(), 'flowgrad-size-'));
try {
  for (let k = 0; k < files.length; k++) {
    const target = join(check, relative(dist, files[k]));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, stripped[k]);
  }
  writeFileSync(join(check, 'package.json'), '{"type":"module"}');
  const lib = await import(pathToFileURL(join(check, 'index.js')).href);
  const rng = new lib.Rng(1);
  const flow = lib.RealNVP.post({ dim: 2, rng: new lib.Rng(7) });
  const h = lib.fit(flow, lib.postMixture.sample(64, rng), { epochs: 1, batchSize: 64, lr: 1e-3, rng });
  if (!Number.isFinite(h.trainLoss[0])) throw new Error('the stripped library trained to a non-finite loss');
} finally {
  rmSync(check, { recursive: true, force: true });
}

const raw = Buffer.from(sources.join('\n'));
const small = Buffer.from(stripped.join('\n'));
const rows = [
  ['flowgrad library, dist/ without cli (' + files.length + ' files)', raw.length, gz(raw)],
  ['  the same, comments and whitespace stripped', small.length, gz(small)],
];

// A real minifier, if one is already installed (tsx depends on esbuild): not a dependency of ours.
let esbuild = null;
try {
  esbuild = await import('esbuild');
} catch {
  esbuild = null;
}
if (esbuild) {
  const bundle = async (contents) => {
    const r = await esbuild.build({
      stdin: { contents, resolveDir: dist, sourcefile: 'entry.js' },
      bundle: true,
      minify: true,
      format: 'esm',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    return Buffer.from(r.outputFiles[0].contents);
  };
  const all = await bundle("export * from './index.js'; export * from './plot/index.js';");
  const typical = await bundle("export { RealNVP, fit, Rng, postMixture } from './index.js';");
  rows.push([`  minified bundle of everything (esbuild ${esbuild.version})`, all.length, gz(all)]);
  rows.push(['  minified bundle of { RealNVP, fit, Rng, postMixture }', typical.length, gz(typical)]);
}

const peerFiles = [
  ['@tensorflow/tfjs', 'tf.fesm.min.js'],
  ['@tensorflow/tfjs', 'tf.min.js'],
  ['@tensorflow/tfjs-core', 'tf-core.fesm.min.js'],
  ['@tensorflow/tfjs-backend-cpu', 'tf-backend-cpu.fesm.min.js'],
  ['@tensorflow/tfjs-backend-wasm', 'tf-backend-wasm.fesm.min.js'],
  ['@tensorflow/tfjs-backend-wasm', 'tfjs-backend-wasm-simd.wasm'],
];
let peersFound = 0;
for (const [pkg, file] of peerFiles) {
  const path = join(peers, pkg, 'dist', file);
  if (!existsSync(path)) continue;
  peersFound++;
  const version = JSON.parse(readFileSync(join(peers, pkg, 'package.json'), 'utf8')).version;
  const buf = readFileSync(path);
  rows.push([`${pkg}@${version} dist/${file}`, buf.length, gz(buf)]);
}

const width = Math.max(...rows.map((r) => r[0].length));
console.log(`${'what'.padEnd(width)}  ${'raw'.padStart(10)}  ${'gzipped'.padStart(10)}`);
for (const [name, n, z] of rows) console.log(`${name.padEnd(width)}  ${kB(n)}  ${kB(z)}`);
if (peersFound === 0) console.log(`(no peers found under ${peers}; pass --peers <node_modules>)`);
