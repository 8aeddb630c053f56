/**
 * The house's layering (STYLE.md): rng <- autograd <- nn <- optim, flow <- train <- sbi <- cli, with data,
 * plot and io beside them. Each source folder may import only the folders listed for it here; the test
 * reads every import in src/ and fails naming the file and the import that crosses a layer upward.
 * Only src/cli may import Node's modules; no file under src/ may call Math.random.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const SRC = join(import.meta.dirname, '..', '..', 'src');

/** What each folder may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  rng: [],
  autograd: ['rng'],
  nn: ['rng', 'autograd'],
  optim: ['rng', 'autograd', 'nn'],
  flow: ['rng', 'autograd', 'nn'],
  data: ['rng', 'autograd'],
  plot: ['rng', 'autograd'],
  io: ['rng', 'autograd', 'nn', 'flow'],
  train: ['rng', 'autograd', 'nn', 'optim', 'flow', 'data'],
  sbi: ['rng', 'autograd', 'nn', 'optim', 'flow', 'data', 'train', 'plot', 'io'],
  cli: ['rng', 'autograd', 'nn', 'optim', 'flow', 'data', 'train', 'sbi', 'plot', 'io'],
};

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function importsOf(text: string): string[] {
  const specs: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\('([^']+)'\)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) specs.push((m[1] ?? m[2])!);
  return specs;
}

const files = filesUnder(SRC);

test('every source folder is one of the house layers', () => {
  const folders = new Set(files.map((f) => relative(SRC, f).split('/')).filter((p) => p.length > 1).map((p) => p[0]!));
  for (const folder of folders) assert.ok(folder in ALLOWED, `src/${folder} is not a known layer; add it to ALLOWED with what it may import`);
});

test('no lower layer imports a higher one', () => {
  const problems: string[] = [];
  for (const file of files) {
    const parts = relative(SRC, file).split('/');
    if (parts.length < 2) continue; // src/index.ts, the public face, imports everything
    const folder = parts[0]!;
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = relative(SRC, join(file, '..', spec)).split('/');
      const to = target.length > 1 ? target[0]! : '(src root)';
      if (to === folder) continue;
      if (!(ALLOWED[folder] ?? []).includes(to)) problems.push(`${relative(SRC, file)} imports ${spec} (${folder} -> ${to})`);
    }
  }
  assert.equal(problems, []);
});

test('only src/cli imports Node modules, and nothing calls Math.random', () => {
  const problems: string[] = [];
  for (const file of files) {
    const rel = relative(SRC, file);
    const text = readFileSync(file, 'utf8');
    if (!rel.startsWith('cli/')) {
      for (const spec of importsOf(text)) if (!spec.startsWith('.')) problems.push(`${rel} imports ${spec}`);
    }
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    if (/Math\.random\s*\(/.test(code)) problems.push(`${rel} calls Math.random`);
  }
  assert.equal(problems, []);
});

test('the checker sees a violation (it is not vacuous)', () => {
  assert.equal(importsOf("import { fit } from '../train/fit.ts';\nexport { x } from './y.ts';"), ['../train/fit.ts', './y.ts']);
  assert.ok(!ALLOWED.nn!.includes('flow'));
});

test.run();
