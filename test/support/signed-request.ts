import { createHmac } from 'node:crypto';

/**
 * Builds validly signed callbacks for each scheme. Negative tests take a valid request and
 * change one field.
 */
export interface SignedRequest {
  headers: Record<string, string>;
  body: Buffer;
}

export function cerebriumRequest(opts: {
  secret: string;
  body: string | Buffer;
  requestId?: string;
  timestamp?: number;
  contentType?: string;
}): SignedRequest {
  const body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
  const requestId = opts.requestId ?? `req-${Math.random().toString(36).slice(2)}`;
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', Buffer.from(opts.secret, 'utf8'))
    .update(`${requestId}.${timestamp}.`)
    .update(body)
    .digest('hex');
  return {
    body,
    headers: {
      'content-type': opts.contentType ?? 'application/json',
      'x-request-id': requestId,
      'x-cerebrium-webhook-timestamp': timestamp,
      'x-cerebrium-webhook-signature': `v1,${signature}`,
    },
  };
}

export function standardWebhooksRequest(opts: {
  secret: string;
  body: string | Buffer;
  id?: string;
  timestamp?: number;
  contentType?: string;
}): SignedRequest {
  const body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
  const id = opts.id ?? `msg_${Math.random().toString(36).slice(2)}`;
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const key = Buffer.from(opts.secret.startsWith('whsec_') ? opts.secret.slice(6) : opts.secret, 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return {
    body,
    headers: {
      'content-type': opts.contentType ?? 'application/json',
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': `v1,${signature}`,
    },
  };
}

export function hmacSha256Request(opts: {
  secret: string;
  body: string | Buffer;
  header?: string;
  contentType?: string;
}): SignedRequest {
  const body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
  const signature = createHmac('sha256', Buffer.from(opts.secret, 'utf8')).update(body).digest('hex');
  return {
    body,
    headers: {
      'content-type': opts.contentType ?? 'application/json',
      [(opts.header ?? 'X-Signature-256').toLowerCase()]: `sha256=${signature}`,
    },
  };
}
