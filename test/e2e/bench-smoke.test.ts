import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';

/**
 * Keeps `npm run bench` working: a tiny run of the real program (ingest and end-to-end modes,
 * real child processes). Checks that it finishes, prints its tables and writes numeric results.
 * It never asserts on speed: CI machines are noisy.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const RUN_TIMEOUT_MS = 150_000;

function runBench(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['bench/run.mjs', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // SIGTERM lets the bench kill its own children; SIGKILL if it does not end.
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }, RUN_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? signal ?? 'unknown', stdout, stderr });
    });
  });
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

describe('bench smoke run', () => {
  const created: string[] = [];
  afterEach(() => {
    for (const path of created.splice(0)) rmSync(path, { force: true });
  });

  it(
    'runs ingest and end-to-end modes, prints the tables and writes numeric results',
    async () => {
      const run = await runBench(['--smoke', '--mode', 'ingest,e2e', '--duration', '1']);
      expect(run.code, `stderr:\n${run.stderr}\nstdout:\n${run.stdout}`).toBe(0);

      expect(run.stdout).toMatch(/\d+ x .+, [\d.]+ GB, node v\d+/);
      expect(run.stdout).toContain('== ingest');
      expect(run.stdout).toContain('== end-to-end');
      expect(run.stdout).toContain('target (issue 5)');

      const resultPath = /results: (\S+\.json)/.exec(run.stdout)?.[1];
      expect(resultPath).toBeDefined();
      created.push(resultPath!);
      expect(existsSync(resultPath!)).toBe(true);
      const results = JSON.parse(readFileSync(resultPath!, 'utf8'));

      expect(isNumber(results.machine.cpus)).toBe(true);
      expect(isNumber(results.machine.memoryGb)).toBe(true);
      expect(results.machine.node).toBe(process.version);

      const rows = results.modes.ingest.rows;
      for (const key of ['bare', 'koa', 'naive', 'relay', 'relayNoDestination']) {
        const row = rows[key];
        expect(row.completed, key).toBeGreaterThan(0);
        expect(row.status2xx, key).toBeGreaterThan(0);
        for (const value of [row.rps, row.latencyMs.p50, row.latencyMs.p99, row.non2xx, row.errors, row.timeouts]) {
          expect(isNumber(value), `${key}: ${JSON.stringify(row)}`).toBe(true);
        }
      }
      for (const ratio of ['relayToBare', 'relayToKoa', 'relayToNaive']) expect(isNumber(results.modes.ingest.ratios[ratio])).toBe(true);
      for (const target of results.modes.ingest.targets) expect(typeof target.met).toBe('boolean');

      // CPU per acknowledged event (issue 14): from /proc for every server, and for the relay
      // with a destination also until the measured run's deliveries had all arrived.
      expect(run.stdout).toContain('target (issue 14)');
      for (const key of ['koa', 'relay', 'relayNoDestination']) expect(isNumber(rows[key].cpu?.usPerEvent), `${key}: ${JSON.stringify(rows[key].cpu)}`).toBe(true);
      const through = rows.relay.throughDelivery;
      expect(through.complete, JSON.stringify(through)).toBe(true);
      expect(through.delivered).toBeGreaterThanOrEqual(through.acked);
      expect(isNumber(through.usPerEvent)).toBe(true);
      for (const ratio of ['ingestOnlyToKoa', 'ingestAndDeliveryToKoa']) expect(isNumber(results.modes.ingest.cpuRatios[ratio])).toBe(true);
      for (const target of results.modes.ingest.issue14Targets) expect(typeof target.met, target.target).toBe('boolean');

      const e2e = results.modes.e2e;
      for (const run of [e2e.fullSpeed, e2e.paced]) {
        expect(run.load.acks).toBeGreaterThan(0);
        // Every acknowledged event reached the destination: the relay's contract, not a speed.
        expect(run.ackToDestinationMs.missing).toBe(0);
        expect(isNumber(run.deliveredPerSecondDuringLoad)).toBe(true);
        expect(isNumber(run.ackToDestinationMs.p50)).toBe(true);
        expect(isNumber(run.ackToDestinationMs.p99)).toBe(true);
      }
    },
    RUN_TIMEOUT_MS + 30_000,
  );

  it(
    'runs the postgres mode: 1, 2 and 3 processes on PostgreSQL beside SQLite, every acked event delivered once, nothing left in the server',
    async () => {
      // The test run's server when it has one (then the bench must leave no schema in it);
      // otherwise the bench starts and removes its own throwaway cluster.
      const givenUrl = inject('postgresUrl') || process.env.HOOKRELAY_BENCH_POSTGRES_URL || '';
      const { HOOKRELAY_BENCH_POSTGRES_URL: _unused, ...rest } = process.env;
      const env: NodeJS.ProcessEnv = givenUrl ? { ...rest, HOOKRELAY_BENCH_POSTGRES_URL: givenUrl } : rest;
      const run = await runBench(['--smoke', '--mode', 'postgres', '--duration', '1'], env);
      expect(run.code, `stderr:\n${run.stderr}\nstdout:\n${run.stdout}`).toBe(0);
      expect(run.stdout).toContain('== postgres');

      const resultPath = /results: (\S+\.json)/.exec(run.stdout)?.[1];
      expect(resultPath).toBeDefined();
      created.push(resultPath!);
      const result = JSON.parse(readFileSync(resultPath!, 'utf8')).modes.postgres;
      // Fails loudly on a machine without PostgreSQL rather than passing on a skipped mode.
      expect(result.skipped, String(result.skipped)).toBeUndefined();
      expect(result.server.throwaway).toBe(!givenUrl);
      for (const key of ['sqlite1', 'postgres1', 'postgres2', 'postgres3']) {
        const row = result.rows[key];
        expect(row.processes, key).toBe(key === 'sqlite1' ? 1 : Number(key.slice(-1)));
        expect(row.relayRssMb, key).toHaveLength(row.processes);
        expect(row.acked, key).toBeGreaterThan(0);
        for (const value of [row.rps, row.latencyMs.p50, row.latencyMs.p99, row.deliveredPerSecondDuringLoad, row.ackToDestinationMs.p99]) {
          expect(isNumber(value), `${key}: ${JSON.stringify(row)}`).toBe(true);
        }
        // The relay's contract, not a speed: every acknowledged event reached the sink, none twice.
        expect(row.ackedNotDelivered, key).toBe(0);
        expect(row.repeatedDeliveries, key).toBe(0);
      }
      expect(result.exactlyOnce).toBe(true);

      if (givenUrl) {
        const client = new pg.Client({ connectionString: givenUrl });
        await client.connect();
        try {
          const left = await client.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'hookrelay_bench_%'");
          expect(left.rows).toEqual([]);
        } finally {
          await client.end();
        }
      }
    },
    RUN_TIMEOUT_MS + 30_000,
  );
  it(
    'runs the runs mode: proxy overhead, the sweep at scale and ingest during a sweep, as numbers',
    async () => {
      const run = await runBench(['--smoke', '--mode', 'runs', '--duration', '1']);
      expect(run.code, `stderr:\n${run.stderr}\nstdout:\n${run.stdout}`).toBe(0);
      expect(run.stdout).toContain('== runs: submit proxy overhead');
      const resultPath = /results: (\S+\.json)/.exec(run.stdout)?.[1];
      expect(resultPath).toBeDefined();
      created.push(resultPath!);
      const { proxy, sweep, ingest } = JSON.parse(readFileSync(resultPath!, 'utf8')).modes.runs;
      for (const value of [proxy.direct.p99Ms, proxy.proxied.p99Ms, proxy.addedP50Ms, sweep.sweepAllDueMs, sweep.idleSweep.p99Ms, ingest.nothingDue.p99Ms, ingest.sweeping.p99Ms]) {
        expect(isNumber(value), JSON.stringify({ proxy, sweep, ingest })).toBe(true);
      }
      // Not a speed: every due run was swept, and no ingest request failed.
      expect(sweep.overdueAfter).toBe(sweep.dueRuns);
      expect(ingest.nothingDue.non2xx + ingest.sweeping.non2xx).toBe(0);
    },
    RUN_TIMEOUT_MS + 30_000,
  );
});
