// "Did you mean …": the closest allowed word to a misspelt one.

/** Levenshtein distance: insertions, deletions and substitutions each cost 1. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

// snake_case, kebab-case and wrong capitalisation are the commonest slips in camelCase keys.
function normalise(word: string): string {
  return word.toLowerCase().replace(/[-_\s]/g, '');
}

/**
 * The candidate the user most likely meant, or undefined when nothing is close enough to be a
 * helpful guess (more than a third of the word would have to change).
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const wanted = normalise(word);
  const sameWhenNormalised = candidates.find((c) => normalise(c) === wanted);
  if (sameWhenNormalised !== undefined) return sameWhenNormalised;
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const normalised = normalise(candidate);
    // The distance is at least the difference in length: a 5 MB word is not worth the quadratic work.
    if (Math.abs(wanted.length - normalised.length) > limit) continue;
    const distance = editDistance(wanted, normalised);
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}
