/**
 * The published package, as a user gets it: `npm pack` (which runs prepack, so the build), the tarball
 * installed offline into a fresh project with no other dependency, then imported by name and subpath in a
 * child Node process that trains a few steps, type-checked by a TypeScript consumer, run as the
 * `flowgrad` command, and searched for a stray Node import outside dist/cli. Catches a missing file, a
 * wrong `exports` entry, a missing shebang, types that do not resolve, or library code that would not
 * load in a browser, Deno or a worker.
 *
 * Skipped, with a message, only when `npm` is not available.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const hasNpm = spawnSync(npm, ['--version'], { encoding: 'utf8' }).status === 0;
const SUBPATHS = ['rng', 'autograd', 'nn', 'optim', 'flow', 'data', 'io', 'train', 'plot', 'sbi'];

// The environment for child npm and node processes: without the npm_* variables of the `npm test` that
// runs us (npm_config_prefix, npm_package_*...), so the child commands behave as they would for a user.
const env: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
env.NO_COLOR = '1';

function sh(command: string, args: string[], cwd: string, timeout = 120_000): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) assert.unreachable(`${what} failed with exit code ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Every file under `dir`, as paths relative to it with '/' separators. */
function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path, base));
    else out.push(relative(base, path).split(sep).join('/'));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Pack and install once; each test reads the installed package.

let work = '';
let app = '';
let installed = '';

if (!hasNpm) {
  console.log('test/package/pack.test.ts: SKIPPED: npm is not available, so the package cannot be packed.');
} else {
  test.before(() => {
    work = mkdtempSync(join(tmpdir(), 'flowgrad-pack-'));
    const dest = join(work, 'dest');
    app = join(work, 'app');
    mkdirSync(dest);
    mkdirSync(app);
    ok(sh(npm, ['pack', '--pack-destination', dest], root), 'npm pack');
    const tarballs = readdirSync(dest).filter((f) => f.endsWith('.tgz'));
    assert.is(tarballs.length, 1, `npm pack made one tarball (${tarballs.join(', ')})`);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
    ok(sh(npm, ['install', '--no-audit', '--no-fund', '--offline', join(dest, tarballs[0]!)], app), 'npm install of the tarball');
    installed = join(app, 'node_modules', 'flowgrad');
  });

  test.after(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  test('the tarball holds dist, src, README and package.json, and nothing from test or bench', () => {
    const files = walk(installed);
    for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/index.js.map', 'dist/cli/main.js', 'dist/cli/fit-worker.js', 'src/index.ts']) {
      assert.ok(files.includes(f), `missing ${f}`);
    }
    const stray = files.filter((f) => !/^(dist|src)\//.test(f) && !['package.json', 'README.md', 'LICENSE'].includes(f));
    assert.equal(stray, [], 'files outside dist/ and src/');
    // The installed package has no dependency of its own: node_modules holds flowgrad and nothing else.
    const modules = readdirSync(join(app, 'node_modules')).filter((f) => !f.startsWith('.'));
    assert.equal(modules, ['flowgrad'], 'installed packages');
  });

  test('every exports target and the bin exist in the installed package', () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    assert.equal(Object.keys(pkg.dependencies ?? {}), [], 'runtime dependencies');
    const keys = Object.keys(pkg.exports);
    assert.equal(keys, ['.', ...SUBPATHS.map((s) => `./${s}`), './package.json']);
    for (const [key, target] of Object.entries(pkg.exports as Record<string, string | Record<string, string>>)) {
      if (typeof target === 'string') {
        assert.ok(existsSync(join(installed, target)), `${key} -> ${target}`);
        continue;
      }
      assert.equal(Object.keys(target), ['types', 'default'], `${key}: types first`);
      for (const file of Object.values(target)) assert.ok(existsSync(join(installed, file)), `${key} -> ${file} is missing`);
    }
    assert.ok(existsSync(join(installed, pkg.main)), 'main');
    assert.ok(existsSync(join(installed, pkg.types)), 'types');
    const bin = join(installed, pkg.bin.flowgrad);
    assert.ok(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n'), 'the bin starts with a node shebang');
  });

  test('library code imports nothing but its own relative files (no node: or bare import outside dist/cli)', () => {
    const libFiles = walk(join(installed, 'dist')).filter((f) => f.endsWith('.js') && !f.startsWith('cli/'));
    assert.ok(libFiles.length > 30, `found ${libFiles.length} library files`);
    // Static imports and re-exports (tsc writes them at the start of a line), side-effect imports, dynamic
    // imports and require calls.
    const specifier = /^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1|^\s*import\s*(['"])([^'"]+)\3|\bimport\s*\(\s*(['"])([^'"]+)\5|\brequire\s*\(\s*(['"])([^'"]+)\7/gm;
    const bad: string[] = [];
    let count = 0;
    for (const f of libFiles) {
      const text = readFileSync(join(installed, 'dist', f), 'utf8');
      for (const m of text.matchAll(specifier)) {
        const spec = m[2] ?? m[4] ?? m[6] ?? m[8]!;
        count++;
        if (!spec.startsWith('./') && !spec.startsWith('../')) bad.push(`dist/${f}: ${m[0].trim()}`);
        else if (!spec.endsWith('.js')) bad.push(`dist/${f}: ${m[0].trim()} (not a .js path)`);
        else if (!existsSync(resolve(join(installed, 'dist', f), '..', spec))) bad.push(`dist/${f}: ${m[0].trim()} (no such file)`);
      }
    }
    assert.ok(count > 100, `read ${count} import specifiers`);
    assert.equal(bad, [], 'imports in library code');
  });

  test('source maps point at the shipped sources', () => {
    const maps = walk(join(installed, 'dist')).filter((f) => f.endsWith('.map'));
    const missing: string[] = [];
    for (const f of maps) {
      const map = JSON.parse(readFileSync(join(installed, 'dist', f), 'utf8'));
      for (const s of map.sources as string[]) {
        const path = resolve(join(installed, 'dist', f), '..', map.sourceRoot ?? '', s);
        if (!existsSync(path)) missing.push(`dist/${f} -> ${s}`);
      }
    }
    assert.equal(missing, []);
  });

  test('a user imports the package by name and subpath and trains a few steps', () => {
    const script = `
      import { fit, postMixture, RealNVP, Rng, Tensor, Adam, saveSafetensors } from 'flowgrad';
      import * as flowSub from 'flowgrad/flow';
      import * as dataSub from 'flowgrad/data';
      import * as rngSub from 'flowgrad/rng';
      import * as trainSub from 'flowgrad/train';
      import { lossFigure } from 'flowgrad/plot';
      import { Linear } from 'flowgrad/nn';
      import { SGD } from 'flowgrad/optim';
      import { matmul } from 'flowgrad/autograd';
      import { loadSafetensors } from 'flowgrad/io';
      const rng = new Rng(3);
      const data = postMixture.sample(256, rng);
      const flow = RealNVP.post({ dim: 2, rng: new Rng(7) });
      const nll = () => -flow.logProb(data).data.reduce((a, b) => a + b, 0) / data.rows;
      const before = nll();
      const history = fit(flow, data, { epochs: 5, batchSize: 64, lr: 1e-3, rng });
      const after = nll();
      console.log(JSON.stringify({
        before, after, steps: history.steps, last: history.trainLoss.at(-1),
        sameClass: flowSub.RealNVP === RealNVP && dataSub.Rng === Rng && rngSub.Rng === Rng && trainSub.fit === fit,
        others: [typeof lossFigure, typeof Linear, typeof SGD, typeof matmul, typeof loadSafetensors, typeof Tensor, typeof Adam, typeof saveSafetensors],
      }));
    `;
    writeFileSync(join(app, 'train.mjs'), script);
    const out = ok(sh(process.execPath, ['train.mjs'], app), 'the user script');
    const r = JSON.parse(out.trim().split('\n').at(-1)!);
    assert.is(r.steps, 20, 'steps');
    assert.ok(Number.isFinite(r.last), `last loss ${r.last}`);
    assert.ok(r.after < r.before, `the NLL went down: ${r.before} -> ${r.after}`);
    assert.ok(r.sameClass, 'the subpaths export the same classes as the root');
    assert.equal(r.others, ['function', 'function', 'function', 'function', 'function', 'function', 'function', 'function']);
  });

  test('the types resolve for a strict TypeScript consumer (dist .d.ts, not src)', () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    if (!existsSync(tsc)) assert.unreachable(`no TypeScript compiler at ${tsc} (run npm ci)`);
    writeFileSync(
      join(app, 'consumer.ts'),
      `import { fit, postMixture, RealNVP, Rng, type History } from 'flowgrad';
import { Permutation, type FlowResult } from 'flowgrad/flow';
import { Tensor } from 'flowgrad/autograd';
import { lossFigure } from 'flowgrad/plot';
const rng = new Rng(1);
const flow: RealNVP = RealNVP.post({ dim: 2, rng: new Rng(7) });
const history: History = fit(flow, postMixture.sample(128, rng), { epochs: 1, batchSize: 64, lr: 1e-3, rng });
const logProb: Tensor = flow.logProb(postMixture.sample(4, rng));
const [z, logDet]: FlowResult = flow.forward(postMixture.sample(4, rng));
export const summary: [number, number, string, string, number, number] = [history.trainLoss[0]!, logProb.rows, Permutation.name, typeof lossFigure, z.cols, logDet.rows];
// @ts-expect-error a wrong type must be caught, or the check proves nothing
export const wrong: string = new Rng(1).uniform();
`,
    );
    // Strict, no skipLibCheck, no @types/node: the declarations must stand on their own (ES2022 + DOM).
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        files: ['consumer.ts'],
      }),
    );
    const r = sh(process.execPath, [tsc, '-p', '.', '--listFiles'], app);
    if (r.status !== 0) assert.unreachable(`tsc failed:\n${r.stdout}\n${r.stderr}`);
    const files = r.stdout.split('\n').filter((f) => f.includes('node_modules/flowgrad/'));
    assert.ok(files.some((f) => f.endsWith('flowgrad/dist/index.d.ts')), 'read dist/index.d.ts');
    assert.equal(files.filter((f) => f.includes('flowgrad/src/')), [], 'no file from src/ was read');
  });

  test('npx flowgrad runs the installed command line, and training runs in its worker', () => {
    const help = ok(sh(npm, ['exec', '--offline', '--no', '--', 'flowgrad', '--help'], app), 'npx flowgrad --help');
    assert.match(help, /Usage: flowgrad <command>/);
    const train = ok(sh(npm, ['exec', '--offline', '--no', '--', 'flowgrad', 'train', '--dataset', 'post-mixture', '--preset', 'post', '--epochs', '2', '--out', 'run'], app), 'npx flowgrad train');
    assert.match(train, /epoch 2\/2/);
    for (const f of ['model.safetensors', 'config.json', 'history.csv']) assert.ok(existsSync(join(app, 'run', f)), `run/${f}`);
    // The worker is dist/cli/fit-worker.js started by plain node (no TypeScript loader): a counting
    // Worker class, swapped into node:worker_threads before the CLI module loads, sees it start, and the
    // worker's epochs come back.
    const script = `
      import { createRequire, syncBuiltinESMExports } from 'node:module';
      const threads = createRequire(import.meta.url)('node:worker_threads');
      let started = 0;
      threads.Worker = class extends threads.Worker {
        constructor(...args) { super(...args); started++; }
      };
      syncBuiltinESMExports();
      const { fitInWorker } = await import(new URL('./node_modules/flowgrad/dist/cli/fit-worker.js', import.meta.url));
      const { RealNVP, Rng, postMixture } = await import('flowgrad');
      const rng = new Rng(1);
      const flow = RealNVP.post({ dim: 2, rng: new Rng(7) });
      let epochs = 0;
      const history = await fitInWorker(flow, postMixture.sample(256, rng), undefined, rng,
        { epochs: 2, batchSize: 64, lr: 1e-3 },
        { stopFlag: new Int32Array(new SharedArrayBuffer(4)), onEpoch: () => epochs++ });
      console.log(JSON.stringify({ epochs: history.epochs, reported: epochs, started }));
    `;
    writeFileSync(join(app, 'worker.mjs'), script);
    const r = JSON.parse(ok(sh(process.execPath, ['worker.mjs'], app), 'fitInWorker from dist').trim().split('\n').at(-1)!);
    assert.equal(r, { epochs: 2, reported: 2, started: 1 });
  });
}

test.run();
