// Generated from docs/runbooks by `npm run -w @pitchey/worker runbook-sql`; do not edit.
import type { RunbookQuery } from "./verify-queries";

export type { RunbookQuery };

export const RUNBOOK_SQL: readonly RunbookQuery[] = [
  {
    "file": "BackupStale.md",
    "index": 1,
    "sql": "SELECT finished_at, success, backup_key, pg_size_pretty(backup_bytes) AS size, cardinality(tier_copies) AS tier_copies, error\nFROM backup_runs ORDER BY finished_at DESC LIMIT 10;\n"
  },
  {
    "file": "ContainerDown.md",
    "index": 1,
    "sql": "SELECT status, count(*) FROM container_jobs\nWHERE type = 'video' AND created_at > now() - interval '15 minutes' GROUP BY status;\n"
  },
  {
    "file": "DatabaseConnectionsExhausted.md",
    "index": 1,
    "sql": "SELECT usename, application_name, client_addr, state, count(*)\nFROM pg_stat_activity GROUP BY 1, 2, 3, 4 ORDER BY count(*) DESC;\nSELECT pid, now() - state_change AS idle_for, left(query, 80)\nFROM pg_stat_activity WHERE state = 'idle in transaction' ORDER BY idle_for DESC;\nSHOW max_connections;\n"
  },
  {
    "file": "DatabaseWalArchivingFailing.md",
    "index": 1,
    "sql": "SELECT archived_count, last_archived_wal, last_archived_time, failed_count, last_failed_wal, last_failed_time\nFROM pg_stat_archiver;\n"
  },
  {
    "file": "HighCPUUsage.md",
    "index": 1,
    "sql": "SELECT id, type, started_at, now() - started_at AS running_for, attempts, progress\nFROM container_jobs\nWHERE status = 'processing' AND container_id = '<pod>'\nORDER BY started_at;\n"
  },
  {
    "file": "HighCostPerJob.md",
    "index": 1,
    "sql": "SELECT type,\n       count(*) FILTER (WHERE status = 'completed') AS completed,\n       count(*) FILTER (WHERE status IN ('dead', 'failed')) AS not_delivered,\n       round(avg(attempts), 2) AS avg_attempts,\n       round(avg(processing_time_seconds), 1) AS avg_seconds,\n       round(sum(estimated_cost_usd) / nullif(count(*) FILTER (WHERE status = 'completed'), 0), 4) AS usd_per_completed\nFROM container_jobs\nWHERE completed_at > now() - interval '1 hour'\nGROUP BY type ORDER BY usd_per_completed DESC NULLS FIRST;\n"
  },
  {
    "file": "HighErrorRate.md",
    "index": 1,
    "sql": "SELECT left(error_message, 160) AS error, status, count(*) AS jobs, max(completed_at) AS last_seen\nFROM container_jobs\nWHERE type = 'video' AND error_message IS NOT NULL AND created_at > now() - interval '1 hour'\nGROUP BY 1, 2 ORDER BY jobs DESC LIMIT 20;\n"
  },
  {
    "file": "HighMemoryUsage.md",
    "index": 1,
    "sql": "SELECT id, started_at, pg_column_size(payload) AS payload_bytes, payload->>'url' AS input\nFROM container_jobs WHERE status = 'processing' AND container_id = '<pod>';\n"
  },
  {
    "file": "HighResponseTime.md",
    "index": 1,
    "sql": "SELECT pid, now() - query_start AS running, wait_event_type, wait_event, left(query, 120)\nFROM pg_stat_activity WHERE state <> 'idle' ORDER BY running DESC LIMIT 20;\n"
  },
  {
    "file": "LatencyErrorBudgetBurn.md",
    "index": 1,
    "sql": "SELECT date_trunc('hour', completed_at) AS hour,\n       percentile_cont(0.95) WITHIN GROUP (ORDER BY processing_time_seconds) AS p95_seconds,\n       count(*) AS jobs\nFROM container_jobs WHERE type = 'code' AND completed_at > now() - interval '1 day'\nGROUP BY 1 ORDER BY 1 DESC;\n"
  },
  {
    "file": "QueueBacklog.md",
    "index": 1,
    "sql": "SELECT date_trunc('minute', created_at) AS minute, count(*) AS arrived\nFROM container_jobs WHERE type = 'document' AND created_at > now() - interval '30 minutes'\nGROUP BY 1 ORDER BY 1 DESC;\nSELECT date_trunc('minute', completed_at) AS minute, count(*) AS finished\nFROM container_jobs WHERE type = 'document' AND completed_at > now() - interval '30 minutes'\nGROUP BY 1 ORDER BY 1 DESC;\n"
  },
  {
    "file": "RestoreVerificationFailed.md",
    "index": 1,
    "sql": "SELECT finished_at, success, backup_key, backup_taken_at, finished_at - started_at AS took, message\nFROM restore_verifications ORDER BY finished_at DESC LIMIT 5;\n"
  },
  {
    "file": "RestoreVerificationStale.md",
    "index": 1,
    "sql": "SELECT max(finished_at) FILTER (WHERE success) AS last_success, max(finished_at) AS last_run, count(*) AS runs\nFROM restore_verifications;\n"
  },
  {
    "file": "disaster-recovery.md",
    "index": 1,
    "sql": "SELECT status, count(*) FROM container_jobs GROUP BY status ORDER BY status;\n"
  },
  {
    "file": "queue.md",
    "index": 1,
    "sql": "SELECT type,\n       count(*) FILTER (WHERE status = 'pending' AND run_at <= now()) AS runnable,\n       count(*) FILTER (WHERE status = 'pending' AND run_at > now())  AS waiting_retry,\n       count(*) FILTER (WHERE status = 'processing')                 AS processing,\n       min(created_at) FILTER (WHERE status = 'pending')             AS oldest_pending\nFROM container_jobs\nWHERE status IN ('pending', 'processing')\nGROUP BY type\nORDER BY type;\n"
  },
  {
    "file": "queue.md",
    "index": 2,
    "sql": "SELECT id, type, container_id, locked_by, attempts, max_attempts,\n       started_at, heartbeat_at, lease_expires_at,\n       now() - heartbeat_at AS silent_for\nFROM container_jobs\nWHERE status = 'processing'\n  AND (lease_expires_at < now() OR heartbeat_at < now() - interval '1 minute')\nORDER BY started_at;\n"
  },
  {
    "file": "queue.md",
    "index": 3,
    "sql": "SELECT id, type, started_at, now() - started_at AS running_for, progress, progress_message\nFROM container_jobs\nWHERE container_id = 'video-processor-0'\n  AND status = 'processing'\n  AND started_at < NOW() - INTERVAL '30 minutes'\nORDER BY started_at;\n"
  },
  {
    "file": "queue.md",
    "index": 4,
    "sql": "UPDATE container_jobs\nSET status = 'failed',\n    error_message = 'Cancelled due to high CPU usage',\n    completed_at = now(),\n    locked_by = NULL,\n    lease_expires_at = NULL\nWHERE container_id = 'video-processor-0'\n    AND status = 'processing'\n    AND started_at < NOW() - INTERVAL '30 minutes';\n"
  },
  {
    "file": "queue.md",
    "index": 5,
    "sql": "SELECT\n    date_trunc('minute', created_at) as minute,\n    COUNT(*) as job_count,\n    AVG(processing_time_seconds) as avg_time\nFROM container_jobs\nWHERE container_id = 'video-processor-0'\n    AND created_at > NOW() - INTERVAL '1 hour'\nGROUP BY minute\nORDER BY minute DESC;\n"
  },
  {
    "file": "queue.md",
    "index": 6,
    "sql": "SELECT type,\n       count(*) FILTER (WHERE status = 'completed') AS completed,\n       count(*) FILTER (WHERE status = 'dead')      AS dead,\n       count(*) FILTER (WHERE status = 'failed')    AS failed,\n       round(avg(processing_time_seconds) FILTER (WHERE status = 'completed'), 2) AS avg_seconds,\n       sum(estimated_cost_usd) AS cost_usd\nFROM container_jobs\nWHERE completed_at > now() - interval '1 hour'\nGROUP BY type\nORDER BY type;\n"
  },
  {
    "file": "queue.md",
    "index": 7,
    "sql": "SELECT type, left(error_message, 120) AS error, count(*) AS jobs, max(completed_at) AS last_seen\nFROM container_jobs\nWHERE status = 'dead'\nGROUP BY type, left(error_message, 120)\nORDER BY last_seen DESC\nLIMIT 50;\n"
  },
  {
    "file": "queue.md",
    "index": 8,
    "sql": "SELECT id, type, attempts, max_attempts, created_at, completed_at, error_message, payload\nFROM container_jobs\nWHERE status = 'dead' AND type = 'video'\nORDER BY completed_at DESC\nLIMIT 20;\n"
  },
  {
    "file": "queue.md",
    "index": 9,
    "sql": "UPDATE container_jobs\nSET status = 'pending', attempts = 0, run_at = now(), completed_at = NULL,\n    error_message = 'requeued from dead: ' || coalesce(error_message, '')\nWHERE status = 'dead'\n  AND type = 'video'\n  AND completed_at > now() - interval '1 day'\nRETURNING id;\n"
  },
  {
    "file": "queue.md",
    "index": 10,
    "sql": "SELECT refresh_container_stats();\nSELECT ensure_container_metrics_partitions(2);\n"
  },
  {
    "file": "queue.md",
    "index": 11,
    "sql": "EXPLAIN SELECT id FROM container_jobs\nWHERE type = 'video' AND status = 'pending' AND run_at <= now()\nORDER BY priority, created_at\nLIMIT 10;\n"
  },
  {
    "file": "restore-database.md",
    "index": 1,
    "sql": "SELECT version, name, applied_at FROM schema_migrations ORDER BY version;\n"
  },
  {
    "file": "restore-database.md",
    "index": 2,
    "sql": "SELECT status, count(*) AS jobs, max(created_at) AS newest\nFROM container_jobs\nGROUP BY status\nORDER BY status;\n"
  }
];
