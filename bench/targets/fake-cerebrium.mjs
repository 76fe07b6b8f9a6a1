// A stand-in for Cerebrium's submission endpoint: reads the body, answers 202 {"run_id"} at once.
import { createServer } from 'node:http';
import { announce, readBody } from './read-body.mjs';

let counter = 0;
const server = createServer(async (req, res) => {
  await readBody(req);
  counter++;
  res.statusCode = 202;
  res.setHeader('content-type', 'application/json');
  res.end(`{"run_id":"bench-run-${process.pid}-${counter}","status":"queued"}`);
});
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => announce(server));
