/** Nearest-rank percentile shared by both engines' timing statistics. */

/** The nearest-rank `p` percentile (0 < p ≤ 1) of ascending `sorted` values; null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}
