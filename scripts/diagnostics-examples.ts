/**
 * Writes the example figures of the calibration diagnostics to docs/: the closed-form gaussian-linear task
 * (θ ~ N(0, 0.1·I₃), x ~ N(θ, 0.1·I₃), posterior N(x/2, 0.05·I₃)) checked with a posterior made wrong on
 * purpose, one way per parameter: θ₁ exact, θ₂ shifted up by half a posterior sd, θ₃ too narrow (0.7 ×
 * sd); and a corner plot of that posterior for one observation with the exact one overlaid.
 *
 *   npx tsx scripts/diagnostics-examples.ts [outDir]   (default docs/)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '../src/autograd/tensor.ts';
import { cornerFigure, coverageFigure, recoveryFigure, sbcEcdfFigure, sbcRankFigure } from '../src/plot/index.ts';
import { Rng, type RandomSource } from '../src/rng/rng.ts';
import { checkPosterior, formatReport } from '../src/sbi/diagnostics.ts';

const out = process.argv[2] ?? join(import.meta.dirname, '..', 'docs');
const d = 3, sd = Math.sqrt(0.05);
const shift = [0, 0.5 * sd, 0], scale = [1, 1, 0.7];
const normalRows = (n: number, f: (k: number, j: number) => number) => {
  const data = new Float64Array(n * d);
  for (let k = 0; k < n; k++) for (let j = 0; j < d; j++) data[k * d + j] = f(k, j);
  return data;
};
const prior = { sample: (n: number, rng: RandomSource) => Tensor.from(n, d, normalRows(n, () => Math.sqrt(0.1) * rng.normal())) };
const simulate = (theta: Tensor, rng: RandomSource) => Tensor.from(theta.rows, d, theta.data.map((t) => t + Math.sqrt(0.1) * rng.normal()));
const posteriorWith = (s: readonly number[], c: readonly number[]) => ({
  sample(m: number, x: Tensor, rng: RandomSource): Tensor {
    const data = new Float64Array(x.rows * m * d);
    for (let i = 0; i < x.rows; i++) for (let k = 0; k < m; k++) for (let j = 0; j < d; j++) data[(i * m + k) * d + j] = x.data[i * d + j]! / 2 + s[j]! + c[j]! * sd * rng.normal();
    return Tensor.from(x.rows * m, d, data);
  },
  logProb(theta: Tensor, x: Tensor): Float64Array {
    const lp = new Float64Array(theta.rows);
    for (let i = 0; i < theta.rows; i++) {
      for (let j = 0; j < d; j++) {
        const w = c[j]! * sd, z = (theta.data[i * d + j]! - x.data[i * d + j]! / 2 - s[j]!) / w;
        lp[i] += -0.5 * z * z - Math.log(w) - 0.5 * Math.log(2 * Math.PI);
      }
    }
    return lp;
  },
});

const report = checkPosterior({ prior, simulate, posterior: posteriorWith(shift, scale), rng: new Rng(2026) });
console.log(formatReport(report).join('\n'));
const names = report.names;
const what = 'θ₁ exact, θ₂ shifted +0.5 sd, θ₃ 0.7× too narrow';
writeFileSync(join(out, 'sbc-example.svg'), sbcRankFigure(report.sbc, { names, title: `SBC rank histograms (${what})` }));
writeFileSync(join(out, 'sbc-ecdf-example.svg'), sbcEcdfFigure(report.sbc, { names, title: `SBC ECDF difference (${what})` }));
writeFileSync(join(out, 'coverage-example.svg'), coverageFigure(report.coverage, { names, title: 'expected coverage' }));
writeFileSync(join(out, 'recovery-example.svg'), recoveryFigure(report.recovery, { names, title: `recovery (${what})` }));
const rng = new Rng(7);
const theta = prior.sample(1, rng), x = simulate(theta, rng);
const approx = posteriorWith(shift, scale).sample(5000, x, rng), exact = posteriorWith([0, 0, 0], [1, 1, 1]).sample(2000, x, rng);
writeFileSync(join(out, 'corner-example.svg'), cornerFigure(approx, { names, truth: Array.from(theta.data), reference: exact, title: 'posterior samples for one observation, exact posterior in orange' }));
console.log(`wrote 5 figures to ${out}`);
