import { request as httpRequest } from 'node:http';

/** How one HTTP call ended, as a sender sees it. */
export type CallResult =
  | { kind: 'response'; status: number; body: string }
  | { kind: 'refused' }
  | { kind: 'timeout' }
  | { kind: 'reset'; code: string };

/**
 * One request (POST unless told) on a fresh connection (no keep-alive pool: every call connects, as a webhook
 * sender does), bounded by `timeoutMs`. Never throws.
 */
export function callOnce(url: string, headers: Record<string, string>, body: Buffer, timeoutMs: number, method = 'POST'): Promise<CallResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: CallResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = httpRequest(url, {
      method,
      agent: false,
      headers: { ...headers, 'content-length': String(body.length), connection: 'close' },
    });
    const timer = setTimeout(() => {
      finish({ kind: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish({ kind: 'response', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'reset', code: error.code ?? error.message }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      finish(error.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'reset', code: error.code ?? error.message });
    });
    req.end(body);
  });
}
