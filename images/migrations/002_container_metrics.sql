-- Time series written by the autoscaling and capacity tooling; partitioned by
-- month from the start so old months drop cheaply and scans stay small.
CREATE TABLE container_metrics (
    "timestamp"       timestamptz NOT NULL,
    container_type    text NOT NULL,
    container_id      text,
    queue_depth       integer,
    response_time     double precision,
    cpu_usage         double precision,
    memory_usage      bigint,
    required_replicas integer
) PARTITION BY RANGE ("timestamp");

CREATE INDEX idx_container_metrics_type_time ON container_metrics (container_type, "timestamp" DESC);

-- Creates the partition for the current month and the next `months_ahead`
-- months. Idempotent; workers call it periodically so a month boundary never
-- finds its partition missing.
CREATE FUNCTION ensure_container_metrics_partitions(months_ahead integer DEFAULT 2)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    month_start date;
    created integer := 0;
BEGIN
    -- Serialises concurrent callers; CREATE TABLE IF NOT EXISTS alone races.
    PERFORM pg_advisory_xact_lock(hashtext('ensure_container_metrics_partitions'));
    FOR i IN 0..months_ahead LOOP
        month_start := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date;
        IF to_regclass(format('container_metrics_%s', to_char(month_start, 'YYYY_MM'))) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF container_metrics FOR VALUES FROM (%L) TO (%L)',
                format('container_metrics_%s', to_char(month_start, 'YYYY_MM')),
                month_start::timestamp AT TIME ZONE 'UTC',
                (month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC'
            );
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END;
$$;

SELECT ensure_container_metrics_partitions(2);
