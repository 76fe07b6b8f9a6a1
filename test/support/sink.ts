import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';

export interface ReceivedDelivery {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Unix ms when the request body was complete. */
  at: number;
}

/** Decides how the sink answers one request; default 200. Can write the response itself and return 'handled'. */
export type SinkBehaviour = (request: ReceivedDelivery, response: ServerResponse, index: number) => number | 'handled' | Promise<number | 'handled'>;

export interface Sink {
  url: string;
  port: number;
  received: ReceivedDelivery[];
  behave(behaviour: SinkBehaviour): void;
  /** Stops accepting and destroys open sockets (a destination going down). */
  close(): Promise<void>;
}

/** A real HTTP destination on 127.0.0.1 that records every request. */
export async function startSink(behaviour: SinkBehaviour = () => 200, port = 0): Promise<Sink> {
  const received: ReceivedDelivery[] = [];
  let current = behaviour;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const delivery: ReceivedDelivery = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      const index = received.push(delivery) - 1;
      try {
        const status = await current(delivery, res, index);
        if (status !== 'handled' && !res.headersSent) {
          res.statusCode = status;
          res.end(status >= 200 && status < 300 ? 'ok' : 'error');
        }
      } catch {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        }
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/hooks`,
    port: bound,
    received,
    behave: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
