-- Dashboard rollup. The unique index is what REFRESH ... CONCURRENTLY requires,
-- so dashboards keep reading while it refreshes.
CREATE MATERIALIZED VIEW container_stats_hourly AS
SELECT
    date_trunc('hour', created_at) AS hour,
    type,
    status,
    count(*) AS job_count,
    avg(processing_time_seconds) AS avg_processing_time,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY processing_time_seconds) AS median_time,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY processing_time_seconds) AS p95_time,
    sum(estimated_cost_usd) AS total_cost
FROM container_jobs
WHERE created_at > now() - interval '7 days'
GROUP BY date_trunc('hour', created_at), type, status;

CREATE UNIQUE INDEX idx_container_stats_hourly_key ON container_stats_hourly (hour, type, status);

CREATE FUNCTION refresh_container_stats() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY container_stats_hourly;
END;
$$;
