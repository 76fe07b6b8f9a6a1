import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { it, type Cleanup } from '../support/fixtures.js';
import { jsonLines, runCli } from '../support/cli.mjs';
import { post } from '../support/post.js';
import { relayConfig, startRelay, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { startSink, type Sink } from '../support/sink.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const DEAD_LETTER_FIELDS = ['attempts', 'deadAt', 'dedupeKey', 'destination', 'eventId', 'id', 'lastError', 'lastStatus', 'source'];

interface DeadLetterLine {
  id: string;
  eventId: string;
  destination: string;
  source: string;
  dedupeKey: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  deadAt: string;
}

/** A destination that fails fast: two attempts 20-40 ms apart, a breaker that never opens in these tests. */
function failingFast(name: string, url: string) {
  return {
    name,
    url,
    retry: { maxAttempts: 2, initialDelayMs: 40, maxDelayMs: 40 },
    circuitBreaker: { volumeThreshold: 100_000 },
  };
}

async function postRuns(relayUrl: string, prefix: string, count: number): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const runId = `${prefix}-${i}`;
    const answer = await post(`${relayUrl}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: runId, i }) }));
    expect(answer.status).toBe(202);
    ids.set(runId, String(answer.json!.id));
  }
  return ids;
}

async function cli(args: string[]) {
  return runCli(args);
}

async function stats(configPath: string) {
  const result = await cli(['stats', '--json', '--config', configPath]);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as {
    events: number;
    deliveries: Record<string, number>;
    destinations: Record<string, { pending: number; delivered: number; dead: number }>;
  };
}

/** Successful deliveries the sink answered 2xx, by webhook-id. */
function delivered(sink: Sink, from = 0): string[] {
  return sink.received.slice(from).map((request) => String(request.headers['webhook-id']));
}

describe('dead letters end to end: dlq list, replay (dry run, live, while stopped), redeliver', () => {
  async function setup(cleanup: Cleanup) {
    const dir = tempDir('hookrelay-operator-');
    cleanup.add(dir.cleanup);
    const broken = await startSink(() => 500);
    cleanup.add(() => broken.close());
    const healthy = await startSink(() => 200);
    cleanup.add(() => healthy.close());
    const configPath = writeConfig(
      dir.path,
      relayConfig(dir.path, {
        destinations: [failingFast('app', broken.url), { name: 'audit', url: healthy.url }],
      }),
    );
    const start = async () => {
      const relay = await startRelay(configPath);
      cleanup.add(() => relay.kill());
      return relay;
    };
    return { dir: dir.path, configPath, broken, healthy, start };
  }

  it('30 dead deliveries: listed with the contract fields, a dry run changes nothing, a live replay delivers all with the original webhook-id', async ({ cleanup }) => {
    const { configPath, broken, healthy, start } = await setup(cleanup);
    const relay: RelayProcess = await start();
    const ids = await postRuns(relay.url, 'run', 30);

    await waitFor(async () => (await stats(configPath)).destinations.app!.dead === 30, { timeoutMs: 30_000, intervalMs: 300, what: '30 dead deliveries' });
    await waitFor(() => healthy.received.length === 30, { timeoutMs: 15_000, what: 'the healthy destination' });

    const listed = await cli(['dlq', 'list', '--json', '--config', configPath]);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toBe('');
    const lines = jsonLines<DeadLetterLine>(listed.stdout);
    expect(lines).toHaveLength(30);
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual(DEAD_LETTER_FIELDS);
      expect(line).toMatchObject({ destination: 'app', source: 'cerebrium', attempts: 2, lastStatus: 500 });
      expect(typeof line.id).toBe('string');
      expect(typeof line.lastError).toBe('string');
      expect(ids.get(line.dedupeKey)).toBe(line.eventId);
      expect(new Date(line.deadAt).toISOString()).toBe(line.deadAt);
      expect(Math.abs(Date.parse(line.deadAt) - Date.now())).toBeLessThan(120_000);
    }
    expect(new Set(lines.map((line) => line.dedupeKey)).size).toBe(30);

    // Filters.
    expect(jsonLines((await cli(['dlq', 'list', '--json', '--destination', 'audit', '--config', configPath])).stdout)).toEqual([]);
    expect(jsonLines((await cli(['dlq', 'list', '--json', '--source', 'cerebrium', '--since', '10m', '--config', configPath])).stdout)).toHaveLength(30);
    expect(jsonLines((await cli(['dlq', 'list', '--json', '--since', new Date(Date.now() + 60_000).toISOString(), '--config', configPath])).stdout)).toEqual([]);
    // The human table names each dead letter with its full run_id.
    const table = await cli(['dlq', 'list', '--config', configPath]);
    expect(table.code).toBe(0);
    for (const runId of ids.keys()) expect(table.stdout).toContain(runId);
    expect(table.stdout).toContain('30 dead deliveries');

    // Dry run: counted, nothing changes. The CLI has committed (or not) when it exits: a delivery it
    // made due again would show as pending, in flight, attempted once more (the dead letter's
    // attempts) or received, whichever the running relay had got to.
    const attemptsOf = (line: DeadLetterLine) => `${line.id} ${line.attempts}`;
    const sentBefore = broken.received.length;
    const dry = await cli(['replay', '--destination', 'app', '--dry-run', '--json', '--config', configPath]);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({ matched: 30, replayed: 0, dryRun: true });
    expect((await stats(configPath)).destinations.app).toMatchObject({ dead: 30, pending: 0, inFlight: 0 });
    expect(jsonLines<DeadLetterLine>((await cli(['dlq', 'list', '--json', '--config', configPath])).stdout).map(attemptsOf).sort()).toEqual(lines.map(attemptsOf).sort());
    expect(broken.received.length).toBe(sentBefore);

    // Fix the destination, replay while serve runs.
    broken.behave(() => 200);
    const replayed = await cli(['replay', '--destination', 'app', '--json', '--config', configPath]);
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.stdout)).toEqual({ matched: 30, replayed: 30, dryRun: false });
    await waitFor(() => broken.received.length === sentBefore + 30, { timeoutMs: 15_000, what: 'the replayed deliveries' });
    const replays = broken.received.slice(sentBefore);
    expect(new Set(delivered(broken, sentBefore))).toEqual(new Set(ids.values()));
    // The third attempt of each delivery (two before it died), with its body unchanged.
    for (const request of replays) {
      expect(request.headers['hookrelay-attempt']).toBe('3');
      const runId = (JSON.parse(request.body.toString()) as { run_id: string }).run_id;
      expect(ids.get(runId)).toBe(request.headers['webhook-id']);
    }
    await waitFor(async () => (await stats(configPath)).destinations.app!.delivered === 30, { timeoutMs: 15_000, intervalMs: 300, what: 'delivered recorded' });
    expect(jsonLines((await cli(['dlq', 'list', '--json', '--config', configPath])).stdout)).toEqual([]);
    // The healthy destination received every event exactly once, untouched by the replay.
    expect(healthy.received).toHaveLength(30);
    expect(await relay.stop()).toBe(0);
  });

  it('a replay made while serve is stopped is picked up when it starts', async ({ cleanup }) => {
    const { configPath, broken, start } = await setup(cleanup);
    let relay = await start();
    const ids = await postRuns(relay.url, 'offline', 5);
    await waitFor(async () => (await stats(configPath)).destinations.app!.dead === 5, { timeoutMs: 30_000, intervalMs: 300, what: '5 dead deliveries' });
    expect(await relay.stop()).toBe(0);

    broken.behave(() => 200);
    const sentBefore = broken.received.length;
    const replayed = await cli(['replay', '--all', '--json', '--config', configPath]);
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.stdout)).toEqual({ matched: 5, replayed: 5, dryRun: false });
    expect((await stats(configPath)).destinations.app).toMatchObject({ pending: 5, dead: 0 });
    // No relay runs: the CLI only made them due (it has exited; nothing else could send them).
    expect(broken.received.length).toBe(sentBefore);

    relay = await start();
    await waitFor(() => broken.received.length === sentBefore + 5, { timeoutMs: 15_000, what: 'deliveries after restart' });
    expect(new Set(delivered(broken, sentBefore))).toEqual(new Set(ids.values()));
    expect(await relay.stop()).toBe(0);
  });

  it('replay by --id (repeated and listed) and --since', async ({ cleanup }) => {
    const { configPath, broken, start } = await setup(cleanup);
    const relay = await start();
    await postRuns(relay.url, 'pick', 4);
    await waitFor(async () => (await stats(configPath)).destinations.app!.dead === 4, { timeoutMs: 30_000, intervalMs: 300, what: '4 dead deliveries' });
    const lines = jsonLines<DeadLetterLine>((await cli(['dlq', 'list', '--json', '--config', configPath])).stdout);
    const [a, b, c] = lines.map((line) => line.id);
    expect((await cli(['replay', '--all', '--since', new Date(Date.now() + 60_000).toISOString(), '--json', '--config', configPath])).stdout)
      .toBe('{"matched":0,"replayed":0,"dryRun":false}\n');

    broken.behave(() => 200);
    const sentBefore = broken.received.length;
    const replayed = await cli(['replay', '--id', a!, b!, '--id', c!, '--json', '--config', configPath]);
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.stdout)).toEqual({ matched: 3, replayed: 3, dryRun: false });
    await waitFor(() => broken.received.length === sentBefore + 3, { timeoutMs: 15_000, what: 'three replayed deliveries' });
    const left = jsonLines<DeadLetterLine>((await cli(['dlq', 'list', '--json', '--config', configPath])).stdout);
    expect(left.map((line) => line.id)).toEqual([lines[3]!.id]);
    const human = await cli(['replay', '--id', lines[3]!.id, '--config', configPath]);
    expect(human.stdout).toMatch(/^replayed 1 of 1 dead delivery/);
    expect(await relay.stop()).toBe(0);
  });

  it('redeliver re-sends an already delivered event with its webhook-id; deliveries show prints the attempt log', async ({ cleanup }) => {
    const { configPath, healthy, start } = await setup(cleanup);
    const relay = await start();
    const ids = await postRuns(relay.url, 'again', 1);
    const eventId = ids.get('again-0')!;
    await waitFor(() => healthy.received.length === 1, { timeoutMs: 15_000, what: 'the first delivery' });
    await waitFor(async () => (await stats(configPath)).destinations.audit!.delivered === 1, { timeoutMs: 15_000, intervalMs: 300, what: 'delivered recorded' });

    const result = await cli(['redeliver', '--event', eventId, '--destination', 'audit', '--json', '--config', configPath]);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { eventId: string; redelivered: { id: string; destination: string }[]; inFlight: string[] };
    expect(output).toMatchObject({ eventId, inFlight: [] });
    expect(output.redelivered.map((d) => d.destination)).toEqual(['audit']);
    await waitFor(() => healthy.received.length === 2, { timeoutMs: 15_000, what: 'the redelivery' });
    expect(healthy.received[1]!.headers['webhook-id']).toBe(eventId);
    expect(healthy.received[1]!.headers['hookrelay-attempt']).toBe('2');
    expect(healthy.received[1]!.body.equals(healthy.received[0]!.body)).toBe(true);

    await waitFor(async () => (await stats(configPath)).destinations.audit!.delivered === 1, { timeoutMs: 15_000, intervalMs: 300, what: 'redelivery recorded' });
    const shown = await cli(['deliveries', 'show', output.redelivered[0]!.id, '--json', '--config', configPath]);
    expect(shown.code).toBe(0);
    const detail = JSON.parse(shown.stdout) as { delivery: { status: string; eventId: string }; attempts: { number: number; statusCode: number; outcome: string }[] };
    expect(detail.delivery).toMatchObject({ status: 'delivered', eventId });
    expect(detail.attempts.map((a) => [a.number, a.statusCode, a.outcome])).toEqual([[1, 200, 'delivered'], [2, 200, 'delivered']]);
    const human = await cli(['deliveries', 'show', output.redelivered[0]!.id, '--config', configPath]);
    expect(human.stdout).toContain('attempt log:');
    expect(human.stdout).toContain('again-0');

    const unknownEvent = await cli(['redeliver', '--event', 'evt_does_not_exist', '--config', configPath]);
    expect(unknownEvent.code).toBe(1);
    expect(unknownEvent.stderr.trim().split('\n')).toHaveLength(1);
    const unknownDestination = await cli(['redeliver', '--event', eventId, '--destination', 'nope', '--config', configPath]);
    expect(unknownDestination.code).toBe(1);
    expect(unknownDestination.stderr).toMatch(/^hookrelay: unknown destination "nope"\n$/);
    expect(await relay.stop()).toBe(0);
  });

  it('send-test posts a correctly signed sample callback to the running relay', async ({ cleanup }) => {
    const { dir, configPath, healthy, start } = await setup(cleanup);
    const relay = await start();
    const sent = await cli(['send-test', '--source', 'cerebrium', '--url', relay.url, '--json', '--config', configPath]);
    expect(sent.code).toBe(0);
    const answer = JSON.parse(sent.stdout) as { status: number; answer: { id: string; duplicate: boolean } };
    expect(answer).toMatchObject({ status: 202, answer: { duplicate: false } });
    await waitFor(() => healthy.received.length === 1, { timeoutMs: 15_000, what: 'the test callback at the destination' });
    expect(healthy.received[0]!.headers['webhook-id']).toBe(answer.answer.id);
    // --body FILE: those exact bytes, signed.
    const bodyPath = join(dir, 'body.json');
    writeFileSync(bodyPath, '{"run_id":"from-a-file", "pages": 600}\n');
    const fromFile = await cli(['send-test', '--source', 'cerebrium', '--body', bodyPath, '--url', relay.url, '--config', configPath]);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toMatch(/-> 202\n/);
    await waitFor(() => healthy.received.length === 2, { timeoutMs: 15_000, what: 'the file body at the destination' });
    expect(healthy.received[1]!.body.toString()).toBe('{"run_id":"from-a-file", "pages": 600}\n');
    // The same run_id again is a duplicate: 200, still a success for send-test.
    const again = await cli(['send-test', '--source', 'cerebrium', '--body', bodyPath, '--url', relay.url, '--json', '--config', configPath]);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 200, answer: { duplicate: true } });
    // server.port is 0 in this config: without --url there is no address to send to.
    const noUrl = await cli(['send-test', '--source', 'cerebrium', '--config', configPath]);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/--url/);
    const unknownSource = await cli(['send-test', '--source', 'nope', '--url', relay.url, '--config', configPath]);
    expect(unknownSource.code).toBe(1);
    const unreachable = await cli(['send-test', '--source', 'cerebrium', '--url', 'http://127.0.0.1:9', '--config', configPath]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^hookrelay: cannot reach the relay at http:\/\/127\.0\.0\.1:9\/webhooks\/cerebrium: ECONNREFUSED/);
    expect(await relay.stop()).toBe(0);
  });

  it('bad usage exits 2 with one line on stderr', async ({ cleanup }) => {
    const { configPath } = await setup(cleanup);
    const cases: string[][] = [
      ['replay', '--config', configPath],
      ['replay', '--all', '--destination', 'app', '--config', configPath],
      ['replay', '--all', '--bogus', '--config', configPath],
      ['replay', '--all', '--since', 'yesterday', '--config', configPath],
      ['dlq', 'list', '--since', 'last week', '--config', configPath],
      ['dlq', '--config', configPath],
      ['redeliver', '--config', configPath],
      ['deliveries', 'show', '--config', configPath],
      ['send-test', '--config', configPath],
      ['dlq', 'list', '--config', `${configPath}.missing`],
    ];
    for (const args of cases) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n'), `${args.join(' ')}: ${result.stderr}`).toHaveLength(1);
      expect(result.stdout).toBe('');
    }
  });
});
