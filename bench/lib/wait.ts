/** Waiting in the driver: for a while, or until a condition holds. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `ready()` or `maxMs` (checking every 100 ms), but at least `minMs`. */
export async function waitUntil(ready: () => boolean, minMs: number, maxMs: number): Promise<void> {
  const started = performance.now();
  await sleep(minMs);
  while (!ready() && performance.now() - started < maxMs) await sleep(100);
}
