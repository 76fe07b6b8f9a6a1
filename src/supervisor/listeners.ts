import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { ListenerAddress } from './protocol.js';

/**
 * A listening socket owned by the supervisor, bound but never accepted from here: each relay
 * process it is handed to calls listen() on its own copy and accepts. When that process closes
 * its copy, this one keeps the socket in the kernel, so new connections wait in its accept
 * queue (they are not refused) until the next relay process listens.
 */
export interface BoundListener {
  /** As configured (`port` may be 0); a reload compares the new config with this. */
  readonly address: ListenerAddress;
  /** The port actually bound. */
  readonly port: number;
  /** The socket handle, sent to relay processes with `child.send(message, handle)`. */
  readonly handle: object;
  close(): void;
}

interface ServerHandle {
  getsockname(out: { port?: number }): number;
  close(): void;
}

/**
 * Node's own helper for this (what `node:cluster` uses for shared sockets): it creates a TCP
 * handle and binds it without starting to accept. There is no public API that binds without
 * accepting, and a socket this process accepted from would take connections from the relay.
 */
type CreateServerHandle = (address: string, port: number, addressType: 4 | 6) => ServerHandle | number;

export async function bindListener(address: ListenerAddress): Promise<BoundListener> {
  const createServerHandle = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle;
  if (typeof createServerHandle !== 'function') {
    throw new Error(`this Node.js (${process.version}) lacks net._createServerHandle, which serve needs to keep its sockets across reloads`);
  }
  const { address: ip, family } = await lookup(address.host);
  const result = createServerHandle(ip, address.port, family === 6 ? 6 : 4);
  if (typeof result === 'number') {
    const code = getSystemErrorName(result);
    const error = new Error(`listen ${code}: ${code === 'EADDRINUSE' ? 'address already in use' : 'cannot bind'} ${address.host}:${address.port}`) as NodeJS.ErrnoException;
    error.code = code;
    throw error;
  }
  const bound: { port?: number } = {};
  result.getsockname(bound);
  let closed = false;
  return {
    address: { ...address },
    port: bound.port ?? address.port,
    handle: result,
    close: () => {
      if (closed) return;
      closed = true;
      result.close();
    },
  };
}

export function sameAddress(a: ListenerAddress, b: ListenerAddress): boolean {
  return a.host === b.host && a.port === b.port;
}
