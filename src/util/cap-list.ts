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
  const kept: T[] = [];
  for (const item of items) {
    if (kept.length >= max) break;
    kept.push(item);
  }
  if (total > kept.length) kept.push(summary(total - kept.length));
  return kept;
}
