-- One definition of a runnable job, shared by the workers' claim and the
-- autoscaler's query: pending and due. Retries in back-off and jobs scheduled
-- for later are not runnable, so they neither get claimed nor scale pools out.
-- A plain view: the planner inlines it, so the claim keeps its index and
-- FOR UPDATE SKIP LOCKED reaches the table's rows.
CREATE VIEW runnable_container_jobs AS
    SELECT * FROM container_jobs
     WHERE status = 'pending' AND run_at <= now();

-- What KEDA's postgresql trigger asks: how many jobs of this type a worker
-- could claim now.
CREATE FUNCTION runnable_job_count(job_type text) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT count(*) FROM runnable_container_jobs WHERE type = job_type
$$;

-- The lease the owner promised to renew within, recorded at each claim, so
-- every reaper judges a job by its own worker's timing rather than the
-- reaper's. Nullable: rows claimed before this column existed fall back to
-- the default lease.
ALTER TABLE container_jobs
    ADD COLUMN lease_seconds real CHECK (lease_seconds > 0);
