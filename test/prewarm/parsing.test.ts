import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkAddress, parseAddressAllowList } from '../../prewarm/address-policy.ts';
import { classifyRef, noImagesReason, type RefContext } from '../../prewarm/image-ref.ts';
import { InputError, readUnits, unitsFromText } from '../../prewarm/input.ts';
import { invalidationPaths } from '../../prewarm/invalidation.ts';
import { allStrings, compileSelector, selectAll } from '../../prewarm/selectors.ts';

const ctx: RefContext = {
  cdnBase: new URL('https://cdn.example.test'),
  originalsBucket: 'litepix-originals',
  s3Endpoint: new URL('http://127.0.0.1:4569'),
  isIngestHost: (h) => h === 'images.partner.test',
};

describe('selectors', () => {
  const unit = {
    images: [{ url: 'a.jpg' }, { url: 'b.jpg' }, { alt: 'x' }],
    cover: { src: 'c.png' },
    'we/ird~': 'd.jpg',
  };
  it.each([
    ['images[*].url', ['/images/0/url:a.jpg', '/images/1/url:b.jpg']],
    ['images[1].url', ['/images/1/url:b.jpg']],
    ['cover.src', ['/cover/src:c.png']],
    ['/cover/src', ['/cover/src:c.png']],
    ['/images/0/url', ['/images/0/url:a.jpg']],
    ['/we~1ird~0', ['/we~1ird~0:d.jpg']],
    ['nothing[*].here', []],
  ])('%s selects its strings with their JSON pointers', (text, want) => {
    expect(selectAll(unit, compileSelector(text)).map((f) => `${f.pointer}:${f.value}`)).toEqual(want);
  });

  it.each([
    ['', 'expected 1 to 512 characters'],
    ['images[x].url', 'cannot read "images[x]"'],
    ['a..b', 'empty property name'],
    ['/a~2', 'a "~" must be followed by 0 or 1'],
  ])('refuses %j: %s', (text, why) => {
    expect(() => compileSelector(text)).toThrow(why);
  });

  it('walks every string leaf for auto-detection', () => {
    expect(allStrings({ a: ['x', { b: 'y' }], n: 1 }).map((f) => f.pointer)).toEqual(['/a/0', '/a/1/b']);
  });
});

describe('image references', () => {
  it.each([
    ['https://cdn.example.test/photos/a.jpg?w=800', { kind: 'key', key: 'photos/a.jpg' }],
    ['https://cdn.example.test/photos/my%20pic.png', { kind: 'key', key: 'photos/my pic.png' }],
    ['s3://litepix-originals/photos/a.jpg', { kind: 'key', key: 'photos/a.jpg' }],
    [
      'https://litepix-originals.s3.eu-west-1.amazonaws.com/photos/a.jpg',
      { kind: 'key', key: 'photos/a.jpg' },
    ],
    ['http://127.0.0.1:4569/litepix-originals/photos/a.jpg', { kind: 'key', key: 'photos/a.jpg' }],
    ['photos/a.jpg', { kind: 'key', key: 'photos/a.jpg' }],
    ['/photos/a.JPEG', { kind: 'key', key: 'photos/a.JPEG' }],
    ['https://images.partner.test/p/1.jpg', { kind: 'external', url: 'https://images.partner.test/p/1.jpg' }],
  ])('auto-detects %s', (text, want) => {
    expect(classifyRef(text, ctx, false)).toEqual(want);
  });

  it.each([
    'hello world.jpg is a sentence',
    'https://elsewhere.test/a.jpg',
    'notes.txt',
    's3://other-bucket/a.jpg',
    'mailto:someone@example.test',
    'photos/../secret.jpg',
  ])('leaves %j alone when auto-detecting', (text) => {
    expect(classifyRef(text, ctx, false)).toBeUndefined();
  });

  it.each([
    ['s3://other-bucket/a.jpg', 'only s3://litepix-originals/<key>'],
    ['ftp://x.test/a.jpg', 'the scheme ftp: is not supported'],
    ['photos/../secret.jpg', '"." and ".." segments are not allowed'],
  ])('reports a selected %j as invalid: %s', (text, why) => {
    const ref = classifyRef(text, ctx, true);
    expect(ref?.kind).toBe('invalid');
    expect(ref?.kind === 'invalid' && ref.message).toContain(why);
  });

  it('takes any selected http(s) URL as external', () => {
    expect(classifyRef('https://elsewhere.test/a', ctx, true)).toEqual({
      kind: 'external',
      url: 'https://elsewhere.test/a',
    });
  });
});

async function read(text: string) {
  const out = [];
  for await (const item of readUnits(Readable.from([text]))) out.push(item);
  return out;
}

describe('reading Data Units', () => {
  it('streams NDJSON, reporting bad lines and skipping blank ones', async () => {
    const got = await read('{"id":1}\n\n{bad\n{"id":3}\r\n');
    expect(got.map((g) => g.seq)).toEqual([1, 2, 3]);
    expect(got[1]?.error?.code).toBe('PREWARM_BAD_JSON');
    expect(got[2]?.unit).toEqual({ id: 3 });
  });

  it('treats a bad first line followed by JSON lines as NDJSON', async () => {
    const got = await read('{"id": oops\n{"id":2}\n');
    expect(got.map((g) => g.error?.code ?? 'ok')).toEqual(['PREWARM_BAD_JSON', 'ok']);
  });

  it('reads a pretty-printed unit and an array of units', async () => {
    expect((await read('{\n  "id": "x",\n  "img": "a.jpg"\n}\n')).map((g) => g.unit)).toEqual([
      { id: 'x', img: 'a.jpg' },
    ]);
    expect((await read('[\n {"id":1},\n {"id":2}\n]')).map((g) => g.seq)).toEqual([1, 2]);
  });

  it('refuses input that is neither NDJSON nor a JSON document', async () => {
    await expect(read('{\n  "id": \n  oops\n')).rejects.toThrow(InputError);
  });

  it('splits SQS bodies: one unit, an array, or NDJSON', () => {
    expect(unitsFromText('{"a":1}', 5).map((i) => i.seq)).toEqual([5]);
    expect(unitsFromText('[{"a":1},{"a":2}]').length).toBe(2);
    expect(unitsFromText('{"a":1}\nnope\n').map((i) => i.error?.code)).toEqual([
      undefined,
      'PREWARM_BAD_JSON',
    ]);
  });
});

describe('address policy', () => {
  it.each([
    ['93.184.215.14', true, 'unicast'],
    ['2606:4700::6810:84e5', true, 'unicast'],
    ['127.0.0.1', false, 'loopback'],
    ['10.1.2.3', false, 'private'],
    ['192.168.0.10', false, 'private'],
    ['172.16.5.4', false, 'private'],
    ['169.254.169.254', false, 'linkLocal'],
    ['100.64.0.1', false, 'carrierGradeNat'],
    ['0.0.0.0', false, 'unspecified'],
    ['::1', false, 'loopback'],
    ['[::1]', false, 'loopback'],
    ['fd00:ec2::254', false, 'uniqueLocal'],
    ['fe80::1', false, 'linkLocal'],
    ['::ffff:127.0.0.1', false, 'loopback'],
    ['::ffff:169.254.169.254', false, 'linkLocal'],
    ['224.0.0.1', false, 'multicast'],
    ['not-an-ip', false, 'invalid'],
  ])('%s → allowed %s (%s)', (address, ok, range) => {
    expect(checkAddress(address, [])).toEqual({ ok, range });
  });

  it('lets an explicitly allowed address through, and only that one', () => {
    const allow = parseAddressAllowList('127.0.0.1', 'X');
    expect(checkAddress('127.0.0.1', allow).ok).toBe(true);
    expect(checkAddress('::ffff:127.0.0.1', allow).ok).toBe(true);
    expect(checkAddress('127.0.0.2', allow).ok).toBe(false);
    expect(() => parseAddressAllowList('127.0.0.1, nope', 'LITEPIX_INGEST_ALLOW_ADDRESSES')).toThrow(
      'Invalid LITEPIX_INGEST_ALLOW_ADDRESSES "127.0.0.1, nope": "nope" is not an IP address or CIDR',
    );
  });
});

describe('invalidation paths', () => {
  it('invalidates the viewer URI and the rewritten variant URIs of each key', () => {
    expect(invalidationPaths(['photos/a b.jpg', 'x.png', 'x.png'], 'v1')).toEqual([
      '/photos/a%20b.jpg*',
      '/v1/photos/a%20b.jpg/*',
      '/x.png*',
      '/v1/x.png/*',
    ]);
  });

  it('collapses to the common prefix past 15 wildcard paths', () => {
    const keys = Array.from({ length: 9 }, (_, i) => `shop/2024/item-${i}.jpg`);
    expect(invalidationPaths(keys, 'v1')).toEqual(['/shop/2024/item-*', '/v1/shop/2024/item-*']);
    expect(invalidationPaths([...keys, 'other/z.jpg'], 'v1')).toEqual(['/*', '/v1/*']);
  });
});

describe('a unit with no image reference', () => {
  const reason = 'no string in it is an image URL under the CDN base, an s3:// URI or an image key';

  it('names an image URL under another base (the example units on another port) instead of passing over it', () => {
    const strings = ['Which parrot?', 'http://127.0.0.1:8080/samples/kodim23.png', 'https://x.test/a.jpg'];
    expect(
      noImagesReason(
        strings.map((value) => ({ value })),
        ctx,
      ),
    ).toBe(
      `${reason}; "http://127.0.0.1:8080/samples/kodim23.png" is an image URL outside the CDN base https://cdn.example.test (write it under that base or as its key, or allow its host in LITEPIX_INGEST_HOSTS to ingest it)`,
    );
  });

  it('says only what it looked for when no string looks like an image', () => {
    expect(noImagesReason([{ value: 'no pictures' }, { value: 'https://x.test/page.html' }], ctx)).toBe(
      reason,
    );
  });
});
