import { z } from 'zod';
import { RUNS_SOURCE } from '../glossary.js';
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

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost: addresses other machines cannot reach. */
const isLoopbackHost = (host: string) =>
  /^(::ffff:)?127(\.\d{1,3}){3}$/i.test(host) || ['::1', '[::1]', 'localhost'].includes(host.toLowerCase());

const adminSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('Interface of the admin listener (metrics, admin API, dashboard). Without a token it must be a loopback address.'),
    port: port.default(9090),
    token: z.string().default('').describe('When non-empty, /admin/* requires "Authorization: Bearer <token>". An empty value (e.g. from an empty ${VAR}) means no token.'),
    allowedHosts: z
      .array(z.string().regex(HOST_NAME, { message: 'expected a host name without port, e.g. relay-admin.internal' }))
      .default([])
      .describe('Host names (besides IP addresses and localhost) accepted in the Host header when no token is set; any other Host gets 403 (DNS rebinding).'),
  })
  .superRefine((admin, ctx) => {
    if (admin.token === '' && !isLoopbackHost(admin.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['host'],
        message: `${admin.host} is not a loopback address: without admin.token the admin API must not be reachable from other machines (set admin.token, or bind 127.0.0.1)`,
      });
    }
  });

const sqliteSchema = z.strictObject({
  path: z.string().min(1).default('./data/hookrelay.db').describe('Database file; created with its folder if missing. Relative to the working directory.'),
  busyTimeoutMs: duration('A commit that cannot finish within this answers 503.').default(5_000),
});

const POSTGRES_URL = 'expected a URL like postgres://user:pass@host:5432/db (postgres:// or postgresql://)';

/** What the pg driver will parse: a postgres(ql):// URL whose percent-escapes decode. */
function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return false;
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    decodeURI(url.pathname);
    return true;
  } catch {
    return false;
  }
}

const postgresSchema = z.strictObject({
  url: z.string().refine(isPostgresUrl, { message: POSTGRES_URL }).describe('libpq URL: postgres://user:pass@host:5432/db'),
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
    // Segments of unreserved characters; no empty (`//`), `.` or `..` segment: each of those has
    // other spellings a request could use, and a request must reach exactly the path it names.
    path: z
      .string()
      .regex(/^(?:\/|(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._~-]+)+\/?)$/, { message: 'expected an absolute URL path like /webhooks/cerebrium' })
      .describe('POST here. Matched exactly: case-sensitive, a trailing slash is part of the path.'),
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
    quarantine: z
      .strictObject({
        maxBytes: positiveInt.describe('Most bytes (bodies and headers) kept for this source; over it the oldest go first.'),
        maxAgeMs: duration('Kept this long at most.'),
      })
      .optional()
      .describe(
        'Keep callbacks rejected for their signature or timestamp (still answered 401, never delivered) so that "hookrelay quarantine release" can verify them again with the current secrets. Default: off.',
      ),
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

/**
 * Header names the relay's HTTP client (undici) refuses or computes itself: configuring one
 * would fail every delivery.
 */
const CLIENT_OWNED_HEADERS = new Set(['connection', 'content-length', 'expect', 'keep-alive', 'transfer-encoding', 'upgrade']);

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'expected a header name (letters, digits and !#$%&\'*+.^_`|~-, no spaces)' })
  .refine((name) => !CLIENT_OWNED_HEADERS.has(name.toLowerCase()), { message: 'this header is set by the HTTP client and cannot be configured' });

/** Tab and visible characters only (no CR, LF, NUL or other control characters): what HTTP allows in a value. */
const headerValue = z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, { message: 'expected a header value without CR, LF, NUL or other control characters' });

const DELIVERY_SIGNING_SCHEMES = ['standard-webhooks', 'cerebrium', 'hmac-sha256'] as const;

const signingSchema = z
  .strictObject({
    scheme: z.enum(DELIVERY_SIGNING_SCHEMES).default('standard-webhooks'),
    secret: z.string().min(1, { message: 'a secret must not be empty' }),
    header: headerName.optional().describe('hmac-sha256 only: the header holding "sha256=<hex>" (default X-Signature-256).'),
  })
  .superRefine((signing, ctx) => {
    if (signing.scheme === 'standard-webhooks' && !isStandardWebhooksSecret(signing.secret)) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: STANDARD_WEBHOOKS_SECRET });
    }
    if (signing.header !== undefined && signing.scheme !== 'hmac-sha256') {
      ctx.addIssue({ code: 'custom', path: ['header'], message: `scheme ${signing.scheme} sets its own headers; header is for hmac-sha256 only` });
    }
  });

const filterKey = z.string().regex(/^(body:[^.\s]+(\.[^.\s]+)*|header:[A-Za-z0-9!#$%&'*+.^_`|~-]+)$/, {
  message: 'expected "body:<dotted path>" or "header:<name>"',
});

/** Filter values compare as strings; a number or boolean written in YAML stands for its text. */
const filterValue = z.preprocess(
  (value) => (typeof value === 'number' || typeof value === 'boolean' ? String(value) : value),
  z.string({ message: 'expected a string, number or boolean' }),
);

const destinationSchema = z.strictObject({
  name: name('destination name'),
  url: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }),
  sources: z.array(z.string()).min(1, { message: 'an empty list matches no source; omit the key for every source' }).optional(),
  timeoutMs: duration('Deadline of a whole attempt.').default(15_000),
  concurrency: positiveInt.default(8),
  bodyBudgetBytes: positiveInt
    .default(64 * 1024 * 1024)
    .describe('Most bytes of event bodies the delivery engine holds for this destination (queued and being sent); a single larger body is sent alone.'),
  headers: z.record(headerName, headerValue).default({}).describe('Added to every delivery.'),
  signingSecret: z
    .string()
    .min(1, { message: STANDARD_WEBHOOKS_SECRET })
    .refine(isStandardWebhooksSecret, { message: STANDARD_WEBHOOKS_SECRET })
    .optional()
    .describe('Shorthand for signing: { scheme: standard-webhooks, secret }.'),
  signing: signingSchema.optional().describe('How deliveries are signed, so a receiver written for the producer verifies them unchanged.'),
  retry: retrySchema,
  circuitBreaker: circuitBreakerSchema,
  fallback: name('fallback destination')
    .optional()
    .describe('Another destination: when a delivery here dies, one delivery of the event to it is created (header hookrelay-fallback-for).'),
  filter: z
    .record(filterKey, z.array(filterValue).min(1, { message: 'an empty list matches nothing; omit the entry' }))
    .optional()
    .describe('Only events matching every entry ("body:<dotted path>" or "header:<name>" -> accepted values) are queued here.'),
  ordering: z
    .enum(['unordered', 'fifo'])
    .optional()
    .describe('Default unordered. fifo: one attempt in flight at a time, in commit order; a later event waits while an earlier one is pending or in flight.'),
  rateLimit: z
    .strictObject({ perSecond: numeric(z.number({ message: 'expected a number > 0' }).positive({ message: 'expected a number > 0' })) })
    .optional()
    .describe('Attempts started per second at most (retries included), in each relay process.'),
}).superRefine((destination, ctx) => {
  if (destination.signing && destination.signingSecret !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['signingSecret'], message: 'set signing or its shorthand signingSecret, not both' });
  }
});

const retentionSchema = z
  .strictObject({
    deliveredMaxAgeMs: duration('Delivered events (and their attempts) older than this are pruned; 0 keeps them forever.').default(7 * 86_400_000),
    intervalMs: duration('How often the pruner runs.').default(60_000),
    batchSize: positiveInt.default(500),
  })
  .prefault({});

/** Where submissions go when `runs.cerebriumUrl` is not set. */
export const DEFAULT_CEREBRIUM_URL = 'https://api.aws.us-east-1.cerebrium.ai';

const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' });

const runsSchema = z.strictObject({
  source: z.string().min(1).describe('The source (scheme cerebrium) that receives the runs\' callbacks.'),
  publicUrl: httpUrl.describe('The public listener as Cerebrium reaches it; webhookEndpoint = publicUrl + the source path.'),
  cerebriumUrl: httpUrl.default(DEFAULT_CEREBRIUM_URL).describe('Where POST /cerebrium/* on the admin listener is forwarded.'),
  overdueAfterMs: duration('No callback this long after submission -> overdue.').default(1_800_000),
  status: z
    .strictObject({
      url: z.string().regex(/^https?:\/\/.*\{run_id\}/, { message: 'expected an http(s) URL containing {run_id} (and optionally {project}, {app})' }),
      token: z.string().min(1, { message: 'a token must not be empty' }).describe('Sent as "Authorization: Bearer <token>".'),
      everyMs: duration('How often an overdue run is checked.').default(60_000),
    })
    .optional()
    .describe('Ask Cerebrium about overdue runs; one that finished without a callback becomes lost.'),
});

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
    runs: runsSchema.optional(),
  })
  .superRefine((config, ctx) => {
    uniqueNames(config.sources, ['sources'], ctx);
    uniqueNames(config.destinations, ['destinations'], ctx);
    const paths = new Map<string, string>();
    config.sources.forEach((source, index) => {
      const spelling = pathSpelling(source.path);
      const earlier = paths.get(spelling);
      if (earlier === source.path) ctx.addIssue({ code: 'custom', path: ['sources', index, 'path'], message: `duplicate path ${source.path}` });
      else if (earlier !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['sources', index, 'path'], message: `${source.path} differs from ${earlier} only by case or a trailing slash` });
      }
      if (earlier === undefined) paths.set(spelling, source.path);
      if (['/healthz', '/readyz'].includes(source.path)) ctx.addIssue({ code: 'custom', path: ['sources', index, 'path'], message: `${source.path} is reserved` });
    });
    const known = new Set(config.sources.map((source) => source.name));
    checkRuns(config, ctx);
    known.add(RUNS_SOURCE);
    checkFallbacks(config.destinations, ctx);
    config.destinations.forEach((destination, index) => {
      destination.sources?.forEach((sourceName, j) => {
        if (!known.has(sourceName)) {
          ctx.addIssue({ code: 'custom', path: ['destinations', index, 'sources', j], message: `unknown source "${sourceName}"` });
        }
      });
    });
  });

/**
 * Paths are matched exactly, but two that differ only by case or a trailing slash are one path
 * to many clients and proxies: an unsigned source beside a signed one must not be reachable by
 * respelling the signed one's path.
 */
function pathSpelling(path: string): string {
  return path.toLowerCase().replace(/(.)\/$/, '$1');
}

/** `runs` is the built-in announcements source; `runs.source` must be a cerebrium source. */
function checkRuns(config: { sources: { name: string; verify: { scheme: string } }[]; runs?: { source: string } }, ctx: z.RefinementCtx): void {
  config.sources.forEach((source, index) => {
    if (source.name === RUNS_SOURCE) ctx.addIssue({ code: 'custom', path: ['sources', index, 'name'], message: `"${RUNS_SOURCE}" is reserved for run announcements` });
  });
  if (!config.runs) return;
  const source = config.sources.find((candidate) => candidate.name === config.runs!.source);
  if (!source) ctx.addIssue({ code: 'custom', path: ['runs', 'source'], message: `unknown source "${config.runs.source}"` });
  else if (source.verify.scheme !== 'cerebrium') {
    ctx.addIssue({ code: 'custom', path: ['runs', 'source'], message: `source "${source.name}" has scheme ${source.verify.scheme}; runs need a cerebrium source` });
  }
}

/** A fallback names another destination; following fallbacks from any destination must end. */
function checkFallbacks(destinations: { name: string; fallback?: string | undefined }[], ctx: z.RefinementCtx): void {
  const fallbackOf = new Map(destinations.map((destination) => [destination.name, destination.fallback]));
  destinations.forEach((destination, index) => {
    if (destination.fallback === undefined) return;
    const path = ['destinations', index, 'fallback'];
    if (destination.fallback === destination.name) return ctx.addIssue({ code: 'custom', path, message: 'a destination cannot fall back to itself' });
    if (!fallbackOf.has(destination.fallback)) return ctx.addIssue({ code: 'custom', path, message: `unknown destination "${destination.fallback}"` });
    const chain = [destination.name];
    for (let next: string | undefined = destination.fallback; next !== undefined; next = fallbackOf.get(next)) {
      if (chain.includes(next)) {
        return ctx.addIssue({ code: 'custom', path, message: `fallbacks form a cycle: ${[...chain, next].join(' -> ')}` });
      }
      chain.push(next);
    }
  });
}

function uniqueNames(items: { name: string }[], path: (string | number)[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (seen.has(item.name)) ctx.addIssue({ code: 'custom', path: [...path, index, 'name'], message: `duplicate name "${item.name}"` });
    seen.add(item.name);
  });
}

export type ParsedConfig = z.output<typeof configSchema>;
