import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { loadConfigFile, parseConfigText, resolveConfig, resolveConfigPath } from '../../src/config/load.js';
import { isHookrelayError } from '../../src/errors.js';
import { tempDir } from '../support/temp.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** A minimal valid config object; each case changes one field. */
function baseConfig(): Record<string, any> {
  return {
    storage: { sqlite: { path: '/tmp/hookrelay-config-test.db' } },
    sources: [
      { name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: ['s3cret'] } },
      { name: 'github', path: '/webhooks/github', verify: { scheme: 'hmac-sha256', secrets: ['gh'] } },
    ],
    destinations: [
      { name: 'app', url: 'http://127.0.0.1:3000/hooks' },
      { name: 'audit', url: 'https://audit.example.com/in', sources: ['github'] },
    ],
  };
}

function errorOf(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (isHookrelayError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a config error, got a valid config');
}

const configError = (raw: unknown) => errorOf(() => resolveConfig(raw));

/** Every error of an invalid config, in the order reported. */
function configIssues(raw: unknown): string[] {
  try {
    resolveConfig(raw);
  } catch (error) {
    if (isHookrelayError(error, 'HOOKRELAY_CONFIG_INVALID')) return error.details!.issues as string[];
    throw error;
  }
  throw new Error('expected a config error, got a valid config');
}
const textError = (text: string, env: NodeJS.ProcessEnv = {}) => errorOf(() => parseConfigText(text, env));

describe('config defaults', () => {
  it('fills every default of a minimal config', () => {
    const config = resolveConfig({ sources: [{ name: 'a', path: '/a', verify: { scheme: 'none' } }] });
    expect(config.server).toEqual({
      host: '0.0.0.0',
      port: 8080,
      maxBodyBytes: 104_857_600,
      requestTimeoutMs: 120_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5_000,
    });
    expect(config.admin).toBeUndefined();
    expect(config.storage).toEqual({ kind: 'sqlite', sqlite: { path: './data/hookrelay.db', busyTimeoutMs: 5_000 } });
    expect(config.sources[0]!.verify).toEqual({ scheme: 'none', secrets: [], toleranceMs: 300_000, header: 'X-Signature-256' });
    expect(config.sources[0]!.dedupe.keys).toEqual([]);
    expect(config.destinations).toEqual([]);
    expect(config.log.level).toBe('info');
  });

  it('fills destination defaults, every source when `sources` is omitted', () => {
    const config = resolveConfig(baseConfig());
    const [app, audit] = config.destinations;
    expect(app).toEqual({
      name: 'app',
      url: 'http://127.0.0.1:3000/hooks',
      sources: ['cerebrium', 'github'],
      timeoutMs: 15_000,
      concurrency: 8,
      bodyBudgetBytes: 64 * 1024 * 1024,
      headers: {},
      retry: { maxAttempts: 12, initialDelayMs: 1_000, multiplier: 2, maxDelayMs: 3_600_000 },
      circuitBreaker: { errorThresholdPercentage: 50, volumeThreshold: 5, rollingWindowMs: 10_000, resetTimeoutMs: 30_000 },
    });
    expect(audit!.sources).toEqual(['github']);
  });

  it.each([
    ['cerebrium', ['body:run_id', 'header:x-request-id']],
    ['standard-webhooks', ['header:webhook-id']],
    ['hmac-sha256', []],
    ['none', []],
  ])('default dedupe keys of scheme %s', (scheme, keys) => {
    const secrets = scheme === 'none' ? [] : ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'];
    const config = resolveConfig({ sources: [{ name: 'a', path: '/a', verify: { scheme, secrets } }] });
    expect(config.sources[0]!.dedupe.keys).toEqual(keys);
  });

  it.each([
    ['cerebrium', undefined, 'disconnect'],
    ['standard-webhooks', undefined, 'respond'],
    ['hmac-sha256', undefined, 'respond'],
    ['none', undefined, 'respond'],
    ['cerebrium', 'respond', 'respond'],
    ['standard-webhooks', 'disconnect', 'disconnect'],
  ])('onStorageFailure of scheme %s set to %s: %s', (scheme, onStorageFailure, expected) => {
    const secrets = scheme === 'none' ? [] : ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'];
    const config = resolveConfig({ sources: [{ name: 'a', path: '/a', verify: { scheme, secrets }, ...(onStorageFailure ? { onStorageFailure } : {}) }] });
    expect(config.sources[0]!.onStorageFailure).toBe(expected);
  });

  it('keeps explicit dedupe keys', () => {
    const raw = baseConfig();
    raw.sources[0].dedupe = { keys: ['header:X-Run', 'body:result.job.id'] };
    expect(resolveConfig(raw).sources[0]!.dedupe.keys).toEqual(['header:X-Run', 'body:result.job.id']);
  });

  it('Standard Webhooks secrets with or without the whsec_ prefix', () => {
    const raw = baseConfig();
    raw.sources[1].verify = { scheme: 'standard-webhooks', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] };
    raw.destinations[0].signingSecret = 'whsec_c2lnbmluZyBrZXkgZm9yIGRlbGl2ZXJpZXM=';
    const config = resolveConfig(raw);
    expect(config.sources[1]!.verify.secrets).toHaveLength(2);
    expect(config.destinations[0]!.signingSecret).toBe('whsec_c2lnbmluZyBrZXkgZm9yIGRlbGl2ZXJpZXM=');
  });

  it('admin defaults when the section is present', () => {
    const raw = baseConfig();
    raw.admin = { port: 0 };
    expect(resolveConfig(raw).admin).toEqual({ host: '127.0.0.1', port: 0, token: '', allowedHosts: [] });
  });

  it('source paths that differ by more than case or a slash, header names and values HTTP allows, postgresql:// URLs', () => {
    const raw = baseConfig();
    raw.sources[1].path = '/webhooks/cerebrium-v2/';
    raw.destinations[0].headers = { "X-Api-Key!#$%&'*+.^_`|~": 'value with spaces\tand tab, ünïcode-latin1' };
    raw.storage = { postgres: { url: 'postgresql://hookrelay:p%40ss@db.internal:5432/relay?sslmode=disable' } };
    const config = resolveConfig(raw);
    expect(config.sources[1]!.path).toBe('/webhooks/cerebrium-v2/');
    expect(Object.keys(config.destinations[0]!.headers)).toHaveLength(1);
    expect(config.storage.kind).toBe('postgres');
  });

  it('postgres storage with its defaults', () => {
    const raw = baseConfig();
    raw.storage = { postgres: { url: 'postgres://u:p@localhost:5432/db' } };
    expect(resolveConfig(raw).storage).toEqual({
      kind: 'postgres',
      postgres: { url: 'postgres://u:p@localhost:5432/db', poolSize: 10, schema: 'hookrelay' },
    });
  });
});

describe('config durations', () => {
  it.each([
    [2500, 2500],
    ['2500', 2500],
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1.5s', 1_500],
    [0, 0],
  ])('%j -> %d ms', (value, ms) => {
    const raw = baseConfig();
    raw.destinations[0].timeoutMs = value;
    raw.destinations[0].retry = { initialDelayMs: value };
    raw.sources[0].verify.toleranceMs = value;
    const config = resolveConfig(raw);
    expect(config.destinations[0]!.timeoutMs).toBe(ms);
    expect(config.destinations[0]!.retry.initialDelayMs).toBe(ms);
    expect(config.sources[0]!.verify.toleranceMs).toBe(ms);
  });

  it.each(['5 minutes', '-5s', '5x', '', 'abc'])('rejects %j naming the key path', (value) => {
    const raw = baseConfig();
    raw.destinations[1].timeoutMs = value;
    expect(configError(raw)).toEqual({
      code: 'HOOKRELAY_CONFIG_INVALID',
      message: `destinations[1].timeoutMs: expected a duration in ms or a string like "30s", "5m", "2h", got ${JSON.stringify(value)}`,
    });
  });

  it.each([-5, true, null])('rejects the non-duration %j', (value) => {
    const raw = baseConfig();
    raw.storage.sqlite.busyTimeoutMs = value;
    expect(configError(raw).message).toBe(`storage.sqlite.busyTimeoutMs: expected a duration in ms or a string like "30s", "5m", "2h", got ${String(value)}`);
  });
});

describe('config environment interpolation', () => {
  const text = (secret: string, extra = '') => `
storage: { sqlite: { path: /tmp/x.db } }
sources:
  - name: cerebrium
    path: /webhooks/cerebrium
    verify: { scheme: cerebrium, secrets: ["${secret}"] }
${extra}`;

  it.each([
    ['${SECRET}', { SECRET: 'from-env' }, 'from-env'],
    ['${SECRET:-dev}', { SECRET: 'from-env' }, 'from-env'],
    ['${SECRET:-dev}', {}, 'dev'],
    ['${SECRET:-dev}', { SECRET: '' }, 'dev'],
    ['pre-${A}-${B:-b}-post', { A: 'a' }, 'pre-a-b-post'],
    ['$${SECRET}', {}, '${SECRET}'],
  ])('%s with %j -> %s', (template, env, expected) => {
    const { config } = parseConfigText(text(template), env);
    expect(config.sources[0]!.verify.secrets).toEqual([expected]);
  });

  it('a missing variable without a default names the variable and the key path', () => {
    const error = textError(text('${CEREBRIUM_WEBHOOK_SECRET}'));
    expect(error.code).toBe('HOOKRELAY_CONFIG_INVALID');
    expect(error.message).toMatch(/^sources\[0\]\.verify\.secrets\[0\]: /);
    expect(error.message).toContain('CEREBRIUM_WEBHOOK_SECRET');
  });

  it('a missing variable in a nested destination header names its key path', () => {
    const extra = `destinations:\n  - { name: app, url: "http://127.0.0.1/x", headers: { Authorization: "Bearer \${APP_TOKEN}" } }`;
    const error = textError(text('s', extra));
    expect(error.message).toMatch(/^destinations\[0\]\.headers\.Authorization: /);
    expect(error.message).toContain('APP_TOKEN');
  });

  it('numbers may come from variables', () => {
    const { config } = parseConfigText(`server: { port: "\${PORT}", maxBodyBytes: "\${MAX:-1024}" }\n${text('s')}`, { PORT: '9000' });
    expect(config.server.port).toBe(9000);
    expect(config.server.maxBodyBytes).toBe(1024);
  });

  it('reports defaults that filled secrets (development values) and other keys', () => {
    const { defaulted } = parseConfigText(`server: { port: "\${PORT:-9000}" }\n${text('${SECRET:-dev}')}`, {});
    expect(defaulted).toEqual([
      { path: 'server.port', variable: 'PORT', secret: false },
      { path: 'sources[0].verify.secrets[0]', variable: 'SECRET', secret: true },
    ]);
  });
});

describe('config errors name the key path', () => {
  type Case = [string, (raw: Record<string, any>) => void, string];
  const cases: Case[] = [
    ['maxAttempts 0', (r) => (r.destinations[1].retry = { maxAttempts: 0 }), 'destinations[1].retry.maxAttempts: expected a positive integer, got 0'],
    ['maxAttempts negative', (r) => (r.destinations[1].retry = { maxAttempts: -3 }), 'destinations[1].retry.maxAttempts: expected a positive integer, got -3'],
    ['maxAttempts fraction', (r) => (r.destinations[1].retry = { maxAttempts: 1.5 }), 'destinations[1].retry.maxAttempts: expected a positive integer, got 1.5'],
    ['maxAttempts text', (r) => (r.destinations[1].retry = { maxAttempts: 'many' }), 'destinations[1].retry.maxAttempts: expected a positive integer, got "many"'],
    ['concurrency 0', (r) => (r.destinations[0].concurrency = 0), 'destinations[0].concurrency: expected a positive integer, got 0'],
    ['maxBodyBytes text', (r) => (r.server = { maxBodyBytes: 'big' }), 'server.maxBodyBytes: expected a positive integer, got "big"'],
    ['port too large', (r) => (r.server = { port: 70000 }), 'server.port: expected a port number 0-65535, got 70000'],
    ['port text', (r) => (r.server = { port: 'http' }), 'server.port: expected a port number 0-65535, got "http"'],
    ['multiplier < 1', (r) => (r.destinations[0].retry = { multiplier: 0.5 }), 'destinations[0].retry.multiplier: expected a number >= 1, got 0.5'],
    ['unknown top-level key', (r) => (r.bogus = 1), 'bogus: unknown key'],
    ['unknown nested key', (r) => (r.destinations[1].retry = { maxAttempt: 3 }), 'destinations[1].retry.maxAttempt: unknown key (did you mean maxAttempts?)'],
    ['unknown source key', (r) => (r.sources[1].verify.algorithm = 'sha1'), 'sources[1].verify.algorithm: unknown key'],
    ['unknown storage engine', (r) => (r.storage.mysql = {}), 'storage.mysql: unknown key'],
    ['wrong type: secrets not a list', (r) => (r.sources[0].verify.secrets = 'abc'), 'sources[0].verify.secrets: expected array, got a string of 3 characters (masked)'],
    ['wrong type: header value', (r) => (r.destinations[0].headers = { 'X-N': 1 }), 'destinations[0].headers.X-N: expected string, got a number'],
    ['missing required key', (r) => delete r.sources[1].path, 'sources[1].path: required (expected string)'],
    ['missing sources', (r) => delete r.sources, 'sources: required (expected array)'],
    ['empty sources', (r) => (r.sources = []), 'sources: at least one source is required'],
    ['bad onStorageFailure', (r) => (r.sources[0].onStorageFailure = 'retry'), 'sources[0].onStorageFailure: expected one of "respond", "disconnect", got "retry"'],
    ['bad scheme', (r) => (r.sources[0].verify.scheme = 'jwt'), 'sources[0].verify.scheme: expected one of "cerebrium", "standard-webhooks", "hmac-sha256", "none", got "jwt"'],
    ['scheme without secrets', (r) => (r.sources[1].verify.secrets = []), 'sources[1].verify.secrets: scheme hmac-sha256 needs at least one secret'],
    ['empty secret', (r) => (r.sources[0].verify.secrets = ['ok', '']), 'sources[0].verify.secrets[1]: a secret must not be empty, got an empty string'],
    ['bad source name', (r) => (r.sources[1].name = 'Git Hub'), 'sources[1].name: source name must match [a-z0-9_-]+, got "Git Hub"'],
    ['bad destination name', (r) => (r.destinations[0].name = 'App'), 'destinations[0].name: destination name must match [a-z0-9_-]+, got "App"'],
    ['relative source path', (r) => (r.sources[0].path = 'webhooks'), 'sources[0].path: expected an absolute URL path like /webhooks/cerebrium, got "webhooks"'],
    ['non-http url', (r) => (r.destinations[1].url = 'ftp://example.com/x'), 'destinations[1].url: expected an http(s) URL, got "ftp://example.com/x"'],
    ['bad dedupe rule', (r) => (r.sources[0].dedupe = { keys: ['run_id'] }), 'sources[0].dedupe.keys[0]: expected "body:<dotted path>" or "header:<name>", got "run_id"'],
    ['empty dedupe path segment', (r) => (r.sources[0].dedupe = { keys: ['body:result..id'] }), 'sources[0].dedupe.keys[0]: expected "body:<dotted path>" or "header:<name>", got "body:result..id"'],
    ['trailing dot in dedupe path', (r) => (r.sources[0].dedupe = { keys: ['header:x-id', 'body:result.'] }), 'sources[0].dedupe.keys[1]: expected "body:<dotted path>" or "header:<name>", got "body:result."'],
    [
      'standard-webhooks secret that is not base64',
      (r) => (r.sources[1].verify = { scheme: 'standard-webhooks', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'my-plain-secret'] }),
      'sources[1].verify.secrets[1]: expected a Standard Webhooks secret: "whsec_" followed by base64, got a string of 15 characters (masked)',
    ],
    ['signingSecret that is not base64', (r) => (r.destinations[0].signingSecret = 'whsec_not base64!'), 'destinations[0].signingSecret: expected a Standard Webhooks secret: "whsec_" followed by base64, got a string of 17 characters (masked)'],
    ['empty signingSecret', (r) => (r.destinations[0].signingSecret = ''), 'destinations[0].signingSecret: expected a Standard Webhooks secret: "whsec_" followed by base64, got an empty string'],
    ['destination sources: []', (r) => (r.destinations[1].sources = []), 'destinations[1].sources: an empty list matches no source; omit the key for every source'],
    ['unknown source name', (r) => (r.destinations[1].sources = ['github', 'gitlab']), 'destinations[1].sources[1]: unknown source "gitlab"'],
    ['duplicate source name', (r) => (r.sources[1].name = 'cerebrium'), 'sources[1].name: duplicate name "cerebrium"'],
    ['duplicate destination name', (r) => (r.destinations[1].name = 'app'), 'destinations[1].name: duplicate name "app"'],
    ['duplicate source path', (r) => (r.sources[1].path = '/webhooks/cerebrium'), 'sources[1].path: duplicate path /webhooks/cerebrium'],
    ['reserved path', (r) => (r.sources[1].path = '/healthz'), 'sources[1].path: /healthz is reserved'],
    ['source paths differing only by case', (r) => (r.sources[1].path = '/Webhooks/Cerebrium'), 'sources[1].path: /Webhooks/Cerebrium differs from /webhooks/cerebrium only by case or a trailing slash'],
    ['source paths differing only by a trailing slash', (r) => (r.sources[1].path = '/webhooks/cerebrium/'), 'sources[1].path: /webhooks/cerebrium/ differs from /webhooks/cerebrium only by case or a trailing slash'],
    ['empty path segment', (r) => (r.sources[1].path = '/webhooks//github'), 'sources[1].path: expected an absolute URL path like /webhooks/cerebrium, got "/webhooks//github"'],
    ['dot-dot path segment', (r) => (r.sources[1].path = '/webhooks/../github'), 'sources[1].path: expected an absolute URL path like /webhooks/cerebrium, got "/webhooks/../github"'],
    ['percent-encoded path', (r) => (r.sources[1].path = '/webhooks/%67ithub'), 'sources[1].path: expected an absolute URL path like /webhooks/cerebrium, got "/webhooks/%67ithub"'],
    ['header name with a space', (r) => (r.destinations[0].headers = { 'X Token': 'a' }), "destinations[0].headers.X Token: expected a header name (letters, digits and !#$%&'*+.^_`|~-, no spaces)"],
    ['header name with a colon', (r) => (r.destinations[0].headers = { 'X-Token:': 'a' }), "destinations[0].headers.X-Token:: expected a header name (letters, digits and !#$%&'*+.^_`|~-, no spaces)"],
    ['header value with CR/LF', (r) => (r.destinations[1].headers = { Authorization: 'Bearer a\r\nX-Injected: 1' }), 'destinations[1].headers.Authorization: expected a header value without CR, LF, NUL or other control characters, got a string of 23 characters (masked)'],
    ['header value with NUL', (r) => (r.destinations[1].headers = { 'X-A': 'a\u0000b' }), 'destinations[1].headers.X-A: expected a header value without CR, LF, NUL or other control characters, got a string of 3 characters (masked)'],
    ['header the HTTP client owns', (r) => (r.destinations[0].headers = { 'Transfer-Encoding': 'chunked' }), 'destinations[0].headers.Transfer-Encoding: this header is set by the HTTP client and cannot be configured'],
    ['postgres url that is not a URL', (r) => (r.storage = { postgres: { url: 'host=db user=hookrelay' } }), 'storage.postgres.url: expected a URL like postgres://user:pass@host:5432/db (postgres:// or postgresql://), got a string of 22 characters (masked)'],
    ['postgres url of another scheme', (r) => (r.storage = { postgres: { url: 'mysql://u:p@h/db' } }), 'storage.postgres.url: expected a URL like postgres://user:pass@host:5432/db (postgres:// or postgresql://), got "mysql://u:***@h/db"'],
    ['postgres url with a broken escape', (r) => (r.storage = { postgres: { url: 'postgres://u:p%zz@h/db' } }), 'storage.postgres.url: expected a URL like postgres://user:pass@host:5432/db (postgres:// or postgresql://), got "postgres://u:***@h/db"'],
    [
      'both sqlite and postgres',
      (r) => (r.storage.postgres = { url: 'postgres://u@h/db' }),
      'storage: set exactly one of storage.sqlite and storage.postgres',
    ],
    ['bad log level', (r) => (r.log = { level: 'loud' }), 'log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "loud"'],
  ];

  it.each(cases)('%s', (_name, change, message) => {
    const raw = baseConfig();
    change(raw);
    // Every error is reported; the one this case makes comes first.
    const error = configError(raw);
    const issues = configIssues(raw);
    expect(error.code).toBe('HOOKRELAY_CONFIG_INVALID');
    expect(issues[0]).toBe(message);
    expect(error.message).toBe(issues.length === 1 ? message : `${issues.length} config errors: ${issues.join('; ')}`);
  });

  it('reports every error at once, with "did you mean" for a misspelt key or scheme and the value it got', () => {
    const raw = baseConfig();
    raw.sources[0].verify.scheme = 'cerebrum';
    raw.destinations[0].retry = { maxAttemps: 3 };
    raw.destinations[1].concurrency = 0;
    const issues = configIssues(raw);
    expect([...issues].sort()).toEqual([
      'destinations[0].retry.maxAttemps: unknown key (did you mean maxAttempts?)',
      'destinations[1].concurrency: expected a positive integer, got 0',
      'sources[0].verify.scheme: expected one of "cerebrium", "standard-webhooks", "hmac-sha256", "none", got "cerebrum" (did you mean "cerebrium"?)',
    ]);
    expect(configError(raw).message).toBe(`3 config errors: ${issues.join('; ')}`);
    expect(configIssues({ ...baseConfig(), sorces: [] })).toContain('sorces: unknown key (did you mean sources?)');
  });

  it('YAML syntax errors say the line and column', () => {
    expect(textError('sources:\n  - name: a\n    path: [\n').message).toMatch(/^config is not valid YAML at line \d+, column \d+: /);
    expect(textError('a: 1\nb: [1, 2\nc: 3\n').message).toMatch(/^config is not valid YAML at line [23], column \d+: /);
  });

  it('the same errors come out of YAML text', () => {
    const raw = baseConfig();
    raw.destinations[1].retry = { maxAttempts: 0 };
    expect(textError(stringify(raw)).message).toBe('destinations[1].retry.maxAttempts: expected a positive integer, got 0');
  });

  it('invalid YAML is a config error', () => {
    expect(textError('sources: [').code).toBe('HOOKRELAY_CONFIG_INVALID');
    expect(textError('sources: [').message).toMatch(/^config is not valid YAML at line 1, column \d+: /);
  });

  it('an empty file is a config error naming `sources`', () => {
    expect(textError('').message).toBe('sources: required (expected array)');
  });

  it('a YAML list at the top is a config error', () => {
    expect(textError('- 1\n').message).toBe('(root): expected object, got a list');
  });
});

describe('config errors echo the value they got, secrets masked', () => {
  const withSource = (verify: string, extra = '') => `
storage: { sqlite: { path: /tmp/x.db } }
sources:
  - { name: hooks, path: /hooks, verify: ${verify} }
${extra}`;

  it('shows what a variable put there', () => {
    expect(textError(`server: { port: "\${PORT}" }\n${withSource('{ scheme: none }')}`, { PORT: '80a' }).message)
      .toBe('server.port: expected a port number 0-65535, got "80a"');
  });

  it('never shows a source secret, however it is wrong', () => {
    const secret = 'not-a-whsec-secret!';
    const error = textError(withSource('{ scheme: standard-webhooks, secrets: ["${SW_SECRET}"] }'), { SW_SECRET: secret });
    expect(error.message).toBe(`sources[0].verify.secrets[0]: expected a Standard Webhooks secret: "whsec_" followed by base64, got a string of ${secret.length} characters (masked)`);
    expect(error.message).not.toContain(secret);
  });

  it('never shows a header value (it may be a credential)', () => {
    const token = 'tok-123\nX-Evil: 1';
    const extra = 'destinations:\n  - { name: app, url: "http://127.0.0.1/x", headers: { Authorization: "Bearer ${APP_TOKEN}" } }';
    const error = textError(withSource('{ scheme: none }', extra), { APP_TOKEN: token });
    expect(error.message).toBe(`destinations[0].headers.Authorization: expected a header value without CR, LF, NUL or other control characters, got a string of ${token.length + 7} characters (masked)`);
    expect(error.message).not.toContain('tok-123');
  });

  it('shows a URL with its password and query values masked', () => {
    const raw = baseConfig();
    raw.destinations[0].url = 'ftp://deliver:hunter2@example.com/in?token=abc&v=1';
    const [issue] = configIssues(raw);
    expect(issue).toBe('destinations[0].url: expected an http(s) URL, got "ftp://deliver:***@example.com/in?token=***&v=***"');
    expect(issue).not.toContain('hunter2');
    raw.destinations[0].url = 'https://example.com/in';
    raw.storage = { postgres: { url: 'mysql://relay:s3cret@db/hookrelay' } };
    expect(configIssues(raw)[0]).toBe('storage.postgres.url: expected a URL like postgres://user:pass@host:5432/db (postgres:// or postgresql://), got "mysql://relay:***@db/hookrelay"');
  });

  it('names only the type of a token of the wrong type', () => {
    const raw = baseConfig();
    raw.admin = { token: 42 };
    expect(configIssues(raw)[0]).toBe('admin.token: expected string, got a number');
  });

  it('cuts a long value and names the type of a list or map where a value was expected', () => {
    const raw = baseConfig();
    raw.sources[0].path = `/${'x'.repeat(100)}?`;
    expect(configIssues(raw)[0]).toBe(`sources[0].path: expected an absolute URL path like /webhooks/cerebrium, got "${`/${'x'.repeat(79)}`}…"`);
    const other = baseConfig();
    other.destinations[0].concurrency = [2];
    expect(configIssues(other)[0]).toBe('destinations[0].concurrency: expected a positive integer, got a list');
  });

  it('does not repeat a value the message already names', () => {
    const raw = baseConfig();
    raw.sources[1].name = 'cerebrium';
    expect(configIssues(raw)).toContain('sources[1].name: duplicate name "cerebrium"');
  });
});

describe('the resolved config', () => {
  it('is deeply frozen', () => {
    const config = resolveConfig(baseConfig());
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.sources[0]!.verify.secrets)).toBe(true);
    expect(Object.isFrozen(config.destinations[0]!.retry)).toBe(true);
    expect(Object.isFrozen(config.destinations[0]!.sources)).toBe(true);
    expect(() => {
      (config.destinations[0]!.retry as { maxAttempts: number }).maxAttempts = 99;
    }).toThrow(TypeError);
    expect(() => {
      (config.sources as unknown as string[]).push('x');
    }).toThrow(TypeError);
    expect(config.destinations[0]!.retry.maxAttempts).toBe(12);
  });

  it('does not change the input object', () => {
    const raw = baseConfig();
    const before = JSON.stringify(raw);
    resolveConfig(raw);
    expect(JSON.stringify(raw)).toBe(before);
    expect(Object.isFrozen(raw)).toBe(false);
  });
});

describe('config files', () => {
  const dirs: { cleanup: () => void }[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) dir.cleanup();
  });

  it('loads a real file and reports where it came from', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir.path, 'relay.yaml');
    writeFileSync(path, stringify(baseConfig()));
    const loaded = loadConfigFile(path, {});
    expect(loaded.path).toBe(path);
    expect(loaded.config.destinations.map((d) => d.name)).toEqual(['app', 'audit']);
  });

  it('a file with an error names the key path', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir.path, 'relay.yaml');
    const raw = baseConfig();
    raw.destinations[1].retry = { maxAttempts: 0 };
    writeFileSync(path, stringify(raw));
    expect(errorOf(() => loadConfigFile(path, {}))).toEqual({
      code: 'HOOKRELAY_CONFIG_INVALID',
      message: 'destinations[1].retry.maxAttempts: expected a positive integer, got 0',
    });
  });

  it('a missing file is HOOKRELAY_CONFIG_NOT_FOUND naming the path', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir.path, 'nope.yaml');
    expect(errorOf(() => loadConfigFile(path, {}))).toEqual({ code: 'HOOKRELAY_CONFIG_NOT_FOUND', message: `config file not found: ${path}` });
  });

  it('resolves the path: --config, else $HOOKRELAY_CONFIG, else config/hookrelay.yaml', () => {
    expect(resolveConfigPath('a.yaml', { HOOKRELAY_CONFIG: 'b.yaml' })).toBe('a.yaml');
    expect(resolveConfigPath(undefined, { HOOKRELAY_CONFIG: 'b.yaml' })).toBe('b.yaml');
    expect(resolveConfigPath(undefined, {})).toBe('config/hookrelay.yaml');
    expect(resolveConfigPath(undefined, { HOOKRELAY_CONFIG: '' })).toBe('config/hookrelay.yaml');
  });

  it('the example config/hookrelay.yaml loads with an empty environment, its secrets marked as development defaults', () => {
    const { config, defaulted } = loadConfigFile(join(ROOT, 'config/hookrelay.yaml'), {});
    expect(config.sources.map((source) => source.name)).toEqual(['cerebrium', 'github']);
    expect(config.storage.kind).toBe('sqlite');
    const secretDefaults = defaulted.filter((entry) => entry.secret).map((entry) => entry.variable);
    expect(secretDefaults).toEqual(expect.arrayContaining(['CEREBRIUM_WEBHOOK_SECRET', 'GITHUB_WEBHOOK_SECRET']));
  });

  it('the committed config/hookrelay.schema.json equals the schema generated from the zod schema', () => {
    // byte for byte what `npm run schema` writes: regenerate it with that command after a schema change
    const committed = readFileSync(join(ROOT, 'config/hookrelay.schema.json'), 'utf8');
    expect(committed).toBe(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  });

  it('the JSON Schema describes the config keys users write', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; required?: string[] };
    expect(Object.keys(schema.properties).sort()).toEqual(['admin', 'destinations', 'log', 'retention', 'runs', 'server', 'sources', 'storage']);
    expect(schema.required).toEqual(['sources']);
  });
});
