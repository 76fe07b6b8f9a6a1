import type { IncomingMessage } from 'node:http';
import { HookrelayError } from '../errors.js';

/**
 * Reads the exact request bytes, refusing more than `limit`. A declared Content-Length over
 * the limit is refused before reading anything. On refusal the rest of the body is read and
 * discarded, so the client finishes writing and can read the 413 (the response carries
 * `Connection: close`).
 */
export function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
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
        fail(tooLarge(limit));
        req.resume();
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

function tooLarge(limit: number): HookrelayError {
  return new HookrelayError('HOOKRELAY_BODY_TOO_LARGE', `body exceeds ${limit} bytes`);
}
