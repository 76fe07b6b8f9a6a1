// Baseline 3: what people write by hand. Koa, read the body, one SQLite commit per request
// (WAL, synchronous=FULL), then 202.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import Koa from 'koa';
import { announce, readBody } from './read-body.mjs';

const path = process.argv[2];
if (!path) throw new Error('usage: naive-durable.mjs <database path>');
const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, body BLOB NOT NULL, received_at INTEGER NOT NULL)');
const insert = db.prepare('INSERT INTO events (id, body, received_at) VALUES (?, ?, ?)');

const app = new Koa();
app.use(async (ctx) => {
  const body = await readBody(ctx.req);
  const id = randomUUID();
  insert.run(id, body, Date.now());
  ctx.status = 202;
  ctx.body = { id };
});
const server = createServer(app.callback());
server.listen(0, '127.0.0.1', () => announce(server));
