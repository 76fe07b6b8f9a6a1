// @ts-check
import { spawn } from 'node:child_process';
import { CLI } from './relay.mjs';

/**
 * @typedef {object} CliResult
 * @property {number} code The exit code (1 when the CLI died of a signal).
 * @property {string} stdout
 * @property {string} stderr
 * @property {number} wallMs Spawn to exit.
 */

/**
 * Runs the real CLI as a child process; rejects (after SIGKILL) when it runs past `timeoutMs`.
 * @param {string[]} args
 * @param {{ env?: Record<string, string>, timeoutMs?: number, cwd?: string }} [options]
 * @returns {Promise<CliResult>}
 */
export function runCli(args, { env = {}, timeoutMs = 30_000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (/** @type {Buffer} */ chunk) => (stdout += chunk.toString()));
    child.stderr.on('data', (/** @type {Buffer} */ chunk) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hookrelay ${args.join(' ')} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

/**
 * Parses JSON-lines output.
 * @template [T=Record<string, unknown>]
 * @param {string} stdout
 * @returns {T[]}
 */
export function jsonLines(stdout) {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => /** @type {T} */ (JSON.parse(line)));
}
