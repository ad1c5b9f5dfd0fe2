-- cutover's ledger: append-only, hash-chained records of runs, steps, evidence and approvals.
-- Portable across SQLite and PostgreSQL (the two engines a ledger may live on).
CREATE TABLE ledger_records (
    seq BIGINT PRIMARY KEY,
    runbook TEXT NOT NULL,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    step_id TEXT,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX ledger_records_by_run ON ledger_records (runbook, run_id, seq);

-- The newest record's seq and hash, so that truncating the chain is detected too.
CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

-- One run at a time per target. Not part of the chain: locks come and go.
CREATE TABLE run_locks (
    lock_key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    runbook TEXT NOT NULL,
    holder TEXT NOT NULL,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    acquired_at TEXT NOT NULL
);
