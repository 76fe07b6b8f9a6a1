import { validateHeaderName, validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { formatKeyPath } from '../../src/config/key-path.js';
import { parseConfigText, resolveConfig, type Config } from '../../src/config/load.js';
import { isHookrelayError } from '../../src/errors.js';

/**
 * Fuzzes the config loader key by key. The keys come from the generated JSON Schema, so a key
 * added to the schema is fuzzed without touching this file. For every key, random wrong-typed
 * and bad values must give HOOKRELAY_CONFIG_INVALID naming that key (or a key inside it) —
 * never a crash, a TypeError or a raw 'Invalid URL' — both as an object and as YAML text; and
 * valid values must load.
 */

type Path = (string | number)[];
type SchemaNode = {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  anyOf?: SchemaNode[];
};

/** A name for a record key (destination headers), so paths below records can be fuzzed too. */
const RECORD_KEY = 'X-Sample';
/** The record key below a destination's `filter`, whose keys are filter entries. */
const FILTER_KEY = 'header:x-sample';

function keyPaths(node: SchemaNode, path: Path = []): Path[] {
  const paths: Path[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    paths.push([...path, key], ...keyPaths(child, [...path, key]));
  }
  if (node.items) paths.push([...path, 0], ...keyPaths(node.items, [...path, 0]));
  if (node.additionalProperties && typeof node.additionalProperties === 'object') {
    const key = path.at(-1) === 'filter' ? FILTER_KEY : RECORD_KEY;
    paths.push([...path, key], ...keyPaths(node.additionalProperties, [...path, key]));
  }
  for (const option of node.anyOf ?? []) paths.push(...keyPaths(option, path));
  return paths;
}

const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/**
 * A valid config that sets every key it can (one storage engine at a time). Keys fuzzed are in
 * sources[0] / destinations[0]; cross-references point at index 1, so renaming index 0 keeps them valid.
 */
function fullConfig(storage: 'sqlite' | 'postgres'): Record<string, any> {
  return {
    server: { host: '127.0.0.1', port: 8080, maxBodyBytes: 1024, requestTimeoutMs: '2m', headersTimeoutMs: 10_000, keepAliveTimeoutMs: '5s' },
    admin: { host: '127.0.0.1', port: 9090, token: 'admin-token' },
    storage:
      storage === 'sqlite'
        ? { sqlite: { path: '/tmp/hookrelay-fuzz.db', busyTimeoutMs: 5_000 } }
        : { postgres: { url: 'postgres://u:p@localhost:5432/db', poolSize: 4, schema: 'hookrelay' } },
    sources: [
      {
        name: 'cerebrium',
        path: '/webhooks/cerebrium',
        verify: { scheme: 'cerebrium', secrets: ['s3cret'], toleranceMs: 300_000, header: 'X-Signature-256' },
        dedupe: { keys: ['body:run_id', 'header:x-request-id'] },
        quarantine: { maxBytes: 104_857_600, maxAgeMs: 604_800_000 },
      },
      { name: 'github', path: '/webhooks/github', verify: { scheme: 'hmac-sha256', secrets: ['gh'] } },
      { name: 'jobs', path: '/webhooks/jobs', verify: { scheme: 'cerebrium', secrets: ['jobs-secret'] } },
    ],
    destinations: [
      {
        name: 'app',
        url: 'http://127.0.0.1:3000/hooks',
        sources: ['github'],
        timeoutMs: 15_000,
        concurrency: 8,
        headers: { [RECORD_KEY]: 'value' },
        signing: { scheme: 'hmac-sha256', secret: 'app-key', header: 'X-Hub-Signature-256' },
        fallback: 'audit',
        filter: { 'body:status': ['success', 200], [FILTER_KEY]: ['push'] },
        rateLimit: { perSecond: 20 },
        ordering: 'fifo',
        retry: { maxAttempts: 12, initialDelayMs: 1_000, multiplier: 2, maxDelayMs: 3_600_000 },
        circuitBreaker: { errorThresholdPercentage: 50, volumeThreshold: 5, rollingWindowMs: 10_000, resetTimeoutMs: 30_000 },
      },
      { name: 'audit', url: 'https://audit.example.com/in', sources: ['github', 'runs'], signingSecret: SW_SECRET },
    ],
    runs: {
      source: 'jobs',
      publicUrl: 'https://relay.example.com',
      cerebriumUrl: 'https://api.example.com',
      overdueAfterMs: '30m',
      status: { url: 'https://rest.example.com/v2/projects/{project}/apps/{project}-{app}/runs/{run_id}', token: 'status-token', everyMs: 60_000 },
    },
    retention: { deliveredMaxAgeMs: '7d', intervalMs: 60_000, batchSize: 500 },
    log: { level: 'info' },
  };
}

function withValue(storage: 'sqlite' | 'postgres', path: Path, value: unknown): Record<string, any> {
  const raw = fullConfig(storage);
  let node: any = raw;
  for (const [index, key] of path.entries()) {
    if (index === path.length - 1) node[key] = value;
    else {
      if (node[key] === null || typeof node[key] !== 'object') node[key] = typeof path[index + 1] === 'number' ? [] : {};
      node = node[key];
    }
  }
  return raw;
}

const storageFor = (path: Path): 'sqlite' | 'postgres' => (path[0] === 'storage' && path[1] === 'postgres' ? 'postgres' : 'sqlite');

/** Values of every shape, and strings that broke loaders before (URLs, escapes, ${VAR}, CR/LF, huge numbers). */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    '', ' ', '-1', '0', '1.5', '1e309', '99999999999999999999', 'NaN', 'true', '5 minutes', '-5s',
    'http://', 'http://[::1', 'postgres://u:p%zz@h/db', 'postgres://', 'mysql://u@h/db', '://', '::::', '%', 'a b', '/a//b', '/a/../b',
    '${HOOKRELAY_FUZZ_UNSET}', 'x\r\ny', 'x\u0000y', '\t', 'ünïcödé', '/'.repeat(300), 'a'.repeat(5_000),
  ),
  fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.string({ maxLength: 10 }), fc.integer()), { maxKeys: 3 }),
);

/** The key path an error names: the text before the first ': '. */
const namedPath = (message: string) => message.slice(0, message.indexOf(': '));

/** `named` is `key` or a key inside it (`key.x`, `key[0]`). */
const isWithin = (named: string, key: string) => named === key || named.startsWith(`${key}.`) || named.startsWith(`${key}[`);

/**
 * What loads must work where it is used later (it used to pass config and fail at run time):
 * URLs parse, header names and values are what HTTP allows.
 */
function expectUsable(config: Config): void {
  if (config.storage.kind === 'postgres') expect(new URL(config.storage.postgres.url).protocol).toMatch(/^postgres(ql)?:$/);
  for (const destination of config.destinations) {
    expect(() => new URL(destination.url)).not.toThrow();
    for (const [name, value] of Object.entries(destination.headers)) {
      expect(() => validateHeaderName(name), name).not.toThrow();
      expect(() => validateHeaderValue(name, value), JSON.stringify(value)).not.toThrow();
    }
  }
}

/** Loads `raw` as an object and as YAML text; each must load (usable) or fail with a config error naming `key`. */
function expectLoadsOrNames(raw: Record<string, any>, key: string): 'loaded' | 'refused' {
  const outcomes = [() => resolveConfig(raw), () => parseConfigText(stringify(raw), {}).config].map((load) => {
    try {
      expectUsable(load());
      return 'loaded' as const;
    } catch (error) {
      if (!isHookrelayError(error) && !(error instanceof TypeError) && (error as Error).name === 'AssertionError') throw error;
      expect(error).not.toBeInstanceOf(TypeError);
      expect(isHookrelayError(error, 'HOOKRELAY_CONFIG_INVALID'), `${key}: ${String(error)}`).toBe(true);
      const message = (error as Error).message;
      expect(message).not.toMatch(/Invalid URL|undefined|\[object Object\]/);
      // Every error is reported at once; the first names the changed key (others may follow from
      // it, e.g. references to a source it removed).
      const issues = (error as { details?: { issues?: string[] } }).details?.issues ?? [message];
      expect(isWithin(namedPath(issues[0]!), key), `${key} -> ${message}`).toBe(true);
      return 'refused' as const;
    }
  });
  // The object and its YAML text are the same config, except where YAML itself differs (a
  // `${VAR}` string is substituted only in text): so only when no such reference is present.
  if (!JSON.stringify(raw).includes('${')) expect(outcomes[0], key).toBe(outcomes[1]);
  return outcomes[0]!;
}

const LONG = process.env.HOOKRELAY_LONG_TESTS === '1';
const PATHS = keyPaths(configJsonSchema() as SchemaNode);

/** Valid values per key (paths written with [0]); keys not listed are checked with their full-config value. */
const durationValue = fc.oneof(fc.nat({ max: 10 ** 9 }), fc.nat({ max: 10 ** 6 }).map((n) => `${n}s`), fc.constantFrom('250ms', '5m', '2h', '7d', '1.5s'));
const positive = fc.oneof(fc.integer({ min: 1, max: 10 ** 6 }), fc.integer({ min: 1, max: 10 ** 6 }).map(String));
const VALID: Record<string, fc.Arbitrary<unknown>> = {
  'server.host': fc.constantFrom('0.0.0.0', '127.0.0.1', 'localhost', '::1'),
  'server.port': fc.oneof(fc.integer({ min: 0, max: 65_535 }), fc.integer({ min: 0, max: 65_535 }).map(String)),
  'server.maxBodyBytes': positive,
  'server.requestTimeoutMs': durationValue,
  'server.headersTimeoutMs': durationValue,
  'server.keepAliveTimeoutMs': durationValue,
  'admin.port': fc.integer({ min: 0, max: 65_535 }),
  'admin.token': fc.string({ minLength: 1, maxLength: 40 }).filter((token) => !token.includes('${')),
  'storage.sqlite.path': fc.stringMatching(/^\/tmp\/[a-z0-9_-]{1,20}\.db$/),
  'storage.sqlite.busyTimeoutMs': durationValue,
  'storage.postgres.url': fc.tuple(fc.constantFrom('postgres', 'postgresql'), fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.webSegment()).map(([scheme, host, db]) => `${scheme}://user:pa%40ss@${host}:5432/${db}`),
  'storage.postgres.poolSize': positive,
  'storage.postgres.schema': fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/),
  'sources[0].name': fc.stringMatching(/^[a-z0-9_-]{1,20}$/).filter((name) => name !== 'github'),
  'sources[0].path': fc.array(fc.stringMatching(/^[a-z0-9_~-][a-z0-9._~-]{0,10}$/), { minLength: 1, maxLength: 4 }).map((segments) => `/in/${segments.join('/')}`),
  'sources[0].verify.secrets': fc.array(fc.string({ minLength: 1, maxLength: 20 }).filter((secret) => !secret.includes('${')), { minLength: 1, maxLength: 3 }),
  'sources[0].verify.toleranceMs': durationValue,
  'sources[0].verify.scheme': fc.constantFrom('cerebrium', 'hmac-sha256', 'none'),
  'sources[0].quarantine.maxBytes': positive,
  'sources[0].quarantine.maxAgeMs': durationValue,
  'sources[0].dedupe.keys': fc.array(fc.oneof(fc.stringMatching(/^body:[a-z_]{1,8}(\.[a-z_]{1,8}){0,2}$/), fc.stringMatching(/^header:[A-Za-z0-9-]{1,12}$/)), { maxLength: 3 }),
  'destinations[0].name': fc.stringMatching(/^[a-z0-9_-]{1,20}$/).filter((name) => name !== 'audit'),
  'destinations[0].url': fc.webUrl({ validSchemes: ['http', 'https'], withQueryParameters: true }),
  'destinations[0].timeoutMs': durationValue,
  'destinations[0].concurrency': positive,
  'destinations[0].headers': fc.dictionary(
    fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/).filter((name) => !['connection', 'content-length', 'expect', 'keep-alive', 'transfer-encoding', 'upgrade'].includes(name.toLowerCase())),
    fc.stringMatching(/^[\t\x20-\x7e]{0,30}$/).filter((value) => !value.includes('${')),
    { maxKeys: 4 },
  ),
  'destinations[0].retry.maxAttempts': positive,
  'destinations[0].retry.initialDelayMs': durationValue,
  'destinations[0].retry.multiplier': fc.double({ min: 1, max: 10, noNaN: true }),
  'destinations[0].retry.maxDelayMs': durationValue,
  'destinations[0].circuitBreaker.errorThresholdPercentage': fc.integer({ min: 1, max: 100 }),
  'destinations[0].circuitBreaker.volumeThreshold': positive,
  'destinations[0].rateLimit.perSecond': fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0.01, max: 1_000, noNaN: true })),
  'destinations[0].filter': fc.dictionary(
    fc.oneof(fc.stringMatching(/^body:[a-z_]{1,8}(\.[a-z_]{1,8}){0,2}$/), fc.stringMatching(/^header:[A-Za-z0-9-]{1,12}$/)),
    fc.array(fc.oneof(fc.string({ maxLength: 10 }).filter((value) => !value.includes('${')), fc.integer(), fc.boolean()), { minLength: 1, maxLength: 3 }),
    { maxKeys: 3 },
  ),
  'retention.deliveredMaxAgeMs': durationValue,
  'retention.batchSize': positive,
  'log.level': fc.constantFrom('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
};

describe('config loader fuzz: every key', () => {
  it('finds the keys users write in the schema (a sanity check of the walk)', () => {
    const keys = PATHS.map(formatKeyPath);
    expect(keys).toEqual(expect.arrayContaining(['server.port', 'storage.postgres.url', 'sources[0].verify.secrets[0]', `destinations[0].headers.${RECORD_KEY}`, 'destinations[0].retry.maxAttempts']));
    expect(keys.length).toBeGreaterThan(45);
  });

  it('the full config loads, with each storage engine', () => {
    expect(expectLoadsOrNames(fullConfig('sqlite'), '(root)')).toBe('loaded');
    expect(expectLoadsOrNames(fullConfig('postgres'), '(root)')).toBe('loaded');
  });

  it.each(PATHS.map((path) => [formatKeyPath(path), path] as const))('%s: any bad value is a config error naming it', (key, path) => {
    fc.assert(
      fc.property(anyValue, (value) => {
        expectLoadsOrNames(withValue(storageFor(path), path, value), key);
      }),
      { numRuns: LONG ? 1_000 : 25 },
    );
  });

  it.each(PATHS.map((path) => [formatKeyPath(path), path] as const))('%s: valid values load', (key, path) => {
    const valid = VALID[key] ?? fc.constant(undefined);
    fc.assert(
      fc.property(valid, (value) => {
        const raw = value === undefined ? fullConfig(storageFor(path)) : withValue(storageFor(path), path, value);
        expect(expectLoadsOrNames(raw, key)).toBe('loaded');
      }),
      { numRuns: VALID[key] ? (LONG ? 500 : 15) : 1 },
    );
  });
});
