// Baseline 2: the framework's ceiling. A minimal Koa app that reads the body and answers 202.
import { createServer } from 'node:http';
import Koa from 'koa';
import { announce, readBody } from './read-body.mjs';

const app = new Koa();
app.use(async (ctx) => {
  await readBody(ctx.req);
  ctx.status = 202;
  ctx.body = { accepted: true };
});
const server = createServer(app.callback());
server.listen(0, '127.0.0.1', () => announce(server));
