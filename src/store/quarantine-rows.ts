import type { NewQuarantined, Quarantined, QuarantinedSummary } from './store.js';

/** Row shape of the quarantine table on both engines. */
export interface QuarantineRow {
  id: string;
  source: string;
  reason: string;
  size: number | string;
  received_at: number | string;
  headers?: string;
  body?: Buffer | Uint8Array;
}

export const QUARANTINE_SUMMARY_COLUMNS = 'id, source, reason, size, received_at';

/** The headers' JSON and the bytes an entry holds (body and headers). */
export function quarantineSize(entry: NewQuarantined): { headers: string; size: number } {
  const headers = JSON.stringify(entry.headers);
  return { headers, size: entry.body.length + Buffer.byteLength(headers) };
}

export function toQuarantinedSummary(row: QuarantineRow): QuarantinedSummary {
  return { id: row.id, source: row.source, reason: row.reason, size: Number(row.size), receivedAt: Number(row.received_at) };
}

export function toQuarantined(row: QuarantineRow): Quarantined {
  const body = row.body ?? Buffer.alloc(0);
  return {
    ...toQuarantinedSummary(row),
    headers: JSON.parse(row.headers ?? '{}') as Record<string, string | string[]>,
    body: Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
  };
}
