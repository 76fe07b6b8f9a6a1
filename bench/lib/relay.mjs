import { join } from 'node:path';
import { runCli as runTestCli } from '../../test/support/cli.mjs';
import { waitListening } from '../../test/support/node-child.mjs';
import { ROOT, startRelay as startServe, writeConfig } from '../../test/support/relay.mjs';
import { startBenchNode } from './children.mjs';

export { ROOT };
export const TARGETS = join(ROOT, 'bench/targets');
export const BENCH_SECRET = 'bench-cerebrium-secret';
export const SOURCE_PATH = '/webhooks/cerebrium';

/**
 * Writes the relay's config: one cerebrium source, one destination (`destinationUrl`) or the
 * `destinations` given as they are, SQLite at `dbPath`, or `storage` as given (e.g.
 * `{ postgres: { url, schema, poolSize } }`); with `admin`, the admin listener on a free port.
 */
export function writeRelayConfig(dir, { dbPath, storage, destinationUrl, destination = {}, destinations, concurrency = null, admin = false, name = 'hookrelay.yaml' }) {
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    storage: storage ?? { sqlite: { path: dbPath } },
    sources: [{ name: 'cerebrium', path: SOURCE_PATH, verify: { scheme: 'cerebrium', secrets: [BENCH_SECRET] } }],
    destinations: destinations ?? (destinationUrl ? [{ name: 'sink', url: destinationUrl, ...(concurrency ? { concurrency } : {}), ...destination }] : []),
    log: { level: 'info' },
    ...(admin ? { admin: { host: '127.0.0.1', port: 0 } } : {}),
  };
  return writeConfig(dir, config, name);
}

/**
 * Starts `hookrelay serve` (the built CLI, test/support/relay.mjs) and waits for its listening
 * line. `url` is the source's URL; `startupMs` is spawn -> listening line as seen by the bench;
 * `relayPid` is the relay process serve runs (its memory is the relay's, not serve's own).
 */
export async function startRelay(configPath, { profileDir, timeoutMs = 60_000 } = {}) {
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const relay = await startServe(configPath, { nodeArgs, cwd: ROOT, timeoutMs, ipc: true, maxLines: 2000, maxStderrChars: 64_000 });
  return { handle: relay.handle, relayPid: relay.relayPid, port: relay.port, adminPort: relay.adminPort, url: `${relay.url}${SOURCE_PATH}`, startupMs: relay.startupMs };
}

/** Starts one of the bench/targets servers (or the sink) and waits for its listening line. */
export async function startTarget(name, script, args = []) {
  const handle = startBenchNode(name, join(TARGETS, script), args, { cwd: ROOT });
  const listening = await waitListening(handle);
  return { handle, port: listening.port };
}

/** Runs the hookrelay CLI (test/support/cli.mjs) from the checkout; resolves with exit code, stdout, stderr and wall time (ms). */
export function runCli(args, timeoutMs = 120_000) {
  return runTestCli(args, { cwd: ROOT, timeoutMs });
}

/** `hookrelay stats --json` parsed, with its wall time. */
export async function stats(configPath) {
  const run = await runCli(['stats', '--json', '--config', configPath]);
  if (run.code !== 0) throw new Error(`hookrelay stats exited ${run.code}: ${run.stderr}`);
  return { ...JSON.parse(run.stdout), wallMs: run.wallMs };
}
