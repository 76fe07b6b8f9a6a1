import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { redactUrl } from '../../config/redact-url.js';
import { RUNS_SOURCE } from '../../glossary.js';
import { cliContext } from '../context.js';
import { printJson } from '../format.js';
import { withCommonOptions, type GlobalOptions } from './common-options.js';

export function registerCheckConfig(program: Command): void {
  withCommonOptions(program.command('check-config'))
    .description('validate the config file and the environment it reads, and print a summary')
    .action((options: GlobalOptions, command: Command) => printSummary(cliContext(command).loadConfig(), options.json === true));
}

/** Prints the loaded config's summary (URL passwords and query values redacted): JSON, or one line per part. */
function printSummary({ path, config, defaulted, warnings }: LoadedConfig, json: boolean): void {
  const summary = {
    ok: true,
    path,
    storage:
      config.storage.kind === 'sqlite'
        ? { sqlite: config.storage.sqlite.path, database: databasePath(config.storage.sqlite.path) }
        : { postgres: { url: redactUrl(config.storage.postgres.url), schema: config.storage.postgres.schema } },
    server: { host: config.server.host, port: config.server.port },
    admin: config.admin
      ? { host: config.admin.host, port: config.admin.port, token: config.admin.token !== '', allowedHosts: config.admin.allowedHosts }
      : null,
    sources: config.sources.map((source) => ({
      name: source.name,
      path: source.path,
      scheme: source.verify.scheme,
      secrets: source.verify.secrets.length,
      dedupe: source.dedupe.keys,
    })),
    destinations: config.destinations.map((destination) => ({
      name: destination.name,
      url: redactUrl(destination.url),
      sources: destination.sources,
      maxAttempts: destination.retry.maxAttempts,
      signed: destination.signingSecret !== undefined || destination.signing !== undefined,
    })),
    runs: config.runs
      ? {
          source: config.runs.source,
          webhookEndpoint: `${config.runs.publicUrl.replace(/\/+$/, '')}${config.sources.find((s) => s.name === config.runs!.source)?.path ?? ''}`,
          overdueAfterMs: config.runs.overdueAfterMs,
          statusApi: config.runs.status !== undefined,
          announceTo: config.destinations.filter((d) => d.sources.includes(RUNS_SOURCE)).map((d) => d.name),
        }
      : null,
    defaulted: defaulted.map((entry) => `${entry.path} <- \${${entry.variable}} default`),
    warnings,
  };
  if (json) {
    printJson(summary);
    return;
  }
  const lines = [
    `config ${path}: ok`,
    `storage: ${config.storage.kind === 'sqlite' ? `sqlite ${databasePath(config.storage.sqlite.path)}` : `postgres ${redactUrl(config.storage.postgres.url)} (schema ${config.storage.postgres.schema})`}`,
    `public listener: ${config.server.host}:${config.server.port}`,
    `admin listener: ${config.admin ? `${config.admin.host}:${config.admin.port}${config.admin.token ? ' (token required)' : ''}` : 'off'}`,
    ...(config.admin && config.admin.allowedHosts.length > 0 ? [`admin allowed hosts: ${config.admin.allowedHosts.join(', ')}`] : []),
    ...config.sources.map((s) => `source ${s.name}: POST ${s.path} (${s.verify.scheme}, ${s.verify.secrets.length} secret(s), dedupe ${s.dedupe.keys.join(', ') || 'sha256 of body'})`),
    ...config.destinations.map((d) => `destination ${d.name}: ${redactUrl(d.url)} <- ${d.sources.join(', ')} (max ${d.retry.maxAttempts} attempts)`),
    ...(summary.runs ? runLines(summary.runs, config.admin !== undefined) : []),
    ...defaulted.map((entry) =>
      entry.secret
        ? `warning: ${entry.path} uses the development default of \${${entry.variable}}: set ${entry.variable} before production use`
        : `${entry.path}: \${${entry.variable}} not set, using its default`,
    ),
    ...warnings.map((warning) => `warning: ${warning}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function runLines(runs: { source: string; webhookEndpoint: string; overdueAfterMs: number; statusApi: boolean; announceTo: string[] }, adminOn: boolean): string[] {
  return [
    `runs: callbacks on ${runs.source} at ${runs.webhookEndpoint}, overdue after ${runs.overdueAfterMs} ms, ${runs.statusApi ? 'status API on (overdue -> lost)' : 'no status API (overdue is the last state)'}, announced to ${runs.announceTo.join(', ') || 'no destination'}`,
    ...(adminOn ? [] : ['warning: runs is configured but admin is off: POST /cerebrium/* and /admin/api/runs live on the admin listener']),
    ...(runs.announceTo.length > 0 ? [] : ['warning: no destination lists the source runs: overdue and lost runs are announced to nobody (hookrelay runs list still shows them)']),
  ];
}

/** The database file the relay and the CLI open from here (a relative path is relative to the working directory). */
function databasePath(path: string): string {
  return path === ':memory:' ? path : resolve(path);
}
