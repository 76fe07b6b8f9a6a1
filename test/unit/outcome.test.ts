import { describe, expect, it } from 'vitest';
import { classify, OUTCOME_POLICY, type SendResult, type Verdict } from '../../src/delivery/outcome.js';

const response = (status: number, retryAfterMs?: number): SendResult => ({
  kind: 'response',
  status,
  snippet: null,
  durationMs: 5,
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});
const error = (code: string): SendResult => ({ kind: 'error', code, message: code, durationMs: 5 });

const delivered: Verdict = { outcome: 'delivered', tripsBreaker: false, honoursRetryAfter: false };
const failedTrips = (honoursRetryAfter = false): Verdict => ({ outcome: 'failed', tripsBreaker: true, honoursRetryAfter });
const failedNoTrip: Verdict = { outcome: 'failed', tripsBreaker: false, honoursRetryAfter: false };

describe('outcome policy table', () => {
  const rows: { name: string; result: SendResult; verdict: Verdict }[] = [
    { name: '200', result: response(200), verdict: delivered },
    { name: '201', result: response(201), verdict: delivered },
    { name: '204', result: response(204), verdict: delivered },
    { name: '299', result: response(299), verdict: delivered },
    { name: '100 (informational as final status)', result: response(100), verdict: failedNoTrip },
    { name: '301 (redirects are not followed)', result: response(301), verdict: failedNoTrip },
    { name: '302', result: response(302), verdict: failedNoTrip },
    { name: '304', result: response(304), verdict: failedNoTrip },
    { name: '400 (receiver rejects: does not trip)', result: response(400), verdict: failedNoTrip },
    { name: '401', result: response(401), verdict: failedNoTrip },
    { name: '403', result: response(403), verdict: failedNoTrip },
    { name: '404', result: response(404), verdict: failedNoTrip },
    { name: '410', result: response(410), verdict: failedNoTrip },
    { name: '422', result: response(422), verdict: failedNoTrip },
    { name: '408 (a timeout the receiver reports: trips)', result: response(408), verdict: failedTrips() },
    { name: '429 (trips, Retry-After honoured)', result: response(429, 2_000), verdict: failedTrips(true) },
    { name: '500', result: response(500), verdict: failedTrips() },
    { name: '502', result: response(502), verdict: failedTrips() },
    { name: '503 (trips, Retry-After honoured)', result: response(503, 2_000), verdict: failedTrips(true) },
    { name: '504', result: response(504), verdict: failedTrips() },
    { name: '599', result: response(599), verdict: failedTrips() },
    { name: 'timeout', result: error('TIMEOUT'), verdict: failedTrips() },
    { name: 'ECONNREFUSED', result: error('ECONNREFUSED'), verdict: failedTrips() },
    { name: 'ECONNRESET', result: error('ECONNRESET'), verdict: failedTrips() },
    { name: 'ENOTFOUND (DNS)', result: error('ENOTFOUND'), verdict: failedTrips() },
    { name: 'EAI_AGAIN (DNS)', result: error('EAI_AGAIN'), verdict: failedTrips() },
    { name: 'UND_ERR_CONNECT_TIMEOUT', result: error('UND_ERR_CONNECT_TIMEOUT'), verdict: failedTrips() },
    { name: 'UND_ERR_SOCKET', result: error('UND_ERR_SOCKET'), verdict: failedTrips() },
  ];
  for (const row of rows) {
    it(`${row.name} -> ${row.verdict.outcome}${row.verdict.tripsBreaker ? ', trips the breaker' : ''}${row.verdict.honoursRetryAfter ? ', honours Retry-After' : ''}`, () => {
      expect(classify(row.result)).toEqual(row.verdict);
    });
  }

  it('Retry-After is honoured on 429 and 503 only', () => {
    const honouring = [];
    for (let status = 100; status < 600; status += 1) {
      if (classify(response(status, 1_000)).honoursRetryAfter) honouring.push(status);
    }
    expect(honouring).toEqual([429, 503]);
  });

  it('every status from 100 to 599 and every error has exactly one verdict; only 2xx is delivered', () => {
    for (let status = 100; status < 600; status += 1) {
      const verdict = classify(response(status));
      expect(verdict.outcome).toBe(status >= 200 && status < 300 ? 'delivered' : 'failed');
      const tripsExpected = status === 408 || status === 429 || status >= 500;
      expect(verdict.tripsBreaker, `status ${status}`).toBe(tripsExpected);
    }
    expect(classify(error('SOMETHING_NEW')).outcome).toBe('failed');
  });

  it('the table is the one place: each row has a description and a delivered verdict never trips the breaker', () => {
    for (const row of OUTCOME_POLICY) {
      expect(row.when.length).toBeGreaterThan(0);
      if (row.verdict.outcome === 'delivered') expect(row.verdict.tripsBreaker).toBe(false);
    }
  });
});
