import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { post } from '../support/post.js';
import { relayConfig, TEST_SECRET, writeConfig } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';


describe('backup', () => {
  it('copies the database while serve runs; the copy opens with every acknowledged event', async ({ tempDir, startRelay, runCli }) => {
    const dir = tempDir();
    const configPath = writeConfig(dir, relayConfig(dir));
    const relay = await startRelay(configPath);
    for (const runId of ['run-b-1', 'run-b-2', 'run-b-3']) {
      expect((await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: runId }) }))).status).toBe(202);
    }
    const file = join(dir, 'backup', 'copy.db');
    const result = await runCli(['backup', file, '--json', '--config', configPath]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ path: file, bytes: expect.any(Number) });
    expect(existsSync(file)).toBe(true);
    // A second backup to the same file is refused (never overwrites).
    expect((await runCli(['backup', file, '--config', configPath])).code).toBe(2);
    expect(await relay.stop()).toBe(0);

    const copyConfig = writeConfig(dir, relayConfig(dir, { storage: { sqlite: { path: file } } }), 'copy.yaml');
    const search = await runCli(['events', 'search', 'run-b-', '--json', '--config', copyConfig]);
    expect(search.code, search.stderr).toBe(0);
    expect(search.stdout.trim().split('\n')).toHaveLength(3);
  });
});
