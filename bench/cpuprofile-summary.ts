/**
 * Summarises a V8 CPU profile (`node --cpu-prof` writes `*.cpuprofile`): self and total time per
 * function, the top entries, and the share of the garbage collector.
 *
 *   npx tsc -p . --outDir /tmp/fgdist --sourceMap false --declaration false
 *   (cd /tmp/fgdist && taskset -c 0 node --cpu-prof --cpu-prof-dir=/tmp/prof bench/main.js --no-respawn --profile-steps 5000)
 *   npx tsx bench/cpuprofile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top 30]
 *
 * Profiling the tsc output gives line numbers close to the sources; under tsx (`node --cpu-prof --import
 * tsx bench/main.ts ...`) the function names are right but every line reads 1. (A second profile file,
 * the module loader's thread, is mostly idle.)
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { table } from './stats.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** "name (file:line)" with the path shortened to the part after the repository root. */
function keyOf(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const name = functionName === '' ? '(anonymous)' : functionName;
  if (url === '') return name;
  const file = url.replace(/^file:\/\//, '').replace(/^.*?\/(src|bench|node_modules)\//, '$1/');
  return `${name} (${file}:${lineNumber + 1})`;
}

/**
 * Self and total milliseconds per function key.
 * @example summarize(JSON.parse(readFileSync(file, 'utf8')));
 */
export function summarizeProfile(p: Profile): { total: number; rows: { key: string; self: number; total: number }[] } {
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let sum = 0;
  for (let k = 0; k < p.samples.length; k++) {
    const dt = (p.timeDeltas[k] ?? 0) / 1000;
    sum += dt;
    let id: number | undefined = p.samples[k];
    const leaf = byId.get(id!)!;
    self.set(keyOf(leaf), (self.get(keyOf(leaf)) ?? 0) + dt);
    const seen = new Set<string>();
    while (id !== undefined) {
      const key = keyOf(byId.get(id)!);
      if (!seen.has(key)) {
        seen.add(key);
        total.set(key, (total.get(key) ?? 0) + dt);
      }
      id = parent.get(id);
    }
  }
  const rows = [...total.keys()].map((key) => ({ key, self: self.get(key) ?? 0, total: total.get(key) ?? 0 }));
  return { total: sum, rows };
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const args = process.argv.slice(2);
  const k = args.indexOf('--top');
  const top = k >= 0 ? Number(args[k + 1]) : 30;
  const files = args.filter((a, i) => !a.startsWith('--') && (k < 0 || i !== k + 1));
  if (files.length === 0) {
    console.error('usage: tsx bench/cpuprofile-summary.ts FILE.cpuprofile [--top N]');
    process.exit(2);
  }
  for (const file of files) {
    const { total, rows } = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    const pct = (x: number) => `${((100 * x) / total).toFixed(1)}%`;
    console.log(`${file}: ${(total / 1000).toFixed(2)} s sampled`);
    console.log('\nby self time');
    const bySelf = [...rows].sort((a, b) => b.self - a.self).slice(0, top);
    console.log(table(['function', 'self', 'total'], bySelf.map((r) => [r.key, pct(r.self), pct(r.total)])));
    console.log('\nby total time (functions of src/ and the GC)');
    const byTotal = rows.filter((r) => r.key.includes('src/') || r.key.startsWith('(garbage')).sort((a, b) => b.total - a.total).slice(0, top);
    console.log(table(['function', 'total', 'self'], byTotal.map((r) => [r.key, pct(r.total), pct(r.self)])));
  }
}
