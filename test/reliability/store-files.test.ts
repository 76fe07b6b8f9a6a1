import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect } from 'vitest';
import { it, type Cleanup } from '../support/fixtures.js';
import { runCli } from '../support/cli.mjs';
import { post } from '../support/post.js';
import { copyRuntimeForOtherUsers } from '../support/runtime-copy.js';
import { relayConfig, startRelay, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

/**
 * Contract, "Every 2xx survives a restart": when the database file or its folder is removed,
 * replaced or becomes unwritable under a running `serve`, callbacks get the storage-failure answer (a closed connection for this cerebrium source) and /readyz 503,
 * never a 2xx for a write a restart would not find; and two `serve` processes never share
 * one SQLite database, however its path is spelled. The real `serve` on real files.
 */
const SOURCE_PATH = '/webhooks/cerebrium';

describe('store files: every 2xx survives a restart; one serve per database however spelled', () => {
  function folder(cleanup: Cleanup, prefix: string): string {
    const dir = tempDir(prefix);
    cleanup.add(dir.cleanup);
    return dir.path;
  }

  /** A config in `dir` whose database is at `dbPath` (any spelling). */
  function configFor(dir: string, dbPath: string, name = 'hookrelay.yaml'): string {
    return writeConfig(dir, relayConfig(dir, { storage: { sqlite: { path: dbPath, busyTimeoutMs: 500 } } }), name);
  }

  async function start(cleanup: Cleanup, configPath: string, spawn: { uid?: number; gid?: number; cli?: string } = {}): Promise<RelayProcess> {
    const relay = await startRelay(configPath, spawn);
    cleanup.add(() => relay.kill());
    return relay;
  }

  /** The answer's status, or 'closed' when the connection was closed without one. */
  async function send(relay: RelayProcess, runId: string): Promise<number | 'closed'> {
    const body = JSON.stringify({ run_id: runId });
    try {
      return (await post(`${relay.url}${SOURCE_PATH}`, cerebriumRequest({ secret: TEST_SECRET, body }))).status;
    } catch (error) {
      if ((error as { code?: string }).code === 'UND_ERR_SOCKET') return 'closed';
      throw error;
    }
  }

  async function readyz(relay: RelayProcess): Promise<number> {
    const response = await request(`${relay.url}/readyz`);
    await response.body.dump();
    return response.statusCode;
  }

  /** Events in the database the config names, through the CLI. */
  async function storedEvents(configPath: string): Promise<number> {
    const result = await runCli(['stats', '--json', '--config', configPath]);
    expect(result.code).toBe(0);
    return (JSON.parse(result.stdout) as { events: number }).events;
  }

  /**
   * The fault is on: each callback gets the storage-failure answer of a cerebrium source (the
   * connection closed without an answer, which the sender retries; never a 2xx), /readyz 503,
   * the relay still running.
   */
  async function expectRefusing(relay: RelayProcess, runIds: string[]): Promise<void> {
    const statuses: (number | 'closed')[] = [];
    for (const runId of runIds) statuses.push(await send(relay, runId));
    expect(statuses).toEqual(runIds.map(() => 'closed'));
    expect(await readyz(relay)).toBe(503);
    expect(relay.child.exitCode).toBeNull();
  }

  it('rm -rf of the database folder while serving: no 2xx (connection closed) and /readyz 503; a restart finds every event that got a 2xx', async ({ cleanup }) => {
    const root = folder(cleanup, 'hookrelay-rmrf-e2e-');
    const config = configFor(root, join(root, 'data', 'hookrelay.db'));
    const first = await start(cleanup, config);
    for (const runId of ['before-1', 'before-2']) expect(await send(first, runId)).toBe(202);

    rmSync(join(root, 'data'), { recursive: true, force: true });
    await expectRefusing(first, ['during-1', 'during-2', 'during-3']);
    await waitFor(() => first.lines.some((line) => line.includes('storage unavailable') && line.includes('was removed')), {
      what: 'a log line naming what was removed',
    });

    // The lock went with the folder: a new serve starts on a new, empty database, while the
    // first keeps refusing (it writes only to the unlinked files).
    const second = await start(cleanup, config);
    for (const runId of ['during-1', 'during-2', 'during-3']) expect(await send(second, runId)).toBe(202);
    await expectRefusing(first, ['during-4']);
    expect(await first.stop()).toBe(0);
    expect(await second.stop()).toBe(0);

    // The acknowledged-before-removal events went with the folder; every 2xx since is found.
    expect(await storedEvents(config)).toBe(3);
    const restarted = await start(cleanup, config);
    for (const runId of ['during-1', 'during-2', 'during-3']) expect(await send(restarted, runId)).toBe(200);
    expect(await send(restarted, 'during-4')).toBe(202);
  });

  it('the database file replaced by another database (mv over it) while serving: no 2xx and /readyz 503', async ({ startRelay, cleanup }) => {
    const root = folder(cleanup, 'hookrelay-replaced-e2e-');
    const config = configFor(root, join(root, 'hookrelay.db'));
    const otherConfig = configFor(root, join(root, 'other', 'hookrelay.db'), 'other.yaml');
    const other = await start(cleanup, otherConfig);
    expect(await send(other, 'other-1')).toBe(202);
    expect(await other.stop()).toBe(0);

    const relay = await start(cleanup, config);
    expect(await send(relay, 'before-1')).toBe(202);
    renameSync(join(root, 'other', 'hookrelay.db'), join(root, 'hookrelay.db'));
    await expectRefusing(relay, ['during-1', 'during-2']);
    // The first still has the -wal and -shm at this path open: a second serve must not share them.
    const second = await startRelay(config, { timeoutMs: 10_000 }).then(
      async (started) => {
        await started.kill();
        return new Error('a second serve started beside the first');
      },
      (error: unknown) => error as Error,
    );
    expect(second.message).toMatch(/relay exited \(1\) before listening: [^\n]*still has the database that was at \S+ before it was replaced open/);
    expect(await relay.stop()).toBe(0);

    // What a restart finds is the replacement: no 2xx was given for a write into the old file.
    expect(await storedEvents(config)).toBe(1);
    const restarted = await start(cleanup, config);
    expect(await send(restarted, 'other-1')).toBe(200);
    expect(await send(restarted, 'during-1')).toBe(202);
  });

  it('the database file made unwritable for serve (an unprivileged user) while serving: no 2xx, then ready again once writable', async ({ cleanup }) => {
    const root = folder(cleanup, 'hookrelay-unwritable-e2e-');
    // Root writes through any file mode: run serve as an unprivileged user, in a folder it may
    // write, from a copy of the built relay that user can read (the checkout may be in a private folder).
    let user = {};
    if (process.getuid?.() === 0) {
      const runtime = copyRuntimeForOtherUsers();
      cleanup.add(runtime.cleanup);
      user = { uid: 65534, gid: 65534, cli: runtime.cli };
    }
    chmodSync(root, 0o777);
    const dbPath = join(root, 'hookrelay.db');
    const config = configFor(root, dbPath);
    const relay = await start(cleanup, config, user);
    expect(await send(relay, 'before-1')).toBe(202);

    chmodSync(dbPath, 0o444);
    await expectRefusing(relay, ['during-1']);
    chmodSync(dbPath, 0o644);
    await waitFor(async () => (await readyz(relay)) === 200, { what: '/readyz to recover' });
    expect(await send(relay, 'after-1')).toBe(202);
    expect(await relay.stop()).toBe(0);

    const restarted = await start(cleanup, config, user);
    // The refused one went in through the open file (the check follows the commit), so its
    // sender's retry finds it, as after a crash between commit and answer.
    for (const runId of ['before-1', 'during-1', 'after-1']) expect(await send(restarted, runId)).toBe(200);
  });

  it('a second serve on the same database through a symlinked folder, a symlinked file or ".." refuses to start', async ({ startRelay, cleanup }) => {
    const root = folder(cleanup, 'hookrelay-spellings-e2e-');
    mkdirSync(join(root, 'data'));
    const config = configFor(root, join(root, 'data', 'hookrelay.db'));
    const first = await start(cleanup, config);
    expect(await send(first, 'first-1')).toBe(202);

    symlinkSync(join(root, 'data'), join(root, 'link-to-data'));
    symlinkSync(join(root, 'data', 'hookrelay.db'), join(root, 'link-to-file.db'));
    const spellings = [join(root, 'link-to-data', 'hookrelay.db'), join(root, 'link-to-file.db'), `${root}/data/../data/hookrelay.db`];
    for (const [index, spelling] of spellings.entries()) {
      const refusal = await startRelay(configFor(root, spelling, `second-${index}.yaml`), { timeoutMs: 10_000 }).then(
        async (relay) => {
          await relay.kill();
          return new Error(`a second serve started on ${spelling}`);
        },
        (error: unknown) => error as Error,
      );
      expect(refusal.message).toMatch(/relay exited \(1\) before listening: [^\n]*another serve process \(pid \d+\) is running on/);
    }
    expect(await send(first, 'first-2')).toBe(202);
    expect(await first.stop()).toBe(0);
    expect(await storedEvents(config)).toBe(2);
  });
});
