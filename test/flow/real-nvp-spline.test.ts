/**
 * RealNVP with spline couplings (`coupling: 'spline' | 'alternating'`, `bins`, `splineBound`): the
 * bijection properties of the whole flow, unconditional and conditional; the config that says so and
 * rebuilds the same model; an old config without `coupling` still an affine model; bad options refused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { AffineCoupling } from '../../src/flow/affine-coupling.ts';
import { checkBijection } from '../../src/flow/check.ts';
import { RealNVP, type RealNVPConfig } from '../../src/flow/real-nvp.ts';
import { SplineCoupling } from '../../src/flow/spline-coupling.ts';
import { assertThrows } from '../helpers/assert.ts';

const tolerance = { logDet: 1e-5 };

function rows(n: number, dim: number, rng: Rng, scale = 1.5): Tensor {
  const data = new Float64Array(n * dim);
  for (let i = 0; i < data.length; i++) data[i] = scale * rng.normal();
  return Tensor.from(n, dim, data);
}

test('a spline RealNVP is built of SplineCouplings with its bins and bound, an alternating one of spline and affine in turn', () => {
  const spline = new RealNVP({ dim: 3, layers: 3, hidden: 6, coupling: 'spline', bins: 5, splineBound: 4, rng: new Rng(0) });
  for (const c of spline.flows) {
    assert.instance(c, SplineCoupling);
    assert.is((c as SplineCoupling).spline.bins, 5);
    assert.is((c as SplineCoupling).spline.bound, 4);
  }
  assert.is(spline.config.coupling, 'spline');
  assert.is(spline.config.bins, 5);
  assert.is(spline.config.splineBound, 4);
  const alt = new RealNVP({ dim: 2, layers: 4, hidden: 4, coupling: 'alternating', rng: new Rng(0) });
  assert.equal(alt.flows.map((c) => c.constructor.name), ['SplineCoupling', 'AffineCoupling', 'SplineCoupling', 'AffineCoupling']);
  assert.is(alt.config.bins, 8);
  assert.is(alt.config.splineBound, 3);
  assert.match(alt.describe(), 'coupling=alternating, bins=8, splineBound=3');
  // The affine model's config is exactly what earlier versions wrote: no coupling fields.
  const affine = new RealNVP({ dim: 2, layers: 2, rng: new Rng(0) }).config;
  for (const key of ['coupling', 'bins', 'splineBound']) assert.not.ok(key in affine, key);
});

test('spline and alternating RealNVPs pass checkBijection (round trips, log-det against the Jacobian), with standardisation', () => {
  for (const coupling of ['spline', 'alternating'] as const) {
    const rng = new Rng(7);
    const flow = new RealNVP({ dim: 3, layers: 4, hidden: 6, coupling, bins: 6, splineBound: 2.5, rng, standardize: { mean: [0.5, -1, 0], std: [2, 0.5, 1] } });
    const report = checkBijection(flow, { rng, perturb: 0.3, eps: 1e-5, tolerance });
    assert.ok(report.ok, `${coupling}: ${report.summary}`);
  }
});

test('a conditional spline RealNVP passes checkBijection with its context, and its context gradient matches central differences', () => {
  for (const coupling of ['spline', 'alternating'] as const) {
    const rng = new Rng(8);
    const flow = new RealNVP({ dim: 2, contextDim: 3, layers: 3, hidden: 6, coupling, bins: 4, splineBound: 3, rng, standardizeContext: { mean: [0, 1, -1], std: [1, 2, 0.5] } });
    assert.ok(flow.flows.every((c) => c.contextDim === 3));
    const report = checkBijection(flow, { rng, perturb: 0.3, eps: 1e-5, tolerance });
    assert.ok(report.ok, `${coupling}: ${report.summary}`);
    assert.ok(report.contextSensitivity > 0);
    const theta = flow.sample(5, rows(2, 3, rng), rng);
    assert.is(theta.rows, 10);
  }
});

test('RealNVP.fromConfig rebuilds a spline model that gives the same log-densities once its weights are loaded', () => {
  const rng = new Rng(9);
  const flow = new RealNVP({ dim: 4, layers: 3, hidden: 5, coupling: 'alternating', bins: 7, splineBound: 3.5, rng });
  for (const p of flow.parameters()) for (let i = 0; i < p.data.length; i++) p.data[i] = 0.2 * rng.normal();
  const config = JSON.parse(JSON.stringify(flow.config)) as RealNVPConfig;
  const again = RealNVP.fromConfig(config);
  assert.equal(again.config, flow.config);
  again.loadStateDict(flow.stateDict());
  const x = rows(16, 4, rng);
  assert.equal(Array.from(again.logProb(x).data), Array.from(flow.logProb(x).data));
});

test('an old config without coupling rebuilds an affine model', () => {
  const config = JSON.parse(JSON.stringify(new RealNVP({ dim: 2, layers: 2, hidden: 3, rng: new Rng(0) }).config)) as RealNVPConfig;
  assert.not.ok('coupling' in config);
  const flow = RealNVP.fromConfig(config);
  assert.ok(flow.flows.every((c) => c instanceof AffineCoupling));
});

test('bad coupling options are refused with the option named', () => {
  const rng = new Rng(0);
  assertThrows(() => new RealNVP({ dim: 2, coupling: 'splines' as never, rng }), ['coupling must be', "'spline'", 'splines']);
  assertThrows(() => new RealNVP({ dim: 2, bins: 8, rng }), ['bins applies to spline couplings', "coupling: 'spline'"]);
  assertThrows(() => new RealNVP({ dim: 2, coupling: 'affine', splineBound: 4, rng }), ['splineBound applies to spline couplings']);
  for (const bins of [1, 2.5, 1025, NaN]) assertThrows(() => new RealNVP({ dim: 2, coupling: 'spline', bins, rng }), ['bins must be an integer in 2..1024']);
  for (const splineBound of [0, -1, Infinity, NaN]) assertThrows(() => new RealNVP({ dim: 2, coupling: 'spline', splineBound, rng }), ['splineBound must be a positive finite number']);
  assertThrows(() => new RealNVP({ dim: 2, coupling: 'spline', bin: 4, rng } as never), ['"bin"', 'did you mean "bins"']);
});

test.run();
