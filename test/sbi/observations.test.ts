import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import { observation, observations } from '../../src/sbi/observations.ts';
import { allTasks, getTask } from '../../src/sbi/tasks.ts';
import { assertThrows } from '../helpers/assert.ts';

test('observation k draws θ* from the prior and x from the simulator with the k-th seed', () => {
  for (const task of allTasks()) {
    const all = observations(task);
    assert.is(all.length, 10);
    for (const o of all) {
      assert.is(o.seed, task.observationSeeds[o.index - 1]);
      const rng = new Rng(o.seed), theta = task.prior.sample(1, rng);
      assert.equal(Array.from(o.theta), Array.from(theta.data));
      assert.equal(Array.from(o.x), Array.from(task.simulate(theta, rng).data));
      assert.ok(task.prior.logProb(Tensor.from(1, task.thetaDim, o.theta))[0]! > -Infinity);
    }
  }
  assert.equal(observation(getTask('slcp'), 7).seed, 1000010); // sbibm's slcp list skips spiked posteriors
  assertThrows(() => observation(getTask('slcp'), 11), ['1..10']);
});

test.run();
