/**
 * Colours: the viridis map for densities and a categorical palette for lines and point sets.
 *
 * @module
 */

/**
 * Viridis (S. van der Walt & N. Smith, matplotlib's default colour map, CC0) sampled at t = 0, 0.1, …, 1.
 * Perceptually uniform and readable in grey and by colour-blind readers.
 * @example VIRIDIS[0]; // '#440154' (t = 0)
 */
export const VIRIDIS: readonly string[] = ['#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c', '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725'];

/**
 * The Tableau 10 / matplotlib `tab10` palette, for series and point sets.
 * @example CATEGORY10[0]; // '#1f77b4' (blue)
 */
export const CATEGORY10: readonly string[] = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/**
 * The red of overlaid training data in the layer figure (tab10 red).
 * @example OVERLAY_RED; // '#d62728'
 */
export const OVERLAY_RED = '#d62728';

/**
 * The viridis colour at t in [0, 1] (clamped; NaN counts as 0), linearly interpolated in RGB between the
 * 11 samples of {@link VIRIDIS}.
 *
 * @example
 * viridis(0);   // '#440154'
 * viridis(1);   // '#fde725'
 * viridis(0.5); // '#21918c'
 */
export function viridis(t: number): string {
  const u = Number.isNaN(t) ? 0 : Math.min(1, Math.max(0, t));
  const pos = u * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(pos));
  const f = pos - i;
  const a = parseHex(VIRIDIS[i]!), b = parseHex(VIRIDIS[i + 1]!);
  let out = '#';
  for (let c = 0; c < 3; c++) out += Math.round(a[c]! + f * (b[c]! - a[c]!)).toString(16).padStart(2, '0');
  return out;
}

function parseHex(hex: string): [number, number, number] {
  return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
}
