/**
 * Which IP addresses ingest may connect to. Only public unicast addresses (ipaddr.js's `unicast`
 * range) pass: private, loopback, link-local (169.254.169.254, the cloud metadata address),
 * unique-local (fd00:ec2::254), carrier-grade NAT, multicast, reserved, 6to4/Teredo/NAT64
 * tunnels and unspecified addresses are refused. IPv6 forms that carry an IPv4 address are
 * judged as that IPv4 address (IPv4-mapped `::ffff:127.0.0.1` and IPv4-compatible `::7f00:1`,
 * i.e. all of `::/96` but `::` and `::1`) or refused whatever they carry (NAT64 `64:ff9b::/96`
 * and `64:ff9b:1::/48`, SIIT `::ffff:0:0:0/96`, 6to4 `2002::/16`, Teredo `2001::/32`: none is
 * ipaddr.js `unicast`). An explicit allow-list of CIDRs (tests: 127.0.0.1/32) lets chosen
 * non-public addresses through.
 */
import ipaddr from 'ipaddr.js';
import { ConfigError } from '../origin-fn/config.ts';

export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export function parseAddressAllowList(raw: string | undefined, name: string): Cidr[] {
  const out: Cidr[] = [];
  for (const item of (raw ?? '').split(',').map((s) => s.trim())) {
    if (item === '') continue;
    const cidr = parseCidr(item);
    if (!cidr) throw new ConfigError(`Invalid ${name} ${JSON.stringify(raw)}: ${notAnAddress(item)}`);
    out.push(cidr);
  }
  return out;
}

/** An IP address or CIDR (`127.0.0.1`, `10.0.0.0/8`, `::1`), or undefined when it is neither. */
export function parseCidr(item: string): Cidr | undefined {
  try {
    return item.includes('/') ? ipaddr.parseCIDR(item) : toCidr(ipaddr.parse(item));
  } catch {
    return undefined;
  }
}

export function notAnAddress(item: string): string {
  return `${JSON.stringify(item)} is not an IP address or CIDR (e.g. 127.0.0.1/32)`;
}

function toCidr(addr: ipaddr.IPv4 | ipaddr.IPv6): Cidr {
  return [addr, addr.kind() === 'ipv4' ? 32 : 128];
}

export interface AddressVerdict {
  ok: boolean;
  /** The range ipaddr.js gives the address (`unicast`, `loopback`, `linkLocal`…), or `invalid`. */
  range: string;
}

/** May ingest connect to `address` (a literal IPv4 or IPv6 address, brackets allowed)? */
export function checkAddress(address: string, allow: Cidr[]): AddressVerdict {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (!ipaddr.isValid(text)) return { ok: false, range: 'invalid' };
  const addr = embeddedIPv4(ipaddr.process(text));
  const range = addr.range();
  for (const [net, bits] of allow) {
    if (net.kind() === addr.kind() && addr.match(net, bits)) return { ok: true, range };
  }
  return { ok: range === 'unicast', range };
}

/**
 * process() has already turned an IPv4-mapped address into its IPv4 address; an
 * IPv4-compatible one (`::a.b.c.d`, the deprecated `::/96`) becomes its IPv4 address here,
 * so `::7f00:1` is loopback and `::a9fe:a9fe` link-local. `::` and `::1` stay IPv6.
 */
function embeddedIPv4(addr: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (addr.kind() !== 'ipv6') return addr;
  const parts = (addr as ipaddr.IPv6).parts;
  for (let i = 0; i < 6; i++) if (parts[i] !== 0) return addr;
  const high = parts[6] ?? 0;
  const low = parts[7] ?? 0;
  if (high === 0 && low <= 1) return addr;
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

export function isIpLiteral(host: string): boolean {
  const text = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return ipaddr.isValid(text) && (text.includes(':') || ipaddr.IPv4.isValidFourPartDecimal(text));
}
