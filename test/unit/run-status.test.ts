import { describe, expect, it } from 'vitest';
import { classifyStatusAnswer, statusOf } from '../../src/runs/run-status.js';
import { statusUrlOf } from '../../src/runs/status-client.js';
import { appOf } from '../../src/runs/submit-proxy.js';
import { checkerTickMs } from '../../src/runs/run-tracking.js';

describe('run status answers', () => {
  const cases: [string, number, unknown, string][] = [
    ['item.status running', 200, { item: { status: 'running' } }, 'running'],
    ['status RUNNING, case-insensitive', 200, { status: 'RUNNING' }, 'running'],
    ['pending', 200, { item: { status: 'pending' } }, 'running'],
    ['queued', 200, { item: { status: 'Queued' } }, 'running'],
    ['in_progress', 200, { item: { status: 'in_progress' } }, 'running'],
    ['processing', 200, { item: { status: 'processing' } }, 'running'],
    ['initializing', 200, { item: { status: 'initializing' } }, 'running'],
    ['succeeded', 200, { item: { status: 'succeeded' } }, 'finished'],
    ['failed', 200, { status: 'failed' }, 'finished'],
    ['cancelled', 200, { item: { status: 'cancelled' } }, 'finished'],
    ['item.status wins over status', 200, { item: { status: 'running' }, status: 'failed' }, 'running'],
    ['no status', 200, { item: {} }, 'unknown'],
    ['not JSON', 200, undefined, 'unknown'],
    ['404', 404, { error: 'not found' }, 'unknown'],
    ['429', 429, undefined, 'unknown'],
    ['503', 503, undefined, 'unknown'],
  ];
  it.each(cases)('%s -> %s', (_, http, json, kind) => {
    expect(classifyStatusAnswer(http, json).kind).toBe(kind);
  });

  it('429 and 5xx ask the checker to back off, other failures do not; Retry-After is kept', () => {
    expect(classifyStatusAnswer(429, undefined, 30_000)).toEqual({ kind: 'unknown', reason: 'HTTP 429', throttled: true, retryAfterMs: 30_000 });
    expect(classifyStatusAnswer(502, undefined)).toMatchObject({ throttled: true });
    expect(classifyStatusAnswer(401, undefined)).toMatchObject({ throttled: false });
  });

  it('reads item.status, else status', () => {
    expect(statusOf({ item: { status: ' done ' } })).toBe('done');
    expect(statusOf({ status: 'x' })).toBe('x');
    expect(statusOf({ item: { status: 3 } })).toBeUndefined();
    expect(statusOf(null)).toBeUndefined();
  });
});

describe('run tracking helpers', () => {
  it('fills the status URL placeholders, encoded', () => {
    expect(statusUrlOf('https://rest.cerebrium.ai/v2/projects/{project}/apps/{project}-{app}/runs/{run_id}', { runId: 'a/b', project: 'p-1', app: 'ocr' })).toBe(
      'https://rest.cerebrium.ai/v2/projects/p-1/apps/p-1-ocr/runs/a%2Fb',
    );
  });

  it('reads project and app from a submission path', () => {
    expect(appOf('/v4/p-123/my-app/predict')).toEqual({ project: 'p-123', app: 'my-app' });
    expect(appOf('/v4/p-123/my-app')).toEqual({ project: 'p-123', app: 'my-app' });
    expect(appOf('/other/path')).toEqual({ project: null, app: null });
  });

  it('ticks often enough for short settings, at most once a second', () => {
    expect(checkerTickMs(1_800_000, 60_000)).toBe(1_000);
    expect(checkerTickMs(1_000, undefined)).toBe(250);
    expect(checkerTickMs(100, 20)).toBe(50);
  });
});
