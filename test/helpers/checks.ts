/**
 * Loaded before every test file by test/run.ts (`node --import`): turns on the buffer checking mode, so
 * that an op output the op forgot to fill, or a buffer kept from a reset arena, reads as NaN.
 */
import { setBufferChecks } from '../../src/autograd/tensor.ts';

setBufferChecks(true);
