import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor, tensor } from '../../src/autograd/tensor.ts';
import { circles, logBesselI0, twoMoons } from '../../src/data/rings.ts';
import { Rng } from '../../src/rng/rng.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

test('logBesselI0 matches reference values on both sides of the switch at 1000', () => {
  // References: mpmath.log(mpmath.besseli(0, z)) at 30 digits.
  const cases: [number, number][] = [
    [0, 0],
    [0.5, 0.061549719185481303941],
    [1, 0.23591435850717864869],
    [10, 7.9429720831186955545],
    [50, 47.127575501871804584],
    [999.9, 995.5273589048833802],
    [1000.1, 995.72725887985805292],
    [2000, 1995.2806727526574305],
    [1e5, 99993.324599984316463],
  ];
  for (const [z, expected] of cases) assertClose(logBesselI0(z), expected, `log I0(${z})`, { rtol: 1e-14, atol: 1e-15 });
  assertThrows(() => logBesselI0(-1), ['z must be >= 0']);
});

// (1/L)∫ N(x; c + R(cos t, sin t), σ²I) dt by the midpoint rule with many nodes, without any tricks.
// Over a full circle the rule is spectrally accurate; over a half-circle its relative error is about
// (hλ)²/24 with λ ≤ 125 the integrand's decay rate at an end here, so 400,000 nodes give about 1e-8.
function bruteArc(x: number, y: number, cx: number, cy: number, r: number, std: number, t0: number, t1: number, m = 20000): number {
  const h = (t1 - t0) / m;
  let s = 0;
  for (let k = 0; k < m; k++) {
    const t = t0 + (k + 0.5) * h;
    const dx = x - cx - r * Math.cos(t), dy = y - cy - r * Math.sin(t);
    s += Math.exp(-(dx * dx + dy * dy) / (2 * std * std));
  }
  return (s * h) / (t1 - t0) / (2 * Math.PI * std * std);
}

const PROBES = [[0, 0], [3, 0], [1, 1.2], [-2.2, 0.4], [0.3, -1.4], [1.5, 2.5], [-3, -2], [4, 4]];

test('the circles log-density matches a brute-force angle integral', () => {
  const lp = circles.logDensity!(tensor(PROBES));
  PROBES.forEach(([x, y], i) => {
    const p = 0.5 * bruteArc(x!, y!, 0, 0, 3, 0.24, 0, 2 * Math.PI) + 0.5 * bruteArc(x!, y!, 0, 0, 1.5, 0.24, 0, 2 * Math.PI);
    assertClose(lp[i]!, Math.log(p), `log p(${x}, ${y})`, { rtol: 1e-9, atol: 1e-9 });
  });
});

test('the two-moons log-density matches a brute-force angle integral', () => {
  const lp = twoMoons.logDensity!(tensor(PROBES));
  PROBES.forEach(([x, y], i) => {
    const p = 0.5 * bruteArc(x!, y!, -1, -0.5, 2, 0.2, 0, Math.PI, 400_000) + 0.5 * bruteArc(x!, y!, 1, 0.5, 2, 0.2, Math.PI, 2 * Math.PI, 400_000);
    assertClose(lp[i]!, Math.log(p), `log p(${x}, ${y})`, { atol: 1e-7 });
  });
});

function gridIntegral(logDensity: (x: Tensor) => Float64Array, half: number, m: number): number {
  const h = (2 * half) / m;
  const pts = new Float64Array(2 * m * m);
  for (let j = 0; j < m; j++) for (let i = 0; i < m; i++) {
    pts[2 * (j * m + i)] = -half + (i + 0.5) * h;
    pts[2 * (j * m + i) + 1] = -half + (j + 0.5) * h;
  }
  let s = 0;
  for (const v of logDensity(Tensor.from(m * m, 2, pts))) s += Math.exp(v);
  return s * h * h;
}

test('the circles density integrates to 1', () => {
  assertClose(gridIntegral((x) => circles.logDensity!(x), 5, 100), 1, 'integral', { rtol: 1e-9 });
});

test('the two-moons density integrates to 1', () => {
  assertClose(gridIntegral((x) => twoMoons.logDensity!(x), 5, 100), 1, 'integral', { rtol: 1e-9 });
});

test('the log-densities stay finite far from the data', () => {
  for (const t of [circles, twoMoons]) {
    const lp = t.logDensity!(tensor([[50, -40], [1e3, 1e3]]));
    for (const v of lp) assert.ok(Number.isFinite(v) && v < -1000, `${t.name}: ${v}`);
  }
});

test('circle samples sit on radii 3 and 1.5 in equal shares', () => {
  const n = 8000;
  const x = circles.sample(n, new Rng(9)).data;
  let outer = 0;
  for (let i = 0; i < n; i++) if (Math.hypot(x[2 * i]!, x[2 * i + 1]!) > 2.25) outer++;
  assertClose(outer / n, 0.5, 'share on the outer ring', { atol: 4 * Math.sqrt(0.25 / n) });
});

test.run();
