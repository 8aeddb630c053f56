/**
 * Noisy circles and arcs: "circles" (two concentric rings) and "two-moons" (two interleaved half-circles).
 * A point is a uniform angle on a circle (or half-circle) of radius R plus N(0, σ²I) noise, so the
 * density is an integral over the angle:
 *
 *   p(x) = (1/L) ∫ N(x; c + R·(cos t, sin t), σ²I) dt
 *        = N-factor · exp(-(ρ - R)²/(2σ²)) · (1/L) ∫ exp(-κ·(1 - cos(t - φ))) dt,   κ = ρR/σ²,
 *
 * where (ρ, φ) are the polar coordinates of x - c and L is the length of the angle interval. Over a full
 * circle the integral is 2π·I₀e(κ), the exponentially scaled modified Bessel function, so the circles'
 * density is exact; over a half-circle it is done by Gauss–Legendre quadrature on graded panels.
 *
 * @module
 */

import type { Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';
import { checkColumns, checkCount, sample2d, type Target } from './target.ts';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * log I₀(z) for z ≥ 0, I₀ the modified Bessel function of the first kind of order 0. Computed as
 * z + log I₀e(z) with I₀e(z) = e^(-z)·I₀(z) = (1/π)∫₀^π exp(-z(1 - cos t)) dt, so it never overflows:
 * for z ≤ 1000 by the trapezoid rule with 128 intervals (the integrand is periodic and analytic, so the
 * error is about e^(-256²/2z) ≤ 1e-14 relative), above that by the asymptotic series
 * I₀e(z) ≈ (2πz)^(-1/2)·(1 + 1/8z + 9/128z² + 225/3072z³ + 11025/98304z⁴) (Abramowitz & Stegun 9.7.1),
 * whose first omitted term is below 1e-14 there.
 *
 * @example
 * logBesselI0(0);  // 0
 * logBesselI0(1);  // log 1.2660658777520082 = 0.2359...
 */
export function logBesselI0(z: number): number {
  if (!(z >= 0)) throw new RangeError(`logBesselI0: z must be >= 0, got ${z}`);
  if (z === Infinity) return Infinity;
  if (z > 1000) {
    const w = 1 / z;
    const series = 1 + w * (1 / 8 + w * (9 / 128 + w * (225 / 3072 + w * (11025 / 98304))));
    return z - 0.5 * Math.log(2 * Math.PI * z) + Math.log(series);
  }
  const m = 128;
  let s = 0.5 * (1 + Math.exp(-2 * z)); // t = 0 and t = π, half weight each
  for (let k = 1; k < m; k++) s += Math.exp(-z * (1 - Math.cos((Math.PI * k) / m)));
  return z + Math.log(s / m);
}

// log of (1/(t1 - t0)) ∫ exp(-κ(1 - cos(t - φ))) dt over the arc [t0, t1] (at most a full turn). The
// integrand is scaled by its maximum on the arc, at t* (the arc point nearest φ), so it never underflows.
// From t* outwards it falls off, on a length scale s₀ = min(1/√κ, 1/(κ·|sin(t* - φ)|)) (the peak's width,
// or the decay length where t* is an end of the arc). So the arc is cut into panels that start at t* with
// length s₀ and double in length outwards, each integrated by 16-point Gauss–Legendre: the panels follow
// the integrand however sharp it is, with about 16·log₂(π/s₀) evaluations and a relative error near 1e-12.
function logArcMean(kappa: number, phi: number, t0: number, t1: number): number {
  const tStar = nearestOnArc(phi, t0, t1);
  const logMax = -kappa * (1 - Math.cos(tStar - phi));
  const arc = t1 - t0;
  let s0 = arc;
  if (kappa > 0) {
    s0 = Math.min(s0, 1 / Math.sqrt(kappa));
    const slope = kappa * Math.abs(Math.sin(tStar - phi)); // 0 when φ is on the arc
    if (slope > 0) s0 = Math.min(s0, 1 / slope);
  }
  let total = 0;
  for (const end of [t0, t1]) {
    const length = Math.abs(end - tStar), dir = end > tStar ? 1 : -1;
    let done = 0, size = s0;
    while (done < length) {
      const step = Math.min(size, length - done);
      const a = tStar + dir * done, half = (dir * step) / 2, mid = a + half;
      let s = 0;
      for (let k = 0; k < GL_NODES.length; k++) {
        s += GL_WEIGHTS[k]! * Math.exp(-kappa * (1 - Math.cos(mid + half * GL_NODES[k]! - phi)) - logMax);
      }
      total += s * Math.abs(half);
      done += step;
      size *= 2;
    }
  }
  return logMax + Math.log(total / arc);
}

// Nodes and weights of n-point Gauss–Legendre quadrature on [-1, 1], by Newton's method on P_n from the
// usual starting guesses cos(π(i - ¼)/(n + ½)) (Numerical Recipes §4.6, gauleg); exact to rounding.
function gaussLegendre(n: number): [Float64Array, Float64Array] {
  const nodes = new Float64Array(n), weights = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      // P_n(z) by the three-term recurrence, and its derivative.
      let p0 = 1, p1 = 0;
      for (let j = 1; j <= n; j++) {
        const p2 = p1;
        p1 = p0;
        p0 = ((2 * j - 1) * z * p1 - (j - 1) * p2) / j;
      }
      dp = (n * (z * p0 - p1)) / (z * z - 1);
      const dz = p0 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    nodes[i] = -z;
    nodes[n - 1 - i] = z;
    weights[i] = weights[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
  return [nodes, weights];
}

const [GL_NODES, GL_WEIGHTS] = /* @__PURE__ */ gaussLegendre(16);

// The point of the arc [t0, t1] (t1 - t0 ≤ 2π) closest in angle to φ.
function nearestOnArc(phi: number, t0: number, t1: number): number {
  const twoPi = 2 * Math.PI;
  const offset = (((phi - t0) % twoPi) + twoPi) % twoPi; // φ - t0 wrapped to [0, 2π)
  if (offset <= t1 - t0) return t0 + offset;
  // Outside the arc: the nearer end, measured around the circle.
  return offset - (t1 - t0) < twoPi - offset ? t1 : t0;
}

// log( ½·p₁(x) + ½·p₂(x) ) from log p₁ and log p₂.
function logHalfSum(a: number, b: number): number {
  const max = Math.max(a, b);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(0.5 * Math.exp(a - max) + 0.5 * Math.exp(b - max));
}

const CIRCLE_RADII = [3, 1.5] as const;
const CIRCLE_STD = 0.24;

/**
 * Two concentric noisy rings: with probability ½ each, radius 3 or 1.5, a uniform angle, plus N(0, 0.24²I)
 * noise. This is the FFJORD toy "circles" (W. Grathwohl, R. T. Q. Chen et al., ICLR 2019: scikit-learn's
 * `make_circles(factor=0.5, noise=0.08)` times 3) with the ring and the angle drawn at random instead of
 * evenly spaced, so that rows are independent. `sample` draws per row two uniforms (ring, angle) and two
 * normals. The log-density is exact, through the Bessel function:
 * p(x) = ½ Σᵣ exp(-(|x| - r)²/2σ²)·I₀e(|x|r/σ²) / (2πσ²). No closed-form entropy.
 *
 * @example
 * circles.sample(1000, new Rng(0)); // 1000×2, two rings
 */
export const circles: Target = {
  name: 'circles',
  dim: 2,
  description:
    'Two concentric noisy rings, radius 3 and 1.5 with probability ½ each, uniform angle, N(0, 0.24²I) noise: the ' +
    '"circles" toy of W. Grathwohl, R. T. Q. Chen et al., FFJORD, ICLR 2019 (scikit-learn make_circles(factor=0.5, ' +
    'noise=0.08) × 3). Exact log-density through the modified Bessel function I₀; entropy by Monte Carlo.',
  sample(n: number, rng: RandomSource): Tensor {
    checkCount('circles', n);
    return sample2d(n, (out, o) => {
      const r = rng.uniform() < 0.5 ? CIRCLE_RADII[0] : CIRCLE_RADII[1];
      const t = 2 * Math.PI * rng.uniform();
      out[o] = r * Math.cos(t) + CIRCLE_STD * rng.normal();
      out[o + 1] = r * Math.sin(t) + CIRCLE_STD * rng.normal();
    });
  },
  logDensity(x: Tensor): Float64Array {
    checkColumns('circles', x, 2);
    const s2 = CIRCLE_STD * CIRCLE_STD;
    const logNorm = -LOG_2PI - Math.log(s2);
    const out = new Float64Array(x.rows);
    for (let i = 0; i < x.rows; i++) {
      const rho = Math.hypot(x.data[2 * i]!, x.data[2 * i + 1]!);
      const ring = (r: number) => {
        const kappa = (rho * r) / s2;
        // exp(-(ρ² + r²)/2σ²)·I₀(κ) = exp(-(ρ - r)²/2σ²)·I₀e(κ)
        return logNorm - ((rho - r) * (rho - r)) / (2 * s2) + logBesselI0(kappa) - kappa;
      };
      out[i] = logHalfSum(ring(CIRCLE_RADII[0]), ring(CIRCLE_RADII[1]));
    }
    return out;
  },
};

const MOON_RADIUS = 2;
const MOON_STD = 0.2;
// The upper moon: centre (-1, -0.5), angles [0, π]; the lower moon: centre (1, 0.5), angles [π, 2π].
const MOONS = [
  { cx: -1, cy: -0.5, t0: 0 },
  { cx: 1, cy: 0.5, t0: Math.PI },
] as const;

/**
 * Two interleaved noisy half-circles. scikit-learn's `make_moons(noise=0.1)` (F. Pedregosa et al., JMLR 2011)
 * centred and doubled: with probability ½ each, the upper arc (-1, -0.5) + 2(cos t, sin t) or the lower arc
 * (1, 0.5) + 2(cos t, sin t) with t uniform on [0, π] or [π, 2π] respectively, plus N(0, 0.2²I) noise (so
 * x spans about [-3.6, 3.6] and y about [-2.1, 2.1]). Unlike scikit-learn, the arc and t are drawn at
 * random, not evenly spaced, so rows are independent. `sample` draws per row two uniforms and two normals.
 * The log-density integrates the noise over t by Gauss–Legendre quadrature on panels that grow
 * geometrically away from the integrand's peak: log p is accurate to about 1e-10 near the moons and far
 * from them alike, and finite however far out x is.
 *
 * @example
 * twoMoons.logDensity!(twoMoons.sample(3, new Rng(0))); // Float64Array(3)
 */
export const twoMoons: Target = {
  name: 'two-moons',
  dim: 2,
  description:
    'Two interleaved noisy half-circles of radius 2 (scikit-learn make_moons(noise=0.1), F. Pedregosa et al., JMLR ' +
    '2011, centred and doubled), arc and angle drawn at random, N(0, 0.2²I) noise. Log-density by Gauss–Legendre ' +
    'quadrature over the angle (error about 1e-10); entropy by Monte Carlo.',
  sample(n: number, rng: RandomSource): Tensor {
    checkCount('two-moons', n);
    return sample2d(n, (out, o) => {
      const moon = rng.uniform() < 0.5 ? MOONS[0] : MOONS[1];
      const t = moon.t0 + Math.PI * rng.uniform();
      out[o] = moon.cx + MOON_RADIUS * Math.cos(t) + MOON_STD * rng.normal();
      out[o + 1] = moon.cy + MOON_RADIUS * Math.sin(t) + MOON_STD * rng.normal();
    });
  },
  logDensity(x: Tensor): Float64Array {
    checkColumns('two-moons', x, 2);
    const s2 = MOON_STD * MOON_STD;
    const logNorm = -LOG_2PI - Math.log(s2);
    const out = new Float64Array(x.rows);
    for (let i = 0; i < x.rows; i++) {
      const arc = (m: (typeof MOONS)[number]) => {
        const dx = x.data[2 * i]! - m.cx, dy = x.data[2 * i + 1]! - m.cy;
        const rho = Math.hypot(dx, dy), phi = Math.atan2(dy, dx);
        const kappa = (rho * MOON_RADIUS) / s2;
        const radial = -((rho - MOON_RADIUS) * (rho - MOON_RADIUS)) / (2 * s2);
        return logNorm + radial + logArcMean(kappa, phi, m.t0, m.t0 + Math.PI);
      };
      out[i] = logHalfSum(arc(MOONS[0]), arc(MOONS[1]));
    }
    return out;
  },
};
