import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of a process from /proc (Linux): `utime` + `stime` of /proc/<pid>/stat (fields 14
 * and 15, in clock ticks). For a process these are the totals of every thread it has or had
 * (main thread, worker threads, libuv pool, GC threads), so one read covers all threads.
 * Children of the process are added by walking /proc for processes whose parent it is
 * (fields 16/17, cutime/cstime, would only count children already waited for).
 */
let ticksPerSecond = null;

function clockTicks() {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** The fields of /proc/<pid>/stat after the command name (field 3, `state`, is index 0); null when gone. */
function statFields(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** utime + stime of one process (all its threads), in ms; null when the process is gone or not on Linux. */
export function processCpuMs(pid) {
  const fields = statFields(pid);
  if (!fields) return null;
  // Field 14 (utime) and 15 (stime) are at index 11 and 12 here.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
}

/** Pids of every live descendant of `pid` (field 4 of /proc/<pid>/stat is the parent). */
function descendants(pid) {
  const parentOf = new Map();
  let entries = [];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  for (const name of entries) {
    const fields = statFields(name);
    if (fields) parentOf.set(Number(name), Number(fields[1]));
  }
  const found = [];
  const queue = [Number(pid)];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [child, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/**
 * CPU ms of `pid` and its live descendants, plus the pids counted (a child that exits between
 * two samples drops out: compare `pids` of both samples before trusting a difference).
 */
export function treeCpuMs(pid) {
  const pids = [Number(pid), ...descendants(pid)];
  let ms = 0;
  for (const each of pids) {
    const value = processCpuMs(each);
    if (value === null && each === Number(pid)) return null;
    ms += value ?? 0;
  }
  return { ms, pids };
}

/** One sample per named pid: `{ name: { ms, pids, at } }` (at: epoch ms). */
export function sampleCpu(pidsByName) {
  const at = performance.timeOrigin + performance.now();
  const sample = {};
  for (const [name, pid] of Object.entries(pidsByName ?? {})) {
    const cpu = pid ? treeCpuMs(pid) : null;
    sample[name] = cpu ? { ...cpu, at } : null;
  }
  return sample;
}

/** CPU ms spent between two samples of the same name; null when either is missing or a process came or went. */
export function cpuBetween(before, after) {
  if (!before || !after) return null;
  if (before.pids.join(',') !== after.pids.join(',')) return null;
  return after.ms - before.ms;
}

/** The tick length in ms (the resolution of every figure from /proc/<pid>/stat). */
export function cpuResolutionMs() {
  return 1000 / clockTicks();
}
