/**
 * Text the commands print: counts with thousands separators and the evaluation block.
 *
 * @module
 */

import type { Evaluation } from '../train/evaluate.ts';

/**
 * `10,000`.
 * @example formatCount(6176); // '6,176'
 */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * The evaluation as aligned lines: test NLL with its standard error and bits/dim; the entropy and
 * KL(p‖q) where the true density is known.
 *
 * @example
 * formatEvaluation(e, 'post-mixture');
 * // test NLL      3.5521 ± 0.0131 nats (2.5623 bits/dim), n = 10,000
 * // entropy H(p)  3.5244 nats (post-mixture; a perfect model's test NLL)
 * // KL(p‖q)       0.0277 ± 0.0021 nats
 */
export function formatEvaluation(e: Evaluation, name: string): string {
  // With one test row there is no standard error: say so instead of printing "± NaN".
  const pm = (se: number | undefined) => (se !== undefined && Number.isFinite(se) ? ` ± ${se.toFixed(4)}` : '');
  const single = e.n < 2 ? ' (one test row: no standard error)' : '';
  const lines = [`test NLL      ${e.nll.toFixed(4)}${pm(e.nllStdErr)} nats (${e.bitsPerDim.toFixed(4)} bits/dim), n = ${formatCount(e.n)}${single}`];
  if (e.entropy !== undefined) lines.push(`entropy H(p)  ${e.entropy.toFixed(4)} nats (${name}; a perfect model's test NLL)`);
  if (e.kl !== undefined) lines.push(`KL(p‖q)       ${e.kl.toFixed(4)}${pm(e.klStdErr)} nats`);
  return lines.join('\n') + '\n';
}

/**
 * JSON.stringify replacer: non-finite numbers become null (JSON has no NaN).
 * @example JSON.stringify({ a: NaN }, jsonNumbers); // '{"a":null}'
 */
export function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
