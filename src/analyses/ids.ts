import { randomFillSync } from 'node:crypto';

const ID_BYTES = 12;
/** Random bytes for the next 256 ids: one call to the system's random source per 256 analyses, as Node's own randomUUID pools them. */
const pool = Buffer.alloc(ID_BYTES * 256);
let offset = pool.length;

/** A new analysis id: `an_` and 96 random bits, base64url. */
export function newAnalysisId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = `an_${pool.toString('base64url', offset, offset + ID_BYTES)}`;
  offset += ID_BYTES;
  return id;
}
