import { join } from 'node:path';
import Database from 'better-sqlite3';
import { jsonLines, runCli } from './cli.mjs';
import { post } from './post.js';
import type { Cleanup } from './fixtures.js';
import { relayConfig, TEST_SECRET, writeConfig, type RelayProcess } from './relay.mjs';
import { cerebriumRequest } from './signed-request.js';
import { tempDir } from './temp.js';
import { waitFor } from './wait.js';

/* Shared by the delivery end-to-end suites: a temp dir, a config, posting events, reading outcomes. */

export interface Workspace {
  dir: string;
  dbPath: string;
  configPath: string;
}

/** A temp dir with a relay config listing `destinations` (and any other top-level overrides). */
export function workspace(cleanup: Cleanup, overrides: Record<string, unknown>): Workspace {
  const dir = tempDir('hookrelay-delivery-');
  cleanup.add(dir.cleanup);
  const configPath = writeConfig(dir.path, relayConfig(dir.path, overrides));
  return { dir: dir.path, dbPath: join(dir.path, 'hookrelay.db'), configPath };
}

export interface PostedEvent {
  id: string;
  runId: string;
  body: Buffer;
  /** Unix ms when the 202 arrived. */
  acceptedAt: number;
}

/** A body with non-ASCII bytes and odd spacing, so byte-identity is meaningful. */
export function eventBody(runId: string, index: number): Buffer {
  return Buffer.from(`{"run_id":"${runId}",  "index":${index},"text":"h\u00e9llo \u2713 \u{1F680}","pad":"${'x'.repeat(index % 7)}"}\n`);
}

/** Posts `count` signed callbacks (a few at a time) and returns their ids in order; throws unless each is a 202. */
export async function postEvents(
  relayUrl: string,
  count: number,
  { prefix = 'run', parallel = 8, contentType }: { prefix?: string; parallel?: number; contentType?: string | null } = {},
): Promise<PostedEvent[]> {
  const events: PostedEvent[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= count) return;
      const runId = `${prefix}-${index}`;
      const body = eventBody(runId, index);
      const signed = cerebriumRequest({ secret: TEST_SECRET, body, ...(contentType ? { contentType } : {}) });
      if (contentType === null) delete signed.headers['content-type'];
      const answer = await post(`${relayUrl}/webhooks/cerebrium`, signed);
      if (answer.status !== 202) throw new Error(`event ${runId}: expected 202, got ${answer.status} ${answer.text}`);
      events[index] = { id: String(answer.json!.id), runId, body, acceptedAt: Date.now() };
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return events;
}

export interface StatsJson {
  events: number;
  deliveries: { pending: number; inFlight: number; delivered: number; dead: number };
  destinations: Record<string, { pending: number; inFlight: number; delivered: number; dead: number }>;
}

export async function stats(configPath: string): Promise<StatsJson> {
  const result = await runCli(['stats', '--json', '--config', configPath]);
  if (result.code !== 0) throw new Error(`stats exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as StatsJson;
}

export interface AttemptRow {
  delivery_id: string;
  number: number;
  destination: string;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  error_code: string | null;
  outcome: string;
  response_snippet: string | null;
}

/** The attempt log, read-only, straight from the database. */
export function attemptLog(dbPath: string, destination?: string): AttemptRow[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const sql = `SELECT delivery_id, number, destination, started_at, duration_ms, status_code, error_code, outcome, response_snippet FROM attempts
                 ${destination ? 'WHERE destination = ?' : ''} ORDER BY delivery_id, number`;
    return (destination ? db.prepare(sql).all(destination) : db.prepare(sql).all()) as AttemptRow[];
  } finally {
    db.close();
  }
}

/**
 * The attempt log as the operator sees it, through the CLI (`deliveries list`, then `deliveries
 * show` per delivery), in attemptLog's shape and order: the same assertions hold on either
 * engine. One CLI run per delivery: for suites with a handful of deliveries.
 */
export async function attemptsThroughCli(configPath: string, destination?: string): Promise<AttemptRow[]> {
  const cli = async (args: string[]) => {
    const result = await runCli([...args, '--json', '--config', configPath]);
    if (result.code !== 0) throw new Error(`hookrelay ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  };
  const listed = jsonLines<{ id: string }>(await cli(['deliveries', 'list', '--limit', '500', ...(destination ? ['--destination', destination] : [])]));
  const rows: AttemptRow[] = [];
  for (const { id } of listed) {
    const detail = JSON.parse(await cli(['deliveries', 'show', id])) as {
      delivery: { id: string; destination: string };
      attempts: { number: number; startedAt: string; durationMs: number; outcome: string; statusCode: number | null; errorCode: string | null; responseSnippet: string | null }[];
    };
    for (const attempt of detail.attempts) {
      rows.push({
        delivery_id: detail.delivery.id,
        number: attempt.number,
        destination: detail.delivery.destination,
        started_at: Date.parse(attempt.startedAt),
        duration_ms: attempt.durationMs,
        status_code: attempt.statusCode,
        error_code: attempt.errorCode,
        outcome: attempt.outcome,
        response_snippet: attempt.responseSnippet,
      });
    }
  }
  return rows.sort((a, b) => (a.delivery_id < b.delivery_id ? -1 : a.delivery_id > b.delivery_id ? 1 : a.number - b.number));
}

/** Parsed pino lines of a relay whose `msg` contains `text`. */
export function logLines(relayProcess: RelayProcess, text: string): Record<string, unknown>[] {
  return relayProcess.lines
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return null;
      }
    })
    .filter((entry): entry is Record<string, unknown> => entry !== null && String(entry.msg ?? '').includes(text));
}

/**
 * Waits until the relay's dispatcher has asked the store what is due `count` more times (its
 * debug line `due times read`: the relay needs `log.level: debug`). What the store would hand
 * out is handed out on such a probe, so a delivery not attempted across probes is not due.
 */
export async function waitForProbes(relayProcess: RelayProcess, count: number, timeoutMs = 10_000): Promise<void> {
  const probes = () => relayProcess.lines.filter((line) => line.includes('"msg":"due times read"')).length;
  const target = probes() + count;
  await waitFor(() => probes() >= target, { timeoutMs, what: `${count} more probes of the dispatcher` });
}

/** How many times each webhook-id arrived at a sink. */
export function countById(received: readonly { headers: Record<string, unknown> }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of received) {
    const id = String(request.headers['webhook-id']);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
