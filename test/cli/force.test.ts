/**
 * `train --force` into an earlier run's folder: nothing stale survives, the user's own files are kept,
 * an unrelated file the run would overwrite is refused, and a fault injected at every write, rename and
 * link in turn (FLOWGRAD_FAULT_AT=k) leaves either the old run or the new one, whole. `sample --out`
 * streams to its file. In-process (`main`), with tiny runs.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.ts';
import { resetFaults } from '../../src/cli/fsx.ts';
import { parseCsv, toCsv } from '../../src/data/csv.ts';
import { Rng } from '../../src/rng/rng.ts';
import { Tensor } from '../../src/autograd/tensor.ts';

async function run(args: string[]): Promise<{ code: number; err: string }> {
  const write = { out: process.stdout.write, err: process.stderr.write };
  let err = '';
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), err };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

async function quiet(args: string[]): Promise<void> {
  const { code, err } = await run(args);
  if (code !== 0) throw new Error(`flowgrad ${args.join(' ')} exited ${code}: ${err}`);
}

/**
 * Every file under `dir`, with the SHA-256 of the files that do not record timings (weights, figures,
 * the user's files); config, history and metrics hold seconds and steps per second, so only their
 * presence is compared.
 */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return { '(no folder at all)': '' };
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(join(dir, r));
      if (st.isDirectory()) walk(r);
      else out[r] = /^(config\.json|history\.csv|metrics\.json|\.flowgrad-run\.json)$/.test(r) ? 'present' : createHash('sha256').update(readFileSync(join(dir, r))).digest('hex');
    }
  };
  walk('');
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'flowgrad-force-'));
const tiny = ['--layers', '2', '--hidden', '4', '--epochs', '2', '--quiet'];

test('train --force over a 2-D run with 3-D data removes the old density figure and writes the new files', async () => {
  const dir = join(tmp, 'run');
  await quiet(['train', '--dataset', 'two-moons', '--n', '200', '--test-n', '200', ...tiny, '--out', dir]);
  assert.ok(existsSync(join(dir, 'figures', 'density.svg')), 'a 2-D run draws the density');
  const rng = new Rng(1);
  const csv = join(tmp, 'd3.csv');
  writeFileSync(csv, toCsv(Tensor.from(300, 3, Float64Array.from({ length: 900 }, () => rng.normal())), ['a', 'b', 'c']));
  await quiet(['train', '--data', csv, ...tiny, '--out', dir, '--force']);
  assert.not.ok(existsSync(join(dir, 'figures', 'density.svg')), 'the 2-D run\'s density figure is gone');
  assert.is(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).model.dim, 3);
  assert.ok(readdirSync(join(dir, 'figures')).includes('layers.svg'));
});

test("--force keeps the user's own files (beside the run, in figures/, in a folder of their own)", async () => {
  const dir = join(tmp, 'mine');
  await quiet(['train', '--dataset', 'two-moons', '--n', '200', '--test-n', '200', ...tiny, '--out', dir]);
  writeFileSync(join(dir, 'notes.txt'), 'my notes');
  writeFileSync(join(dir, 'figures', 'my-figure.svg'), '<svg/>');
  mkdirSync(join(dir, 'analysis'));
  writeFileSync(join(dir, 'analysis', 'table.csv'), '1,2\n');
  await quiet(['train', '--dataset', 'two-moons', '--n', '200', '--test-n', '200', ...tiny, '--seed', '1', '--out', dir, '--force']);
  assert.is(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'my notes');
  assert.is(readFileSync(join(dir, 'figures', 'my-figure.svg'), 'utf8'), '<svg/>');
  assert.is(readFileSync(join(dir, 'analysis', 'table.csv'), 'utf8'), '1,2\n');
  assert.is(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).training.seed, 1, 'the new run is in place');
  assert.equal(readdirSync(tmp).filter((f) => f.includes('flowgrad-')), [], 'no staging or old folder left');
});

test('--force refuses a folder whose config.json is not a flowgrad run\'s, before any work', async () => {
  const dir = join(tmp, 'unrelated');
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), '{"my": "settings"}');
  const { code, err } = await run(['train', '--dataset', 'two-moons', ...tiny, '--out', dir, '--force']);
  assert.is(code, 1);
  assert.match(err, 'is not a flowgrad run\'s config');
  assert.is(readFileSync(join(dir, 'config.json'), 'utf8'), '{"my": "settings"}');
  assert.equal(readdirSync(dir), ['config.json']);
});

test('a fault at every write, rename and link of train --force leaves the old run or the new one, whole', async () => {
  const dir = join(tmp, 'faults');
  // In this thread (FLOWGRAD_WORKER=0) and without figures, so that a run takes a fraction of a second;
  // the operations are the same writes, renames and links.
  const args = (seed: string) => ['train', '--dataset', 'two-moons', '--n', '100', '--test-n', '50', ...tiny, '--no-figures', '--checkpoint-every', '0', '--seed', seed, '--out', dir, '--force'];
  process.env.FLOWGRAD_WORKER = '0';
  await quiet(args('0'));
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  const old = tree(dir);
  const pristine = join(tmp, 'faults-pristine');
  cpSync(dir, pristine, { recursive: true });
  // The new run, without faults.
  await quiet(args('1'));
  const fresh = tree(dir);
  assert.not.equal(fresh['model.safetensors'], old['model.safetensors']);
  // Fail operation k = 1, 2, ... (one sequence over both threads) until a run no longer meets a fault.
  let oldSeen = 0, newSeen = 0, k = 0;
  for (;;) {
    k++;
    assert.ok(k < 300, 'the run ends within 300 operations');
    rmSync(dir, { recursive: true, force: true });
    for (const f of readdirSync(tmp)) if (f.startsWith('.faults.')) rmSync(join(tmp, f), { recursive: true, force: true });
    cpSync(pristine, dir, { recursive: true });
    process.env.FLOWGRAD_FAULT_AT = String(k);
    resetFaults();
    let result: { code: number; err: string };
    try {
      result = await run(args('1'));
    } finally {
      delete process.env.FLOWGRAD_FAULT_AT;
    }
    const now = tree(dir);
    const same = (a: Record<string, string>) => JSON.stringify(a) === JSON.stringify(now);
    assert.ok(same(old) || same(fresh), `fault at operation ${k} (exit ${result.code}: ${result.err.trim()}): the folder is neither the old run nor the new one: ${Object.keys(now).join(', ')}`);
    if (result.code === 0) break;
    assert.match(result.err, /injected fault|no space left/, `fault ${k} is reported`);
    if (same(old)) oldSeen++;
    else newSeen++;
  }
  assert.ok(k > 10, `the run writes, renames and links (${k - 1} operations)`);
  delete process.env.FLOWGRAD_WORKER;
  assert.ok(oldSeen > 0, `faults before the swap keep the old run (${oldSeen} of ${k - 1})`);
});

test('sample --out writes every row through the streamed temporary file, and leaves no temporary behind', async () => {
  const dir = join(tmp, 'run');
  const out = join(tmp, 'samples.csv');
  await quiet(['sample', '--model', dir, '-n', '25001', '--seed', '3', '--out', out]);
  const table = parseCsv(readFileSync(out, 'utf8'), { header: true });
  assert.equal(table.data.shape, [25001, 3]);
  assert.equal(table.columns, ['a', 'b', 'c']);
  assert.equal(readdirSync(tmp).filter((f) => f.endsWith('.tmp')), []);
});

test('sample --out refuses a device, even with --force', async () => {
  const { code, err } = await run(['sample', '--model', join(tmp, 'run'), '-n', '3', '--out', '/dev/null', '--force']);
  assert.is(code, 1);
  assert.match(err, /pseudo file system|not a regular file/);
});

test.after.each(() => {
  delete process.env.FLOWGRAD_WORKER;
  delete process.env.FLOWGRAD_FAULT_AT;
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
