import { describe, expect, it } from 'vitest';
import { resolveConfig, type DestinationConfig } from '../../src/config/load.js';
import { createDestinationSelector } from '../../src/ingress/destination-filter.js';

function destinations(filters: (Record<string, unknown[]> | undefined)[]): readonly DestinationConfig[] {
  return resolveConfig({
    storage: { sqlite: { path: '/tmp/hookrelay-filter-test.db' } },
    sources: [{ name: 'cerebrium', path: '/in', verify: { scheme: 'none' } }],
    destinations: filters.map((filter, index) => ({ name: `d${index}`, url: 'http://127.0.0.1:1/', ...(filter ? { filter } : {}) })),
  }).destinations;
}

const json = (value: unknown) => () => Buffer.from(JSON.stringify(value));

describe('destination filter (decided at ingest)', () => {
  const select = createDestinationSelector(
    destinations([
      undefined,
      { 'body:status': ['success', 'completed'] },
      { 'body:result.code': [200], 'header:X-GitHub-Event': ['push'] },
      { 'body:ok': [true] },
    ]),
  );

  it.each([
    ['status success', json({ status: 'success' }), {}, ['d0', 'd1']],
    ['status failed', json({ status: 'failed' }), {}, ['d0']],
    ['number compares by its JSON text, header case-insensitive', json({ result: { code: 200 } }), { 'x-github-event': 'push' }, ['d0', 'd2']],
    ['all entries must match', json({ result: { code: 200 } }), { 'x-github-event': 'pull_request' }, ['d0']],
    ['a string "200" matches the text 200', json({ result: { code: '200' } }), { 'x-github-event': 'push' }, ['d0', 'd2']],
    ['boolean by its JSON text', json({ ok: true }), {}, ['d0', 'd3']],
    ['the string "true" also matches', json({ ok: 'true' }), {}, ['d0', 'd3']],
    ['an object at the path never matches', json({ status: { value: 'success' } }), {}, ['d0']],
    ['a body that is not JSON never matches a body entry', () => Buffer.from('status=success'), { 'x-github-event': 'push' }, ['d0']],
    ['a missing path does not match', json({}), {}, ['d0']],
    ['an undecodable body (null) does not match', () => null, {}, ['d0']],
  ])('%s', (_name, body, headers, queued) => {
    const selection = select(headers, body);
    expect(selection.queued).toEqual(queued);
    expect([...selection.queued, ...selection.filtered].sort()).toEqual(['d0', 'd1', 'd2', 'd3']);
  });

  it('parses the body once per event, however many destinations read it, and not at all when none needs it', () => {
    let reads = 0;
    const body = () => (reads++, Buffer.from('{"status":"success","ok":true}'));
    select({}, body);
    expect(reads).toBe(1);
    expect(select.readsBody).toBe(true);
    const headersOnly = createDestinationSelector(destinations([{ 'header:x-kind': ['a'] }, undefined]));
    expect(headersOnly.readsBody).toBe(false);
    expect(headersOnly({ 'x-kind': 'a' }, () => (reads++, Buffer.from('{}'))).queued).toEqual(['d0', 'd1']);
    expect(headersOnly({ 'x-kind': 'b' }, () => (reads++, Buffer.from('{}')))).toEqual({ queued: ['d1'], filtered: ['d0'] });
    expect(reads).toBe(1);
  });
});
