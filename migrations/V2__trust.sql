-- Where the chain was last verified in full up to (seq, hash): commands that act on the
-- ledger verify from there on (if that record still has that hash), not from genesis.
CREATE TABLE ledger_verified (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

-- The holding process's start time, so that a pid reused by another process does not
-- keep a lock forever.
ALTER TABLE run_locks ADD COLUMN proc_start TEXT;

-- The latest run of a runbook is found by its run_started record: without this index
-- that is a scan of the whole ledger on every command.
CREATE INDEX ledger_records_by_kind ON ledger_records (runbook, kind, seq);
