-- The job queue. Column names up to error_message are the operations contract
-- (runbooks, the KEDA scaler query and dashboards read them); the rest is what
-- at-least-once delivery with leases needs.
CREATE TABLE container_jobs (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type                    text NOT NULL
                            CHECK (type IN ('video', 'document', 'inference', 'media', 'code')),
    status                  text NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'dead')),
    -- Lower runs first, like nice(1) and graphile-worker.
    priority                integer NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    started_at              timestamptz,
    processing_time_seconds numeric(12, 3),
    estimated_cost_usd      numeric(16, 8),
    container_id            text,
    error_message           text,

    payload                 jsonb NOT NULL DEFAULT '{}'::jsonb,
    result                  jsonb,
    attempts                integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts            integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    run_at                  timestamptz NOT NULL DEFAULT now(),
    locked_by               text,
    lease_expires_at        timestamptz,
    heartbeat_at            timestamptz,
    completed_at            timestamptz,
    progress                real,
    progress_message        text,
    idempotency_key         text CHECK (length(idempotency_key) BETWEEN 1 AND 255),

    -- A claimed row always names its owner and lease; the reaper and the
    -- fenced updates rely on it.
    CONSTRAINT container_jobs_lease_consistent CHECK (
        status <> 'processing' OR (locked_by IS NOT NULL AND lease_expires_at IS NOT NULL)
    )
);

-- Idempotency keys are scoped per job type because each type has its own API.
-- Partial, so jobs without a key (most) cost it nothing on every status change.
CREATE UNIQUE INDEX idx_jobs_idempotency ON container_jobs (type, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- The playbook's indexes. CONCURRENTLY is pointless on a table created in the
-- same transaction (and not allowed inside one).
CREATE INDEX idx_jobs_status_created ON container_jobs (status, created_at DESC)
    WHERE status IN ('pending', 'processing');
-- Serves the claim query (type, then priority, then age) and KEDA's depth count.
CREATE INDEX idx_jobs_type_priority ON container_jobs (type, priority, created_at)
    WHERE status = 'pending';
CREATE INDEX idx_jobs_pending ON container_jobs (created_at)
    WHERE status = 'pending';
-- The reaper's scan of leased rows uses idx_jobs_status_created; a separate
-- lease index would be rewritten on every heartbeat for little gain.
CREATE INDEX idx_jobs_dead ON container_jobs (type, completed_at DESC)
    WHERE status = 'dead';

-- Wakes idle workers of the job's type as soon as a runnable job appears:
-- on submit, and when a job returns to pending (released on shutdown,
-- reclaimed after a lost lease, requeued by an operator). Retries scheduled
-- in the future are found by polling instead.
CREATE FUNCTION container_jobs_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.run_at <= now() THEN
        PERFORM pg_notify('container_jobs_' || NEW.type, '');
    END IF;
    RETURN NULL;
END;
$$;

-- WHEN clauses keep the function off the hot path of claims and completions.
CREATE TRIGGER container_jobs_notify_insert
    AFTER INSERT ON container_jobs
    FOR EACH ROW WHEN (NEW.status = 'pending')
    EXECUTE FUNCTION container_jobs_notify();

CREATE TRIGGER container_jobs_notify_requeue
    AFTER UPDATE OF status ON container_jobs
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending')
    EXECUTE FUNCTION container_jobs_notify();
