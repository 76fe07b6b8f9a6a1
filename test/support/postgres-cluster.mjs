// @ts-check
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * A throwaway PostgreSQL cluster: initdb in a temp dir, started on 127.0.0.1 on a free port,
 * stopped and removed by `stop()` (synchronous, idempotent, also run when this process exits).
 * PostgreSQL refuses to run as root, so as root every server binary runs as the `postgres` OS
 * user (created by the Debian package) in a folder it owns. The test run's cluster is not
 * durable (fsync off: a cluster that dies with the machine is thrown away anyway); the bench's
 * keeps PostgreSQL's durable defaults, to be compared with SQLite at synchronous=FULL.
 *
 * @typedef {object} PostgresCluster
 * @property {string} url
 * @property {() => void} stop
 *
 * @typedef {object} ClusterOptions
 * @property {boolean} [durable] fsync, full_page_writes and initdb's sync on (PostgreSQL's defaults).
 * @property {number} [maxConnections]
 * @property {string} [prefix] Of the temp folder's name.
 */

/**
 * The folder holding initdb/pg_ctl: $PATH first, then Debian's /usr/lib/postgresql/<version>/bin (newest).
 * @returns {string | null}
 */
export function findPostgresBin() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * @param {string} bin The folder of the server binaries (findPostgresBin).
 * @param {ClusterOptions} [options]
 * @returns {Promise<PostgresCluster>}
 */
export async function startPostgresCluster(bin, { durable = false, maxConnections = 400, prefix = 'hookrelay-pg-' } = {}) {
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const data = join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  /** @param {string} command @param {string[]} args */
  const run = (command, args) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args];
    const result = spawnSync(/** @type {string} */ (file), /** @type {string[]} */ (argv), { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    if (result.status !== 0) throw new Error(`${command} failed (${result.status ?? result.signal}): ${result.stderr}${result.stdout}`);
  };
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stop);
    try {
      if (existsSync(join(data, 'postmaster.pid'))) run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  process.on('exit', stop);
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', ...(durable ? [] : ['--no-sync']), '--no-instructions']);
    const port = await freePort();
    const unsafe = durable ? '' : ' -c fsync=off -c full_page_writes=off';
    const serverOptions = `-h 127.0.0.1 -p ${port} -k ${dir}${unsafe} -c max_connections=${maxConnections}`;
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', serverOptions, 'start']);
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
  } catch (error) {
    stop();
    throw error;
  }
}
