/** List cursors are opaque to clients: a sequence number, base64url-encoded. */
export function encodeCursor(sequence: number): string {
  return Buffer.from(`s${sequence}`).toString('base64url');
}

export function decodeCursor(cursor: string): number | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^s\d{1,15}$/.test(text)) return undefined;
  return Number(text.slice(1));
}
