/**
 * The command line keeps runs and refuses what it cannot use, in-process (`main`) with tiny runs:
 * interrupt then `--resume` ends bit-identical to an uninterrupted run; a diverged run resumes with a
 * lower learning rate; outputs and inputs are checked before any work (sizes, special files, /proc);
 * config.json is range-checked; plot checks the data's hash; CSV options; the smaller fixes (eval
 * reproduces metrics.json, one test row prints no "± NaN", the right reason for 1e300 and 1e-300
 * columns, info lists the tensors).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.ts';
import { toCsv } from '../../src/data/csv.ts';
import { Rng } from '../../src/rng/rng.ts';
import { Tensor } from '../../src/autograd/tensor.ts';
import { plateauCuts } from '../../src/train/fit.ts';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const write = { out: process.stdout.write, err: process.stderr.write };
  let stdout = '', stderr = '';
  process.stdout.write = ((c: string | Uint8Array) => ((stdout += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((stderr += String(c)), true)) as typeof process.stderr.write;
  Object.assign(process.env, env);
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
    for (const k of Object.keys(env)) delete process.env[k];
  }
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const r = await run(args, env);
  if (r.code !== 0) throw new Error(`flowgrad ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

function refused(r: Result, code: number, parts: (string | RegExp)[], label: string): void {
  assert.is(r.code, code, `${label}: exit code (stderr: ${r.stderr})`);
  for (const p of parts) assert.match(r.stderr, p, label);
  assert.not.match(r.stderr, /internal error|\n\s+at /, `${label}: no stack trace`);
}

const tmp = mkdtempSync(join(tmpdir(), 'flowgrad-robust-'));
// The job in this thread (the same code; main.test.ts and signals.test.ts run it in the worker), to stay
// fast. Set in `before` (uvu loads every test file before it runs any, so a top-level assignment would
// reach the other files' tests too).
test.before(() => {
  process.env.FLOWGRAD_WORKER = '0';
});
const small = ['--dataset', 'two-moons', '--n', '300', '--test-n', '200', '--layers', '2', '--hidden', '8', '--epochs', '12', '--quiet', '--no-figures', '--checkpoint-every', '0'];

test('an interrupted run resumed with --resume ends bit-identical to the uninterrupted run', async () => {
  // In the worker, as a user runs it.
  delete process.env.FLOWGRAD_WORKER;
  await ok(['train', ...small, '--out', join(tmp, 'whole')]);
  for (const stopAt of ['3', '10', '25']) {
    const dir = join(tmp, `cut-${stopAt}`);
    const first = await run(['train', ...small, '--out', dir], { FLOWGRAD_TEST_STOP_AT_STEP: stopAt });
    assert.is(first.code, 130, `interrupted at step ${stopAt}`);
    assert.match(first.stderr, `continue with flowgrad train --resume ${dir}`);
    assert.ok(existsSync(join(dir, 'checkpoint.safetensors')));
    assert.is(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).training.status, 'interrupted');
    await ok(['train', '--resume', dir]);
    assert.ok(readFileSync(join(dir, 'model.safetensors')).equals(readFileSync(join(tmp, 'whole', 'model.safetensors'))), `stopped at step ${stopAt}: the same weights to the bit`);
    const losses = (d: string) => readFileSync(join(d, 'history.csv'), 'utf8').split('\n').map((l) => l.split(',').slice(0, 3).join(','));
    assert.equal(losses(dir), losses(join(tmp, 'whole')), 'the same history');
    assert.not.ok(existsSync(join(dir, 'checkpoint.safetensors')), 'a completed run keeps no checkpoint');
  }
  process.env.FLOWGRAD_WORKER = '0';
  refused(await run(['train', '--resume', join(tmp, 'whole')]), 1, ['has no checkpoint to resume from'], 'completed run');
  refused(await run(['train', '--resume', join(tmp, 'whole'), '--hidden', '3']), 2, ['--hidden cannot be changed with --resume'], 'changed option');
});

test('--lr-plateau: recorded in config.json, cuts the rate, and a run stopped after a cut resumes bit-identical', async () => {
  // Patience 2 at a high rate without weight averaging, so that the validation NLL stalls and the rate is cut within a few epochs.
  const args = ['--dataset', 'two-moons', '--n', '300', '--test-n', '200', '--layers', '2', '--hidden', '8', '--epochs', '24', '--lr', '0.03', '--ema', '0', '--quiet', '--no-figures', '--checkpoint-every', '0'];
  await ok(['train', ...args, '--lr-plateau', '2,0.5,restore', '--out', join(tmp, 'plateau')]);
  await ok(['train', ...args, '--out', join(tmp, 'constant')]);
  const config = JSON.parse(readFileSync(join(tmp, 'plateau', 'config.json'), 'utf8'));
  assert.equal(config.training.lrPlateau, { patience: 2, factor: 0.5, restoreBest: true });
  assert.is(JSON.parse(readFileSync(join(tmp, 'constant', 'config.json'), 'utf8')).training.lrPlateau, null);
  assert.match((await ok(['info', '--model', join(tmp, 'plateau')])).stdout, ', lr plateau 2,0.5,restore');
  const valNll = (d: string) => readFileSync(join(d, 'history.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[2]));
  const stopEpoch = 16; // 270 training rows in batches of 64: 5 steps an epoch
  assert.ok(plateauCuts(valNll(join(tmp, 'plateau')).slice(0, stopEpoch - 1), 2) >= 1, 'the rate was cut before the stop');
  assert.not.ok(readFileSync(join(tmp, 'plateau', 'model.safetensors')).equals(readFileSync(join(tmp, 'constant', 'model.safetensors'))), 'the cuts change the result');
  const dir = join(tmp, 'plateau-cut');
  assert.is((await run(['train', ...args, '--lr-plateau', '2,0.5,restore', '--out', dir], { FLOWGRAD_TEST_STOP_AT_STEP: String(5 * stopEpoch) })).code, 130);
  refused(await run(['train', '--resume', dir, '--lr-plateau', '3']), 2, ['--lr-plateau cannot be changed with --resume'], 'the plateau is the run\'s own');
  await ok(['train', '--resume', dir]);
  assert.ok(readFileSync(join(dir, 'model.safetensors')).equals(readFileSync(join(tmp, 'plateau', 'model.safetensors'))), 'resumed after a cut: the same weights to the bit');
  assert.equal(valNll(dir), valNll(join(tmp, 'plateau')), 'the same validation history');
  for (const [text, why] of [['x', 'P must be a whole number'], ['2,1', 'F must be a number in (0, 1)'], ['2,0', 'F must be'], ['2,.5x', 'F must be'], ['2,0.5,best', "only be 'restore'"], ['0,0.5', 'takes no factor'], ['2,0.5,restore,1', 'at most 3'], ['2.5', 'P must be']] as const) {
    refused(await run(['train', ...args, '--lr-plateau', text, '--out', join(tmp, 'bad')]), 2, [`--lr-plateau "${text}"`, why, 'P[,F[,restore]]'], text);
  }
  refused(await run(['train', ...args, '--val-fraction', '0', '--lr-plateau', '2', '--out', join(tmp, 'bad')]), 2, ['--lr-plateau needs validation rows'], 'no validation');
  assert.not.ok(existsSync(join(tmp, 'bad', 'model.safetensors')), 'nothing written for a refused flag');
});

test('a diverged run keeps its last good state and resumes with a lower learning rate', async () => {
  const dir = join(tmp, 'diverged');
  const r = await run(['train', '--dataset', 'two-moons', '--n', '300', '--test-n', '100', '--layers', '2', '--hidden', '8', '--epochs', '40', '--lr', '1e6', '--quiet', '--no-figures', '--checkpoint-every', '0', '--out', dir]);
  refused(r, 1, [/training diverged at epoch \d+/, `--resume ${dir} --lr`], 'an exploding learning rate');
  assert.is(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).training.status, 'diverged');
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  assert.ok(Number.isFinite(metrics.nll) && metrics.nll < 100, `the kept weights are sane (test NLL ${metrics.nll})`);
  await ok(['train', '--resume', dir, '--lr', '1e-3']);
  assert.is(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).training.status, 'completed');
});

test('sizes are checked before anything is allocated, with a flag to allow more', async () => {
  const t0 = performance.now();
  refused(await run(['train', '--dataset', 'two-moons', '--hidden', '100000', '--layers', '10000', '--out', join(tmp, 'huge')]), 1, ['needs about', 'GB of memory', '--allow-large'], 'a huge model');
  assert.ok(performance.now() - t0 < 5000, 'refused at once');
  assert.not.ok(existsSync(join(tmp, 'huge')));
  refused(await run(['train', '--dataset', 'two-moons', '--n', '20000000', '--out', join(tmp, 'huge')]), 1, ['points', 'over the limit', '--allow-large'], 'too many points');
  refused(await run(['train', '--data', '/dev/zero', '--out', join(tmp, 'huge')]), 1, ['/dev/zero', 'character device', 'not a regular file', "'-'"], '/dev/zero');
  assert.equal(readdirSync(tmp).filter((f) => f.startsWith('.huge')), [], 'no staging left');
});

test('outputs are checked before any work: /proc, a file, a read-only or unwritable place', async () => {
  refused(await run(['train', ...small, '--out', '/proc/flowgrad-x']), 1, ['/proc', 'pseudo file system'], '/proc');
  writeFileSync(join(tmp, 'afile'), 'x');
  refused(await run(['train', ...small, '--out', join(tmp, 'afile')]), 1, ['exists and is a file'], 'a file');
  refused(await run(['train', ...small, '--out', join(tmp, 'afile', 'sub')]), 1, ['is not a directory'], 'under a file');
  if (process.getuid?.() !== 0) {
    mkdirSync(join(tmp, 'locked'), { mode: 0o500 });
    refused(await run(['train', ...small, '--out', join(tmp, 'locked', 'run')]), 1, ['permission denied'], 'unwritable');
  }
});

test('config.json is range-checked before use, naming the field', async () => {
  const base = join(tmp, 'whole');
  const edit = (name: string, change: (c: Record<string, any>) => void) => {
    const dir = join(tmp, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    for (const f of ['model.safetensors', 'history.csv']) writeFileSync(join(dir, f), readFileSync(join(base, f)));
    const config = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8'));
    change(config);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    return dir;
  };
  refused(await run(['plot', '--model', edit('c1', (c) => (c.data.trainPoints = 1e9))]), 1, ['data.trainPoints must be an integer in 2..10000000, got 1000000000'], 'trainPoints 1e9');
  refused(await run(['plot', '--model', edit('c2', (c) => (c.data.testPoints = 1e10))]), 1, ['data.testPoints must be an integer'], 'testPoints 1e10');
  refused(await run(['info', '--model', edit('c3', (c) => (c.training = { preset: 'default' }))]), 1, ['training.optimizer must be "adam"'], 'a minimal training block');
  refused(await run(['info', '--model', edit('c3n', (c) => (c.training.noise = -0.5))]), 1, ['training.noise must be a number >= 0', 'got -0.5'], 'a negative noise');
  refused(await run(['info', '--model', edit('c3p', (c) => (c.training.lrPlateau = { patience: 0, factor: 0.5, restoreBest: false }))]), 1, ['training.lrPlateau.patience must be an integer', 'got 0'], 'a plateau of 0 epochs');
  refused(await run(['info', '--model', edit('c3f', (c) => (c.training.lrPlateau = { patience: 5, factor: 1.5, restoreBest: false }))]), 1, ['training.lrPlateau.factor must be', 'in (0, 1)'], 'a factor above 1');
  refused(await run(['info', '--model', edit('c3r', (c) => (c.training.lrPlateau = { patience: 5, factor: 0.5 }))]), 1, ['training.lrPlateau must be { patience, factor, restoreBest }'], 'no restoreBest');
  refused(await run(['plot', '--model', edit('c4', (c) => (c.data = { source: 'csv', path: '/etc/passwd', columns: ['x0', 'x1'] }))]), 1, ['data.header must be true or false'], 'a CSV block without its fields');
  const passwd = edit('c5', (c) => (c.data = { source: 'csv', path: '/etc/passwd', sha256: '0'.repeat(64), header: false, rows: 10, columns: ['x0', 'x1'], trainRows: 8, valRows: 1, testRows: 1 }));
  const r = await run(['plot', '--model', passwd]);
  refused(r, 1, ['is not the file', 'SHA-256 differs', '--data'], 'a config pointing at another file');
  assert.not.match(r.stderr, /root|bin/, 'nothing of that file is shown');
});

test('plot refuses a training CSV that changed since training; data paths resolve from the run folder', async () => {
  const rng = new Rng(3);
  const dataDir = join(tmp, 'proj');
  mkdirSync(join(dataDir, 'runs'), { recursive: true });
  const csv = join(dataDir, 'data.csv');
  writeFileSync(csv, toCsv(Tensor.from(200, 2, Float64Array.from({ length: 400 }, () => rng.normal())), ['a', 'b']));
  const dir = join(dataDir, 'runs', 'r');
  await ok(['train', '--data', csv, '--layers', '2', '--hidden', '4', '--epochs', '2', '--quiet', '--no-figures', '--out', dir]);
  assert.is(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).data.path, '../../data.csv');
  await ok(['plot', '--model', dir]);
  writeFileSync(csv, readFileSync(csv, 'utf8').replace(/\n[^\n]+\n$/, '\n0.5,0.5\n'));
  refused(await run(['plot', '--model', dir]), 1, ['is not the file', 'SHA-256 differs'], 'a changed CSV');
});

test('CSV options: --delimiter, --columns, --no-header, quoted numbers, and a pandas index column left out with a note', async () => {
  const rng = new Rng(4);
  const rows = Array.from({ length: 150 }, (_, i) => `${i};"${rng.normal()}";${rng.normal()};${rng.normal()}`);
  const semi = join(tmp, 'pandas.csv');
  writeFileSync(semi, [';height;weight;age', ...rows].join('\n') + '\n');
  const tinyCsv = ['--layers', '2', '--hidden', '4', '--epochs', '2', '--quiet', '--no-figures'];
  const a = await ok(['train', '--data', semi, '--delimiter', ';', ...tinyCsv, '--out', join(tmp, 'csv-a')]);
  assert.match(a.stderr, 'counts the rows (an index column');
  assert.equal(JSON.parse(readFileSync(join(tmp, 'csv-a', 'config.json'), 'utf8')).data.columns, ['height', 'weight', 'age']);
  await ok(['train', '--data', semi, '--delimiter', ';', '--columns', 'age,height', ...tinyCsv, '--out', join(tmp, 'csv-b')]);
  assert.equal(JSON.parse(readFileSync(join(tmp, 'csv-b', 'config.json'), 'utf8')).data.columns, ['age', 'height']);
  const noHeader = join(tmp, 'numeric-header.csv');
  writeFileSync(noHeader, ['1,2', ...Array.from({ length: 120 }, () => `${rng.normal()},${rng.normal()}`)].join('\n'));
  const c = await ok(['train', '--data', noHeader, '--no-header', ...tinyCsv, '--out', join(tmp, 'csv-c')]);
  assert.not.match(c.stderr, 'index column');
  assert.is(JSON.parse(readFileSync(join(tmp, 'csv-c', 'config.json'), 'utf8')).data.rows, 121);
  const mixed = join(tmp, 'mixed.csv');
  writeFileSync(mixed, ['year,2024', ...Array.from({ length: 50 }, () => `${rng.normal()},${rng.normal()}`)].join('\n'));
  refused(await run(['train', '--data', mixed, ...tinyCsv, '--out', join(tmp, 'csv-d')]), 1, ['pass --header'], 'a numeric header name');
  await ok(['train', '--data', mixed, '--header', ...tinyCsv, '--out', join(tmp, 'csv-d')]);
  refused(await run(['train', '--data', semi, '--delimiter', ';', '--columns', 'height,shoe', ...tinyCsv, '--out', join(tmp, 'csv-e')]), 2, ['no column "shoe"', 'height, weight, age'], 'an unknown column');
});

test('"constant column" only for a constant column; 1e300 and 1e-300 columns get their own reason', async () => {
  const rng = new Rng(5);
  const write = (name: string, scale: number, constant = false) => {
    const p = join(tmp, name);
    writeFileSync(p, ['a,b', ...Array.from({ length: 100 }, () => `${rng.normal()},${constant ? 7 : scale * (1 + rng.uniform())}`)].join('\n'));
    return p;
  };
  const args = ['--layers', '2', '--hidden', '4', '--epochs', '1', '--quiet', '--no-figures'];
  refused(await run(['train', '--data', write('huge.csv', 1e300), ...args, '--out', join(tmp, 'x1')]), 1, ['column 2 ("b")', 'too large to standardise', 'overflow'], '1e300');
  refused(await run(['train', '--data', write('tiny.csv', 1e-300), ...args, '--out', join(tmp, 'x2')]), 1, ['column 2 ("b")', 'too small to standardise', 'underflow'], '1e-300');
  refused(await run(['train', '--data', write('const.csv', 1, true), ...args, '--out', join(tmp, 'x3')]), 1, ['column 2 ("b") is constant (7)'], 'constant');
  for (const d of ['x1', 'x2', 'x3']) assert.not.ok(existsSync(join(tmp, d)), 'nothing written');
});

test('eval reproduces metrics.json by default; one test row prints no "± NaN"; info lists the tensors', async () => {
  const dir = join(tmp, 'whole');
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  const e = JSON.parse((await ok(['eval', '--model', dir, '--dataset', 'two-moons', '--json'])).stdout);
  assert.is(e.n, metrics.n);
  assert.is(e.nll, metrics.nll, 'the same test NLL to the bit');
  assert.is(e.kl, metrics.kl);
  const one = await ok(['train', '--dataset', 'two-moons', '--n', '100', '--test-n', '1', '--layers', '2', '--hidden', '4', '--epochs', '1', '--no-figures', '--out', join(tmp, 'one')]);
  assert.not.match(one.stdout, 'NaN');
  assert.match(one.stdout, 'one test row: no standard error');
  const info = await ok(['info', '--model', dir]);
  assert.match(info.stdout, /flows\.0\.net\.0\.bias\s+\[8\]\s+F64/, 'a bias is saved 1-D');
  assert.match(info.stdout, /flows\.0\.net\.0\.weight\s+\[8, 1\]\s+F64/);
  const j = JSON.parse((await ok(['info', '--model', dir, '--json'])).stdout);
  assert.ok(j.tensors.some((t: { name: string; shape: number[]; dtype: string }) => t.name === 'standardize.mean' && t.shape.join() === '2' && t.dtype === 'F64'));
});

test('bare flowgrad exits 2 with the usage on stderr; --version reads package.json', async () => {
  const bare = await run([]);
  assert.is(bare.code, 2);
  assert.match(bare.stderr, 'Usage: flowgrad <command>');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.is((await ok(['--version'])).stdout, `flowgrad ${pkg.version}\n`);
});

test.after(() => {
  delete process.env.FLOWGRAD_WORKER;
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
