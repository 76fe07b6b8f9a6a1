import { existsSync } from 'node:fs';
import { request } from 'undici';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { relayConfig, writeConfig } from '../support/relay.mjs';
import { waitFor } from '../support/wait.js';

/** Whether a process with this pid still exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// The fixtures' teardown is what keeps every suite from leaking processes, ports and folders:
// the first test starts them, the next (run after it, in order) finds them gone.
describe('test/support fixtures tear down what a test started', () => {
  const left: { servePid?: number; relayPid?: number; dir?: string; sinkUrl?: string } = {};

  it('starts a relay, a sink and a temp folder', async ({ tempDir, startRelay, startSink }) => {
    const dir = tempDir();
    const sink = await startSink();
    const relay = await startRelay(writeConfig(dir, relayConfig(dir, { destinations: [{ name: 'app', url: sink.url }] })));
    Object.assign(left, { servePid: relay.child.pid, relayPid: relay.relayPid, dir, sinkUrl: sink.url });
    expect(alive(relay.child.pid!)).toBe(true);
    expect(alive(relay.relayPid)).toBe(true);
  });

  it('finds serve and its relay process ended, the sink closed and the folder removed', async () => {
    expect(left.servePid).toBeDefined();
    expect(alive(left.servePid!)).toBe(false);
    // The relay process leaves when its channel to serve closes.
    await waitFor(() => !alive(left.relayPid!), { timeoutMs: 10_000, what: 'the relay process to end' });
    expect(existsSync(left.dir!)).toBe(false);
    await expect(request(left.sinkUrl!)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
