import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { erfc, logNormalMass, logStandardNormal, standardNormalCdf } from '../../src/sbi/special.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

test('erfc matches reference values to 1e-14 relative, tails included', () => {
  // Values from mpmath (erfc at 50 digits, rounded to double).
  const cases: [number, number][] = [
    [0, 1],
    [0.1, 0.887537083981715],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [3, 2.209049699858544e-5],
    [6, 2.1519736712498913e-17],
    [10, 2.088487583762545e-45],
    [-1, 1.8427007929497148],
  ];
  for (const [x, e] of cases) assertClose(erfc(x), e, `erfc(${x})`, { rtol: 1e-14 });
});

test('standardNormalCdf is ½ at 0, symmetric, and Φ(−8) keeps its digits', () => {
  assertClose(standardNormalCdf(0), 0.5, 'Φ(0)', { rtol: 1e-15 });
  assertClose(standardNormalCdf(1.3) + standardNormalCdf(-1.3), 1, 'Φ(z) + Φ(−z)', { rtol: 1e-15 });
  assertClose(standardNormalCdf(-8), 6.22096057427178e-16, 'Φ(−8)', { rtol: 1e-13 });
  assertClose(standardNormalCdf(1.959963984540054), 0.975, 'Φ(1.96)', { rtol: 1e-14 });
  assertClose(standardNormalCdf(-1), 0.15865525393145707, 'Φ(−1)', { rtol: 1e-14 });
  assertClose(standardNormalCdf(-20), 2.7536241186062337e-89, 'Φ(−20) keeps its relative precision', { rtol: 1e-12 });
  assert.ok(Number.isNaN(standardNormalCdf(NaN)), 'Φ(NaN) is NaN');
});

test('logNormalMass matches a fine midpoint integral of the density, near and far out', () => {
  for (const [a, b] of [[-1, 1], [0.5, 2], [-3, -2.5], [8, 9]] as const) {
    const steps = 20000, h = (b - a) / steps;
    let s = 0;
    for (let k = 0; k < steps; k++) s += Math.exp(logStandardNormal(a + (k + 0.5) * h)) * h;
    assertClose(logNormalMass(a, b), Math.log(s), `log mass [${a}, ${b}]`, { rtol: 1e-8, atol: 1e-8 });
  }
  assertThrows(() => logNormalMass(1, 1), ['needs a < b']);
});

test.run();
