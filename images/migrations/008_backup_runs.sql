-- One row per run of the backup job, written by the job itself whatever the
-- outcome, so the freshness of backups is known from the job that makes them
-- (the database's metrics exporter reads the newest rows) rather than from the
-- daily restore verification. The job prunes old rows itself; the newest
-- successful run is always kept.
CREATE TABLE backup_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    success         boolean NOT NULL,
    -- Where the dumps go (s3://bucket/prefix/postgres/).
    location        text NOT NULL,
    -- The stored, verified dump; NULL when the run stored none.
    backup_key      text,
    backup_bytes    bigint CHECK (backup_bytes >= 0),
    -- Copies written into the daily, weekly and monthly tiers by this run.
    tier_copies     text[] NOT NULL DEFAULT '{}',
    -- What failed; NULL on success.
    error           text,
    CHECK (finished_at >= started_at),
    CHECK (success = (error IS NULL)),
    CHECK (NOT success OR (backup_key IS NOT NULL AND backup_bytes IS NOT NULL))
);

CREATE INDEX idx_backup_runs_finished ON backup_runs (finished_at DESC);
CREATE INDEX idx_backup_runs_success ON backup_runs (finished_at DESC) WHERE success;
