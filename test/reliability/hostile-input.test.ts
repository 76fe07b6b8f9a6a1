import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayConfig, startRelay, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest, type SignedRequest } from '../support/signed-request.js';
import { tempDir } from '../support/temp.js';
import { sleep, waitFor } from '../support/wait.js';
import { inspectDatabase, openReadOnly } from '../support/database.js';
import { LONG, reportFigures } from '../support/figures.js';
import { callOnce } from '../support/http-call.js';
import { rawConversation, rawExchange, rawRequest } from '../support/raw-http.js';
import { runCli } from '../support/cli.mjs';

/**
 * Hostile input on the public listener of a real relay. Invariants: the server never
 * crashes, never answers 5xx (or 2xx) to bad input, never stores an unverified event, and
 * keeps serving valid callbacks meanwhile (a background sender runs through every test).
 */
const RUNS = LONG ? 3_000 : 150;
const MAX_BODY_BYTES = 64 * 1024;
const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 3_000;
const PATH = '/webhooks/cerebrium';

type Header = [string, string];

describe('hostile input: no crash, no 5xx, nothing unverified stored, valid traffic keeps flowing', () => {
  let dir: ReturnType<typeof tempDir>;
  let relay: RelayProcess;
  let dbPath: string;
  /** Valid callbacks answered 202 (background sender and valid-by-construction cases). */
  let validAccepted = 0;
  const backgroundStatuses = new Map<string, number>();
  let backgroundRunning = true;
  let background: Promise<void>;

  let backgroundPaused = false;
  let backgroundInFlight = 0;
  const storedCount = () => {
    const db = openReadOnly(dbPath);
    try {
      return db.prepare('SELECT count(*) FROM events').pluck().get() as number;
    } finally {
      db.close();
    }
  };
  /**
   * Stored events that are not valid callbacks acknowledged so far. Measured with the
   * background sender paused and settled: a valid callback committed but not yet answered
   * would otherwise count as an unverified one.
   */
  /**
   * Commits are made in arrival order: once a valid callback sent after the hostile ones is
   * acknowledged, anything the hostile ones had written would be committed too.
   */
  const afterALaterCommit = async () => {
    const mark = validAccepted;
    await waitFor(() => validAccepted > mark, { timeoutMs: 20_000, what: 'a later valid callback acknowledged' });
  };
  const unverifiedStored = async () => {
    backgroundPaused = true;
    try {
      await waitFor(() => backgroundInFlight === 0, { timeoutMs: 20_000, what: 'the background sender to settle' });
      return storedCount() - validAccepted;
    } finally {
      backgroundPaused = false;
    }
  };

  beforeAll(async () => {
    dir = tempDir('hookrelay-hostile-');
    dbPath = join(dir.path, 'hookrelay.db');
    const config = relayConfig(dir.path, {
      server: { host: '127.0.0.1', port: 0, maxBodyBytes: MAX_BODY_BYTES, headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS },
    });
    relay = await startRelay(writeConfig(dir.path, config));
    let counter = 0;
    background = (async () => {
      while (backgroundRunning) {
        if (backgroundPaused) {
          await sleep(10);
          continue;
        }
        const signed = cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: `valid-${++counter}` }) });
        backgroundInFlight++;
        const result = await callOnce(`${relay.url}${PATH}`, signed.headers, signed.body, 10_000).finally(() => backgroundInFlight--);
        const key = result.kind === 'response' ? String(result.status) : result.kind;
        backgroundStatuses.set(key, (backgroundStatuses.get(key) ?? 0) + 1);
        if (result.kind === 'response' && result.status === 202) validAccepted++;
        await sleep(50);
      }
    })();
  });

  afterAll(async () => {
    backgroundRunning = false;
    await background;
    const exitCode = relay.child.exitCode;
    const stopped = await relay.stop();
    const report = inspectDatabase(dbPath, 0);
    reportFigures('hostile-input', {
      propertyRuns: RUNS,
      validAccepted,
      storedEvents: report.events,
      background: Object.fromEntries(backgroundStatuses),
      integrity: report.integrity,
    });
    dir.cleanup();
    // The relay survived everything and shut down cleanly; every stored event is a valid one.
    expect(exitCode).toBeNull();
    expect(stopped).toBe(0);
    expect(report.events).toBe(validAccepted);
    expect([...backgroundStatuses.keys()]).toEqual(['202']);
  });

  /** A valid signed callback as header pairs (order kept), with a unique run_id. */
  const valid = (tag: string, body?: Buffer): { signed: SignedRequest; headers: Header[] } => {
    const signed = cerebriumRequest({ secret: TEST_SECRET, body: body ?? JSON.stringify({ run_id: `${tag}-${Math.random().toString(36).slice(2)}` }) });
    return { signed, headers: Object.entries(signed.headers) };
  };
  const replace = (headers: Header[], name: string, value: string | null): Header[] => {
    const rest = headers.filter(([key]) => key !== name);
    return value === null ? rest : [...rest, [name, value]];
  };
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const SIG = 'x-cerebrium-webhook-signature';
  const TS = 'x-cerebrium-webhook-timestamp';

  /** Ways to spoil one valid request; none of the results may be stored. */
  const mutation: fc.Arbitrary<{ what: string; apply: (headers: Header[], body: Buffer) => { headers: Header[]; body: Buffer } }> = fc.oneof(
    fc.constantFrom(SIG, TS, 'x-request-id').map((name) => ({ what: `missing ${name}`, apply: (h: Header[], b: Buffer) => ({ headers: replace(h, name, null), body: b }) })),
    fc.string({ maxLength: 200 }).map((value) => ({ what: 'garbage signature', apply: (h: Header[], b: Buffer) => ({ headers: replace(h, SIG, value.replace(/[\r\n\0]/g, ' ')), body: b }) })),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => ({ what: 'wrong digest', apply: (h: Header[], b: Buffer) => ({ headers: replace(h, SIG, `v1,${Buffer.from(bytes).toString('hex')}`), body: b }) })),
    fc.constantFrom('v0', 'v2', 'V1', 'sha256', '').map((version) => ({
      what: `version ${version}`,
      apply: (h: Header[], b: Buffer) => ({ headers: replace(h, SIG, h.find(([k]) => k === SIG)![1].replace(/^v1/, version)), body: b }),
    })),
    fc.tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 })).map(([a, b]) => ({
      what: 'duplicated signature header, both wrong',
      apply: (h: Header[], body: Buffer) => ({
        headers: [...replace(h, SIG, null), [SIG, `v1,${Buffer.from(a).toString('hex')}`] as Header, [SIG, `v1,${Buffer.from(b).toString('hex')}`] as Header],
        body,
      }),
    })),
    fc.integer({ min: 8_000, max: 20_000 }).map((length) => ({
      what: `oversized signature (${length})`,
      apply: (h: Header[], b: Buffer) => ({ headers: replace(h, SIG, `v1,${'ab'.repeat(length / 2)}`), body: b }),
    })),
    fc.oneof(
      fc.integer({ min: 301, max: 10 ** 9 }).map((s) => String(nowSeconds() - s)),
      fc.integer({ min: 301, max: 10 ** 9 }).map((s) => String(nowSeconds() + s)),
      fc.constantFrom('-1', '1e9', '0x10', '99999999999999999999', '', ' ', 'NaN', '１７００'),
    ).map((timestamp) => ({ what: `timestamp ${timestamp}`, apply: (h: Header[], b: Buffer) => ({ headers: replace(h, TS, timestamp), body: b }) })),
    fc.nat().map((seed) => ({
      what: 'body byte flipped',
      apply: (h: Header[], b: Buffer) => {
        const body = Buffer.from(b);
        body[seed % body.length] = body[seed % body.length]! ^ 0x01;
        return { headers: h, body };
      },
    })),
    fc.uint8Array({ minLength: 1, maxLength: 4096 }).map((bytes) => ({ what: 'non-UTF-8 body, signature of another', apply: (h: Header[]) => ({ headers: h, body: Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(bytes)]) }) })),
    fc.string({ minLength: 1, maxLength: 40 }).map((id) => ({ what: 'request id changed after signing', apply: (h: Header[], b: Buffer) => ({ headers: replace(h, 'x-request-id', `${id.replace(/[\r\n\0]/g, '')}x`), body: b }) })),
    fc.integer({ min: 50, max: 3_000 }).map((count) => ({
      what: `${count} extra headers`,
      apply: (h: Header[], b: Buffer) => ({ headers: [...replace(h, SIG, `v1,${'1'.repeat(64)}`), ...Array.from({ length: count }, (_, i): Header => [`x-extra-${i}`, 'y'])], body: b }),
    })),
  );

  it(`${RUNS} spoiled requests: each 4xx, never 2xx or 5xx, none stored`, { timeout: LONG ? 900_000 : 120_000 }, async () => {
    const before = await unverifiedStored();
    const seen = new Map<string, Set<number>>();
    await fc.assert(
      fc.asyncProperty(mutation, async ({ what, apply }) => {
        const { signed, headers } = valid('spoiled');
        const spoiled = apply(headers, signed.body);
        const outcome = await rawExchange(relay.port, rawRequest('POST', PATH, spoiled.headers, spoiled.body));
        const kind = what.replace(/\d+/g, 'N');
        if (!seen.has(kind)) seen.set(kind, new Set());
        seen.get(kind)!.add(outcome.status ?? 0);
        expect({ what, status: outcome.status }).toEqual({ what, status: expect.any(Number) });
        expect(outcome.status! >= 400 && outcome.status! < 500, `${what}: ${outcome.status}`).toBe(true);
      }),
      { numRuns: RUNS },
    );
    console.log('[hostile] statuses by mutation:', JSON.stringify(Object.fromEntries([...seen].map(([k, v]) => [k, [...v]]))));
    await afterALaterCommit();
    expect(await unverifiedStored()).toBe(before);
  });

  // A duplicated signature header that carries the valid signature is ambiguous, not forged:
  // rejecting it (401) and accepting it (202, the valid one matches) are both safe. What must
  // hold: no 5xx, and a 202 only when the valid signature is among the values.
  it('duplicated signature headers with the valid one among them: 202 or 401, never 5xx', { timeout: 60_000 }, async () => {
    const statuses: Record<string, number> = {};
    for (const order of ['valid+wrong', 'wrong+valid', 'valid+valid']) {
      const { headers, signed } = valid('dup');
      const good = headers.find(([k]) => k === SIG)![1];
      const bad = `v1,${'0'.repeat(64)}`;
      const [first, second] = order === 'valid+wrong' ? [good, bad] : order === 'wrong+valid' ? [bad, good] : [good, good];
      const outcome = await rawExchange(relay.port, rawRequest('POST', PATH, [...replace(headers, SIG, null), [SIG, first], [SIG, second]], signed.body));
      statuses[order] = outcome.status ?? 0;
      expect([202, 401]).toContain(outcome.status);
      if (outcome.status === 202) validAccepted++;
    }
    console.log('[hostile] duplicated signature headers:', JSON.stringify(statuses));
  });

  it('valid signatures over non-UTF-8 bodies are accepted and stored byte-exact', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), async (bytes) => {
        const body = Buffer.concat([Buffer.from([0xff, 0xc0, 0x80]), Buffer.from(bytes)]);
        const signed = cerebriumRequest({ secret: TEST_SECRET, body, contentType: 'application/octet-stream' });
        const result = await callOnce(`${relay.url}${PATH}`, signed.headers, signed.body, 10_000);
        expect(result).toMatchObject({ kind: 'response', status: 202 });
        validAccepted++;
        const id = (JSON.parse((result as { body: string }).body) as { id: string }).id;
        const db = openReadOnly(dbPath);
        try {
          expect(Buffer.compare(db.prepare('SELECT body FROM events WHERE id = ?').pluck().get(id) as Buffer, body)).toBe(0);
        } finally {
          db.close();
        }
      }),
      { numRuns: LONG ? 500 : 25 },
    );
  });

  it('chunked bodies that stop midway (client vanishes, or stalls) store nothing, even when the bytes so far are validly signed', { timeout: 60_000 }, async () => {
    const before = await unverifiedStored();
    const full = valid('chunked');
    const partialBody = full.signed.body.subarray(0, 8);
    // Signed over exactly the bytes that will arrive before the client stops.
    const signedPartial = cerebriumRequest({ secret: TEST_SECRET, body: partialBody });
    const chunked = (headers: Header[], first: Buffer) =>
      rawRequest('POST', PATH, [...headers.filter(([k]) => k !== 'content-length'), ['transfer-encoding', 'chunked']], Buffer.from(`${first.length.toString(16)}\r\n${first.toString('latin1')}\r\n`, 'latin1'));
    const vanished = await rawExchange(relay.port, chunked(Object.entries(signedPartial.headers), partialBody), { abortAfterWrite: true });
    expect(vanished.status).toBeNull();
    const started = Date.now();
    const stalled = await rawExchange(relay.port, chunked(full.headers, partialBody), { timeoutMs: REQUEST_TIMEOUT_MS + 20_000 });
    // Cut off by the request timeout: 408 (or closed), never a 2xx, never left open.
    expect(stalled.status === null || stalled.status === 408 || stalled.status === 400).toBe(true);
    expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS + 20_000);
    const badChunk = await rawExchange(relay.port, rawRequest('POST', PATH, [...full.headers.filter(([k]) => k !== 'content-length'), ['transfer-encoding', 'chunked']], Buffer.from('zz\r\nnot hex\r\n0\r\n\r\n')));
    expect(badChunk.status).toBe(400);
    await afterALaterCommit();
    expect(await unverifiedStored()).toBe(before);
  });

  it('bodies over maxBodyBytes: a readable 413 (declared or chunked), nothing stored', { timeout: 60_000 }, async () => {
    const before = await unverifiedStored();
    const big = Buffer.alloc(MAX_BODY_BYTES + 1, 0x61);
    const signed = cerebriumRequest({ secret: TEST_SECRET, body: big });
    const declared = await rawExchange(relay.port, rawRequest('POST', PATH, Object.entries(signed.headers), big));
    expect(declared.status).toBe(413);
    const chunkedBody = Buffer.concat([Buffer.from(`${big.length.toString(16)}\r\n`), big, Buffer.from('\r\n0\r\n\r\n')]);
    const chunked = await rawExchange(relay.port, rawRequest('POST', PATH, [...Object.entries(signed.headers), ['transfer-encoding', 'chunked']], chunkedBody));
    expect(chunked.status).toBe(413);
    await afterALaterCommit();
    expect(await unverifiedStored()).toBe(before);
  });

  it('slow clients dribbling headers are cut off by the headers timeout while valid traffic is served', { timeout: 90_000 }, async () => {
    const acceptedBefore = validAccepted;
    const head = Buffer.from(`POST ${PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-pad: ${'a'.repeat(4_000)}\r\n\r\n`);
    const started = Date.now();
    const slow = await Promise.all(Array.from({ length: 20 }, () => rawExchange(relay.port, head, { dribbleMs: 20, timeoutMs: 60_000 })));
    const elapsed = Date.now() - started;
    for (const outcome of slow) {
      expect(outcome.status === null || outcome.status === 408).toBe(true);
    }
    // Cut off long before the 80 s the full dribble would take.
    expect(elapsed).toBeLessThan(30_000);
    await waitFor(() => validAccepted > acceptedBefore + 5, { timeoutMs: 20_000, what: 'valid callbacks to keep being accepted' });
  });
});

describe('malformed HTTP: 400 and the connection closed, nothing stored whose 2xx was not written, shutdown not held up', () => {
  let dir: ReturnType<typeof tempDir>;
  let relay: RelayProcess;
  let configPath: string;
  /** 2xx answers the raw clients below actually read. */
  let received2xx = 0;

  beforeAll(async () => {
    dir = tempDir('hookrelay-malformed-');
    configPath = writeConfig(dir.path, relayConfig(dir.path, { server: { host: '127.0.0.1', port: 0, maxBodyBytes: MAX_BODY_BYTES } }));
    relay = await startRelay(configPath);
  });

  afterAll(async () => {
    await relay?.kill();
    dir?.cleanup();
  });

  const storedEvents = async () => {
    const result = await runCli(['stats', '--json', '--config', configPath]);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { events: number }).events;
  };
  /** A validly signed callback that keeps the connection open for the next pipelined request. */
  const good = (tag: string) => {
    const signed = cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: `${tag}-${Math.random().toString(36).slice(2)}` }) });
    return rawRequest('POST', PATH, Object.entries(signed.headers), signed.body, { keepAlive: true });
  };
  const signedHeaders = (tag: string) =>
    Object.entries(cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: tag }) }).headers).filter(([name]) => name !== 'content-length') as Header[];
  const badChunk = () => rawRequest('POST', PATH, [...signedHeaders('bad-chunk'), ['transfer-encoding', 'chunked']], Buffer.from('zz\r\nnot hex\r\n0\r\n\r\n'), { keepAlive: true });
  const lengthAndChunked = () =>
    rawRequest('POST', PATH, [...signedHeaders('cl-te'), ['content-length', '4'], ['transfer-encoding', 'chunked']], Buffer.from('4\r\nabcd\r\n0\r\n\r\n'), { keepAlive: true });
  const twoLengths = () => rawRequest('POST', PATH, [...signedHeaders('cl-cl'), ['content-length', '4'], ['content-length', '5']], Buffer.from('abcde'), { keepAlive: true });
  /** A chunked body that breaks after a first chunk that is, by itself, validly signed. */
  const brokenAfterSignedChunk = () => {
    const partial = Buffer.from('{"run_id":"x"}');
    const signed = cerebriumRequest({ secret: TEST_SECRET, body: partial });
    const headers = [...Object.entries(signed.headers), ['transfer-encoding', 'chunked']] as Header[];
    return rawRequest('POST', PATH, headers, Buffer.from(`${partial.length.toString(16)}\r\n${partial.toString('latin1')}\r\nzz\r\n`, 'latin1'), { keepAlive: true });
  };

  it.each([
    ['good, then two Content-Length values', () => [good('pipelined'), twoLengths()], [202, 400]],
    ['good, good, then a bad chunk', () => [good('pipelined'), good('pipelined'), badChunk()], [202, 202, 400]],
    ['good, then Content-Length with Transfer-Encoding', () => [good('pipelined'), lengthAndChunked()], [202, 400]],
    ['good, then a chunked body broken after a validly signed chunk', () => [good('pipelined'), brokenAfterSignedChunk()], [202, 400]],
    ['a bad chunk alone', () => [badChunk()], [400]],
    ['Content-Length with Transfer-Encoding alone', () => [lengthAndChunked()], [400]],
    ['two Content-Length values alone', () => [twoLengths()], [400]],
    ['a chunked body broken after a validly signed chunk alone', () => [brokenAfterSignedChunk()], [400]],
  ] as [string, () => Buffer[], number[]][])('%s: each answer in order, then closed; stored = 2xx read', async (_what, requests, expected) => {
    const before = await storedEvents();
    const conversation = await rawConversation(relay.port, Buffer.concat(requests()), { timeoutMs: 10_000 });
    expect(conversation.statuses, conversation.text).toEqual(expected);
    expect(conversation.closed).toBe(true);
    const accepted = conversation.statuses.filter((status) => status >= 200 && status < 300).length;
    received2xx += accepted;
    expect(await storedEvents()).toBe(before + accepted);
  });

  it('after those connections SIGTERM still exits promptly (0), long before the 10 s grace', { timeout: 30_000 }, async () => {
    // One more broken pipelined connection left for shutdown to find, its answers unread.
    const pending = rawConversation(relay.port, Buffer.concat([good('at-shutdown'), good('at-shutdown'), twoLengths()]), { timeoutMs: 10_000 });
    const settled = await pending;
    received2xx += settled.statuses.filter((status) => status === 202).length;
    relay.child.kill('SIGTERM');
    const code = await Promise.race([relay.exited, sleep(5_000).then(() => 'still running 5 s after SIGTERM')]);
    expect(code).toBe(0);
    expect(await storedEvents()).toBe(received2xx);
  });
});
