/**
 * Labels of parameter panels: default names θ₁ … θ_d and a panel title with a verdict.
 *
 * @module
 */

/**
 * k with subscript digits.
 * @example subscript(12); // '₁₂'
 */
export function subscript(k: number): string {
  return String(k).replace(/\d/g, (c) => '₀₁₂₃₄₅₆₇₈₉'[Number(c)]!);
}

/**
 * Names for d panels: the given ones (checked for length) or θ₁ … θ_d.
 * @example namesFor(undefined, 2, 'fig'); // ['θ₁', 'θ₂']
 */
export function namesFor(names: readonly string[] | undefined, d: number, where: string): string[] {
  if (names === undefined) return Array.from({ length: d }, (_, j) => `θ${subscript(j + 1)}`);
  if (names.length !== d) throw new RangeError(`${where}: ${names.length} names for ${d} panels`);
  return [...names];
}

/**
 * A panel title: the name, and the verdict when there is one.
 * @example panelTitle('θ₁', { verdict: 'biased', direction: 'above' }); // 'θ₁ — biased (above)'
 */
export function panelTitle(name: string, d: { readonly verdict?: string; readonly direction?: string }): string {
  if (d.verdict === undefined) return name;
  return `${name} — ${d.verdict}${d.direction !== undefined ? ` (${d.direction})` : ''}`;
}
