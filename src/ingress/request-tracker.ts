import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { errorBody, HookrelayError } from '../errors.js';

/** After its error answer, a connection that sent malformed HTTP is destroyed at the latest this long later. */
const MALFORMED_LINGER_MS = 1_000;

/** Node's parser and timeout errors and the status each is answered with (what Node itself answers). */
const STATUS_BY_ERROR_CODE: Record<string, number> = {
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
};

export interface RequestTracker {
  /** Counts a request from its arrival until its response is written, or its connection closes. */
  track(req: IncomingMessage, res: ServerResponse): void;
  /** Requests that may still be committed and answered. */
  inFlight(): number;
}

interface TrackedRequest {
  req: IncomingMessage;
  done(): void;
}

interface Connection {
  pending: Set<TrackedRequest>;
  /** The status owed for a parse error on this connection, once one happened. */
  malformed: number | null;
  answered: boolean;
}

/**
 * Counts requests in flight, and answers malformed HTTP on the server's `clientError` event
 * instead of Node's default, which destroys the socket at once: a request pipelined ahead of
 * the bad one would then be committed while its client only ever reads the 400.
 *
 * Here, when a connection's bytes fail to parse (a bad request after good ones, bad chunks,
 * conflicting lengths), the responses of the requests it completed are still written, in
 * order, then the error answer, then the connection is closed. A request whose body the
 * parser could not finish can never be stored (its body never ends), so it stops counting at
 * once: shutdown never waits for such a connection.
 */
export function trackRequests(server: Server): RequestTracker {
  let active = 0;
  const connections = new WeakMap<Socket, Connection>();

  const connectionOf = (socket: Socket): Connection => {
    let connection = connections.get(socket);
    if (connection) return connection;
    const created: Connection = { pending: new Set(), malformed: null, answered: false };
    connections.set(socket, created);
    // A response queued behind another (pipelining) never emits 'close' when the socket goes.
    socket.once('close', () => {
      for (const tracked of [...created.pending]) tracked.done();
    });
    connection = created;
    return connection;
  };

  const answerMalformed = (socket: Socket, connection: Connection) => {
    if (connection.answered || connection.malformed === null || connection.pending.size > 0) return;
    connection.answered = true;
    if (socket.writable) socket.end(errorResponse(connection.malformed));
    // A client that neither reads nor closes does not keep the connection.
    const linger = setTimeout(() => socket.destroy(), MALFORMED_LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
  };

  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    const connection = connectionOf(socket);
    // The parser reports every later chunk of a broken connection again: answer once.
    if (connection.malformed !== null) return;
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    connection.malformed = STATUS_BY_ERROR_CODE[error.code ?? ''] ?? 400;
    for (const tracked of [...connection.pending]) {
      if (!tracked.req.complete) tracked.done();
    }
    answerMalformed(socket, connection);
  });

  return {
    track(req, res) {
      const socket = req.socket;
      const connection = connectionOf(socket);
      active++;
      let counted = true;
      const tracked: TrackedRequest = {
        req,
        done: () => {
          if (!counted) return;
          counted = false;
          active--;
          connection.pending.delete(tracked);
          answerMalformed(socket, connection);
        },
      };
      connection.pending.add(tracked);
      res.once('finish', tracked.done);
      res.once('close', tracked.done);
    },
    inFlight: () => active,
  };
}

function errorResponse(status: number): string {
  const body =
    status === 400 ? JSON.stringify(errorBody(new HookrelayError('HOOKRELAY_BAD_REQUEST', 'malformed HTTP request; the connection is closed'))) : '';
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    ...(body ? ['Content-Type: application/json; charset=utf-8'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}
