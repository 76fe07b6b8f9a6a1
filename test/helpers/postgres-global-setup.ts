import type { TestProject } from 'vitest/node';
import { findPostgresBin, startPostgresCluster, type PostgresCluster } from './postgres-cluster.js';

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
