/**
 * The ingest address policy on every IPv6 form that carries an IPv4 address: judged as the IPv4
 * address it carries, or refused whatever it carries; never "public" because it is written in
 * IPv6. (The socket-level use of this policy is tested in ingest.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { checkAddress, parseAddressAllowList } from '../../prewarm/address-policy.ts';

const none = parseAddressAllowList('', 'LITEPIX_INGEST_ALLOW_ADDRESSES');
const loopback = parseAddressAllowList('127.0.0.1/32', 'LITEPIX_INGEST_ALLOW_ADDRESSES');

describe('ingest address policy: IPv6 forms with an embedded IPv4 address', () => {
  it.each([
    ['::7f00:1', 'loopback'], // IPv4-compatible 127.0.0.1
    ['::127.0.0.1', 'loopback'],
    ['[::7f00:1]', 'loopback'],
    ['::a9fe:a9fe', 'linkLocal'], // 169.254.169.254, the cloud metadata address
    ['::a00:1', 'private'], // 10.0.0.1
    ['::c0a8:101', 'private'], // 192.168.1.1
    ['::2', 'unspecified'], // 0.0.0.2, inside the reserved ::/96
    ['::ffff:7f00:1', 'loopback'], // IPv4-mapped
    ['::ffff:169.254.169.254', 'linkLocal'],
  ])('refuses IPv4-compatible and IPv4-mapped %s as the IPv4 address it carries (%s)', (address, range) => {
    expect(checkAddress(address, none)).toEqual({ ok: false, range });
  });

  it.each([
    ['64:ff9b::7f00:1', 'rfc6052'], // NAT64 → 127.0.0.1
    ['64:ff9b::808:808', 'rfc6052'], // NAT64 → 8.8.8.8: refused too
    ['64:ff9b:1::a9fe:a9fe', 'rfc6052'], // local-use NAT64
    ['::ffff:0:7f00:1', 'rfc6145'], // SIIT
    ['2002:7f00:1::', '6to4'], // 6to4 of 127.0.0.1
    ['2002:a9fe:a9fe::1', '6to4'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
  ])('refuses the tunnel and translation form %s whatever it carries (%s)', (address, range) => {
    expect(checkAddress(address, none)).toEqual({ ok: false, range });
  });

  it('passes public unicast addresses, IPv4-compatible ones judged as their IPv4 address', () => {
    expect(checkAddress('8.8.8.8', none)).toEqual({ ok: true, range: 'unicast' });
    expect(checkAddress('::808:808', none)).toEqual({ ok: true, range: 'unicast' });
    expect(checkAddress('2606:4700::1111', none)).toEqual({ ok: true, range: 'unicast' });
  });

  it('lets an IPv4-compatible loopback through only when 127.0.0.1 is explicitly allowed', () => {
    expect(checkAddress('::7f00:1', loopback)).toEqual({ ok: true, range: 'loopback' });
    expect(checkAddress('::7f00:2', loopback)).toEqual({ ok: false, range: 'loopback' });
    expect(checkAddress('64:ff9b::7f00:1', loopback)).toEqual({ ok: false, range: 'rfc6052' });
  });
});
