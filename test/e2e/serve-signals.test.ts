import { spawn } from 'node:child_process';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { CLI, relayConfig, writeConfig } from '../support/relay.mjs';

const UNSET_VARIABLE = 'HOOKRELAY_TEST_SECRET_NEVER_SET';

describe('serve: a stop signal during start-up', () => {
  it.for(['SIGTERM', 'SIGINT'] as const)('%s sent while starting: the relay finishes starting, stops in order and exits 0', async (signal, { cleanup, tempDir }) => {
    const dir = tempDir();
    // A defaulted secret makes start-up log a warning before the store opens: the signal is sent on that line.
    const configPath = writeConfig(
      dir,
      relayConfig(dir, {
        sources: [{ name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: [`\${${UNSET_VARIABLE}:-dev-secret}`] } }],
      }),
    );
    const env = { ...process.env };
    delete env[UNSET_VARIABLE];
    const child = spawn(process.execPath, [CLI, 'serve', '--config', configPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.add(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
    let stdout = '';
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!sent && stdout.includes('uses the development default')) {
        sent = true;
        child.kill(signal);
      }
    });
    const exited = await new Promise<number | string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not exit within 30 s; stdout: ${stdout}`)), 30_000);
      // 'close', not 'exit': its last lines may still be in the pipe when it exits.
      child.on('close', (code, killedBy) => {
        clearTimeout(timer);
        resolve(code ?? killedBy ?? 'unknown');
      });
    });
    expect(sent).toBe(true);
    expect(exited).toBe(0);
    const messages = stdout.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toContain('signal received');
    expect(messages.indexOf('listening')).toBeGreaterThan(-1);
    expect(messages.at(-1)).toBe('stopped');
  });
});
