import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.mjs';
import { post } from '../support/post.js';
import { relayConfig, startRelay, TEST_SECRET, writeConfig } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { tempDir } from '../support/temp.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

describe('backup', () => {
  it('copies the database while serve runs; the copy opens with every acknowledged event', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const configPath = writeConfig(dir.path, relayConfig(dir.path));
    const relay = await startRelay(configPath);
    cleanups.push(() => relay.kill());
    for (const runId of ['run-b-1', 'run-b-2', 'run-b-3']) {
      expect((await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: runId }) }))).status).toBe(202);
    }
    const file = join(dir.path, 'backup', 'copy.db');
    const result = await runCli(['backup', file, '--json', '--config', configPath]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ path: file, bytes: expect.any(Number) });
    expect(existsSync(file)).toBe(true);
    // A second backup to the same file is refused (never overwrites).
    expect((await runCli(['backup', file, '--config', configPath])).code).toBe(2);
    expect(await relay.stop()).toBe(0);

    const copyConfig = writeConfig(dir.path, relayConfig(dir.path, { storage: { sqlite: { path: file } } }), 'copy.yaml');
    const search = await runCli(['events', 'search', 'run-b-', '--json', '--config', copyConfig]);
    expect(search.code, search.stderr).toBe(0);
    expect(search.stdout.trim().split('\n')).toHaveLength(3);
  });
});
