import type { IncomingMessage } from 'node:http';
import { HookrelayError } from '../errors.js';

/*
 * Why ingress reads bodies itself instead of using a body-parsing middleware (the admin
 * listener's JSON routes use koa-body): a signature is an HMAC over the exact bytes received,
 * so nothing may decode, re-encode or inflate them before they are verified and stored, and a
 * body over `maxBodyBytes` must be read to its end before the 413 is answered (below). A parser
 * hands over parsed values, and raw-body stops reading at the limit and leaves the rest unread.
 */

/**
 * Reads the exact request bytes, refusing more than `limit`. A declared Content-Length over
 * the limit is refused without keeping anything. On refusal the rest of the body is read and
 * discarded BEFORE the promise rejects, so the 413 is written only once the client has
 * finished sending: most clients write the whole body before reading, and an answer sent
 * earlier is lost to a reset (EPIPE/ECONNRESET) when the connection closes under their
 * writes. The server's requestTimeout bounds how long a client may keep sending.
 */
export function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return discardThenReject(req, tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const fail = (error: HookrelayError) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        settled = true;
        cleanup();
        chunks.length = 0;
        discardThenReject(req, tooLarge(limit)).catch(reject);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = () => fail(new HookrelayError('HOOKRELAY_BODY_INCOMPLETE', 'request body ended early'));
    const onClose = () => {
      if (!req.complete) fail(new HookrelayError('HOOKRELAY_BODY_INCOMPLETE', 'request body ended early'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** Reads and drops what is left of the body, then rejects with `error` (also when the client goes away). */
async function discardThenReject(req: IncomingMessage, error: HookrelayError): Promise<never> {
  await bodyDrained(req);
  throw error;
}

/**
 * Reads and drops what is left of a request body; resolves at its end, or when the client goes
 * away. An answer sent while the client still writes is lost to a reset on its side.
 */
export function bodyDrained(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      req.off('end', done);
      req.off('close', done);
      resolve();
    };
    req.on('end', done);
    req.on('close', done);
    req.unpipe();
    req.resume();
  });
}

export function tooLarge(limit: number): HookrelayError {
  return new HookrelayError('HOOKRELAY_BODY_TOO_LARGE', `body exceeds ${limit} bytes`);
}
