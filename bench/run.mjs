// `npm run bench`: measures hookrelay against baselines in one run. See bench/README.md.
import { cpus, totalmem, tmpdir, loadavg, platform, release } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { ingestMode } from './modes/ingest.mjs';
import { e2eMode } from './modes/e2e.mjs';
import { backlogMode } from './modes/backlog.mjs';
import { sizeMode } from './modes/size.mjs';
import { postgresMode } from './modes/postgres.mjs';
import { runsMode } from './modes/runs.mjs';
import { policiesMode } from './modes/policies.mjs';
import { idleMode } from './modes/idle.mjs';
import { printIssue14, printMode } from './lib/print.mjs';
import { probeDisk } from './lib/disk-probe.mjs';

const MODES = { ingest: ingestMode, e2e: e2eMode, backlog: backlogMode, idle: idleMode, size: sizeMode, postgres: postgresMode, runs: runsMode, policies: policiesMode };

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: Object.keys(MODES).join(',') },
    duration: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    connections: { type: 'string', default: '64' },
    'backlog-events': { type: 'string' },
    'size-events': { type: 'string' },
    'idle-seconds': { type: 'string' },
    'keep-temp': { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    'paced-rate': { type: 'string', default: '1000' },
    'destination-concurrency': { type: 'string' },
    'postgres-url': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: node bench/run.mjs [--mode ingest,e2e,backlog,idle,size,postgres,runs,policies] [--duration S] [--smoke] [--profile]
  [--connections N] [--backlog-events N] [--size-events N] [--keep-temp]
  [--idle-seconds N]   (idle: the measured window per setup, default 20, 3 with --smoke)
  [--paced-rate N]   (e2e: the fixed offered rate, default 1000/s)
  [--destination-concurrency N] [--rounds N]   (ingest: measure every server N times, report medians)   (the destination's attempts in flight; default: the relay's default)
  [--only bare,koa,naive,relay,relayNoDestination,bareFixed,koaFixed]   (ingest mode: measure only these)
  [--postgres-url URL]   (postgres mode: use this server, default $HOOKRELAY_BENCH_POSTGRES_URL, else a throwaway cluster)`);
  process.exit(0);
}

const modes = values.mode.split(',').map((mode) => mode.trim()).filter(Boolean);
for (const mode of modes) {
  if (!MODES[mode]) {
    console.error(`unknown mode "${mode}"; expected one of ${Object.keys(MODES).join(', ')}`);
    process.exit(2);
  }
}
const smoke = values.smoke;
const opts = {
  modes,
  smoke,
  profile: values.profile,
  rounds: Math.max(1, Number(values.rounds)),
  destinationConcurrency: values['destination-concurrency'] ? Number(values['destination-concurrency']) : null,
  only: values.only ? values.only.split(',').map((key) => key.trim()) : null,
  connections: Number(values.connections),
  duration: Number(values.duration ?? (smoke ? 2 : 10)),
  warmup: smoke ? 0 : 2,
  bodyBytes: 1024,
  pacedRate: Number(values['paced-rate']),
  backlogEvents: Number(values['backlog-events'] ?? (smoke ? 2_000 : 100_000)),
  sizeEvents: Number(values['size-events'] ?? (smoke ? 20_000 : 1_000_000)),
  idleSeconds: Number(values['idle-seconds'] ?? (smoke ? 3 : 20)),
  postgresUrl: values['postgres-url'] ?? process.env.HOOKRELAY_BENCH_POSTGRES_URL ?? null,
};

const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
  node: process.version,
  platform: `${platform()} ${release()}`,
  loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
};
/** The code measured: commit, and whether src/ had uncommitted changes (dist/ is built from the working tree). */
function gitState() {
  try {
    const run = (args) => execFileSync('git', args, { cwd: resolve(import.meta.dirname, '..'), encoding: 'utf8' }).trim();
    return { commit: run(['rev-parse', '--short', 'HEAD']), srcDirty: run(['status', '--porcelain', '--', 'src']).length > 0 };
  } catch {
    return { commit: null, srcDirty: null };
  }
}
const code = gitState();
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const resultsDir = resolve(import.meta.dirname, 'results');
mkdirSync(resultsDir, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'hookrelay-bench-'));
// Removed however the bench ends (also on Ctrl-C, which exits from the signal handler).
if (!values['keep-temp']) process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const log = (message) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

console.log(`hookrelay bench — ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGb} GB, node ${machine.node}, ${machine.platform}`);
console.log(`load average at start: ${machine.loadAverageAtStart.join(' ')} (a shared machine: figures are noisy; compare ratios within one run)`);
console.log(`modes: ${modes.join(', ')}; ${opts.connections} connections, ${opts.duration} s per run, ~${opts.bodyBytes} B bodies${smoke ? ' (smoke)' : ''}\n`);
if (opts.destinationConcurrency) console.log(`destination concurrency: ${opts.destinationConcurrency}`);

console.log(`code: commit ${code.commit}${code.srcDirty ? ' + uncommitted src/ changes' : ''}`);
machine.disk = probeDisk(dir, smoke ? 0.3 : 1.5);
console.log(`disk now (SQLite WAL, synchronous=FULL, 1 KB rows): ${machine.disk.singleRowFullCommitsPerSecond} single-row commits/s, ${machine.disk.rowsPerSecondAt64PerFullCommit} rows/s at 64 rows per commit\n`);
// The PostgreSQL URL may hold a password: the results only say whether one was given.
const results = { startedAt: new Date().toISOString(), machine, code, options: { ...opts, postgresUrl: opts.postgresUrl ? '(given)' : null }, modes: {} };
const resultPath = join(resultsDir, `${stamp}${smoke ? '-smoke' : ''}.json`);
let failed = false;
try {
  for (const mode of modes) {
    const ctx = { opts, dir: join(dir, mode), resultsDir, stamp, log, results };
    mkdirSync(ctx.dir, { recursive: true });
    const started = performance.now();
    results.modes[mode] = await MODES[mode](ctx);
    results.modes[mode].modeSeconds = Math.round((performance.now() - started) / 100) / 10;
    printMode(mode, results.modes[mode]);
    writeFileSync(resultPath, `${JSON.stringify(results, null, 2)}\n`);
  }
  printIssue14(results.modes);
} catch (error) {
  failed = true;
  console.error(`bench failed: ${error?.stack ?? error}`);
  results.error = String(error?.stack ?? error);
} finally {
  results.finishedAt = new Date().toISOString();
  results.machine.loadAverageAtEnd = loadavg().map((value) => Math.round(value * 100) / 100);
  writeFileSync(resultPath, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nresults: ${resultPath}`);
  if (values['keep-temp']) console.log(`temporary files kept in ${dir}`);
}
process.exit(failed ? 1 : 0);
