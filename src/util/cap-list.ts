/** At most `max` items of an iterable, read no further than that. */
export function take<T>(items: Iterable<T>, max: number): T[] {
  const kept: T[] = [];
  if (max <= 0) return kept;
  for (const item of items) {
    kept.push(item);
    if (kept.length >= max) break;
  }
  return kept;
}

/**
 * The first `max` items of a list that may be very long, and one summary item
 * for the rest: a hostile input with 150,000 problems gets an answer the size
 * of `max` problems, not 150,000.
 */
export function capList<T>(
  items: Iterable<T>,
  max: number,
  total: number,
  summary: (rest: number) => T,
): T[] {
  const kept = take(items, max);
  if (total > kept.length) kept.push(summary(total - kept.length));
  return kept;
}
