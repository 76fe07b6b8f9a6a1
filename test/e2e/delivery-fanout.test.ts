import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { type Sink } from '../support/sink.js';
import { waitFor } from '../support/wait.js';
import { countById, postEvents, stats, workspace } from '../support/delivery.js';

describe('delivery: fan-out to every destination', () => {
  it('3 destinations x 200 events: all byte-identical, with the contract headers, signed when configured', async ({ cleanup, startRelay, startSink }) => {
    const sinks: Sink[] = [];
    for (let i = 0; i < 3; i += 1) {
      const sink = await startSink();
      sinks.push(sink);
    }
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const ws = workspace(cleanup, {
      destinations: [
        { name: 'signed', url: sinks[0]!.url, signingSecret: secret, headers: { Authorization: 'Bearer app-token', 'X-Team': 'alpha' } },
        { name: 'plain', url: `${sinks[1]!.url}?tenant=7`, headers: { 'X-Team': 'beta' } },
        { name: 'third', url: sinks[2]!.url },
      ],
    });
    const relayProcess = await startRelay(ws.configPath);

    const events = await postEvents(relayProcess.url, 200, { contentType: 'application/json; charset=utf-8' });
    const byId = new Map(events.map((event) => [event.id, event]));
    expect(byId.size).toBe(200);

    for (const sink of sinks) await waitFor(() => sink.received.length >= 200, { timeoutMs: 30_000, what: 'all 200 at every sink' });
    const final = await waitFor(async () => {
      const current = await stats(ws.configPath);
      return current.deliveries.delivered === 600 ? current : null;
    }, { timeoutMs: 15_000, what: 'stats to show 600 delivered' });
    expect(final.deliveries).toEqual({ pending: 0, inFlight: 0, delivered: 600, dead: 0 });

    const verifier = new Webhook(secret);
    for (const [index, sink] of sinks.entries()) {
      expect(sink.received).toHaveLength(200);
      const counts = countById(sink.received);
      expect(counts.size).toBe(200);
      expect([...counts.values()].every((count) => count === 1)).toBe(true);
      for (const request of sink.received) {
        const event = byId.get(String(request.headers['webhook-id']));
        expect(event, 'webhook-id is the id the 202 returned').toBeDefined();
        expect(request.method).toBe('POST');
        expect(request.body.equals(event!.body)).toBe(true);
        expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(request.headers['hookrelay-attempt']).toBe('1');
        expect(request.headers['hookrelay-source']).toBe('cerebrium');
        expect(Number(request.headers['webhook-timestamp'])).toBeGreaterThan(Date.now() / 1000 - 120);
        // The producer's own signature headers stay at the relay.
        expect(request.headers['x-cerebrium-webhook-signature']).toBeUndefined();
        expect(request.headers['x-cerebrium-webhook-timestamp']).toBeUndefined();
        expect(request.headers['x-request-id']).toBeUndefined();
        if (index === 0) {
          expect(request.path).toBe('/hooks');
          expect(request.headers.authorization).toBe('Bearer app-token');
          expect(request.headers['x-team']).toBe('alpha');
          const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
          expect(() => verifier.verify(request.body, headers)).not.toThrow();
          // A signature over other bytes does not verify (the check above can fail).
          expect(() => verifier.verify(Buffer.concat([request.body, Buffer.from(' ')]), headers)).toThrow();
        } else {
          expect(request.headers['webhook-signature']).toBeUndefined();
          expect(request.headers.authorization).toBeUndefined();
        }
        if (index === 1) {
          expect(request.path).toBe('/hooks?tenant=7');
          expect(request.headers['x-team']).toBe('beta');
        }
      }
    }
  });

  it('a callback without Content-Type is delivered as application/octet-stream', async ({ cleanup, startRelay, startSink }) => {
    const sink = await startSink();
    const ws = workspace(cleanup, { destinations: [{ name: 'app', url: sink.url }] });
    const relayProcess = await startRelay(ws.configPath);
    const [withType] = await postEvents(relayProcess.url, 1, { prefix: 'typed', contentType: 'text/plain' });
    const [withoutType] = await postEvents(relayProcess.url, 1, { prefix: 'untyped', contentType: null });
    await waitFor(() => sink.received.length >= 2, { timeoutMs: 15_000, what: 'both deliveries' });
    const received = new Map(sink.received.map((request) => [request.headers['webhook-id'], request]));
    expect(received.get(withType!.id)!.headers['content-type']).toBe('text/plain');
    expect(received.get(withoutType!.id)!.headers['content-type']).toBe('application/octet-stream');
    expect(received.get(withoutType!.id)!.body.equals(withoutType!.body)).toBe(true);
  });
});
