// Baseline 1: the ceiling of any Node server here. Reads the body, answers 202.
import { createServer } from 'node:http';
import { announce, readBody } from './read-body.mjs';

const server = createServer(async (req, res) => {
  await readBody(req);
  res.statusCode = 202;
  res.setHeader('content-type', 'application/json');
  res.end('{"accepted":true}');
});
server.listen(0, '127.0.0.1', () => announce(server));
