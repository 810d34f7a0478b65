-- One row per restore-verification run: the newest backup restored into a
-- scratch database and checked. The database's metrics exporter reads the
-- newest rows, so a short-lived job's outcome reaches Prometheus without
-- anything scraping the job's pod.
CREATE TABLE restore_verifications (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz NOT NULL,
    success             boolean NOT NULL,
    -- Where the backups were looked for (s3://bucket/prefix/postgres/).
    location            text NOT NULL,
    -- The newest backup found; NULL when there was none.
    backup_key          text,
    backup_taken_at     timestamptz,
    backup_bytes        bigint CHECK (backup_bytes >= 0),
    -- Rows restored, over every table the backup holds data for.
    restored_rows       bigint CHECK (restored_rows >= 0),
    -- What failed (or what was checked, on success).
    message             text NOT NULL,
    CHECK (finished_at >= started_at),
    CHECK (NOT success OR backup_key IS NOT NULL)
);

CREATE INDEX idx_restore_verifications_finished ON restore_verifications (finished_at DESC);
CREATE INDEX idx_restore_verifications_success ON restore_verifications (finished_at DESC) WHERE success;
