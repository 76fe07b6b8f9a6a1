import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findPostgresBin, startPostgresCluster, type PostgresCluster } from './postgres-cluster.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server URL for the PostgreSQL suites ('' when none is available). */
    postgresUrl: string;
    /** Why there is no URL, for the suites' error message. */
    postgresUnavailable: string;
  }
}

/**
 * vitest globalSetup: gives the PostgreSQL suites a server. $HOOKRELAY_TEST_POSTGRES_URL when
 * set; otherwise a throwaway cluster started once for the whole run (when the server
 * binaries are installed) and stopped at the end.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const given = process.env.HOOKRELAY_TEST_POSTGRES_URL;
  if (given) {
    project.provide('postgresUrl', given);
    project.provide('postgresUnavailable', '');
    return () => undefined;
  }
  if (!runIncludesPostgresSuites()) {
    project.provide('postgresUrl', '');
    project.provide('postgresUnavailable', 'not started: no PostgreSQL suite was selected for this run');
    return () => undefined;
  }
  const bin = findPostgresBin();
  if (!bin) {
    project.provide('postgresUrl', '');
    project.provide('postgresUnavailable', 'no PostgreSQL server binaries (initdb, pg_ctl) found: install postgresql or set HOOKRELAY_TEST_POSTGRES_URL');
    return () => undefined;
  }
  const cluster: PostgresCluster = await startPostgresCluster(bin);
  project.provide('postgresUrl', cluster.url);
  project.provide('postgresUnavailable', '');
  return () => cluster.stop();
}

/** Suites that need the server; a run filtered to other files (e.g. `vitest run test/unit`) does not start it. */
function postgresSuites(root: string): string[] {
  const list = (dir: string, match: (file: string) => boolean) => {
    try {
      return readdirSync(join(root, dir)).filter(match).map((file) => `${dir}/${file}`);
    } catch {
      return [];
    }
  };
  return [
    ...list('test/store', (file) => file === 'postgres.test.ts'),
    ...list('test/e2e', (file) => file.startsWith('postgres-') && file.endsWith('.test.ts')),
  ];
}

/** Options of `vitest` that take a value (so the value is not read as a file filter). */
const OPTIONS_WITH_VALUES = new Set(['--config', '-c', '--reporter', '--project', '--dir', '--root', '-r', '--outputFile', '--testNamePattern', '-t', '--pool', '--maxWorkers', '--minWorkers', '--shard', '--sequence.seed', '--environment']);

/**
 * vitest filters files by substrings given on its command line: the cluster starts when there is
 * no filter, or when a filter matches one of the PostgreSQL suites.
 */
function runIncludesPostgresSuites(): boolean {
  const root = process.cwd();
  const args = process.argv.slice(2);
  const filters: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (OPTIONS_WITH_VALUES.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-') || arg === 'run' || arg === 'watch' || arg === 'dev' || arg === 'related') continue;
    filters.push(relative(root, resolve(root, arg)) || arg);
  }
  if (filters.length === 0) return true;
  return postgresSuites(root).some((file) => filters.some((filter) => file.includes(filter)));
}
