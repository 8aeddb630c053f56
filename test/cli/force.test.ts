/**
 * `train --force` into an earlier run's folder leaves nothing stale, and `sample --out` streams to its
 * file. In-process (`main`), with tiny runs.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.ts';
import { parseCsv, toCsv } from '../../src/data/csv.ts';
import { Rng } from '../../src/rng/rng.ts';
import { Tensor } from '../../src/autograd/tensor.ts';

async function quiet(args: string[]): Promise<number> {
  const write = { out: process.stdout.write, err: process.stderr.write };
  let err = '';
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
  try {
    const code = await main(args);
    if (code !== 0) throw new Error(`flowgrad ${args.join(' ')} exited ${code}: ${err}`);
    return code;
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
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

test('sample --out writes every row through the streamed temporary file, and leaves no temporary behind', async () => {
  const dir = join(tmp, 'run');
  const out = join(tmp, 'samples.csv');
  await quiet(['sample', '--model', dir, '-n', '25001', '--seed', '3', '--out', out]);
  const table = parseCsv(readFileSync(out, 'utf8'), { header: true });
  assert.equal(table.data.shape, [25001, 3]);
  assert.equal(table.columns, ['a', 'b', 'c']);
  assert.equal(readdirSync(tmp).filter((f) => f.endsWith('.tmp')), []);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
