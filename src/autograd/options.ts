/**
 * Checking options objects, shared by every layer above the engine: an unknown key is refused with a
 * did-you-mean (edit distance ≤ 2, or the camelCase name of a PyTorch-style one: `weight_decay` ->
 * `weightDecay`), so a typo never passes silently.
 *
 * @module
 */

/**
 * A short description of a value for error messages: numbers and strings as written, else the type.
 * @example describe(NaN); // 'NaN'   describe([1, 2]); // 'an array of 2'
 */
export function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value;
}

/**
 * Levenshtein distance by the two-row dynamic programme.
 * @example editDistance('laysers', 'layers'); // 1
 */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The known name closest to `name`: the same name without underscores and case (`weight_decay` ->
 * `weightDecay`), else the nearest within edit distance 2; undefined when nothing is close.
 * @example didYouMean('learningRate', ['lr', 'epochs']); // undefined   didYouMean('epoch', ['epochs']); // 'epochs'
 */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  const plain = name.replace(/_/g, '').toLowerCase();
  const sameLetters = known.find((k) => k.toLowerCase() === plain);
  if (sameLetters !== undefined) return sameLetters;
  let best: string | undefined, bestDistance = 3;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Throws a TypeError if `options` is not an object or has a key not in `allowed`, with a did-you-mean.
 * Keys whose value is `undefined` are checked too (a misspelt key is a mistake whatever its value).
 *
 * @example
 * checkOptionKeys('RealNVP', { laysers: 4 }, ['dim', 'layers']); // TypeError: RealNVP: unknown option "laysers" (did you mean "layers"?); the options are dim, layers
 */
export function checkOptionKeys(owner: string, options: object, allowed: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`${owner}: options must be an object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const guess = didYouMean(key, allowed);
    const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
    throw new TypeError(`${owner}: unknown option "${key}"${hint}; the options are ${allowed.join(', ')}`);
  }
}
