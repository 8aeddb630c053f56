/**
 * `npm run test:runtimes`: runs scripts/smoke.mjs (the built package, from dist/) under Node, Deno, Bun and
 * headless Chromium (on the page's main thread and in a module Web Worker), then compares the
 * fingerprints with Node's: the training losses and validation NLLs must agree to 1e-12 relative, and it
 * reports whether the weights are bit-identical. Ends with the plain line `N passed, N failed` (one check
 * per runtime that ran and agreed) and exits non-zero on a mismatch or a runtime that failed.
 *
 * `--json <file>` also writes every runtime's fingerprint there. Needs `npm run build` first. Deno and
 * Bun come from $DENO and $BUN, else node_modules/.bin (the `deno` and `bun` dev dependencies) or the
 * PATH; Chromium from $CHROMIUM, /usr/bin/chromium or the PATH. A runtime that is
 * not installed is skipped with a message, except under CI (CI set), where it counts as a failure.
 *
 * The browser leg needs no driver: a small static server here serves dist/ and scripts/, Chromium opens
 * scripts/smoke.html, and the page POSTs its fingerprint back to the server.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const smoke = join(root, 'scripts', 'smoke.mjs');
const TIMEOUT_MS = 120_000;
const LOSS_RTOL = 1e-12;
const strict = Boolean(process.env.CI);

// ---------------------------------------------------------------------------------------------------
// Finding and running the runtimes

/** The first of `names` found in node_modules/.bin or on the PATH, or null. */
function findBinary(...names) {
  const dirs = [join(root, 'node_modules', '.bin'), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const name of names) {
    if (name.includes(sep)) {
      if (existsSync(name)) return name;
      continue;
    }
    for (const dir of dirs) {
      const path = join(dir, name);
      if (existsSync(path)) return path;
    }
  }
  return null;
}

/** First line of `binary args`, or null when it does not run. */
function versionOf(binary, args) {
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) return null;
  return r.stdout.trim().split('\n')[0];
}

/** Runs a command and resolves with its stdout, or rejects with its stderr. */
function run(binary, args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`exit ${code ?? signal}${signal === 'SIGKILL' ? ` (timed out after ${TIMEOUT_MS / 1000} s)` : ''}\n${err.trim()}`));
    });
  });
}

/** The fingerprint: the last line of the script's output that parses as JSON. */
function parseFingerprint(text) {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const value = JSON.parse(line);
      if (value && Array.isArray(value.models)) return value;
    } catch {
      // not the JSON line
    }
  }
  throw new Error(`no fingerprint in the output:\n${text.slice(0, 2000)}`);
}

// ---------------------------------------------------------------------------------------------------
// The browser leg

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.map': 'application/json', '.json': 'application/json' };

/** Serves dist/ and scripts/ on 127.0.0.1 and hands over the first POST /result body. */
function startServer() {
  let deliver;
  const result = new Promise((resolve) => (deliver = resolve));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'POST' && url.pathname === '/result') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.writeHead(204).end();
        deliver(body);
      });
      return;
    }
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
    const allowed = rel.startsWith(`dist${sep}`) || rel.startsWith(`scripts${sep}`);
    const path = join(root, rel);
    if (req.method !== 'GET' || !allowed || rel.includes('..') || !existsSync(path)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(path));
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, result }));
  });
}

/** Opens scripts/smoke.html in headless Chromium and resolves with the page's JSON. */
async function runBrowser(binary) {
  const { server, port, result } = await startServer();
  const profile = mkdtempSync(join(tmpdir(), 'flowgrad-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    `--user-data-dir=${profile}`,
    `http://127.0.0.1:${port}/scripts/smoke.html`,
  ];
  // In its own process group, so that the renderer, GPU and zygote processes it starts end with it.
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  const exited = new Promise((_, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`chromium exited (${code}) before the page reported\n${err.trim().slice(-2000)}`)));
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the page did not report within ${TIMEOUT_MS / 1000} s\n${err.trim().slice(-2000)}`)), TIMEOUT_MS);
  });
  try {
    const body = await Promise.race([result, exited, timeout]);
    const value = JSON.parse(body);
    if (value.error) throw new Error(`the page failed: ${value.error}`);
    return value;
  } finally {
    clearTimeout(timer);
    child.removeAllListeners('exit');
    const gone = new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve)));
    try {
      process.kill(-child.pid, 'SIGKILL'); // the group this script started
    } catch {
      child.kill('SIGKILL');
    }
    await gone;
    server.close();
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch (e) {
      console.log(`(could not remove the browser profile ${profile}: ${e instanceof Error ? e.message : e})`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Comparing

const relDiff = (a, b) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));

/** Problems of `fp` against the reference (empty when it agrees), and whether the weights are bit-identical. */
function compare(ref, fp) {
  const problems = [];
  let identical = true;
  let worstWeightSum = 0;
  for (let m = 0; m < ref.models.length; m++) {
    const a = ref.models[m];
    const b = fp.models[m];
    if (!b || b.name !== a.name) {
      problems.push(`model ${a.name} missing`);
      continue;
    }
    for (const key of ['epochs', 'steps', 'parameters']) {
      if (a[key] !== b[key]) problems.push(`${a.name}: ${key} ${b[key]} vs ${a[key]}`);
    }
    for (const key of ['loss', 'valNll']) {
      const d = relDiff(a[key], b[key]);
      if (!(d <= LOSS_RTOL)) problems.push(`${a.name}: ${key} ${b[key]} vs ${a[key]} (relative difference ${d.toExponential(2)} > ${LOSS_RTOL})`);
    }
    if (a.weightHash !== b.weightHash || a.lossBits !== b.lossBits || a.sampleHash !== b.sampleHash) identical = false;
    worstWeightSum = Math.max(worstWeightSum, relDiff(a.weightSum, b.weightSum));
  }
  return { problems, identical, worstWeightSum };
}

/** Where `fp` first parts from `ref`: the Math functions that round differently, then data, init, steps. */
function diagnose(ref, fp) {
  const math = Object.keys(ref.math ?? {}).filter((k) => fp.math?.[k] !== ref.math[k]);
  const names = math.map((k) => (k === 'powInt' ? 'beta ** t' : `Math.${k}`));
  const parts = [names.length === 0 ? 'same Math results' : `${names.join(', ')} round differently`];
  for (let m = 0; m < ref.models.length; m++) {
    const a = ref.models[m];
    const b = fp.models[m];
    if (!b) continue;
    if (a.weightHash === b.weightHash && a.lossBits === b.lossBits) {
      parts.push(`${a.name}: bit-identical`);
      continue;
    }
    const where = [];
    if (a.dataHash !== b.dataHash) where.push('data differ');
    if (a.initHash !== b.initHash) where.push('initial weights differ');
    const first = a.stepLossBits.findIndex((x, i) => x !== b.stepLossBits?.[i]);
    where.push(first < 0 ? 'every step loss identical, weights differ' : `first differing step loss at step ${first + 1} of ${a.stepLossBits.length}`);
    parts.push(`${a.name}: ${where.join(', ')}`);
  }
  return parts.join('; ');
}

// ---------------------------------------------------------------------------------------------------
// Main

if (!existsSync(join(root, 'dist', 'index.js'))) {
  console.error('test-runtimes: dist/index.js is missing; run `npm run build` first');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const runtimes = [
  {
    name: 'node',
    binary: process.execPath,
    version: () => `node ${process.version.slice(1)}`,
    run: (bin) => run(bin, [smoke]).then(parseFingerprint),
  },
  {
    name: 'deno',
    binary: findBinary(...[process.env.DENO, 'deno'].filter(Boolean)),
    version: (bin) => versionOf(bin, ['--version']),
    run: (bin) => run(bin, ['run', '--allow-read', '--no-prompt', smoke], { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' }).then(parseFingerprint),
  },
  {
    name: 'bun',
    binary: findBinary(...[process.env.BUN, 'bun'].filter(Boolean)),
    version: (bin) => {
      const v = versionOf(bin, ['--version']);
      return v === null ? null : `bun ${v}`;
    },
    run: (bin) => run(bin, [smoke]).then(parseFingerprint),
  },
  {
    name: 'chromium',
    binary: findBinary(...[process.env.CHROMIUM, '/usr/bin/chromium', 'chromium', 'chromium-browser', 'google-chrome'].filter(Boolean)),
    version: (bin) => versionOf(bin, ['--version']),
    run: runBrowser,
  },
];

const results = [];
for (const rt of runtimes) {
  const version = rt.binary === null ? null : rt.version(rt.binary);
  if (version === null) {
    const why = rt.binary === null ? 'not installed' : `${rt.binary} does not run`;
    results.push({ name: rt.name, status: strict ? 'failed' : 'skipped', detail: why });
    console.log(`${rt.name}: ${strict ? 'FAILED' : 'skipped'}: ${why}`);
    continue;
  }
  const start = performance.now();
  try {
    const fp = await rt.run(rt.binary);
    const seconds = (performance.now() - start) / 1000;
    results.push({ name: rt.name, version, fp, seconds });
    if (fp.worker) results.push({ name: `${rt.name} (worker)`, version, fp: fp.worker, seconds });
    console.log(`${rt.name}: ran in ${seconds.toFixed(1)} s (${version})`);
  } catch (e) {
    results.push({ name: rt.name, version, status: 'failed', detail: e instanceof Error ? e.message : String(e) });
    console.log(`${rt.name}: FAILED (${version}): ${e instanceof Error ? e.message : e}`);
  }
}

const jsonAt = process.argv.indexOf('--json');
if (jsonAt > 0 && process.argv[jsonAt + 1]) {
  writeFileSync(process.argv[jsonAt + 1], JSON.stringify(results, null, 2) + '\n');
}

const ref = results.find((r) => r.name === 'node' && r.fp);
let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
for (const r of results) {
  if (r.status === 'skipped') {
    skipped++;
    continue;
  }
  if (!r.fp || !ref) {
    failed++;
    continue;
  }
  const { problems, identical, worstWeightSum } = r === ref ? { problems: [], identical: true, worstWeightSum: 0 } : compare(ref.fp, r.fp);
  if (problems.length === 0) passed++;
  else {
    failed++;
    for (const p of problems) console.log(`${r.name}: MISMATCH: ${p}`);
  }
  rows.push({ r, identical, worstWeightSum, ok: problems.length === 0 });
}

// The table: one row per runtime and model.
console.log('');
const header = ['runtime', 'model', 'final loss', 'loss bits', 'val NLL', 'weight sum', 'weights', 'vs node'];
const table = [header];
for (const { r, identical, worstWeightSum, ok } of rows) {
  for (const m of r.fp.models) {
    const verdict = r === ref ? 'reference' : !ok ? 'MISMATCH' : identical ? 'bit-identical' : `agrees (weight sum rel. diff ${worstWeightSum.toExponential(1)})`;
    table.push([r.name, m.name, String(m.loss), m.lossBits, String(m.valNll), String(m.weightSum), m.weightHash, verdict]);
  }
}
const widths = header.map((_, j) => Math.max(...table.map((row) => row[j].length)));
for (const row of table) console.log(row.map((cell, j) => cell.padEnd(widths[j])).join('  ').trimEnd());
console.log('');
for (const r of results) if (r.version) console.log(`${r.name.padEnd(18)} ${r.version}`);
console.log('');
const differing = rows.filter((x) => x.r !== ref && x.ok && !x.identical).map((x) => x.r.name);
if (rows.length > 1) {
  console.log(differing.length === 0 ? 'Every runtime that ran gave bit-identical weights, losses and samples.' : `Not bit-identical with node (but within ${LOSS_RTOL} on the losses): ${differing.join(', ')}.`);
  for (const { r } of rows) if (r !== ref) console.log(`  ${r.name.padEnd(18)} ${diagnose(ref.fp, r.fp)}`);
  // Runtimes grouped by identical results (weights of both models and the Math digest).
  const groups = new Map();
  for (const { r } of rows) {
    const key = r.fp.models.map((m) => m.weightHash).join('/');
    groups.set(key, [...(groups.get(key) ?? []), r.name]);
  }
  console.log(`Groups with bit-identical weights: ${[...groups.values()].map((g) => `{${g.join(', ')}}`).join(' ')}`);
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
