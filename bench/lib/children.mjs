import { readFileSync } from 'node:fs';
import { killAllChildren, startNode } from '../../test/support/node-child.mjs';

// Every process the bench starts is killed when the bench ends, however it ends: on exit by
// test/support/node-child.mjs, on Ctrl-C or a signal here.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping every child process\n`);
    killAllChildren();
    process.exit(130);
  });
}

/**
 * Starts `node [nodeArgs] script [args]` the way every bench process runs: an IPC channel (the
 * targets and generators are driven over it), at most 2000 stdout lines and 64 kB of stderr kept.
 */
export function startBenchNode(name, script, args = [], options = {}) {
  return startNode(name, script, args, { ipc: true, maxLines: 2000, maxStderrChars: 64_000, ...options });
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
