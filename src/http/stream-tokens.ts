import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signed, expiring tokens that grant read access to one analysis's events, so
 * a browser's EventSource (which cannot send headers) can stream.
 * Format: `<expiry seconds>.<base64url HMAC-SHA256 of "<analysis id>.<expiry>">`.
 */
export class StreamTokens {
  private readonly key: Buffer;

  constructor(secret?: string) {
    this.key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  sign(analysisId: string, expiresAtMs: number): string {
    const expiry = Math.ceil(expiresAtMs / 1000);
    return `${expiry}.${this.mac(analysisId, expiry).toString('base64url')}`;
  }

  verify(analysisId: string, token: string, nowMs: number = Date.now()): boolean {
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 200) return false;
    const expiry = Number(token.slice(0, dot));
    if (!Number.isSafeInteger(expiry) || expiry * 1000 <= nowMs) return false;
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.mac(analysisId, expiry);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private mac(analysisId: string, expiry: number): Buffer {
    return createHmac('sha256', this.key).update(`${analysisId}.${expiry}`).digest();
  }
}
