import { createServer, type RequestListener, type Server } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A listening socket handed over by another process (the `serve` supervisor keeps it open
 * across reloads, see src/supervisor/listeners.ts): anything `net.Server#listen(handle)` accepts.
 */
export type ListenHandle = object;

/** Once closing, for how long requests on already open keep-alive connections are still answered. */
export const KEEP_ALIVE_DRAIN_MS = 500;

/** How often the drain looks again at what is still open. */
const DRAIN_POLL_MS = 20;

export interface HttpListenerOptions {
  host: string;
  port: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Default: Node's. */
  keepAliveTimeoutMs?: number;
  /** How often Node sweeps connections to enforce the timeouts above; default: Node's (30 s). */
  connectionsCheckingIntervalMs?: number;
}

export interface DrainOptions {
  /** From the start of close: whatever is still open after this long is cut. */
  graceMs: number;
  /** Requests still to be answered; default: the open connections (for a listener that does not count its requests). */
  inFlight?: () => number;
}

/** An HTTP server with the lifecycle both listeners (ingress and admin) share. */
export interface HttpListener {
  readonly server: Server;
  /** The server's request handler: the given one, whose answers say `Connection: close` once closing. */
  readonly handle: RequestListener;
  /** Starts listening on the configured host and port, or on `handle`; resolves with the bound port. */
  listen(handle?: ListenHandle): Promise<number>;
  /**
   * Stops accepting (new connections are refused) WITHOUT closing idle keep-alive connections at
   * once, as http.Server#close would: a client may be writing a request on one right now and would
   * see a reset, which senders like Cerebrium do not retry. Requests on open connections are
   * answered (with `Connection: close`) for KEEP_ALIVE_DRAIN_MS, then idle connections close;
   * requests in flight get until `graceMs`, then every connection is cut. Calling it again waits
   * for the same close.
   */
  close(drain: DrainOptions): Promise<void>;
}

export function createHttpListener(handler: RequestListener, options: HttpListenerOptions): HttpListener {
  let draining = false;
  const handle: RequestListener = (req, res) => {
    if (draining) res.setHeader('Connection', 'close');
    handler(req, res);
  };
  const server = createServer({ connectionsCheckingInterval: options.connectionsCheckingIntervalMs }, handle);
  server.headersTimeout = options.headersTimeoutMs;
  server.requestTimeout = options.requestTimeoutMs;
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  let connections = 0;
  server.on('connection', (socket: Socket) => {
    connections++;
    socket.once('close', () => connections--);
  });
  const openConnections = () => connections;

  const drainAndClose = async ({ graceMs, inFlight = openConnections }: DrainOptions) => {
    draining = true;
    const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    const started = Date.now();
    const deadline = started + graceMs;
    const idleUntil = started + Math.min(KEEP_ALIVE_DRAIN_MS, graceMs);
    // With no connection open there is nothing to wait for: the next process may start at once.
    while ((inFlight() > 0 || (connections > 0 && Date.now() < idleUntil)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      if (Date.now() >= idleUntil) server.closeIdleConnections();
    }
    server.closeIdleConnections();
    server.closeAllConnections();
    await closed;
  };
  let closing: Promise<void> | null = null;

  return {
    server,
    handle,
    listen: (listenHandle) =>
      new Promise((resolve, reject) => {
        const listening = () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        };
        server.once('error', reject);
        if (listenHandle) server.listen(listenHandle, listening);
        else server.listen(options.port, options.host, listening);
      }),
    close: (drain) => (closing ??= drainAndClose(drain)),
  };
}
