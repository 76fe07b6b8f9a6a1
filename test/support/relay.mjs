// @ts-check
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { startNode, waitListening } from './node-child.mjs';

/** The checkout this file lives in. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** The built CLI; `npm test` and `npm run bench` build before running. */
export const CLI = join(ROOT, 'dist/cli/main.js');

export const TEST_SECRET = 'test-cerebrium-secret';

/**
 * The default cerebrium source answering 503 when storage cannot commit (its default is to
 * close the connection without an answer): for tests of the 503 path.
 */
export const RESPONDING_CEREBRIUM_SOURCE = {
  name: 'cerebrium',
  path: '/webhooks/cerebrium',
  verify: { scheme: 'cerebrium', secrets: [TEST_SECRET] },
  onStorageFailure: 'respond',
};

/**
 * A minimal valid config object: one cerebrium source, the given destinations, SQLite in `dir`.
 * @param {string} dir
 * @param {Record<string, unknown>} [overrides]
 * @returns {Record<string, unknown>}
 */
export function relayConfig(dir, overrides = {}) {
  return {
    server: { host: '127.0.0.1', port: 0 },
    storage: { sqlite: { path: join(dir, 'hookrelay.db'), busyTimeoutMs: 2000 } },
    sources: [{ name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: [TEST_SECRET] } }],
    destinations: [],
    log: { level: 'info' },
    ...overrides,
  };
}

/**
 * Writes a config object as YAML into `dir` and returns its path.
 * @param {string} dir
 * @param {Record<string, unknown>} config
 * @param {string} [name]
 * @returns {string}
 */
export function writeConfig(dir, config, name = 'hookrelay.yaml') {
  const path = join(dir, name);
  writeFileSync(path, stringify(config));
  return path;
}

/**
 * @typedef {object} RelayProcess
 * @property {import('./node-child.mjs').NodeChild} handle
 * @property {import('node:child_process').ChildProcess} child `child.pid` is serve itself, the pid to signal.
 * @property {number} port
 * @property {number | null} adminPort
 * @property {number} relayPid The relay process serve runs (its child).
 * @property {string} url `http://127.0.0.1:<port>`.
 * @property {string[]} lines Every stdout line so far (pino JSON).
 * @property {() => string} stderr
 * @property {Promise<number | string>} exited Resolves with the exit code (or signal name).
 * @property {number} startupMs Spawn to the listening line, as seen from here.
 * @property {(graceMs?: number) => Promise<number | string>} stop SIGTERM, then SIGKILL after `graceMs`.
 * @property {() => Promise<number | string>} kill
 *
 * @typedef {object} RelayOptions
 * @property {Record<string, string>} [env]
 * @property {number} [timeoutMs] For the listening line.
 * @property {string} [cwd]
 * @property {number} [uid]
 * @property {number} [gid]
 * @property {string} [cli] Another built CLI (a copy another user can read: see runtime-copy.ts).
 * @property {string[]} [nodeArgs] Arguments for node (the bench's `--cpu-prof`).
 * @property {boolean} [ipc]
 * @property {number} [maxLines]
 * @property {number} [maxStderrChars]
 */

/**
 * Starts `hookrelay serve` as a child process and waits for its `listening` line; an exit
 * before it fails at once, a timeout kills the child.
 * @param {string} configPath
 * @param {RelayOptions} [options]
 * @returns {Promise<RelayProcess>}
 */
export async function startRelay(configPath, { timeoutMs = 15_000, cli = CLI, ...spawnOptions } = {}) {
  const handle = startNode('relay', cli, ['serve', '--config', configPath], spawnOptions);
  const listening = await waitListening(handle, timeoutMs).catch(async (error) => {
    if (handle.isRunning()) {
      await handle.kill();
      throw error;
    }
    // Exited before listening: its last words, once its output is read to the end (bounded).
    const code = await handle.exited;
    const { stdout, stderr } = handle.child;
    if (!(stdout?.closed && stderr?.closed)) await Promise.race([once(handle.child, 'close'), new Promise((resolve) => setTimeout(resolve, 1_000))]);
    throw new Error(`relay exited (${code}) before listening: ${handle.stderr()}${handle.lines.join('\n')}`);
  });
  return {
    handle,
    child: handle.child,
    port: listening.port,
    adminPort: listening.adminPort ?? null,
    relayPid: listening.relayPid ?? /** @type {number} */ (handle.pid),
    url: `http://127.0.0.1:${listening.port}`,
    lines: handle.lines,
    stderr: handle.stderr,
    exited: handle.exited,
    startupMs: listening.at - handle.startedAt,
    stop: handle.stop,
    kill: handle.kill,
  };
}
