import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { isHookrelayError } from '../../src/errors.js';

/** A minimal valid config with three destinations; each case changes one field. */
function baseConfig(): Record<string, any> {
  return {
    storage: { sqlite: { path: '/tmp/hookrelay-config-policies.db' } },
    sources: [{ name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: ['s3cret'] } }],
    destinations: [
      { name: 'app', url: 'http://127.0.0.1:3000/hooks' },
      { name: 'archive', url: 'http://127.0.0.1:3001/hooks' },
      { name: 'audit', url: 'http://127.0.0.1:3002/hooks' },
    ],
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

describe('delivery policy config', () => {
  it('loads every policy with its defaults', () => {
    const raw = baseConfig();
    raw.destinations[0] = {
      ...raw.destinations[0],
      fallback: 'archive',
      filter: { 'body:status': ['success', 200, true], 'header:X-GitHub-Event': ['push'] },
      rateLimit: { perSecond: '20' },
      signing: { scheme: 'hmac-sha256', secret: 'k', header: 'X-Hub-Signature-256' },
    };
    raw.destinations[1].fallback = 'audit';
    raw.destinations[2].signing = { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };
    const config = resolveConfig(raw);
    expect(config.destinations[0]).toMatchObject({
      fallback: 'archive',
      filter: { 'body:status': ['success', '200', 'true'], 'header:X-GitHub-Event': ['push'] },
      rateLimit: { perSecond: 20 },
      signing: { scheme: 'hmac-sha256', secret: 'k', header: 'X-Hub-Signature-256' },
    });
    expect(config.destinations[2]!.signing).toEqual({ scheme: 'standard-webhooks', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
  });

  const cases: [string, (raw: Record<string, any>) => void, string][] = [
    ['fallback to an unknown destination', (r) => (r.destinations[0].fallback = 'nowhere'), 'destinations[0].fallback: unknown destination "nowhere"'],
    ['fallback to itself', (r) => (r.destinations[1].fallback = 'archive'), 'destinations[1].fallback: a destination cannot fall back to itself, got "archive"'],
    [
      'fallbacks in a cycle',
      (r) => ((r.destinations[0].fallback = 'archive'), (r.destinations[1].fallback = 'audit'), (r.destinations[2].fallback = 'app')),
      '3 config errors: destinations[0].fallback: fallbacks form a cycle: app -> archive -> audit -> app; ' +
        'destinations[1].fallback: fallbacks form a cycle: archive -> audit -> app -> archive; ' +
        'destinations[2].fallback: fallbacks form a cycle: audit -> app -> archive -> audit',
    ],
    ['unknown filter prefix', (r) => (r.destinations[0].filter = { 'query:status': ['x'] }), 'destinations[0].filter.query:status: expected "body:<dotted path>" or "header:<name>"'],
    ['empty filter path segment', (r) => (r.destinations[0].filter = { 'body:result..status': ['x'] }), 'destinations[0].filter.body:result..status: expected "body:<dotted path>" or "header:<name>"'],
    ['empty filter value list', (r) => (r.destinations[0].filter = { 'body:status': [] }), 'destinations[0].filter.body:status: an empty list matches nothing; omit the entry'],
    ['filter value that is an object', (r) => (r.destinations[0].filter = { 'body:status': [{ a: 1 }] }), 'destinations[0].filter.body:status[0]: expected a string, number or boolean, got a map'],
    ['perSecond 0', (r) => (r.destinations[0].rateLimit = { perSecond: 0 }), 'destinations[0].rateLimit.perSecond: expected a number > 0, got 0'],
    ['perSecond negative', (r) => (r.destinations[0].rateLimit = { perSecond: -5 }), 'destinations[0].rateLimit.perSecond: expected a number > 0, got -5'],
    ['unknown rateLimit key', (r) => (r.destinations[0].rateLimit = { perSecond: 5, perMinute: 5 }), 'destinations[0].rateLimit.perMinute: unknown key'],
    ['unknown ordering', (r) => (r.destinations[0].ordering = 'lifo'), 'destinations[0].ordering: expected one of "unordered", "fifo", got "lifo" (did you mean "fifo"?)'],
    ['unknown signing scheme', (r) => (r.destinations[0].signing = { scheme: 'jwt', secret: 'x' }), 'destinations[0].signing.scheme: expected one of "standard-webhooks", "cerebrium", "hmac-sha256", got "jwt"'],
    ['signing without a secret', (r) => (r.destinations[0].signing = { scheme: 'cerebrium' }), 'destinations[0].signing.secret: required (expected string)'],
    ['standard-webhooks signing secret not base64', (r) => (r.destinations[0].signing = { secret: 'plain' }), 'destinations[0].signing.secret: expected a Standard Webhooks secret: "whsec_" followed by base64, got a string of 5 characters (masked)'],
    ['signing header for another scheme', (r) => (r.destinations[0].signing = { scheme: 'cerebrium', secret: 'x', header: 'X-Sig' }), 'destinations[0].signing.header: scheme cerebrium sets its own headers; header is for hmac-sha256 only, got "X-Sig"'],
    [
      'signing and signingSecret together',
      (r) => ((r.destinations[0].signing = { scheme: 'cerebrium', secret: 'x' }), (r.destinations[0].signingSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')),
      'destinations[0].signingSecret: set signing or its shorthand signingSecret, not both, got a string of 38 characters (masked)',
    ],
  ];

  it.each(cases)('%s', (_name, change, message) => {
    const raw = baseConfig();
    change(raw);
    expect(configError(raw)).toBe(message);
  });
});
