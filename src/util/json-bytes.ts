/** UTF-8 bytes of a value's JSON: what a store writes, and close to what it holds. */
export function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
}
