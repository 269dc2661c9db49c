/**
 * Which IP addresses ingest may connect to. Only public unicast addresses (ipaddr.js's `unicast`
 * range) pass: private, loopback, link-local (169.254.169.254, the cloud metadata address),
 * unique-local (fd00:ec2::254), carrier-grade NAT, multicast, reserved, 6to4/Teredo/NAT64
 * tunnels and unspecified addresses are refused. IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is
 * judged as the IPv4 address it carries. An explicit allow-list of CIDRs (tests: 127.0.0.1/32)
 * lets chosen non-public addresses through.
 */
import ipaddr from 'ipaddr.js';
import { ConfigError } from '../origin-fn/config.ts';

export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export function parseAddressAllowList(raw: string | undefined, name: string): Cidr[] {
  const out: Cidr[] = [];
  for (const item of (raw ?? '').split(',').map((s) => s.trim())) {
    if (item === '') continue;
    try {
      out.push(item.includes('/') ? ipaddr.parseCIDR(item) : toCidr(ipaddr.parse(item)));
    } catch {
      throw new ConfigError(
        `Invalid ${name} ${JSON.stringify(raw)}: ${JSON.stringify(item)} is not an IP address or CIDR (e.g. 127.0.0.1/32)`,
      );
    }
  }
  return out;
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
  // process(): an IPv4-mapped IPv6 address becomes the IPv4 address it carries.
  const addr = ipaddr.process(text);
  const range = addr.range();
  for (const [net, bits] of allow) {
    if (net.kind() === addr.kind() && addr.match(net, bits)) return { ok: true, range };
  }
  return { ok: range === 'unicast', range };
}

export function isIpLiteral(host: string): boolean {
  const text = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return ipaddr.isValid(text) && (text.includes(':') || ipaddr.IPv4.isValidFourPartDecimal(text));
}
