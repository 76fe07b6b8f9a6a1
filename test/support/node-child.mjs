// @ts-check
import { spawn } from 'node:child_process';

/**
 * A `node` child process started by a test or by the bench: its stdout lines collected, waits
 * for a line, an IPC message or its exit, and a bounded stop. Shared by vitest suites (typed
 * through these JSDoc types) and bench/ (plain Node scripts), so both start processes one way.
 *
 * @typedef {object} NodeChild
 * @property {string} name
 * @property {import('node:child_process').ChildProcess} child
 * @property {number | undefined} pid
 * @property {number} startedAt `performance.now()` at spawn.
 * @property {string[]} lines Every stdout line so far (up to `maxLines`).
 * @property {() => string} stderr
 * @property {Promise<number | string>} exited Resolves with the exit code (or signal name).
 * @property {() => boolean} isRunning
 * @property {(match: (line: string) => unknown, what: string, timeoutMs?: number) => Promise<string>} waitForLine
 *   The first stdout line (seen so far or later) for which `match` is truthy; rejects on timeout or exit.
 * @property {(type: string, timeoutMs?: number) => Promise<any>} waitForMessage The next IPC message of `type`.
 * @property {(message: { type: string } & Record<string, unknown>, timeoutMs?: number) => Promise<any>} ask
 *   Sends `message` and waits for the reply of type `${message.type}:done`.
 * @property {(graceMs?: number) => Promise<number | string>} stop SIGTERM, then SIGKILL after `graceMs`.
 * @property {() => Promise<number | string>} kill SIGKILL.
 *
 * @typedef {object} NodeChildOptions
 * @property {string[]} [nodeArgs] Arguments for node itself (e.g. `--cpu-prof`).
 * @property {Record<string, string>} [env] Added to this process's environment.
 * @property {string} [cwd]
 * @property {number} [uid]
 * @property {number} [gid]
 * @property {boolean} [ipc] An IPC channel (for `ask`/`waitForMessage`).
 * @property {number} [maxLines] Lines kept in `lines` (memory stays bounded when a child logs a lot).
 * @property {number} [maxStderrChars] stderr characters kept.
 */

/** Every child still running; all are killed when this process exits, however it exits. */
const running = new Set(/** @type {import('node:child_process').ChildProcess[]} */ ([]));

/** SIGKILLs (or `signal`s) every child still running. */
export function killAllChildren(signal = /** @type {NodeJS.Signals} */ ('SIGKILL')) {
  for (const child of running) {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

process.on('exit', () => killAllChildren());

/**
 * Starts `node [nodeArgs] script [args]` with stdout and stderr piped.
 * @param {string} name For error messages.
 * @param {string} script
 * @param {string[]} [args]
 * @param {NodeChildOptions} [options]
 * @returns {NodeChild}
 */
export function startNode(name, script, args = [], { nodeArgs = [], env = {}, cwd, uid, gid, ipc = false, maxLines = Infinity, maxStderrChars = Infinity } = {}) {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd,
    ...(uid === undefined ? {} : { uid }),
    ...(gid === undefined ? {} : { gid }),
    env: { ...process.env, ...env },
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  /** @type {string[]} */
  const lines = [];
  const lineWaiters = new Set(/** @type {((line: string) => void)[]} */ ([]));
  const messageWaiters = new Set(/** @type {((message: any) => void)[]} */ ([]));
  let stderr = '';
  let partial = '';
  child.stdout?.on('data', (/** @type {Buffer} */ chunk) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line) continue;
      if (lines.length < maxLines) lines.push(line);
      for (const waiter of lineWaiters) waiter(line);
    }
  });
  child.stderr?.on('data', (/** @type {Buffer} */ chunk) => {
    if (stderr.length < maxStderrChars) stderr += chunk.toString();
  });
  child.on('message', (message) => {
    for (const waiter of messageWaiters) waiter(message);
  });
  /** @type {Promise<number | string>} */
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  /** @type {number | string | null} */
  let exitCode = null;
  void exited.then((code) => (exitCode = code));

  const describe = () => `${name} (pid ${child.pid}) stderr: ${stderr.slice(-2000)}\nstdout: ${lines.slice(-20).join('\n')}`;

  /**
   * @template T
   * @param {(done: (value: T) => void) => () => void} subscribe
   * @param {string} what
   * @param {number} timeoutMs
   * @returns {Promise<T>}
   */
  const waitUntil = (subscribe, what, timeoutMs) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} from ${describe()}`));
      }, timeoutMs);
      let unsubscribe = () => {};
      const cleanup = () => {
        clearTimeout(timer);
        unsubscribe();
      };
      unsubscribe = subscribe((value) => {
        cleanup();
        resolve(value);
      });
      void exited.then((code) => {
        cleanup();
        reject(new Error(`${name} exited (${code}) while waiting for ${what}: ${describe()}`));
      });
    });

  /** @type {NodeChild} */
  const handle = {
    name,
    child,
    pid: child.pid,
    startedAt,
    lines,
    stderr: () => stderr,
    exited,
    isRunning: () => exitCode === null,
    waitForLine(match, what, timeoutMs = 30_000) {
      const seen = lines.find((line) => match(line));
      if (seen) return Promise.resolve(seen);
      return waitUntil(
        (done) => {
          /** @param {string} line */
          const waiter = (line) => {
            if (match(line)) done(line);
          };
          lineWaiters.add(waiter);
          return () => lineWaiters.delete(waiter);
        },
        what,
        timeoutMs,
      );
    },
    waitForMessage(type, timeoutMs = 30_000) {
      return waitUntil(
        (done) => {
          /** @param {any} message */
          const waiter = (message) => {
            if (message?.type === type) done(message);
          };
          messageWaiters.add(waiter);
          return () => messageWaiters.delete(waiter);
        },
        `message ${type}`,
        timeoutMs,
      );
    },
    async ask(message, timeoutMs = 30_000) {
      const reply = handle.waitForMessage(`${message.type}:done`, timeoutMs);
      child.send(message);
      return reply;
    },
    async stop(graceMs = 15_000) {
      if (exitCode !== null) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    kill() {
      if (exitCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
  return handle;
}

/**
 * Parses a JSON log line; null when it is not JSON.
 * @param {string} line
 * @returns {any}
 */
export function parseLine(line) {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

/**
 * Waits for a `{"msg":"listening","port":N}` line (the relay and every bench target print one).
 * @param {NodeChild} handle
 * @param {number} [timeoutMs]
 * @returns {Promise<{ port: number, adminPort?: number, relayPid?: number, at: number } & Record<string, unknown>>}
 */
export async function waitListening(handle, timeoutMs = 30_000) {
  const line = await handle.waitForLine((candidate) => candidate.includes('"msg":"listening"'), 'the listening line', timeoutMs);
  return { ...parseLine(line), at: performance.now() };
}
