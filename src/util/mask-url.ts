/** A scheme and what follows it up to whitespace or a quote: one URL as it appears in a text. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/**
 * The URL with its credentials masked: `redis://user:***@host:6379/0`. Works
 * on values no URL parser accepts (those are the ones a boot error shows):
 * everything between `://` and the last `@` is userinfo; a user name before a
 * `:` is kept, the rest is not.
 */
export function maskUrl(url: string): string {
  const scheme = url.indexOf('://');
  const start = scheme < 0 ? 0 : scheme + 3;
  const at = url.lastIndexOf('@');
  if (at < start) return url;
  const userinfo = url.slice(start, at);
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? '' : userinfo.slice(0, colon + 1);
  return `${url.slice(0, start)}${user}***${url.slice(at)}`;
}

/** A message or stack trace with the credentials of every URL in it masked. */
export function maskUrlsIn(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => maskUrl(url));
}
