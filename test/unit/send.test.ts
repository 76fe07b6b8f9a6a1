import { describe, expect } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { basicAuthorization, createSender, RESPONSE_READ_LIMIT_BYTES, RESPONSE_SNIPPET_BYTES, type Sender } from '../../src/delivery/send.js';
import type { ClaimedDelivery } from '../../src/glossary.js';
import { it, type HarnessFixtures } from '../support/fixtures.js';
import type { Sink, SinkBehaviour } from '../support/sink.js';

const delivery: ClaimedDelivery = {
  id: 'dlv_1',
  eventId: 'evt_1',
  destination: 'app',
  source: 'cerebrium',
  contentType: 'application/json',
  contentEncoding: null,
  body: Buffer.from('{"run_id":"r1"}'),
  attempts: 0,
  budgetUsed: 0,
  receivedAt: Date.now(),
};

describe('sender: the deadline covers the whole response, body included', () => {
  const setup = async ({ cleanup, startSink }: Pick<HarnessFixtures, 'cleanup' | 'startSink'>, behaviour: SinkBehaviour, destination: Record<string, unknown> = {}): Promise<{ sink: Sink; sender: Sender }> => {
    const sink = await startSink(behaviour);
    const config = resolveConfig({
      sources: [{ name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'none' } }],
      destinations: [{ name: 'app', url: sink.url, timeoutMs: 500, ...destination }],
    });
    const sender = createSender(config.destinations[0]!);
    cleanup.add(() => sender.close());
    return { sink, sender };
  };

  it('a 2xx whose body never finishes is a TIMEOUT, not a response', async ({ cleanup, startSink }) => {
    const { sender } = await setup({ cleanup, startSink }, (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('accepted, still writing');
      return 'handled';
    });
    const result = await sender.send(delivery, 1);
    expect(result).toMatchObject({ kind: 'error', code: 'TIMEOUT' });
  });

  it('a 2xx whose body breaks off before its end is a failed attempt', async ({ cleanup, startSink }) => {
    const { sender } = await setup({ cleanup, startSink }, (_request, response) => {
      response.writeHead(200, { 'content-length': '1000' });
      response.write('only part of it');
      setImmediate(() => response.destroy());
      return 'handled';
    });
    const result = await sender.send(delivery, 1);
    expect(result.kind).toBe('error');
  });

  it('a body that arrives in pieces within the deadline is read to its end; the first 1 KB is kept', async ({ cleanup, startSink }) => {
    const { sender } = await setup({ cleanup, startSink }, (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('a'.repeat(800));
      setTimeout(() => response.end('b'.repeat(800)), 50);
      return 'handled';
    });
    const result = await sender.send(delivery, 1);
    expect(result).toMatchObject({ kind: 'response', status: 200, snippet: `${'a'.repeat(800)}${'b'.repeat(RESPONSE_SNIPPET_BYTES - 800)}` });
  });

  it('a body longer than the read limit is cut off there and the status decides', async ({ cleanup, startSink }) => {
    const { sender } = await setup({ cleanup, startSink }, (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      // More than the limit, then never an end: reading stops at the limit, before the deadline.
      response.write('z'.repeat(RESPONSE_READ_LIMIT_BYTES + 64 * 1024));
      return 'handled';
    });
    const result = await sender.send(delivery, 1);
    expect(result).toMatchObject({ kind: 'response', status: 200, snippet: 'z'.repeat(RESPONSE_SNIPPET_BYTES) });
  });
});

describe('sender: credentials in the destination URL', () => {
  const sendTo = async ({ cleanup, startSink }: Pick<HarnessFixtures, 'cleanup' | 'startSink'>, userInfo: string, headers: Record<string, string> = {}) => {
    const sink = await startSink();
    const url = sink.url.replace('http://', `http://${userInfo}`);
    const config = resolveConfig({
      sources: [{ name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'none' } }],
      destinations: [{ name: 'app', url, headers }],
    });
    const sender = createSender(config.destinations[0]!);
    cleanup.add(() => sender.close());
    expect(await sender.send(delivery, 1)).toMatchObject({ kind: 'response', status: 200 });
    expect(sink.received).toHaveLength(1);
    return sink.received[0]!;
  };
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

  it('are sent as Basic auth, percent-decoded, and not in the request line', async ({ cleanup, startSink }) => {
    const received = await sendTo({ cleanup, startSink }, 'us%40er:p%C3%A4ss%3Aword@');
    expect(received.headers.authorization).toBe(basic('us@er', 'päss:word'));
    expect(received.path).toBe('/hooks');
  });

  it('a user without a password is sent with an empty password', async ({ cleanup, startSink }) => {
    expect((await sendTo({ cleanup, startSink }, 'relay@')).headers.authorization).toBe(basic('relay', ''));
  });

  it('an Authorization header configured on the destination wins, whatever its case', async ({ cleanup, startSink }) => {
    expect((await sendTo({ cleanup, startSink }, 'user:pw@', { authorization: 'Bearer configured' })).headers.authorization).toBe('Bearer configured');
    expect((await sendTo({ cleanup, startSink }, 'user:pw@', { AUTHORIZATION: 'Bearer upper' })).headers.authorization).toBe('Bearer upper');
  });

  it('no credentials, no Authorization header', async ({ cleanup, startSink }) => {
    expect((await sendTo({ cleanup, startSink }, '')).headers.authorization).toBeUndefined();
  });

  it.each([
    ['http://host/', null],
    ['http://a:b@host/', basic('a', 'b')],
    ['http://:secret@host/', basic('', 'secret')],
    ['http://%zz:p@host/', basic('%zz', 'p')],
  ])('basicAuthorization(%s)', (url, expected) => {
    expect(basicAuthorization(new URL(url))).toBe(expected);
  });
});
