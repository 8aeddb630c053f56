/**
 * Model files PyTorch reads as they are, against a checked-in fixture (test/fixtures/pytorch, written by
 * saveModel): biases and other vectors are 1-D, weights 2-D [out, in]; the file loads back here to the
 * recorded log-densities, as does the older layout with [1, n] biases; the README's PyTorch snippet is the
 * fixture's load_in_torch.py. That script runs when python3 has torch and safetensors; otherwise the same
 * layout rules are checked by check_layout.py (standard library only) when python3 exists, and by our own
 * reader always.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/autograd/tensor.ts';
import { loadModel } from '../../src/io/model.ts';
import { loadSafetensors, safetensorsHeader, saveSafetensors } from '../../src/io/safetensors.ts';

const dir = fileURLToPath(new URL('../fixtures/pytorch/', import.meta.url));
const configJson = readFileSync(`${dir}config.json`, 'utf8');
const weights = new Uint8Array(readFileSync(`${dir}model.safetensors`));
const expected = JSON.parse(readFileSync(`${dir}expected.json`, 'utf8')) as { x: number[][]; logProb: number[] };

function python(args: string[]): { status: number | null; stdout: string; stderr: string } | null {
  const r = spawnSync('python3', args, { encoding: 'utf8', timeout: 60_000 });
  return r.error !== undefined ? null : { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the fixture loads to its recorded log-densities, to the bit', () => {
  const flow = loadModel(configJson, weights);
  assert.equal(Array.from(flow.logProb(tensor(expected.x)).data), expected.logProb);
});

test("every weight is 2-D [out, in] with a 1-D bias [out] beside it, as torch.nn.Linear's load_state_dict needs", () => {
  const entries = safetensorsHeader(weights).entries;
  const byName = new Map(entries.map((e) => [e.name, e]));
  let linears = 0;
  for (const e of entries) {
    if (e.name.endsWith('.bias') || e.name.startsWith('standardize.')) assert.is(e.shape.length, 1, `${e.name} is a vector`);
    if (!e.name.endsWith('.weight')) continue;
    assert.is(e.shape.length, 2, `${e.name} is a matrix`);
    const bias = byName.get(e.name.replace(/weight$/, 'bias'));
    assert.ok(bias !== undefined, `${e.name} has a bias`);
    assert.equal(bias!.shape, [e.shape[0]], `${e.name}: bias [out]`);
    linears++;
  }
  assert.ok(linears >= 4, `${linears} Linear layers`);
});

test('the older layout, with biases saved [1, n], loads too, to the same values', () => {
  const { tensors, metadata } = loadSafetensors(weights);
  const old = saveSafetensors(tensors, metadata); // no `vector`: every tensor written [rows, cols]
  assert.ok(safetensorsHeader(old).entries.some((e) => e.name.endsWith('.bias') && e.shape.length === 2), 'biases are 2-D in the old layout');
  const flow = loadModel(configJson, old);
  assert.equal(Array.from(flow.logProb(tensor(expected.x)).data), expected.logProb);
});

test("the README's PyTorch snippet is the fixture's script, and it (or its standard-library check) accepts the file", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = /<!-- pytorch-snippet -->\n```python\n([\s\S]*?)```/.exec(readme);
  assert.ok(block !== null, 'the README has the marked snippet');
  const script = readFileSync(`${dir}load_in_torch.py`, 'utf8');
  const body = script.split('\n').filter((l) => !l.startsWith('# Loads a flowgrad') && !l.startsWith('# Needs:')).join('\n').trim();
  assert.is(block![1]!.trim(), body, 'README snippet = test/fixtures/pytorch/load_in_torch.py (minus its two header lines)');
  const torch = python(['-c', 'import torch, safetensors']);
  if (torch !== null && torch.status === 0) {
    const r = python([`${dir}load_in_torch.py`, `${dir}model.safetensors`])!;
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, '4 Linear layers loaded');
    return;
  }
  const check = python([`${dir}check_layout.py`, `${dir}model.safetensors`]);
  if (check === null) {
    console.log('  (python3 not found: the layout was checked by our own reader only)');
    return;
  }
  console.log('  (torch is not installed: load_in_torch.py was not run; check_layout.py checked the layout it needs)');
  assert.is(check.status, 0, check.stderr);
  assert.match(check.stdout, '4 Linear layers would load');
});

test.run();
