import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { waitFor } from './wait.js';

/** The built CLI; `npm test` builds before running the suites. */
export const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');

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

/** A minimal valid config object: one cerebrium source, the given destinations, SQLite in `dir`. */
export function relayConfig(dir: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0 },
    storage: { sqlite: { path: join(dir, 'hookrelay.db'), busyTimeoutMs: 2000 } },
    sources: [{ name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: [TEST_SECRET] } }],
    destinations: [],
    log: { level: 'info' },
    ...overrides,
  };
}

/** Writes a config object as YAML into `dir` and returns its path. */
export function writeConfig(dir: string, config: Record<string, unknown>, name = 'hookrelay.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(config));
  return path;
}

export interface RelayProcess {
  child: ChildProcess;
  port: number;
  adminPort: number | null;
  /** The relay process serve runs (its child; `child.pid` is serve itself, the pid to signal). */
  relayPid: number;
  url: string;
  /** Every stdout line so far (pino JSON). */
  lines: string[];
  stderr: () => string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
  kill(): Promise<number | string>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `hookrelay serve` as a child process and waits for its `listening` line. `cli` runs
 * another built CLI (a copy another user can read: see runtime-copy.ts).
 */
export async function startRelay(
  configPath: string,
  { env = {}, timeoutMs = 15_000, cwd, uid, gid, cli = CLI }: { env?: Record<string, string>; timeoutMs?: number; cwd?: string; uid?: number; gid?: number; cli?: string } = {},
): Promise<RelayProcess> {
  const child = spawn(process.execPath, [cli, 'serve', '--config', configPath], {
    cwd,
    ...(uid === undefined ? {} : { uid }),
    ...(gid === undefined ? {} : { gid }),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  let exitedEarly: number | string | null = null;
  void exited.then((code) => (exitedEarly = code));
  // An early exit fails at once (waitFor would retry a thrown check until its deadline).
  const exitedBeforeListening = exited.then(async (code) => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    throw new Error(`relay exited (${code}) before listening: ${stderr}${lines.join('\n')}`);
  });
  exitedBeforeListening.catch(() => undefined);
  const listening = await Promise.race([
    waitFor(
      () => {
        if (exitedEarly !== null) return null;
        const line = lines.find((candidate) => candidate.includes('"msg":"listening"'));
        return line ? (JSON.parse(line) as { port: number; adminPort?: number; relayPid: number }) : null;
      },
      { timeoutMs, what: 'the relay to listen' },
    ),
    exitedBeforeListening,
  ]).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  const stop = async (graceMs = 15_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return {
    child,
    port: listening.port,
    adminPort: listening.adminPort ?? null,
    relayPid: listening.relayPid,
    url: `http://127.0.0.1:${listening.port}`,
    lines,
    stderr: () => stderr,
    exited,
    stop,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}
