import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * The SSRF guard of outbound webhooks (README "Following changes"): a target URL is resolved, and
 * refused when any address it resolves to is not a public unicast address. The check runs at
 * creation and again before every delivery, which then connects to the checked address (pinned),
 * so a DNS answer that changes in between cannot point the request elsewhere.
 */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata: 169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64 (embeds IPv4)
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (ULA)
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');
}

/** Why an address may not be a webhook target, or undefined when it may. */
export function forbiddenAddressReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is checked as the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return forbiddenAddressReason(mapped[1]!);
  return FORBIDDEN.check(address, family === 4 ? 'ipv4' : 'ipv6')
    ? `${address} is a loopback, private, link-local, CGNAT, multicast or reserved address`
    : undefined;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses (the seam tests replace: WebhookTargetGuard.resolve). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

export class TargetRefusedError extends Error {}

export interface TargetPolicy {
  allowPrivate: boolean;
  requireHttps: boolean;
}

/** The address to connect to for `url`, after the checks; throws TargetRefusedError. */
export async function checkTarget(url: string, policy: TargetPolicy, resolve: Resolver): Promise<ResolvedAddress> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TargetRefusedError('is not a URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new TargetRefusedError('must be an http(s) URL');
  if (policy.requireHttps && parsed.protocol !== 'https:') throw new TargetRefusedError('must be https');
  if (parsed.username || parsed.password) throw new TargetRefusedError('must not carry credentials');
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      throw new TargetRefusedError(`host ${host} does not resolve (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  if (addresses.length === 0) throw new TargetRefusedError(`host ${host} does not resolve`);
  if (!policy.allowPrivate) {
    // Every answer must be public: a name with one private answer could be made to use it.
    for (const { address } of addresses) {
      const reason = forbiddenAddressReason(address);
      if (reason) throw new TargetRefusedError(`resolves to ${reason} (WEBHOOK_ALLOW_PRIVATE_TARGETS is off)`);
    }
  }
  return addresses[0]!;
}
