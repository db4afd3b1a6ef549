import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import type { ResolvedAddress, Resolver } from './types.js';

/** A webhook URL or address Chorus will not call; the message says why. */
export class RefusedWebhookUrl extends Error {
  override readonly name = 'RefusedWebhookUrl';
}

export const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/** The only ranges a webhook may reach (ipaddr.js's names); every other range is internal or special. */
const PUBLIC_RANGES = new Set(['unicast']);

const ALLOW_HINT = 'set WEBHOOK_ALLOW_PRIVATE=true to allow internal receivers';

/** Parses a webhook URL: http or https only, no credentials in it. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RefusedWebhookUrl('webhook.url is not a valid absolute URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RefusedWebhookUrl(`webhook.url must use http or https, not ${url.protocol.slice(0, -1)}.`);
  }
  if (url.username || url.password) {
    throw new RefusedWebhookUrl('webhook.url must not carry credentials.');
  }
  return url;
}

/** The range an address is in when a webhook may not reach it (`loopback`, `private`, …). */
export function refusedRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'invalid';
  // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it maps.
  const range = ipaddr.process(address).range();
  return PUBLIC_RANGES.has(range) ? undefined : range;
}

/**
 * The address to connect to for `url`: its host resolved now, every address
 * checked. The caller connects to exactly this address, so a name that
 * resolves elsewhere a moment later (DNS rebinding) cannot reach an
 * internal host. Throws RefusedWebhookUrl naming the refused range.
 */
export async function resolveReceiver(
  url: URL,
  options: { resolve: Resolver; allowPrivate: boolean },
): Promise<ResolvedAddress> {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let addresses: ResolvedAddress[];
  if (ipaddr.isValid(host)) addresses = [{ address: host, family: host.includes(':') ? 6 : 4 }];
  else {
    try {
      addresses = await options.resolve(host);
    } catch {
      throw new RefusedWebhookUrl(`webhook.url's host ${host} does not resolve.`);
    }
  }
  if (addresses.length === 0) throw new RefusedWebhookUrl(`webhook.url's host ${host} does not resolve.`);
  if (!options.allowPrivate) {
    for (const { address } of addresses) {
      const range = refusedRange(address);
      if (range) {
        throw new RefusedWebhookUrl(
          `webhook.url's host ${host} resolves to ${address}, a ${range} address: ${ALLOW_HINT}.`,
        );
      }
    }
  }
  return addresses[0]!;
}
