#!/usr/bin/env node
// `pretest`: what `npm test` needs besides node_modules, found or installed before anything runs.
//
// - Chromium (Debian package `chromium`, plus `fonts-liberation` for readable screenshots) at
//   /usr/bin/chromium: the dashboard's browser tests drive it (test/support/browser.ts).
// - The PostgreSQL server binaries (initdb, pg_ctl; Debian package `postgresql`): the store
//   conformance and multi-process suites start a throwaway cluster (test/support/postgres-cluster.ts,
//   which looks in the same places). Not needed when HOOKRELAY_TEST_POSTGRES_URL names a server.
//
// Missing ones are installed with apt-get when running as root on Debian/Ubuntu; otherwise this
// stops at once and prints the command to run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const CHROMIUM = '/usr/bin/chromium';
const LIBERATION_FONTS = '/usr/share/fonts/truetype/liberation';

function postgresBinFound() {
  const inPath = (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (inPath) return true;
  const root = '/usr/lib/postgresql';
  return existsSync(root) && readdirSync(root).some((version) => existsSync(join(root, version, 'bin', 'initdb')));
}

/** As root, PostgreSQL's binaries run as the `postgres` OS user (created by the Debian package). */
function postgresUserFound() {
  if (process.getuid?.() !== 0) return true;
  return spawnSync('id', ['-u', 'postgres'], { stdio: 'ignore' }).status === 0;
}

/** Debian packages still missing, with what each is for. */
function missingPackages() {
  const missing = [];
  if (!existsSync(CHROMIUM)) missing.push({ name: 'chromium', why: `${CHROMIUM} (dashboard browser tests)` });
  if (!existsSync(LIBERATION_FONTS)) missing.push({ name: 'fonts-liberation', why: `${LIBERATION_FONTS} (fonts for the browser tests' pages)` });
  if (!process.env.HOOKRELAY_TEST_POSTGRES_URL && !(postgresBinFound() && postgresUserFound())) {
    missing.push({ name: 'postgresql', why: 'initdb and pg_ctl (the PostgreSQL suites; or set HOOKRELAY_TEST_POSTGRES_URL=postgres://user@host:port/db to use a running server)' });
  }
  return missing;
}

function canInstall() {
  return process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
}

function install(names) {
  console.error(`npm test: installing ${names.join(' ')} (apt-get, as root)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: ['ignore', 'inherit', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...names], { stdio: ['ignore', 'inherit', 'inherit'], env });
}

let missing = missingPackages();
if (missing.length > 0 && canInstall()) {
  try {
    install(missing.map((pkg) => pkg.name));
  } catch (error) {
    console.error(`npm test: apt-get failed (${error.status ?? error.code ?? error.message})`);
  }
  missing = missingPackages();
}
if (missing.length > 0) {
  const names = missing.map((pkg) => pkg.name).join(' ');
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  console.error(
    [
      'npm test needs software that is not installed:',
      ...missing.map((pkg) => `  - ${pkg.name}: ${pkg.why}`),
      'Install it (Debian/Ubuntu), then run npm test again:',
      `  ${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${names}`,
      ...(sudo ? ['(Run as root, npm test does this itself.)'] : []),
    ].join('\n'),
  );
  process.exit(1);
}
