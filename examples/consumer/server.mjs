// A webhook consumer for hookrelay deliveries signed with the Standard Webhooks scheme
// (destination `signingSecret: whsec_…`). It does the two things every consumer must:
//
// 1. Verify `webhook-signature` over the raw body (with the `standardwebhooks` package):
//    anything else is refused with 401 and never processed.
// 2. Process each `webhook-id` once. hookrelay delivers at least once — a retry after a lost
//    answer, a replay of a dead letter, an operator's redeliver all send the same webhook-id
//    again — so a repeat is answered 200 (the relay stops sending it) and not processed.
//
// The dedupe record lives in a SQLite file and is written in the SAME transaction as the
// work's own result: either both are committed or neither. An in-memory set would forget
// every id on restart (a redelivery after a deploy would be processed twice) and could not
// be committed together with the work. Ids older than DEDUPE_DAYS are pruned: keep it longer
// than you would ever replay dead letters.
//
// Run: WEBHOOK_SECRET=whsec_… PORT=3000 node server.mjs

import { createServer } from 'node:http';
import Database from 'better-sqlite3';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

const secret = process.env.WEBHOOK_SECRET;
if (!secret) {
  console.error('WEBHOOK_SECRET is not set (the destination\'s signingSecret, "whsec_…")');
  process.exit(2);
}
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const databasePath = process.env.CONSUMER_DB ?? 'consumer.db';
const dedupeDays = Number(process.env.DEDUPE_DAYS ?? 30);
/** Larger bodies are refused before they are read whole (hookrelay's own default limit is 100 MiB). */
const MAX_BODY_BYTES = Number(process.env.MAX_BODY_BYTES ?? 10 * 1024 * 1024);

const webhook = new Webhook(secret);
const db = new Database(databasePath);
db.pragma('journal_mode = WAL');
db.exec(`
  CREATE TABLE IF NOT EXISTS processed_webhooks (webhook_id TEXT PRIMARY KEY, received_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS results (webhook_id TEXT PRIMARY KEY, run_id TEXT, status TEXT, payload TEXT NOT NULL);
`);
const remember = db.prepare('INSERT INTO processed_webhooks (webhook_id, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING');
const saveResult = db.prepare('INSERT INTO results (webhook_id, run_id, status, payload) VALUES (?, ?, ?, ?)');
const prune = db.prepare('DELETE FROM processed_webhooks WHERE received_at < ?');

/** Your work goes here; it runs inside the transaction that records the webhook-id. */
function handle(webhookId, payload) {
  saveResult.run(webhookId, payload.run_id ?? null, payload.status ?? null, JSON.stringify(payload));
}

/** True when this webhook-id was new and its work is now committed; false for a repeat. */
const processOnce = db.transaction((webhookId, payload) => {
  if (remember.run(webhookId, Date.now()).changes === 0) return false;
  handle(webhookId, payload);
  return true;
});

function log(fields) {
  console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
}

function answer(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(Object.assign(new Error('body too large'), { status: 413 }));
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

const server = createServer(async (request, response) => {
  if (request.method !== 'POST') return answer(response, 405, { error: 'POST only' });
  let body;
  try {
    body = await readBody(request);
  } catch (error) {
    response.setHeader('connection', 'close');
    return answer(response, error.status ?? 400, { error: error.message });
  }
  const webhookId = request.headers['webhook-id'];
  let payload;
  try {
    // Verifies webhook-signature over "<webhook-id>.<webhook-timestamp>.<raw body>" and that the
    // timestamp is within 5 minutes, then parses the body. Verify the raw bytes, never a re-serialised object.
    payload = webhook.verify(body.toString('utf8'), request.headers);
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) {
      // Verified, but the body is not JSON: retrying will not change it.
      log({ msg: 'unreadable', webhookId: webhookId ?? null, reason: error.message });
      return answer(response, 400, { error: 'body is not JSON' });
    }
    log({ msg: 'rejected', webhookId: webhookId ?? null, reason: error.message });
    // 401: hookrelay treats it as permanent (dead letter, no retries): a signature that does not
    // verify now will not verify later. Fix the secret, then replay the dead letters.
    return answer(response, 401, { error: 'invalid signature' });
  }
  try {
    if (processOnce(webhookId, payload)) {
      log({ msg: 'processed', webhookId, runId: payload.run_id ?? null, attempt: Number(request.headers['hookrelay-attempt'] ?? 0) || null });
      return answer(response, 200, { processed: true });
    }
    log({ msg: 'duplicate', webhookId });
    // Already processed: acknowledge, or the relay would keep sending it.
    return answer(response, 200, { processed: false, duplicate: true });
  } catch (error) {
    // Nothing was committed: 500 makes the relay retry later.
    log({ msg: 'failed', webhookId, error: error.message });
    return answer(response, 500, { error: 'could not process' });
  }
});

prune.run(Date.now() - dedupeDays * 86_400_000);
setInterval(() => prune.run(Date.now() - dedupeDays * 86_400_000), 3_600_000).unref();

server.listen(port, host, () => log({ msg: 'listening', port: server.address().port }));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => {
      db.close();
      process.exit(0);
    });
    server.closeIdleConnections();
  });
}
