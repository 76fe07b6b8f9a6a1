import { z } from 'zod';
import { parseDurationMs } from './duration.js';

/**
 * The config schema: the single description of every key, its type, its default and its
 * documentation. The JSON Schema in `config/hookrelay.schema.json` is generated from it.
 */

const NAME = /^[a-z0-9_-]+$/;

const name = (what: string) =>
  z.string().regex(NAME, { message: `${what} must match [a-z0-9_-]+` });

/** A duration in ms: a number, or a string like "30s", "5m", "2h". */
const duration = (description: string) =>
  z
    .union([z.number(), z.string()])
    .transform((value, ctx) => {
      const ms = parseDurationMs(value);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration in ms or a string like "30s", "5m", "2h"' });
        return z.NEVER;
      }
      return ms;
    })
    .describe(description);

/** Numbers may come from `${VAR}` substitutions as strings: "8080" is read as 8080. */
const numeric = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value), schema);

const positiveIntBase = z.number({ message: 'expected a positive integer' }).int({ message: 'expected a positive integer' }).positive({ message: 'expected a positive integer' });
const positiveInt = numeric(positiveIntBase);
const PORT_MESSAGE = { message: 'expected a port number 0-65535' };
const port = numeric(z.number(PORT_MESSAGE).int(PORT_MESSAGE).min(0, PORT_MESSAGE).max(65535, PORT_MESSAGE));

const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('0.0.0.0').describe('Interface the public listener binds to.'),
    port: port.default(8080).describe('Port of the public listener; 0 picks a free one (logged).'),
    maxBodyBytes: positiveInt.default(100 * 1024 * 1024).describe('Largest accepted body; above it the answer is 413.'),
    requestTimeoutMs: duration('Whole-request deadline for a client sending a body.').default(120_000),
    headersTimeoutMs: duration('Deadline for a client to send its request headers.').default(10_000),
    keepAliveTimeoutMs: duration('Idle keep-alive connections are closed after this long.').default(5_000),
  })
  .prefault({});

const adminSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1').describe('Interface of the admin listener (metrics, admin API, dashboard).'),
  port: port.default(9090),
  token: z.string().default('').describe('When non-empty, /admin/* requires "Authorization: Bearer <token>".'),
});

const sqliteSchema = z.strictObject({
  path: z.string().min(1).default('./data/hookrelay.db').describe('Database file; created with its folder if missing. Relative to the working directory.'),
  busyTimeoutMs: duration('A commit that cannot finish within this answers 503.').default(5_000),
});

const postgresSchema = z.strictObject({
  url: z.string().min(1).describe('libpq URL: postgres://user:pass@host:5432/db'),
  poolSize: positiveInt.default(10),
  schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, { message: 'expected a lower-case SQL identifier' }).default('hookrelay'),
});

const storageSchema = z
  .strictObject({
    sqlite: sqliteSchema.optional(),
    postgres: postgresSchema.optional(),
  })
  .prefault({})
  .transform((storage, ctx) => {
    if (storage.sqlite && storage.postgres) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of storage.sqlite and storage.postgres' });
      return z.NEVER;
    }
    if (storage.postgres) return { kind: 'postgres' as const, postgres: storage.postgres };
    return { kind: 'sqlite' as const, sqlite: storage.sqlite ?? sqliteSchema.parse({}) };
  });

const SCHEMES = ['cerebrium', 'standard-webhooks', 'hmac-sha256', 'none'] as const;

/** What a source's sender gets when storage cannot commit its callback. */
const STORAGE_FAILURE_ANSWERS = ['respond', 'disconnect'] as const;

const STANDARD_WEBHOOKS_SECRET = 'expected a Standard Webhooks secret: "whsec_" followed by base64';

/** A Standard Webhooks key is the base64 after `whsec_`: anything else would silently decode to a wrong key. */
function isStandardWebhooksSecret(secret: string): boolean {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/.test(encoded) && encoded.length >= 4;
}

const dedupeKeyRule = z
  .string()
  .regex(/^(body:[^.\s]+(\.[^.\s]+)*|header:[A-Za-z0-9!#$%&'*+.^_`|~-]+)$/, {
    message: 'expected "body:<dotted path>" or "header:<name>"',
  });

const sourceSchema = z
  .strictObject({
    name: name('source name'),
    path: z.string().regex(/^\/[A-Za-z0-9._~\/-]*$/, { message: 'expected an absolute URL path like /webhooks/cerebrium' }),
    verify: z
      .strictObject({
        scheme: z.enum(SCHEMES),
        secrets: z.array(z.string().min(1, { message: 'a secret must not be empty' })).default([]),
        toleranceMs: duration('Accepted clock difference for signed timestamps.').default(300_000),
        header: z.string().min(1).default('X-Signature-256').describe('hmac-sha256 only: header holding "sha256=<hex>".'),
      })
      .superRefine((verify, ctx) => {
        if (verify.scheme !== 'none' && verify.secrets.length === 0) {
          ctx.addIssue({ code: 'custom', path: ['secrets'], message: `scheme ${verify.scheme} needs at least one secret` });
        }
        if (verify.scheme === 'standard-webhooks') {
          verify.secrets.forEach((secret, index) => {
            if (!isStandardWebhooksSecret(secret)) ctx.addIssue({ code: 'custom', path: ['secrets', index], message: STANDARD_WEBHOOKS_SECRET });
          });
        }
      }),
    dedupe: z.strictObject({ keys: z.array(dedupeKeyRule) }).optional(),
    onStorageFailure: z
      .enum(STORAGE_FAILURE_ANSWERS)
      .optional()
      .describe(
        'When a commit cannot finish within busyTimeoutMs: "respond" answers 503, "disconnect" closes the connection without an answer (a network error, which senders such as Cerebrium retry). Default: disconnect for scheme cerebrium, respond otherwise.',
      ),
  })
  .transform((source) => ({
    ...source,
    dedupe: { keys: source.dedupe?.keys ?? defaultDedupeKeys(source.verify.scheme) },
    onStorageFailure: source.onStorageFailure ?? defaultStorageFailureAnswer(source.verify.scheme),
  }));

/** Cerebrium never retries a 5xx but does retry a network error: for it, no answer is the better answer. */
function defaultStorageFailureAnswer(scheme: (typeof SCHEMES)[number]): (typeof STORAGE_FAILURE_ANSWERS)[number] {
  return scheme === 'cerebrium' ? 'disconnect' : 'respond';
}

function defaultDedupeKeys(scheme: (typeof SCHEMES)[number]): string[] {
  if (scheme === 'cerebrium') return ['body:run_id', 'header:x-request-id'];
  if (scheme === 'standard-webhooks') return ['header:webhook-id'];
  return [];
}

const retrySchema = z
  .strictObject({
    maxAttempts: positiveInt.default(12).describe('Attempts in all, the first included; then the delivery is dead.'),
    initialDelayMs: duration('Delay before the second attempt.').default(1_000),
    multiplier: z.number().min(1, { message: 'expected a number >= 1' }).default(2),
    maxDelayMs: duration('Upper bound of one backoff delay.').default(3_600_000),
  })
  .prefault({});

const circuitBreakerSchema = z
  .strictObject({
    errorThresholdPercentage: z.number().gt(0).max(100).default(50),
    volumeThreshold: positiveInt.default(5),
    rollingWindowMs: duration('Window over which failures are counted.').default(10_000),
    resetTimeoutMs: duration('Open -> half-open after this long.').default(30_000),
  })
  .prefault({});

const destinationSchema = z.strictObject({
  name: name('destination name'),
  url: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }),
  sources: z.array(z.string()).min(1, { message: 'an empty list matches no source; omit the key for every source' }).optional(),
  timeoutMs: duration('Deadline of a whole attempt.').default(15_000),
  concurrency: positiveInt.default(8),
  headers: z.record(z.string(), z.string()).default({}),
  signingSecret: z.string().min(1, { message: STANDARD_WEBHOOKS_SECRET }).refine(isStandardWebhooksSecret, { message: STANDARD_WEBHOOKS_SECRET }).optional(),
  retry: retrySchema,
  circuitBreaker: circuitBreakerSchema,
});

const retentionSchema = z
  .strictObject({
    deliveredMaxAgeMs: duration('Delivered events (and their attempts) older than this are pruned; 0 keeps them forever.').default(7 * 86_400_000),
    intervalMs: duration('How often the pruner runs.').default(60_000),
    batchSize: positiveInt.default(500),
  })
  .prefault({});

const logSchema = z
  .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
  .prefault({});

export const configSchema = z
  .strictObject({
    server: serverSchema,
    admin: adminSchema.optional(),
    storage: storageSchema,
    sources: z.array(sourceSchema).min(1, { message: 'at least one source is required' }),
    destinations: z.array(destinationSchema).default([]),
    retention: retentionSchema,
    log: logSchema,
  })
  .superRefine((config, ctx) => {
    uniqueNames(config.sources, ['sources'], ctx);
    uniqueNames(config.destinations, ['destinations'], ctx);
    const paths = new Map<string, number>();
    config.sources.forEach((source, index) => {
      if (paths.has(source.path)) ctx.addIssue({ code: 'custom', path: ['sources', index, 'path'], message: `duplicate path ${source.path}` });
      paths.set(source.path, index);
      if (['/healthz', '/readyz'].includes(source.path)) ctx.addIssue({ code: 'custom', path: ['sources', index, 'path'], message: `${source.path} is reserved` });
    });
    const known = new Set(config.sources.map((source) => source.name));
    config.destinations.forEach((destination, index) => {
      destination.sources?.forEach((sourceName, j) => {
        if (!known.has(sourceName)) {
          ctx.addIssue({ code: 'custom', path: ['destinations', index, 'sources', j], message: `unknown source "${sourceName}"` });
        }
      });
    });
  });

function uniqueNames(items: { name: string }[], path: (string | number)[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (seen.has(item.name)) ctx.addIssue({ code: 'custom', path: [...path, index, 'name'], message: `duplicate name "${item.name}"` });
    seen.add(item.name);
  });
}

export type ParsedConfig = z.output<typeof configSchema>;
