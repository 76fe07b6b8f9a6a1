import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeContentEncoding } from '../../src/ingress/decode-body.js';

const body = Buffer.from(JSON.stringify({ run_id: 'run-1', output: 'x'.repeat(1000) }));
const LIMIT = 64 * 1024;

describe('decodeContentEncoding (read-only decoding for dedupe keys)', () => {
  it.each<[string, Buffer, string]>([
    ['gzip', gzipSync(body), 'gzip'],
    ['x-gzip', gzipSync(body), 'x-gzip'],
    ['upper case, spaces', gzipSync(body), ' GZIP '],
    ['deflate (zlib-wrapped)', deflateSync(body), 'deflate'],
    ['deflate sent raw', deflateRawSync(body), 'deflate'],
    ['br', brotliCompressSync(body), 'br'],
    ['identity', body, 'identity'],
    ['a list, applied in order: gzip then br', brotliCompressSync(gzipSync(body)), 'gzip, br'],
    ['identity inside a list', gzipSync(body), 'identity, gzip'],
  ])('%s', async (_what, encoded, encoding) => {
    expect(Buffer.compare(await decodeContentEncoding(encoded, encoding, LIMIT), body)).toBe(0);
  });

  it('output is bounded: a small body that expands beyond the limit (a zip bomb) is refused, not held', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(LIMIT);
    await expect(decodeContentEncoding(bomb, 'gzip', LIMIT)).rejects.toMatchObject({ code: 'ERR_BUFFER_TOO_LARGE' });
    await expect(decodeContentEncoding(brotliCompressSync(Buffer.alloc(16 * 1024 * 1024)), 'br', LIMIT)).rejects.toMatchObject({ code: 'ERR_BUFFER_TOO_LARGE' });
    await expect(decodeContentEncoding(deflateSync(Buffer.alloc(16 * 1024 * 1024)), 'deflate', LIMIT)).rejects.toMatchObject({ code: 'ERR_BUFFER_TOO_LARGE' });
  });

  it('output of exactly the limit is fine', async () => {
    const exact = Buffer.alloc(LIMIT, 0x61);
    expect((await decodeContentEncoding(gzipSync(exact), 'gzip', LIMIT)).length).toBe(LIMIT);
  });

  it.each([
    ['an unknown coding', body, 'compress'],
    ['corrupt gzip', Buffer.from('not gzip at all'), 'gzip'],
    ['truncated gzip', gzipSync(body).subarray(0, 20), 'gzip'],
    ['corrupt br', Buffer.from([0xff, 0xff, 0xff, 0xff]), 'br'],
  ])('rejects %s', async (_what, encoded, encoding) => {
    await expect(decodeContentEncoding(encoded, encoding, LIMIT)).rejects.toThrow();
  });
});
