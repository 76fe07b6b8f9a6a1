import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDedupeKeyFn } from '../../src/ingress/dedupe-key.js';
import type { IncomingHeaders } from '../../src/ingress/verify.js';

const sha = (body: string | Buffer) => `sha256:${createHash('sha256').update(body).digest('hex')}`;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function keyOf(rules: string[], body: Buffer | string, headers: IncomingHeaders = {}): string {
  return createDedupeKeyFn(rules)(headers, Buffer.isBuffer(body) ? body : Buffer.from(body), 'application/json');
}

describe('dedupe key', () => {
  const CEREBRIUM = ['body:run_id', 'header:x-request-id'];

  it.each<[string, string[], Buffer | string, IncomingHeaders, string]>([
    ['body:run_id', CEREBRIUM, json({ run_id: 'run-1', status: 'ok' }), { 'x-request-id': 'req-1' }, 'run-1'],
    ['nested dotted path', ['body:result.job.id'], json({ result: { job: { id: 'job-7' } } }), {}, 'job-7'],
    ['a number becomes its decimal text', ['body:run_id'], json({ run_id: 1234 }), {}, '1234'],
    ['a nested number', ['body:a.b'], json({ a: { b: 0 } }), {}, '0'],
    ['a fraction', ['body:n'], json({ n: 2.5 }), {}, '2.5'],
    ['whitespace before the JSON', ['body:run_id'], `\n  {"run_id": "run-ws"}`, {}, 'run-ws'],
    ['header when the body has no run_id', CEREBRIUM, json({ status: 'ok' }), { 'x-request-id': 'req-9' }, 'req-9'],
    ['header when the body is not JSON', CEREBRIUM, 'run_id=run-1', { 'x-request-id': 'req-9' }, 'req-9'],
    ['header rule matched case-insensitively', ['header:X-Request-ID'], 'x', { 'x-request-id': 'req-case' }, 'req-case'],
    ['first present rule wins (header before body)', ['header:x-idem', 'body:run_id'], json({ run_id: 'run-1' }), { 'x-idem': 'idem-1' }, 'idem-1'],
    ['first present rule wins (body before header)', ['body:run_id', 'header:x-idem'], json({ run_id: 'run-1' }), { 'x-idem': 'idem-1' }, 'run-1'],
    ['a repeated header: its first value', ['header:x-idem'], 'x', { 'x-idem': ['first', 'second'] }, 'first'],
    ['an empty string is not a key', CEREBRIUM, json({ run_id: '' }), { 'x-request-id': 'req-2' }, 'req-2'],
    ['an empty header is not a key', ['header:x-idem', 'body:run_id'], json({ run_id: 'run-3' }), { 'x-idem': '' }, 'run-3'],
    ['an object is not a key', CEREBRIUM, json({ run_id: { id: 1 } }), { 'x-request-id': 'req-4' }, 'req-4'],
    ['a boolean is not a key', CEREBRIUM, json({ run_id: true }), { 'x-request-id': 'req-5' }, 'req-5'],
    ['null is not a key', CEREBRIUM, json({ run_id: null }), { 'x-request-id': 'req-6' }, 'req-6'],
    ['a path through an array is not followed', ['body:items.0', 'header:x-idem'], json({ items: ['a'] }), { 'x-idem': 'h' }, 'h'],
  ])('%s', (_name, rules, body, headers, expected) => {
    expect(keyOf(rules, body, headers)).toBe(expected);
  });

  it.each<[string, string[], Buffer | string, IncomingHeaders]>([
    ['no rules', [], json({ run_id: 'run-1' }), { 'x-request-id': 'req-1' }],
    ['no rule present', CEREBRIUM, json({ other: 1 }), {}],
    ['a non-JSON body', ['body:run_id'], 'this is { not json', {}],
    ['a truncated JSON body', ['body:run_id'], '{"run_id": "run-1"', {}],
    ['a JSON array body', ['body:run_id'], json([{ run_id: 'run-1' }]), {}],
    ['a JSON string body', ['body:run_id'], json('run-1'), {}],
    ['an empty body', ['body:run_id'], '', {}],
    ['a binary body', ['body:run_id'], Buffer.from([0x7b, 0xff, 0x00, 0xfe]), {}],
  ])('falls back to the sha256 of the raw body: %s', (_name, rules, body, headers) => {
    expect(keyOf(rules, body, headers)).toBe(sha(body));
  });

  it('the fallback hashes the exact bytes: one byte more is another key', () => {
    expect(keyOf([], 'abc')).not.toBe(keyOf([], 'abc '));
    expect(keyOf([], 'abc')).toBe(keyOf([], 'abc'));
  });

  it('integers beyond 2^53 that JSON numbers cannot tell apart are not used as keys', () => {
    // 12345678901234567890 and ...891 parse to the same double: using them would make two runs one.
    const a = keyOf(['body:run_id'], '{"run_id": 12345678901234567890}');
    const b = keyOf(['body:run_id'], '{"run_id": 12345678901234567891}');
    expect(a).not.toBe(b);
    expect(a).toBe(sha('{"run_id": 12345678901234567890}'));
    expect(keyOf(['body:run_id'], `{"run_id": ${Number.MAX_SAFE_INTEGER}}`)).toBe(String(Number.MAX_SAFE_INTEGER));
  });

  it('a key path with an unusual segment name is read literally', () => {
    expect(keyOf(['body:data.run-id'], json({ data: { 'run-id': 'r-1' } }))).toBe('r-1');
    expect(keyOf(['body:__proto__', 'header:h'], '{"__proto__": "p"}', { h: 'from-header' })).toBe('p');
  });

  describe('a body that arrived encoded', () => {
    const gzipped = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01]);
    it('body rules read the decoded bytes; the sha256 fallback still hashes the received ones', () => {
      const fn = createDedupeKeyFn(['body:run_id']);
      expect(fn({}, gzipped, 'application/json', json({ run_id: 'run-gz' }))).toBe('run-gz');
      expect(fn({}, gzipped, 'application/json', json({ other: 1 }))).toBe(sha(gzipped));
    });

    it('a body that could not be decoded (null) gives body rules nothing: the next rule, else sha256 of the received bytes', () => {
      const fn = createDedupeKeyFn(['body:run_id', 'header:x-request-id']);
      expect(fn({ 'x-request-id': 'req-1' }, json({ run_id: 'looks-like-json' }), 'application/json', null)).toBe('req-1');
      expect(fn({}, gzipped, 'application/json', null)).toBe(sha(gzipped));
    });

    it('says whether any rule reads the body', () => {
      expect(createDedupeKeyFn(['header:x-a', 'body:run_id']).readsBody).toBe(true);
      expect(createDedupeKeyFn(['header:x-a']).readsBody).toBe(false);
      expect(createDedupeKeyFn([]).readsBody).toBe(false);
    });
  });
});
