import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Every process the bench starts is registered here and killed when the bench ends,
 * however it ends (normal exit, error, Ctrl-C).
 */
const running = new Set();

function killAll(signal = 'SIGKILL') {
  for (const child of running) {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

process.on('exit', () => killAll());
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping every child process\n`);
    killAll();
    process.exit(130);
  });
}

/**
 * Starts `node [nodeArgs] script [args]` with stdout/stderr piped and an IPC channel.
 * Returns a handle that collects stdout lines, and can wait for a line, an IPC message or exit.
 */
export function startNode(name, script, args = [], { nodeArgs = [], env = {}, cwd } = {}) {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  running.add(child);
  const lines = [];
  const lineWaiters = new Set();
  const messageWaiters = new Set();
  let stderr = '';
  let partial = '';
  child.stdout.on('data', (chunk) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop();
    for (const line of parts) {
      if (!line) continue;
      // Keep memory bounded when a child logs a lot (a relay logging failed attempts).
      if (lines.length < 2000) lines.push(line);
      for (const waiter of lineWaiters) waiter(line);
    }
  });
  child.stderr.on('data', (chunk) => {
    if (stderr.length < 64_000) stderr += chunk.toString();
  });
  child.on('message', (message) => {
    for (const waiter of messageWaiters) waiter(message);
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  let exitCode = null;
  void exited.then((code) => (exitCode = code));

  const describe = () => `${name} (pid ${child.pid}) stderr: ${stderr.slice(-2000)}\nstdout: ${lines.slice(-20).join('\n')}`;

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

  return {
    name,
    child,
    pid: child.pid,
    startedAt,
    lines,
    stderr: () => stderr,
    exited,
    isRunning: () => exitCode === null,
    /** Resolves with the first stdout line (seen so far or later) for which `match(line)` is truthy. */
    waitForLine(match, what, timeoutMs = 30_000) {
      const seen = lines.find((line) => match(line));
      if (seen) return Promise.resolve(seen);
      return waitUntil(
        (done) => {
          const waiter = (line) => match(line) && done(line);
          lineWaiters.add(waiter);
          return () => lineWaiters.delete(waiter);
        },
        what,
        timeoutMs,
      );
    },
    /** Resolves with the next IPC message of the given type. */
    waitForMessage(type, timeoutMs = 30_000) {
      return waitUntil(
        (done) => {
          const waiter = (message) => message?.type === type && done(message);
          messageWaiters.add(waiter);
          return () => messageWaiters.delete(waiter);
        },
        `message ${type}`,
        timeoutMs,
      );
    },
    /** Sends `message` and waits for the reply of type `${message.type}:done`. */
    async ask(message, timeoutMs = 30_000) {
      const reply = this.waitForMessage(`${message.type}:done`, timeoutMs);
      child.send(message);
      return reply;
    },
    /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
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
}

/** Resident set size of a process in MB, from /proc (Linux); null elsewhere. */
export function rssMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

/** Parses a JSON log line; null when it is not JSON. */
export function parseLine(line) {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

/** Waits for a `{"msg":"listening","port":N}` line (every target and the relay print one). */
export async function waitListening(handle, timeoutMs = 30_000) {
  const line = await handle.waitForLine((candidate) => candidate.includes('"msg":"listening"'), 'the listening line', timeoutMs);
  return { ...parseLine(line), at: performance.now() };
}
