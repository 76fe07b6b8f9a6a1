import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { request } from 'undici';
import { cerebriumRequest } from './signed-request.js';

/** One submission as the fake received it. */
export interface Submission {
  runId: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What the fake does with a submission: call back after `callbackAfterMs` (null: never), and what its status URL says. */
export interface RunPlan {
  callbackAfterMs: number | null;
  /** Status while the callback has not been sent (default "running"); "succeeded" etc. ends the run. */
  status?: string;
}

export interface FakeCerebrium {
  url: string;
  submissions: Submission[];
  /** Every request to the status URL: run id and headers. */
  statusRequests: { runId: string; headers: IncomingHttpHeaders }[];
  /** Callbacks sent: run id -> the relay's answer status. */
  callbacks: Map<string, number>;
  /** Makes the status URL answer this HTTP status (e.g. 503) until set back to null. */
  failStatus(status: number | null): void;
  close(): Promise<void>;
}

/**
 * A stand-in for Cerebrium on 127.0.0.1: accepts `POST /v4/<project>/<app>/<function>` and
 * answers 202 `{"run_id"}`; then, per `plan`, POSTs a signed callback (scheme cerebrium, keyed
 * with the `X-Webhook-Secret` it was given) to the submission's `webhookEndpoint`, or never.
 * `GET …/runs/<run_id>` answers `{"item":{"status":…}}`: "running" until the callback was sent
 * (then "succeeded"), or the plan's status.
 */
export async function startFakeCerebrium(plan: (submission: Omit<Submission, 'runId'>, index: number) => RunPlan = () => ({ callbackAfterMs: 50 })): Promise<FakeCerebrium> {
  const submissions: Submission[] = [];
  const statusRequests: FakeCerebrium['statusRequests'] = [];
  const callbacks = new Map<string, number>();
  const plans = new Map<string, RunPlan>();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let failing: number | null = null;
  let sequence = 0;

  const callBack = async (submission: Submission) => {
    const body = JSON.stringify({ run_id: submission.runId, status: 'success', result: { summary: `done ${submission.runId}` } });
    const signed = cerebriumRequest({ secret: String(submission.headers['x-webhook-secret']), body, requestId: submission.runId });
    try {
      const response = await request(submission.query.get('webhookEndpoint')!, { method: 'POST', headers: signed.headers, body: signed.body });
      await response.body.dump();
      callbacks.set(submission.runId, response.statusCode);
    } catch {
      callbacks.set(submission.runId, 0);
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake.invalid');
      const statusMatch = /\/runs\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && statusMatch) {
        const runId = decodeURIComponent(statusMatch[1]!);
        statusRequests.push({ runId, headers: req.headers });
        if (failing !== null) {
          res.writeHead(failing, { 'content-type': 'application/json' }).end('{"error":"unavailable"}');
          return;
        }
        const known = plans.get(runId);
        if (!known) {
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
          return;
        }
        const status = callbacks.has(runId) ? 'succeeded' : (known.status ?? 'running');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ item: { id: runId, status } }));
        return;
      }
      if (req.method === 'POST' && /^\/v4\/[^/]+\/[^/]+\//.test(url.pathname)) {
        const index = sequence++;
        const runId = `run-${index}-${Math.random().toString(36).slice(2, 8)}`;
        const partial = { path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
        const submission: Submission = { runId, ...partial };
        submissions.push(submission);
        const runPlan = plan(partial, index);
        plans.set(runId, runPlan);
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ run_id: runId, status: 'queued' }));
        if (runPlan.callbackAfterMs !== null) {
          const timer = setTimeout(() => {
            timers.delete(timer);
            void callBack(submission);
          }, runPlan.callbackAfterMs);
          timers.add(timer);
        }
        return;
      }
      res.writeHead(404).end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    submissions,
    statusRequests,
    callbacks,
    failStatus: (status) => {
      failing = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port that was free a moment ago (for a relay whose public URL must be known before it starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
