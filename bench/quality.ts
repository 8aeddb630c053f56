/**
 * Quality of the default recipe and of the spline recipe on every data set: runs exactly what `flowgrad
 * train --dataset NAME` does (the CLI, as a child process, with no flag but --seed, and `--coupling
 * spline` for the spline recipe's row) and tabulates test NLL, KL(p‖q) where the density is known, the
 * entropy, epochs and time. Also the post's preset on its own target (`--preset post`).
 *
 *   npx tsx bench/quality.ts [--seeds 1,2,3] [--datasets a,b] [--recipes default,spline] [--out bench/quality.json]
 *
 * Slow (minutes): not part of `npm run bench`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasets } from '../src/data/datasets.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const seeds = (flag('seeds') ?? '1').split(',').map(Number);
const names = (flag('datasets') ?? Object.keys(datasets).join(',')).split(',');
const outFile = flag('out') ?? 'bench/quality.json';
const preset = flag('preset') ?? 'default';
// The recipes to run, each a row per data set and seed: 'default' (affine) and 'spline' (`--coupling spline`).
const recipes = (flag('recipes') ?? (preset === 'post' ? 'default' : 'default,spline')).split(',');
for (const r of recipes) if (r !== 'default' && r !== 'spline') throw new RangeError(`--recipes: 'default' or 'spline', got ${r}`);
const root = new URL('..', import.meta.url).pathname;

interface Row { recipe: string; dataset: string; seed: number; nll: number; nllStdErr: number; kl?: number | undefined; klStdErr?: number | undefined; entropy?: number | undefined; epochs: number; bestEpoch: number; seconds: number }
const rows: Row[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'flowgrad-quality-'));
try {
  for (const name of names) {
    for (const recipe of recipes) for (const seed of seeds) {
      const out = join(tmp, `${name}-${recipe}-${seed}`);
      const extra = recipe === 'spline' ? ['--coupling', 'spline'] : [];
      const text = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', '--dataset', name, '--preset', preset, ...extra, '--seed', String(seed), '--out', out, '--json'], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
      const r = JSON.parse(text.trim().split('\n').at(-1)!);
      const row: Row = { recipe, dataset: name, seed, nll: r.nll, nllStdErr: r.nllStdErr, kl: r.kl, klStdErr: r.klStdErr, entropy: datasets[name]!.entropy, epochs: r.epochs, bestEpoch: r.bestEpoch, seconds: r.trainSeconds };
      rows.push(row);
      const f = (v: number | undefined, d = 4) => (v === undefined ? '—' : v.toFixed(d));
      console.log(`${name.padEnd(16)} ${recipe.padEnd(7)} seed ${seed}  NLL ${f(row.nll)} ± ${f(row.nllStdErr)}  KL ${f(row.kl)} ± ${f(row.klStdErr)}  H ${f(row.entropy)}  epochs ${row.epochs} (best ${row.bestEpoch})  ${row.seconds.toFixed(0)} s`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), preset, recipes, node: process.version, rows }, null, 1) + '\n');
console.log(`wrote ${outFile}`);
