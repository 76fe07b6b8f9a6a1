import type { AttemptCompletion, ClaimedDelivery, FallbackDelivery } from '../../src/glossary.js';
import type { ClaimRequest, DeliveryStore, DueQuery } from '../../src/store/store.js';

/** One delivery row as the fake store keeps it. */
export interface FakeRow {
  id: string;
  eventId: string;
  destination: string;
  status: 'pending' | 'in_flight' | 'delivered' | 'dead';
  nextAttemptAt: number;
  attempts: number;
  budgetUsed: number;
  leaseOwner: string | null;
  body: Buffer;
  /** Queue position (fifo). */
  position: number;
}

type Method = 'claimDue' | 'completeAttempts' | 'releaseClaims' | 'releaseLostClaims';

/**
 * The DeliveryStore contract, in memory, for millisecond dispatcher tests: the
 * same claim rules as test/store/conformance.ts checks on the real adapters (due order, byte
 * budget with oversizedFirst, fifo head, lease take-over counts an attempt, results of a lost
 * lease change nothing). Every call is logged; `fail` makes the next calls of a method throw
 * (storage unavailable); `loseNextClaimAnswer` commits a claim and throws its answer away.
 */
export interface FakeStore {
  store: DeliveryStore;
  rows: Map<string, FakeRow>;
  /** Method names in call order (nextDueAt included). */
  calls: string[];
  /** Attempts recorded, in order. */
  attempts: AttemptCompletion['attempt'][];
  add(destination: string, options?: { dueAt?: number; body?: Buffer; eventId?: string }): FakeRow;
  /** The next `times` calls of `method` throw a storage error (after committing, with `afterCommit`). */
  fail(method: Method, times?: number): void;
  loseNextClaimAnswer(): void;
  writes(): number;
  statusOf(id: string): FakeRow['status'] | undefined;
}

export function createFakeStore(now: () => number): FakeStore {
  const rows = new Map<string, FakeRow>();
  const calls: string[] = [];
  const attempts: AttemptCompletion['attempt'][] = [];
  const failures = new Map<Method, number>();
  let loseClaim = false;
  let writes = 0;
  let position = 0;

  const maybeFail = (method: Method) => {
    const left = failures.get(method) ?? 0;
    if (left <= 0) return;
    failures.set(method, left - 1);
    throw Object.assign(new Error(`storage cannot ${method}: database is locked`), { name: 'HookrelayError', code: 'HOOKRELAY_STORAGE_UNAVAILABLE' });
  };
  const live = (row: FakeRow) => row.status === 'pending' || row.status === 'in_flight';
  const toClaimed = (row: FakeRow): ClaimedDelivery => ({
    id: row.id, eventId: row.eventId, destination: row.destination, source: 'test', contentType: 'application/json',
    contentEncoding: null, body: row.body, attempts: row.attempts, budgetUsed: row.budgetUsed, receivedAt: 0,
  });
  const lease = (row: FakeRow, request: ClaimRequest) => {
    if (row.status === 'in_flight') row.attempts++;
    row.status = 'in_flight';
    row.nextAttemptAt = request.leaseExpiresAt;
    row.leaseOwner = request.owner;
    return toClaimed(row);
  };
  const byDue = (a: FakeRow, b: FakeRow) => a.nextAttemptAt - b.nextAttemptAt || a.id.localeCompare(b.id);
  const fifoHead = (destination: string) =>
    [...rows.values()].filter((row) => row.destination === destination && live(row)).sort((a, b) => a.position - b.position)[0];

  const store: Partial<DeliveryStore> = {
    async claimDue(request) {
      calls.push('claimDue');
      writes++;
      maybeFail('claimDue');
      let claimed: ClaimedDelivery[];
      if (request.fifo) {
        const head = fifoHead(request.destination);
        claimed = head && head.nextAttemptAt <= request.now && request.limit >= 1 ? [lease(head, request)] : [];
      } else {
        const due = [...rows.values()].filter((row) => row.destination === request.destination && live(row) && row.nextAttemptAt <= request.now).sort(byDue).slice(0, request.limit);
        let bytes = 0;
        const taken: FakeRow[] = [];
        for (const [index, row] of due.entries()) {
          bytes += row.body.length;
          if (bytes > (request.maxBodyBytes ?? Number.MAX_SAFE_INTEGER) && !(index === 0 && request.oversizedFirst)) break;
          taken.push(row);
        }
        claimed = taken.map((row) => lease(row, request));
      }
      if (loseClaim && claimed.length > 0) {
        loseClaim = false;
        throw Object.assign(new Error('storage cannot claim deliveries: connection lost'), { name: 'HookrelayError', code: 'HOOKRELAY_STORAGE_UNAVAILABLE' });
      }
      return claimed;
    },
    async completeAttempts(completions, owner) {
      calls.push('completeAttempts');
      writes++;
      maybeFail('completeAttempts');
      const fallbacks: FallbackDelivery[] = [];
      for (const { attempt, decision, countsAgainstBudget, fallback } of completions) {
        attempts.push(attempt);
        const row = rows.get(attempt.deliveryId);
        if (!row || row.status !== 'in_flight' || row.leaseOwner !== owner) continue;
        row.status = decision.kind === 'retry' ? 'pending' : decision.kind;
        row.nextAttemptAt = decision.kind === 'retry' ? decision.nextAttemptAt : now();
        row.leaseOwner = null;
        row.attempts = Math.max(row.attempts, attempt.number);
        if (countsAgainstBudget) row.budgetUsed++;
        if (row.status === 'dead' && fallback !== undefined) {
          const created = api.add(fallback, { eventId: row.eventId, body: row.body });
          fallbacks.push({ deliveryId: created.id, eventId: row.eventId, from: row.destination, to: fallback });
        }
      }
      return fallbacks;
    },
    async releaseClaims(ids, nextAttemptAt, attempted = false) {
      if (ids.length === 0) return;
      calls.push('releaseClaims');
      writes++;
      maybeFail('releaseClaims');
      for (const id of ids) {
        const row = rows.get(id);
        if (!row || row.status !== 'in_flight') continue;
        Object.assign(row, { status: 'pending', nextAttemptAt, leaseOwner: null, attempts: row.attempts + (attempted ? 1 : 0) });
      }
    },
    async releaseLostClaims(destination, owner, keep, at) {
      calls.push('releaseLostClaims');
      writes++;
      maybeFail('releaseLostClaims');
      let count = 0;
      for (const row of rows.values()) {
        if (row.destination !== destination || row.status !== 'in_flight' || row.leaseOwner !== owner || keep.includes(row.id)) continue;
        Object.assign(row, { status: 'pending', nextAttemptAt: at, leaseOwner: null });
        count++;
      }
      return count;
    },
    async recoverOrphanedLeases(at) {
      calls.push('recoverOrphanedLeases');
      writes++;
      let count = 0;
      for (const row of rows.values()) {
        if (row.status !== 'in_flight') continue;
        Object.assign(row, { status: 'pending', nextAttemptAt: at, leaseOwner: null, attempts: row.attempts + 1 });
        count++;
      }
      return count;
    },
    async nextDueAt(queries: readonly DueQuery[]) {
      calls.push('nextDueAt');
      const due: Record<string, number> = {};
      for (const { destination, fifo } of queries) {
        const candidates = fifo ? [fifoHead(destination)].filter((row) => row !== undefined) : [...rows.values()].filter((row) => row.destination === destination && live(row));
        if (candidates.length > 0) due[destination] = Math.min(...candidates.map((row) => row.nextAttemptAt));
      }
      return due;
    },
    async writeTransactions() {
      return writes;
    },
  };

  const api: FakeStore = {
    store: store as DeliveryStore,
    rows,
    calls,
    attempts,
    add(destination, { dueAt = now(), body = Buffer.from('{}'), eventId } = {}) {
      position++;
      const row: FakeRow = {
        id: `dlv_${String(position).padStart(4, '0')}`,
        eventId: eventId ?? `evt_${position}`,
        destination,
        status: 'pending',
        nextAttemptAt: dueAt,
        attempts: 0,
        budgetUsed: 0,
        leaseOwner: null,
        body,
        position,
      };
      rows.set(row.id, row);
      return row;
    },
    fail(method, times = 1) {
      failures.set(method, times);
    },
    loseNextClaimAnswer() {
      loseClaim = true;
    },
    writes: () => writes,
    statusOf: (id) => rows.get(id)?.status,
  };
  return api;
}
