// The destination: a real HTTP server in its own process that answers 200 and records, per
// `webhook-id` (the event id), when the delivery's body was complete (epoch ms, sub-ms precision).
// Controlled over IPC: count, dump (to a JSON-lines file), reset.
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { announce, readBody } from './read-body.mjs';

const port = Number(process.argv[2] ?? 0);
const now = () => performance.timeOrigin + performance.now();
let arrivals = new Map();
let received = 0;
let repeated = 0;
let firstAt = null;
let lastAt = null;

const server = createServer(async (req, res) => {
  await readBody(req);
  const at = now();
  received++;
  firstAt ??= at;
  lastAt = at;
  const id = req.headers['webhook-id'];
  if (typeof id === 'string') {
    if (arrivals.has(id)) repeated++;
    else arrivals.set(id, at);
  }
  res.statusCode = 200;
  res.end('ok');
});
server.keepAliveTimeout = 30_000;

process.on('message', (message) => {
  if (message.type === 'count') {
    process.send({ type: 'count:done', received, unique: arrivals.size, repeated, firstAt, lastAt });
  } else if (message.type === 'dump') {
    writeFileSync(message.path, [...arrivals].map(([id, at]) => `${id} ${at}`).join('\n'));
    process.send({ type: 'dump:done', count: arrivals.size });
  } else if (message.type === 'reset') {
    arrivals = new Map();
    received = 0;
    repeated = 0;
    firstAt = null;
    lastAt = null;
    process.send({ type: 'reset:done' });
  }
});

server.listen(port, '127.0.0.1', () => announce(server));
