import { describe, expect, it } from 'vitest';
import type { NewEvent, NewRun } from '../../src/glossary.js';
import type { Store } from '../../src/store/store.js';

/**
 * The run-tracking part of the store contract (called from conformance.ts, so it runs for
 * every adapter). `store()` is the case's fresh store; `open()` a second one on the same
 * database, as a second process would hold.
 */
export function defineRunConformance(store: () => Store, open: () => Promise<Store>): void {
  const SOURCE = 'cerebrium';
  const newRun = (runId: string, overrides: Partial<NewRun> = {}): NewRun => ({
    runId,
    project: 'p-1234',
    app: 'summarise',
    metadata: { doc: runId, tenant: 7 },
    submittedAt: Date.now(),
    ...overrides,
  });
  const record = (runId: string, overdueAt = Date.now() + 60_000, overrides: Partial<NewRun> = {}) =>
    store().recordRun(newRun(runId, overrides), { overdueAt, callbackSource: SOURCE });
  const callback = (runId: string, overrides: Partial<NewEvent> = {}): NewEvent => ({
    source: SOURCE,
    runId,
    dedupeKey: runId,
    contentType: 'application/json',
    contentEncoding: null,
    body: Buffer.from(JSON.stringify({ run_id: runId, result: 'ok' })),
    destinations: ['app'],
    ...overrides,
  });
  const sweep = (s: Store, announceTo: string[] = ['pager'], nextCheckAt: number | null = null, now = Date.now()) =>
    s.markOverdueRuns({ now, limit: 100, callbackSource: SOURCE, announceTo, nextCheckAt });
  const announcements = async (s: Store) => {
    const events = await s.findEvents({ source: 'runs', limit: 100 });
    return Promise.all(events.map(async (e) => JSON.parse((await s.getEvent(e.id))!.body.toString()) as Record<string, unknown>));
  };

  describe('runs', () => {
    it('records a run once; a known run id is left as it is', async () => {
      const first = await record('run-a');
      expect(first.created).toBe(true);
      expect(first.run).toMatchObject({ runId: 'run-a', project: 'p-1234', app: 'summarise', status: 'submitted', metadata: { doc: 'run-a', tenant: 7 } });
      expect(first.run).toMatchObject({ completedAt: null, eventId: null, overdueAt: null, lostAt: null });
      const second = await record('run-a', Date.now(), { metadata: null, app: 'other' });
      expect(second.created).toBe(false);
      expect(second.run).toEqual(first.run);
      expect(await store().getRun('run-a')).toEqual(first.run);
      expect(await store().getRun('run-unknown')).toBeNull();
      expect((await record('run-bare', Date.now(), { metadata: null, app: null, project: null })).run).toMatchObject({ metadata: null, app: null });
    });

    it('a callback carrying the run id completes the run in its commit; its deliveries carry the metadata', async () => {
      const { run } = await record('run-cb');
      const result = await store().ingest(callback('run-cb'));
      expect(result.completedRun?.runId).toBe('run-cb');
      expect(result.completedRun!.durationMs).toBeGreaterThanOrEqual(0);
      const completed = await store().getRun('run-cb');
      expect(completed).toMatchObject({ status: 'completed', eventId: result.id });
      expect(completed!.completedAt).toBeGreaterThanOrEqual(run.submittedAt);
      const duplicate = await store().ingest(callback('run-cb'));
      expect(duplicate).toEqual({ id: result.id, duplicate: true });
      const [claimed] = await store().claimDue({ destination: 'app', limit: 10, now: Date.now(), leaseExpiresAt: Date.now() + 30_000, owner: 'o' });
      expect(claimed?.eventId).toBe(result.id);
      expect(claimed!.runMetadata).toBe('{"doc":"run-cb","tenant":7}');
    });

    it('an untracked callback completes nothing and its deliveries carry no metadata', async () => {
      const result = await store().ingest(callback('run-untracked'));
      expect(result.completedRun).toBeUndefined();
      const [claimed] = await store().claimDue({ destination: 'app', limit: 10, now: Date.now(), leaseExpiresAt: Date.now() + 30_000, owner: 'o' });
      expect(claimed?.runMetadata ?? null).toBeNull();
    });

    it('a run recorded after its callback was stored is completed at once', async () => {
      const { id } = await store().ingest(callback('run-early'));
      const { run, created } = await record('run-early');
      expect(created).toBe(true);
      expect(run).toMatchObject({ status: 'completed', eventId: id });
    });

    it('due runs become overdue once, each announced once with a delivery per announcing destination', async () => {
      const past = Date.now() - 1;
      await record('run-late-1', past);
      await record('run-late-2', past, { metadata: null });
      await record('run-not-yet', Date.now() + 60_000);
      const overdue = await sweep(store());
      expect(overdue.map((run) => run.runId).sort()).toEqual(['run-late-1', 'run-late-2']);
      expect(await sweep(store())).toEqual([]);
      expect((await store().getRun('run-late-1'))).toMatchObject({ status: 'overdue' });
      expect((await store().getRun('run-late-1'))!.overdueAt).not.toBeNull();
      expect((await store().getRun('run-not-yet'))!.status).toBe('submitted');
      const bodies = await announcements(store());
      expect(bodies).toHaveLength(2);
      const one = bodies.find((body) => body.runId === 'run-late-1')!;
      expect(one).toEqual({ type: 'run.overdue', runId: 'run-late-1', app: 'summarise', submittedAt: expect.any(String), metadata: { doc: 'run-late-1', tenant: 7 } });
      expect(bodies.find((body) => body.runId === 'run-late-2')!.metadata).toEqual({});
      const claimed = await store().claimDue({ destination: 'pager', limit: 10, now: Date.now(), leaseExpiresAt: Date.now() + 30_000, owner: 'o' });
      expect(claimed).toHaveLength(2);
      expect(claimed.every((delivery) => delivery.source === 'runs')).toBe(true);
      // Without a status API an overdue run is never checked.
      expect(await store().claimRunChecks({ now: Date.now() + 3_600_000, limit: 10, leaseExpiresAt: Date.now() + 3_700_000 })).toEqual([]);
    });

    it('a due run whose callback is stored after all is completed by the sweep, not announced', async () => {
      await record('run-raced', Date.now() - 1);
      // The callback landed without completing the run (it raced the record on another connection).
      const { id } = await store().ingest(callback('run-raced', { runId: undefined }));
      expect(await sweep(store())).toEqual([]);
      expect(await store().getRun('run-raced')).toMatchObject({ status: 'completed', eventId: id });
      expect(await announcements(store())).toEqual([]);
    });

    it('status checks are leased; a finished run becomes lost once; a late callback still completes it', async () => {
      const now = Date.now();
      await record('run-check', now - 1);
      await record('run-running', now - 1);
      await sweep(store(), ['pager'], now);
      const claimed = await store().claimRunChecks({ now, limit: 10, leaseExpiresAt: now + 30_000 });
      expect(claimed.map((run) => run.runId).sort()).toEqual(['run-check', 'run-running']);
      expect(await store().claimRunChecks({ now, limit: 10, leaseExpiresAt: now + 30_000 })).toEqual([]);
      await store().scheduleRunChecks(['run-running'], now + 60_000);
      const lost = await store().markRunsLost(['run-check', 'run-unknown'], now, ['pager']);
      expect(lost.map((run) => run.runId)).toEqual(['run-check']);
      expect(await store().markRunsLost(['run-check'], now, ['pager'])).toEqual([]);
      expect(await store().getRun('run-check')).toMatchObject({ status: 'lost' });
      expect((await announcements(store())).map((body) => `${body.type}:${body.runId}`).sort()).toEqual([
        'run.lost:run-check', 'run.overdue:run-check', 'run.overdue:run-running',
      ]);
      expect(await store().claimRunChecks({ now: now + 59_000, limit: 10, leaseExpiresAt: now + 90_000 })).toEqual([]);
      expect((await store().claimRunChecks({ now: now + 60_000, limit: 10, leaseExpiresAt: now + 90_000 })).map((run) => run.runId)).toEqual(['run-running']);
      const late = await store().ingest(callback('run-check'));
      expect(late.completedRun?.runId).toBe('run-check');
      expect(await store().getRun('run-check')).toMatchObject({ status: 'completed', eventId: late.id });
      // A completed run is no longer checked.
      expect(await store().markRunsLost(['run-check'], now, ['pager'])).toEqual([]);
    });

    it('lists runs newest first with a status filter and a cursor; counts every status', async () => {
      for (const id of ['l1', 'l2', 'l3', 'l4']) await record(id);
      await store().ingest(callback('l2'));
      const first = await store().listRuns({ limit: 3 });
      expect(first.runs.map((run) => run.runId)).toEqual(['l4', 'l3', 'l2']);
      const second = await store().listRuns({ limit: 3, cursor: first.nextCursor! });
      expect(second).toEqual({ runs: [expect.objectContaining({ runId: 'l1' })], nextCursor: null });
      expect((await store().listRuns({ status: 'completed', limit: 10 })).runs.map((run) => run.runId)).toEqual(['l2']);
      expect(await store().runCounts()).toEqual({ submitted: 3, completed: 1, overdue: 0, lost: 0 });
    });

    it('retention prunes completed runs with their events and keeps overdue ones', async () => {
      await record('kept', Date.now() - 1);
      await sweep(store(), []);
      await record('done');
      await store().ingest(callback('done', { destinations: [] }));
      expect(await store().pruneDelivered(Date.now() + 1, 100)).toBeGreaterThan(0);
      expect(await store().getRun('done')).toBeNull();
      expect((await store().getRun('kept'))?.status).toBe('overdue');
    });

    it('two stores sweeping at once announce each run exactly once', async () => {
      const other = await open();
      for (let i = 0; i < 40; i++) await record(`race-${i}`, Date.now() - 1);
      const [a, b] = await Promise.all([sweep(store()), sweep(other)]);
      expect(a.length + b.length).toBe(40);
      expect(new Set([...a, ...b].map((run) => run.runId)).size).toBe(40);
      expect(await announcements(store())).toHaveLength(40);
      expect((await store().stats(['pager'])).destinations.pager!.pending).toBe(40);
    });
  });
}
