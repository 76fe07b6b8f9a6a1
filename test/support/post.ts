import { request, type Dispatcher } from 'undici';
import type { SignedRequest } from './signed-request.js';

export interface PostResult {
  status: number;
  json: Record<string, unknown> | null;
  text: string;
}

/** POSTs a (signed) request to the relay and reads the answer. */
export async function post(url: string, signed: SignedRequest, extraHeaders: Record<string, string> = {}): Promise<PostResult> {
  return readAnswer(await request(url, { method: 'POST', headers: { ...signed.headers, ...extraHeaders }, body: signed.body }));
}

/** An undici response's status and body, the body also as JSON when it is JSON (else `json` is null). */
export async function readAnswer(response: Dispatcher.ResponseData): Promise<PostResult> {
  const text = await response.body.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status: response.statusCode, json, text };
}
