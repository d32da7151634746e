import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Client addresses as the transport reports them (uWS gives IPv6 in full, e.g.
 * `0000:0000:0000:0000:0000:ffff:7f00:0001` for 127.0.0.1 on a dual-stack socket), made canonical:
 * IPv4 dotted, IPv4-mapped IPv6 as its IPv4, other IPv6 compressed. Unparseable text stays as is.
 */
export function normalizeAddress(text: string): string {
  const address = text.trim();
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return address;
  const groups = expandIPv6(address);
  if (!groups) return address;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const high = groups[6] ?? 0;
    const low = groups[7] ?? 0;
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  return new URL(`http://[${address}]`).hostname.slice(1, -1);
}

/** The 8 groups of an IPv6 address, or undefined when it is not one. */
function expandIPv6(address: string): number[] | undefined {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (isIPv4(tail)) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const fill = rest === undefined ? 0 : 8 - left.length - right.length;
  const parts = [...left, ...Array<string>(fill).fill('0'), ...right];
  if (parts.length !== 8) return undefined;
  return parts.map((p) => Number.parseInt(p, 16));
}

/** Whether the (normalized) address is this machine: 127.0.0.0/8 or ::1. */
export function isLoopback(address: string): boolean {
  return (isIPv4(address) && address.startsWith('127.')) || address === '::1';
}

/**
 * The key per-address limits count by: the IPv4 address, or the /64 of an IPv6 address (one
 * host usually holds a whole /64, so counting single IPv6 addresses would bound nothing).
 */
export function limitKey(address: string): string {
  if (!isIPv6(address)) return address;
  const groups = expandIPv6(address);
  if (!groups) return address;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** A set of addresses and CIDR ranges (the trusted proxies). */
export class AddressSet {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(entries: readonly string[]) {
    this.empty = entries.length === 0;
    for (const entry of entries) {
      const [address = '', bits] = entry.split('/');
      const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
      if (!type) throw new Error(`not an IP address: ${entry}`);
      if (bits === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(bits), type);
    }
  }

  has(address: string): boolean {
    if (this.empty) return false;
    if (isIPv4(address)) return this.list.check(address, 'ipv4');
    if (isIPv6(address)) return this.list.check(address, 'ipv6');
    return false;
  }
}

/**
 * The client's address behind trusted proxies: the peer itself unless it is a trusted proxy; then
 * the right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries further left
 * were written by the client and prove nothing), or the PROXY protocol's source address.
 */
export function clientAddress(
  peer: string,
  trusted: AddressSet,
  forwarded: { readonly xForwardedFor: string; readonly proxyProtocol: string },
  protocol: 'x-forwarded-for' | 'proxy-protocol',
): string {
  if (!trusted.has(peer)) return peer;
  if (protocol === 'proxy-protocol') {
    const source = normalizeAddress(forwarded.proxyProtocol);
    return source === '' ? peer : source;
  }
  const hops = forwarded.xForwardedFor
    .split(',')
    .map((hop) => normalizeAddress(hop))
    .filter((hop) => hop !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? '';
    if (!isIPv4(hop) && !isIPv6(hop)) return peer;
    if (!trusted.has(hop)) return hop;
  }
  return hops[0] ?? peer;
}
