import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { post, readAnswer, type PostResult } from '../support/post.js';
import { relayConfig, RESPONDING_CEREBRIUM_SOURCE, startRelay, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest, hmacSha256Request, standardWebhooksRequest, type SignedRequest } from '../support/signed-request.js';
import { startSink, type Sink } from '../support/sink.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const GH_SECRET = 'github-test-secret';
const MAX_BODY = 64 * 1024;

interface EventRow {
  id: string;
  source: string;
  dedupe_key: string;
  content_type: string;
  body: Buffer;
}

/** Reads the relay's database on a separate read-only connection (WAL lets it read while serve writes). */
function readDb<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}
const countEvents = (path: string) => readDb(path, (db) => db.prepare('SELECT count(*) FROM events').pluck().get() as number);
const countDeliveries = (path: string) => readDb(path, (db) => db.prepare('SELECT count(*) FROM deliveries').pluck().get() as number);
const eventById = (path: string, id: string) =>
  readDb(path, (db) => db.prepare('SELECT id, source, dedupe_key, content_type, body FROM events WHERE id = ?').get(id) as EventRow | undefined);

/** A POST written with node:http, so the test controls Content-Length vs chunked and sees exactly what the client can read. */
function rawPost(
  url: string,
  headers: Record<string, string>,
  chunks: Buffer[],
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(url, { method: 'POST', headers, agent: false }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    // Once the answer is in, a write error (the server closing after its 413) does not matter.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const writeNext = (index: number) => {
      if (index === chunks.length) {
        req.end();
        return;
      }
      if (req.destroyed) return;
      if (req.write(chunks[index]!)) writeNext(index + 1);
      else req.once('drain', () => writeNext(index + 1));
    };
    writeNext(0);
  });
}

async function get(url: string, method = 'GET'): Promise<PostResult & { headers: Record<string, unknown> }> {
  const response = await request(url, { method });
  return { ...(await readAnswer(response)), headers: response.headers };
}

function expectErrorBody(result: PostResult, code: string): void {
  expect(result.json).toEqual({ error: { code, message: expect.any(String) } });
  expect((result.json!.error as { message: string }).message.length).toBeGreaterThan(0);
}

/** A cerebrium body of exactly `size` bytes. */
function bodyOfSize(size: number, runId: string): Buffer {
  const head = `{"run_id":"${runId}","pad":"`;
  const tail = '"}';
  return Buffer.from(head + 'x'.repeat(size - head.length - tail.length) + tail);
}

describe('ingress: every row of the contract table against a real serve and SQLite file', () => {
  let dir: ReturnType<typeof tempDir>;
  let sink: Sink;
  let relay: RelayProcess;
  let dbPath: string;
  let cerebriumUrl: string;

  beforeAll(async () => {
    dir = tempDir();
    sink = await startSink();
    dbPath = join(dir.path, 'hookrelay.db');
    const config = relayConfig(dir.path, {
      server: { host: '127.0.0.1', port: 0, maxBodyBytes: MAX_BODY },
      sources: [
        { name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: [TEST_SECRET] } },
        { name: 'sw', path: '/webhooks/sw', verify: { scheme: 'standard-webhooks', secrets: [SW_SECRET] } },
        { name: 'github', path: '/webhooks/github', verify: { scheme: 'hmac-sha256', secrets: [GH_SECRET], header: 'X-Hub-Signature-256' } },
      ],
      destinations: [{ name: 'app', url: sink.url, sources: ['cerebrium', 'github'] }],
    });
    relay = await startRelay(writeConfig(dir.path, config));
    cerebriumUrl = `${relay.url}/webhooks/cerebrium`;
  });

  afterAll(async () => {
    await relay?.stop();
    await sink?.close();
    dir?.cleanup();
  });

  it('202 {id, duplicate:false} for a new callback; the event and its delivery are in the database', async () => {
    const body = JSON.stringify({ run_id: 'run-new', result: { pages: 3 } });
    const result = await post(cerebriumUrl, cerebriumRequest({ secret: TEST_SECRET, body }));
    expect(result.status).toBe(202);
    expect(result.json).toEqual({ id: expect.any(String), duplicate: false });
    const id = result.json!.id as string;
    const row = eventById(dbPath, id)!;
    expect(row).toMatchObject({ source: 'cerebrium', dedupe_key: 'run-new', content_type: 'application/json' });
    expect(row.body.toString()).toBe(body);
    const deliveries = readDb(dbPath, (db) => db.prepare('SELECT destination, status FROM deliveries WHERE event_id = ?').all(id));
    expect(deliveries).toEqual([{ destination: 'app', status: expect.stringMatching(/^(pending|in_flight|delivered)$/) }]);
  });

  it('200 {id: first id, duplicate:true} for the same run_id, with no new event or delivery', async () => {
    const body = JSON.stringify({ run_id: 'run-dup', n: 1 });
    const first = await post(cerebriumUrl, cerebriumRequest({ secret: TEST_SECRET, body, requestId: 'req-a' }));
    expect(first.status).toBe(202);
    const events = countEvents(dbPath);
    const deliveries = countDeliveries(dbPath);
    // A retry from the producer: another request id and timestamp, same run_id.
    const again = await post(cerebriumUrl, cerebriumRequest({ secret: TEST_SECRET, body, requestId: 'req-b', timestamp: Math.floor(Date.now() / 1000) - 5 }));
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ id: first.json!.id, duplicate: true });
    expect(countEvents(dbPath)).toBe(events);
    expect(countDeliveries(dbPath)).toBe(deliveries);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const unauthorized: [string, () => SignedRequest, string][] = [
    [
      'signature header missing',
      () => {
        const signed = cerebriumRequest({ secret: TEST_SECRET, body: '{"run_id":"r401-a"}' });
        delete signed.headers['x-cerebrium-webhook-signature'];
        return signed;
      },
      'HOOKRELAY_SIGNATURE_MISSING',
    ],
    [
      'signature malformed',
      () => {
        const signed = cerebriumRequest({ secret: TEST_SECRET, body: '{"run_id":"r401-b"}' });
        signed.headers['x-cerebrium-webhook-signature'] = 'not-a-signature';
        return signed;
      },
      'HOOKRELAY_SIGNATURE_MALFORMED',
    ],
    ['wrong secret', () => cerebriumRequest({ secret: 'wrong-secret', body: '{"run_id":"r401-c"}' }), 'HOOKRELAY_SIGNATURE_INVALID'],
    [
      'body changed after signing',
      () => {
        const signed = cerebriumRequest({ secret: TEST_SECRET, body: '{"run_id":"r401-d"}' });
        return { headers: signed.headers, body: Buffer.from('{"run_id":"r401-D"}') };
      },
      'HOOKRELAY_SIGNATURE_INVALID',
    ],
    ['timestamp too old', () => cerebriumRequest({ secret: TEST_SECRET, body: '{"run_id":"r401-e"}', timestamp: now() - 600 }), 'HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW'],
    ['timestamp in the future', () => cerebriumRequest({ secret: TEST_SECRET, body: '{"run_id":"r401-f"}', timestamp: now() + 600 }), 'HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW'],
  ];

  it.each(unauthorized)('401 when the %s, with an error body and nothing stored', async (_name, build, code) => {
    const before = countEvents(dbPath);
    const result = await post(cerebriumUrl, build());
    expect(result.status).toBe(401);
    expectErrorBody(result, code);
    expect(countEvents(dbPath)).toBe(before);
  });

  it('401 for the other schemes too, nothing stored', async () => {
    const before = countEvents(dbPath);
    const sw = standardWebhooksRequest({ secret: 'whsec_' + Buffer.alloc(24, 9).toString('base64'), body: '{"x":1}' });
    const swResult = await post(`${relay.url}/webhooks/sw`, sw);
    expect(swResult.status).toBe(401);
    expectErrorBody(swResult, 'HOOKRELAY_SIGNATURE_INVALID');
    const gh = hmacSha256Request({ secret: GH_SECRET, body: '{"x":1}' }); // signed into the default header, not the configured one
    const ghResult = await post(`${relay.url}/webhooks/github`, gh);
    expect(ghResult.status).toBe(401);
    expectErrorBody(ghResult, 'HOOKRELAY_SIGNATURE_MISSING');
    expect(countEvents(dbPath)).toBe(before);
  });

  // A client that writes its whole body before reading (node:http here, like most) must get the
  // 413, not a reset: repeated, since an answer sent too early is lost only some of the time.
  it.each([
    ['one byte over, with Content-Length', MAX_BODY + 1, 'content-length'],
    ['32 times over, with Content-Length', MAX_BODY * 32, 'content-length'],
    ['8 times over, chunked', MAX_BODY * 8, 'chunked'],
  ])('413 readable by the client for a body %s; nothing stored', async (_name, size, framing) => {
    const before = countEvents(dbPath);
    for (let round = 0; round < 8; round++) {
      const signed = cerebriumRequest({ secret: TEST_SECRET, body: bodyOfSize(size, `r413-${size}-${round}`) });
      const chunks: Buffer[] = [];
      for (let offset = 0; offset < signed.body.length; offset += 16 * 1024) chunks.push(signed.body.subarray(offset, offset + 16 * 1024));
      const framingHeader: Record<string, string> = framing === 'chunked' ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(signed.body.length) };
      const result = await rawPost(cerebriumUrl, { ...signed.headers, ...framingHeader }, chunks);
      expect(result.status).toBe(413);
      expect(JSON.parse(result.text)).toEqual({ error: { code: 'HOOKRELAY_BODY_TOO_LARGE', message: expect.any(String) } });
    }
    expect(countEvents(dbPath)).toBe(before);
    // the relay still serves after refusing
    expect((await get(`${relay.url}/healthz`)).status).toBe(200);
  });

  /** Sends headers with `Expect: 100-continue` and waits for the interim or final answer before sending any body. */
  function expectContinue(headers: Record<string, string>, body: Buffer): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const socket = connect(relay.port, '127.0.0.1');
      let received = '';
      let bodySent = false;
      socket.on('error', reject);
      socket.on('data', (data) => {
        received += data.toString();
        if (!bodySent && received.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
          bodySent = true;
          socket.write(body);
        }
        const final = received.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
        const headEnd = final.indexOf('\r\n\r\n');
        const length = /\r\ncontent-length: (\d+)/i.exec(final);
        if (headEnd >= 0 && length && Buffer.byteLength(final.slice(headEnd + 4)) >= Number(length[1])) {
          socket.destroy();
          resolve(received.split('\r\n').filter((line) => line.startsWith('HTTP/1.1')));
        }
      });
      socket.on('close', () => resolve(received.split('\r\n').filter((line) => line.startsWith('HTTP/1.1'))));
      const head = Object.entries({ ...headers, host: '127.0.0.1', expect: '100-continue' })
        .map(([name, value]) => `${name}: ${value}`)
        .join('\r\n');
      socket.write(`POST /webhooks/cerebrium HTTP/1.1\r\n${head}\r\n\r\n`);
    });
  }

  it('Expect: 100-continue: a declared body over the limit gets 413 before it is sent; one within it gets 100 then 202', async () => {
    const before = countEvents(dbPath);
    const huge = cerebriumRequest({ secret: TEST_SECRET, body: '{"run_id":"r413-expect"}' });
    const refused = await expectContinue({ ...huge.headers, 'content-length': String(MAX_BODY * 1000) }, Buffer.alloc(0));
    expect(refused).toEqual(['HTTP/1.1 413 Payload Too Large']);
    expect(countEvents(dbPath)).toBe(before);
    const small = cerebriumRequest({ secret: TEST_SECRET, body: '{"run_id":"r-expect-ok"}' });
    const accepted = await expectContinue({ ...small.headers, 'content-length': String(small.body.length) }, small.body);
    expect(accepted).toEqual(['HTTP/1.1 100 Continue', 'HTTP/1.1 202 Accepted']);
    expect(countEvents(dbPath)).toBe(before + 1);
  });

  it('a body of exactly maxBodyBytes is accepted, byte-exact', async () => {
    const signed = cerebriumRequest({ secret: TEST_SECRET, body: bodyOfSize(MAX_BODY, 'r-at-limit') });
    const result = await rawPost(cerebriumUrl, { ...signed.headers, 'transfer-encoding': 'chunked' }, [
      signed.body.subarray(0, 1000),
      signed.body.subarray(1000),
    ]);
    expect(result.status).toBe(202);
    const row = eventById(dbPath, (JSON.parse(result.text) as { id: string }).id)!;
    expect(row.body.equals(signed.body)).toBe(true);
  });

  it.each([
    ['POST', '/webhooks/unknown'],
    ['GET', '/'],
    ['GET', '/webhooks'],
    ['POST', '/webhooks/cerebrium/extra'],
  ])('404 for %s %s', async (method, path) => {
    const before = countEvents(dbPath);
    const result = await get(`${relay.url}${path}`, method);
    expect(result.status).toBe(404);
    expectErrorBody(result, 'HOOKRELAY_NOT_FOUND');
    expect(countEvents(dbPath)).toBe(before);
  });

  it.each(['GET', 'PUT', 'DELETE', 'PATCH'])('405 for %s on a source path, with Allow: POST', async (method) => {
    const result = await get(cerebriumUrl, method);
    expect(result.status).toBe(405);
    expect(result.headers.allow).toBe('POST');
    expectErrorBody(result, 'HOOKRELAY_METHOD_NOT_ALLOWED');
  });

  it('/healthz and /readyz answer 200', async () => {
    expect((await get(`${relay.url}/healthz`)).status).toBe(200);
    expect((await get(`${relay.url}/readyz`)).status).toBe(200);
  });

  it('50 concurrent identical callbacks: exactly one 202, 49 times 200 with the same id, one event stored', async () => {
    const signed = cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: 'run-concurrent', v: 1 }) });
    const agent = new Agent({ connections: 50, pipelining: 0 });
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const response = await request(cerebriumUrl, { method: 'POST', headers: signed.headers, body: signed.body, dispatcher: agent });
          return { status: response.statusCode, json: (await response.body.json()) as { id: string; duplicate: boolean } };
        }),
      );
      const accepted = results.filter((result) => result.status === 202);
      const duplicates = results.filter((result) => result.status === 200);
      expect(accepted).toHaveLength(1);
      expect(duplicates).toHaveLength(49);
      expect(accepted[0]!.json.duplicate).toBe(false);
      const id = accepted[0]!.json.id;
      for (const duplicate of duplicates) expect(duplicate.json).toEqual({ id, duplicate: true });
      const rows = readDb(dbPath, (db) => db.prepare("SELECT id FROM events WHERE dedupe_key = 'run-concurrent'").pluck().all());
      expect(rows).toEqual([id]);
      expect(readDb(dbPath, (db) => db.prepare('SELECT count(*) FROM deliveries WHERE event_id = ?').pluck().get(id))).toBe(1);
    } finally {
      await agent.close();
    }
  });

  it('standard-webhooks source: 202, then 200 duplicate on the same webhook-id', async () => {
    const first = await post(`${relay.url}/webhooks/sw`, standardWebhooksRequest({ secret: SW_SECRET, body: '{"a":1}', id: 'msg_e2e_1' }));
    expect(first.status).toBe(202);
    expect(eventById(dbPath, first.json!.id as string)).toMatchObject({ source: 'sw', dedupe_key: 'msg_e2e_1' });
    const again = await post(`${relay.url}/webhooks/sw`, standardWebhooksRequest({ secret: SW_SECRET, body: '{"a":2}', id: 'msg_e2e_1' }));
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ id: first.json!.id, duplicate: true });
  });

  it('hmac-sha256 source: 202 and delivered; the same body again is a duplicate (sha256 of the body)', async () => {
    const body = JSON.stringify({ action: 'opened', number: 7 });
    const signed = hmacSha256Request({ secret: GH_SECRET, body, header: 'X-Hub-Signature-256' });
    const first = await post(`${relay.url}/webhooks/github`, signed);
    expect(first.status).toBe(202);
    expect(eventById(dbPath, first.json!.id as string)!.dedupe_key).toMatch(/^sha256:[0-9a-f]{64}$/);
    const again = await post(`${relay.url}/webhooks/github`, signed);
    expect(again).toMatchObject({ status: 200, json: { id: first.json!.id, duplicate: true } });
    const delivered = await waitFor(() => sink.received.find((entry) => entry.headers['webhook-id'] === first.json!.id), {
      timeoutMs: 20_000,
      what: 'the github event at the sink',
    });
    expect(delivered.body.toString()).toBe(body);
    expect(delivered.headers['hookrelay-source']).toBe('github');
  });

  it('no Content-Type: stored and delivered as application/octet-stream', async () => {
    const signed = cerebriumRequest({ secret: TEST_SECRET, body: '{"run_id":"run-no-ctype"}' });
    delete signed.headers['content-type'];
    const result = await rawPost(cerebriumUrl, { ...signed.headers, 'content-length': String(signed.body.length) }, [signed.body]);
    expect(result.status).toBe(202);
    const id = (JSON.parse(result.text) as { id: string }).id;
    expect(eventById(dbPath, id)!.content_type).toBe('application/octet-stream');
    const delivered = await waitFor(() => sink.received.find((entry) => entry.headers['webhook-id'] === id), {
      timeoutMs: 20_000,
      what: 'the delivery of the event without content type',
    });
    expect(delivered.headers['content-type']).toBe('application/octet-stream');
    expect(delivered.body.toString()).toBe('{"run_id":"run-no-ctype"}');
  });

  it('a received Content-Type is kept and delivered as is', async () => {
    const signed = cerebriumRequest({ secret: TEST_SECRET, body: 'run_id=form-1', contentType: 'application/x-www-form-urlencoded; charset=utf-8' });
    const result = await post(cerebriumUrl, signed);
    expect(result.status).toBe(202);
    const id = result.json!.id as string;
    expect(eventById(dbPath, id)!.content_type).toBe('application/x-www-form-urlencoded; charset=utf-8');
    const delivered = await waitFor(() => sink.received.find((entry) => entry.headers['webhook-id'] === id), { timeoutMs: 20_000, what: 'the form delivery' });
    expect(delivered.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
  });
});

describe('ingress: 503 when storage cannot commit', () => {
  it('answers 503 (never 2xx) while another connection holds the write lock beyond busyTimeoutMs; /readyz 503 then 200', async ({ cleanup, tempDir, startRelay }) => {
    const dir = tempDir();
    const dbPath = join(dir, 'hookrelay.db');
    const config = relayConfig(dir, { storage: { sqlite: { path: dbPath, busyTimeoutMs: 300 } }, sources: [RESPONDING_CEREBRIUM_SOURCE] });
    const relay = await startRelay(writeConfig(dir, config));
    const url = `${relay.url}/webhooks/cerebrium`;

    const warmup = await post(url, cerebriumRequest({ secret: TEST_SECRET, body: '{"run_id":"run-before-lock"}' }));
    expect(warmup.status).toBe(202);

    const locker = new Database(dbPath);
    cleanup.add(() => locker.open && locker.close());
    locker.exec('BEGIN EXCLUSIVE');
    let locked = true;
    cleanup.add(() => {
      if (locked) locker.exec('ROLLBACK');
    });

    const signed = cerebriumRequest({ secret: TEST_SECRET, body: '{"run_id":"run-during-lock"}' });
    const started = Date.now();
    const during = await Promise.all(Array.from({ length: 5 }, () => post(url, signed)));
    for (const result of during) {
      expect(result.status).toBe(503);
      expectErrorBody(result, 'HOOKRELAY_STORAGE_UNAVAILABLE');
    }
    // "well before 30 s": a generous bound that still catches a commit waiting forever
    expect(Date.now() - started).toBeLessThan(20_000);
    // One log line for the outage, with the count, not one per failed callback (it may reach
    // the pipe after the answers).
    await waitFor(() => relay.lines.some((line) => line.includes('"msg":"storage unavailable: answering 503"')), { what: 'the outage log line' });
    const logged = relay.lines.map((line) => JSON.parse(line) as { msg?: string });
    const outageLines = logged.filter((line) => line.msg === 'storage unavailable: answering 503');
    expect(outageLines).toHaveLength(1);
    expect(outageLines[0]).toMatchObject({ level: 50, requests: 1, err: { code: 'HOOKRELAY_STORAGE_UNAVAILABLE' } });
    expect(logged.filter((line) => line.msg === 'request failed')).toHaveLength(0);
    expect((await get(`${relay.url}/readyz`)).status).toBe(503);
    expect((await get(`${relay.url}/healthz`)).status).toBe(200);

    locker.exec('ROLLBACK');
    locked = false;
    await waitFor(async () => (await get(`${relay.url}/readyz`)).status === 200, { timeoutMs: 15_000, what: '/readyz to recover' });
    // Not stored before: the same callback is new now (a stored one would answer 200 duplicate).
    const after = await post(url, signed);
    expect(after.status).toBe(202);
    expect(after.json).toMatchObject({ duplicate: false });
    expect(countEvents(dbPath)).toBe(2);
    locker.close();
    expect(await relay.stop()).toBe(0);
  });
});

describe('ingress: a slow client cannot hold the server', () => {
  /** Opens a raw connection that trickles `opening` then one byte of `trickle` every 200 ms; resolves with what the server answered and when it closed. */
  function trickle(port: number, opening: string, trickleText: string): Promise<{ firstLine: string; closedAfterMs: number }> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const socket = connect(port, '127.0.0.1');
      let received = '';
      const timer = setInterval(() => socket.writable && socket.write(trickleText), 200);
      socket.on('data', (data) => (received += data.toString()));
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ firstLine: received.split('\r\n')[0] ?? '', closedAfterMs: Date.now() - started });
      });
      socket.write(opening);
      setTimeout(() => {
        clearInterval(timer);
        socket.destroy();
        reject(new Error('the server kept the slow connection open for 20 s'));
      }, 20_000);
    });
  }

  it('headers that never finish and a body that never finishes are cut near their deadlines with 408', async ({ tempDir, startRelay }) => {
    const dir = tempDir();
    const config = relayConfig(dir, { server: { host: '127.0.0.1', port: 0, headersTimeoutMs: 1000, requestTimeoutMs: 2000 } });
    const relay = await startRelay(writeConfig(dir, config));
    const [slowHeaders, slowBody] = await Promise.all([
      trickle(relay.port, 'POST /webhooks/cerebrium HTTP/1.1\r\nHost: x\r\n', 'X'),
      trickle(relay.port, 'POST /webhooks/cerebrium HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n', 'x'),
    ]);
    expect(slowHeaders.firstLine).toBe('HTTP/1.1 408 Request Timeout');
    expect(slowBody.firstLine).toBe('HTTP/1.1 408 Request Timeout');
    // generous bounds (a loaded machine), far below Node's default 30 s sweep
    expect(slowHeaders.closedAfterMs).toBeLessThan(10_000);
    expect(slowBody.closedAfterMs).toBeLessThan(10_000);
    expect((await get(`${relay.url}/healthz`)).status).toBe(200);
  });
});
