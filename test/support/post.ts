import { request } from 'undici';
import type { SignedRequest } from './signed-request.js';

export interface PostResult {
  status: number;
  json: Record<string, unknown> | null;
  text: string;
}

/** POSTs a (signed) request to the relay and reads the answer. */
export async function post(url: string, signed: SignedRequest, extraHeaders: Record<string, string> = {}): Promise<PostResult> {
  const response = await request(url, { method: 'POST', headers: { ...signed.headers, ...extraHeaders }, body: signed.body });
  const text = await response.body.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status: response.statusCode, json, text };
}
