/**
 * How the SQLite adapter runs a write: refused once the database's files are no longer the
 * ones it opened, counted (hookrelay_storage_write_transactions_total), and its SQLite
 * failure mapped to HOOKRELAY_STORAGE_UNAVAILABLE with `what` it was doing ("replay", "prune").
 */
export type GuardedWrite = <T>(what: string, run: () => T) => T;
