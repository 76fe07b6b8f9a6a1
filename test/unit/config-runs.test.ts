import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { isHookrelayError } from '../../src/errors.js';

/** A valid config with `runs`; each case changes one field. */
function baseConfig(): Record<string, any> {
  return {
    storage: { sqlite: { path: '/tmp/hookrelay-config-runs-test.db' } },
    sources: [
      { name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: ['s3cret'] } },
      { name: 'github', path: '/webhooks/github', verify: { scheme: 'hmac-sha256', secrets: ['gh'] } },
    ],
    destinations: [
      { name: 'app', url: 'http://127.0.0.1:3000/hooks' },
      { name: 'pager', url: 'http://127.0.0.1:3001/alerts', sources: ['runs'] },
    ],
    runs: { source: 'cerebrium', publicUrl: 'https://relay.example.com' },
  };
}

function configError(raw: unknown): string {
  try {
    resolveConfig(raw);
  } catch (error) {
    if (isHookrelayError(error, 'HOOKRELAY_CONFIG_INVALID')) return error.message;
    throw error;
  }
  throw new Error('expected a config error, got a valid config');
}

describe('config: runs', () => {
  it('fills the defaults; an omitted `sources` never includes the built-in source runs', () => {
    const config = resolveConfig(baseConfig());
    expect(config.runs).toEqual({
      source: 'cerebrium',
      publicUrl: 'https://relay.example.com',
      cerebriumUrl: 'https://api.aws.us-east-1.cerebrium.ai',
      overdueAfterMs: 1_800_000,
    });
    expect(config.destinations[0]!.sources).toEqual(['cerebrium', 'github']);
    expect(config.destinations[1]!.sources).toEqual(['runs']);
  });

  it('accepts durations as strings and a status API with its default interval', () => {
    const raw = baseConfig();
    raw.runs.overdueAfterMs = '10m';
    raw.runs.status = { url: 'https://rest.cerebrium.ai/v2/projects/{project}/apps/{project}-{app}/runs/{run_id}', token: 't' };
    const config = resolveConfig(raw);
    expect(config.runs?.overdueAfterMs).toBe(600_000);
    expect(config.runs?.status?.everyMs).toBe(60_000);
  });

  it('without `runs` nothing is configured', () => {
    const raw = baseConfig();
    delete raw.runs;
    expect(resolveConfig(raw).runs).toBeUndefined();
  });

  const cases: [string, (raw: Record<string, any>) => void, string][] = [
    ['unknown source', (raw) => (raw.runs.source = 'nope'), 'runs.source: unknown source "nope"'],
    ['source of another scheme', (raw) => (raw.runs.source = 'github'), 'runs.source: source "github" has scheme hmac-sha256; runs need a cerebrium source'],
    ['missing publicUrl', (raw) => delete raw.runs.publicUrl, 'runs.publicUrl: required'],
    ['publicUrl not http', (raw) => (raw.runs.publicUrl = 'ftp://x'), 'runs.publicUrl: expected an http(s) URL'],
    ['bad duration', (raw) => (raw.runs.overdueAfterMs = 'soon'), 'runs.overdueAfterMs: expected a duration'],
    ['status url without {run_id}', (raw) => (raw.runs.status = { url: 'https://x/runs', token: 't' }), 'runs.status.url: expected an http(s) URL containing {run_id}'],
    ['status without token', (raw) => (raw.runs.status = { url: 'https://x/{run_id}' }), 'runs.status.token: required'],
    ['unknown key', (raw) => (raw.runs.colour = 'red'), 'runs.colour: unknown key'],
    ['a source named runs', (raw) => (raw.sources[1].name = 'runs'), 'sources[1].name: "runs" is reserved'],
  ];
  it.each(cases)('%s is an error naming the key path', (_, change, expected) => {
    const raw = baseConfig();
    change(raw);
    expect(configError(raw)).toContain(expected);
  });
});
