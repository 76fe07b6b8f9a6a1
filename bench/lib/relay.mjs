import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { startNode, waitListening } from './children.mjs';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');
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
  const path = join(dir, name);
  writeFileSync(path, stringify(config));
  return path;
}

/**
 * Starts `hookrelay serve` (the built CLI) and waits for its listening line.
 * `startupMs` is spawn -> listening line as seen by the bench.
 */
export async function startRelay(configPath, { profileDir, timeoutMs = 60_000 } = {}) {
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const handle = startNode('relay', CLI, ['serve', '--config', configPath], { nodeArgs, cwd: ROOT });
  const listening = await waitListening(handle, timeoutMs);
  // serve runs the relay in a child process (relayPid): its memory is the relay's, not serve's own.
  const relayPid = listening.relayPid ?? handle.pid;
  return { handle, relayPid, port: listening.port, adminPort: listening.adminPort ?? null, url: `http://127.0.0.1:${listening.port}${SOURCE_PATH}`, startupMs: listening.at - handle.startedAt };
}

/** Starts one of the bench/targets servers (or the sink) and waits for its listening line. */
export async function startTarget(name, script, args = []) {
  const handle = startNode(name, join(TARGETS, script), args, { cwd: ROOT });
  const listening = await waitListening(handle);
  return { handle, port: listening.port };
}

/** Runs the hookrelay CLI; resolves with exit code, stdout, stderr and wall time (ms). */
export function runCli(args, timeoutMs = 120_000) {
  return new Promise((resolveRun, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hookrelay ${args.join(' ')} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

/** `hookrelay stats --json` parsed, with its wall time. */
export async function stats(configPath) {
  const run = await runCli(['stats', '--json', '--config', configPath]);
  if (run.code !== 0) throw new Error(`hookrelay stats exited ${run.code}: ${run.stderr}`);
  return { ...JSON.parse(run.stdout), wallMs: run.wallMs };
}
