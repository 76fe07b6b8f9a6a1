import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../src/glossary.js';
import { createLogger } from '../../src/log.js';
import { createRunChecker } from '../../src/runs/checker.js';
import type { StatusAnswer } from '../../src/runs/run-status.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from '../support/temp.js';

/** The checker with a real store on a temp file, a fake status API and a clock the test moves. */
describe('run checker', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  const setUp = (answer: ((run: Run) => StatusAnswer) | null) => {
    const dir = tempDir('hookrelay-checker-');
    cleanups.push(dir.cleanup);
    const store: Store = openSqlite({ path: join(dir.path, 'db'), busyTimeoutMs: 1_000, lock: false, thread: 'inline' });
    cleanups.push(() => store.close());
    let now = 1_000_000;
    const asked: string[] = [];
    const woken: string[][] = [];
    const checker = createRunChecker({
      store,
      logger: createLogger({ level: 'silent' }),
      statusClient: answer
        ? {
            async check(run) {
              asked.push(run.runId);
              return answer(run);
            },
          }
        : null,
      settings: { callbackSource: 'cerebrium', announceTo: ['pager'], everyMs: 10_000, tickMs: 50 },
      announced: (destinations) => woken.push([...destinations]),
      now: () => now,
    });
    cleanups.push(() => checker.stop());
    const record = (runId: string) =>
      store.recordRun({ runId, project: 'p', app: 'a', metadata: null, submittedAt: now }, { overdueAt: now + 5_000, callbackSource: 'cerebrium' });
    return { store, checker, asked, woken, record, advance: (ms: number) => (now += ms), status: async (runId: string) => (await store.getRun(runId))?.status };
  };

  it('marks due runs overdue and wakes the announcing destinations; runs not due yet wait', async () => {
    const { checker, record, advance, status, woken } = setUp(null);
    await record('a');
    advance(4_999);
    await checker.tick();
    expect(await status('a')).toBe('submitted');
    expect(woken).toEqual([]);
    advance(1);
    await checker.tick();
    expect(await status('a')).toBe('overdue');
    expect(woken).toEqual([['pager']]);
  });

  it('asks about overdue runs: finished -> lost, running -> asked again after everyMs', async () => {
    const { checker, record, advance, status, asked } = setUp((run) => (run.runId === 'done' ? { kind: 'finished', status: 'succeeded' } : { kind: 'running', status: 'running' }));
    await record('done');
    await record('busy');
    advance(5_000);
    await checker.tick();
    expect(asked.sort()).toEqual(['busy', 'done']);
    expect(await status('done')).toBe('lost');
    expect(await status('busy')).toBe('overdue');
    asked.length = 0;
    advance(9_999);
    await checker.tick();
    expect(asked).toEqual([]);
    advance(1);
    await checker.tick();
    expect(asked).toEqual(['busy']);
  });

  it('a 5xx pauses every check, doubling; nothing is asked during the pause; success resets it', async () => {
    let failing = true;
    const { checker, record, advance, asked } = setUp(() =>
      failing ? { kind: 'unknown', reason: 'HTTP 503', throttled: true } : { kind: 'running', status: 'running' },
    );
    for (let i = 0; i < 20; i++) await record(`r${i}`);
    advance(5_000);
    await checker.tick();
    // At most the checks already in flight (4 at once) hit the failing API.
    expect(asked.length).toBeLessThanOrEqual(4);
    const first = asked.length;
    advance(999);
    await checker.tick();
    expect(asked.length).toBe(first);
    advance(1);
    await checker.tick();
    expect(asked.length).toBeGreaterThan(first);
    const second = asked.length;
    advance(1_999);
    await checker.tick();
    expect(asked.length).toBe(second);
    failing = false;
    advance(1);
    await checker.tick();
    // Back up: one batch, every one of the 20 asked (the paused ones were due at the end of the pause).
    expect(new Set(asked.slice(second)).size).toBe(20);
  });

  it('honours a Retry-After longer than the pause', async () => {
    const { checker, record, advance, asked } = setUp(() => ({ kind: 'unknown', reason: 'HTTP 429', throttled: true, retryAfterMs: 30_000 }));
    await record('r');
    advance(5_000);
    await checker.tick();
    expect(asked).toEqual(['r']);
    advance(29_999);
    await checker.tick();
    expect(asked).toEqual(['r']);
    advance(1);
    await checker.tick();
    expect(asked).toEqual(['r', 'r']);
  });
});
