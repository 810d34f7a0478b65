import { z } from "zod";
import { R2_ENDPOINT } from "../../components/backup/builders";
import { databaseSettingsProblems } from "../../components/database/builders";
import { clusterSchema } from "./cluster";
import { cronProblem, longestGapSeconds } from "./cron";
import { JOB_DURATION_BUCKETS } from "../../components/observability/rules";
import { observabilitySchema } from "./observability";
import { costSchema, derivedCostPerSecondUsd, unpricedKeys } from "./cost";
import { edgeSchema } from "./edge";
import { POOL_NAMES, PROCESSOR_NAMES, type ProcessorName } from "./defaults";
import { QUANTITY_PATTERN, parseQuantity } from "./quantity";

const quantity = z.string().regex(QUANTITY_PATTERN, "expected a Kubernetes quantity such as 500m, 2, 512Mi or 4Gi");
const percent = z.number().gt(0, "expected a percentage in (0, 100]").max(100, "expected a percentage in (0, 100]");
const positiveInt = z.number().int().positive();

const scalingSchema = z
  .strictObject({
    minReplicas: z.number().int().min(0),
    maxReplicas: positiveInt,
    targetCPU: percent,
    targetMemory: percent,
    targetQueueDepth: positiveInt,
    scaleUpRate: positiveInt,
    scaleDownRate: positiveInt,
    // It becomes the period of the HPA's scaling policies, which Kubernetes bounds to 1–1800 s.
    cooldownPeriod: z
      .number()
      .int()
      .min(1, "expected seconds in [1, 1800] (an HPA scaling policy's period)")
      .max(1800, "expected seconds in [1, 1800] (an HPA scaling policy's period)"),
  })
  .superRefine((s, ctx) => {
    if (s.minReplicas > s.maxReplicas) {
      ctx.addIssue({
        code: "custom",
        path: ["minReplicas"],
        message: `must be ≤ maxReplicas (${s.maxReplicas}), got ${s.minReplicas}`,
      });
    }
  });

const resourceSet = z.strictObject({ cpu: quantity, memory: quantity, ephemeralStorage: quantity });

const resourcesSchema = z
  .strictObject({ requests: resourceSet, limits: resourceSet, gpu: z.number().int().min(0) })
  .superRefine((r, ctx) => {
    for (const key of ["cpu", "memory", "ephemeralStorage"] as const) {
      if (parseQuantity(r.requests[key]) > parseQuantity(r.limits[key])) {
        ctx.addIssue({
          code: "custom",
          path: ["requests", key],
          message: `must be ≤ limits.${key} (${r.limits[key]}), got ${r.requests[key]}`,
        });
      }
    }
  });

const cronField = z.string().superRefine((v, ctx) => {
  const problem = cronProblem(v);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const prewarmSchema = z.strictObject({
  /** Shown in the KEDA trigger's name. */
  name: z.string().regex(/^[a-z0-9-]+$/, "expected lowercase letters, digits and dashes"),
  timezone: z.string().min(1).default("UTC"),
  start: cronField,
  end: cronField,
  desiredReplicas: positiveInt,
});

export const processorSchema = z.strictObject({
  scaling: scalingSchema,
  resources: resourcesSchema,
  maxConcurrentJobs: positiveInt,
  jobTimeoutSeconds: positiveInt,
  jobLeaseSeconds: z.number().int().min(5).max(600),
  /**
   * How long `pulumi up` waits for the Deployment to become ready on create and update. GPU processors wait for a
   * node from zero, its driver, a multi-GB image and a 300 s startup probe.
   */
  rolloutTimeoutMinutes: z.number().int().min(5, "expected minutes in [5, 120]").max(120, "expected minutes in [5, 120]"),
  /** Price of one job-second for `job_cost_usd`; unset, it is derived from the pool's price and the requests (docs/cost.md). */
  costPerSecondUsd: z.number().min(0).optional(),
  placement: z.strictObject({
    pool: z.enum(POOL_NAMES),
    /** Spot pools only: schedule on on-demand nodes when no spot capacity is available. */
    fallbackToOnDemand: z.boolean(),
  }),
  slo: z.strictObject({
    availability: z.number().gt(0).lt(100),
    /** A bucket edge of the worker's `job_duration_seconds`, so the latency SLI can count jobs within it. */
    latencyP95Seconds: positiveInt.refine((s) => (JOB_DURATION_BUCKETS as readonly number[]).includes(s), {
      message: `expected a bucket edge of job_duration_seconds: ${JOB_DURATION_BUCKETS.join(", ")}`,
    }),
  }),
  /** Scheduled pre-warm windows (KEDA cron triggers). */
  prewarm: z.array(prewarmSchema),
});
/** A processor's settings once parsed: its job-second price is always known, given or derived. */
export type ProcessorConfig = z.infer<typeof processorSchema> & { costPerSecondUsd: number };

export const platformSchema = z
  .strictObject({
    /** Environment name carried on every label and tag. */
    environment: z.string().regex(/^[a-z][a-z0-9-]*$/, "expected a lowercase name such as production"),
    costCenter: z.string().min(1),
    team: z.string().min(1),
    namespace: z.string().regex(/^[a-z0-9-]+$/),
    ingressNamespace: z.string().regex(/^[a-z0-9-]+$/),
    monitoringNamespace: z.string().regex(/^[a-z0-9-]+$/),
    kedaNamespace: z.string().regex(/^[a-z0-9-]+$/),
    cluster: clusterSchema,
    processors: z.strictObject(
      Object.fromEntries(PROCESSOR_NAMES.map((p) => [p, processorSchema])) as Record<
        ProcessorName,
        typeof processorSchema
      >,
    ),
    database: z.strictObject({
      /**
       * An external database the processors reach at these CIDRs, with the `databaseUrl` secret. Unset (the
       * default): the program runs the database itself (CloudNativePG) and produces the connection Secrets.
       */
      cidrs: z.array(z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, "expected an IPv4 CIDR")).min(1).optional(),
      port: z.number().int().min(1).max(65535),
      instances: z.number().int().min(1).max(9),
      storageSize: quantity,
      maxConnections: z.number().int().min(50).max(5000),
      /** `archive_timeout`: at most the 5-minute RPO. */
      archiveTimeoutSeconds: z.number().int().min(30, "expected 30–300 seconds").max(300, "expected 30–300 seconds (the RPO is 5 minutes)"),
      walRetentionDays: positiveInt,
      baseBackupSchedule: cronField,
      maxReplicationLagSeconds: positiveInt,
      pooler: z.strictObject({
        instances: z.number().int().min(1).max(10),
        defaultPoolSize: positiveInt,
        maxClientConnections: positiveInt,
      }),
      /** dr stack: the database is a replica of this stack's (`org/project/stack`), read from its WAL archive. */
      replicaOf: z
        .strictObject({
          stack: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "expected a stack reference name org/project/stack"),
        })
        .optional(),
    }),
    /** Routine database maintenance (a database the program runs): UTC schedules and retention. */
    maintenance: z.strictObject({
      heartbeat: cronField,
      vacuum: cronField,
      refreshStats: cronField,
      partitions: cronField,
      purge: cronField,
      capacityReport: cronField,
      jobRetentionDays: z.number().int().min(1, "expected at least 1 day (0 would purge jobs as they finish)"),
      metricsRetentionMonths: z.number().int().min(1, "expected at least 1 month"),
    }),
    /** Staged failover to this stack (dr): the share of traffic it takes; 100 also promotes its database. */
    failover: z.strictObject({
      phase: z.union([z.literal(0), z.literal(10), z.literal(50), z.literal(100)], { error: "expected one of 0, 10, 50, 100" }),
    }),
    images: z.strictObject({
      /** Build context, relative to the project root. */
      context: z.string().min(1),
      dockerfile: z.string().min(1),
      platforms: z.array(z.enum(["linux/amd64", "linux/arm64"])).min(1),
      push: z.boolean(),
      untaggedRetentionDays: positiveInt,
    }),
    resourceQuota: z.record(z.string(), quantity),
    backups: z.strictObject({
      /** Cloudflare account that owns the R2 backup bucket. */
      accountId: z.string().regex(/^[0-9a-f]{32}$/, "expected a 32-character Cloudflare account id"),
      /** R2 bucket the stack creates for database backups; objects land under `postgres/`. */
      bucket: z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, "expected an R2 bucket name (3–63 lowercase letters, digits, dashes)"),
      /** R2 location hint: keep backups near the region they protect. */
      location: z.enum(["wnam", "enam", "weur", "eeur", "apac", "oc"]),
      /** Cron schedule of the backup job (UTC); BackupStale allows twice its longest gap between runs. */
      schedule: cronField.refine((v) => cronProblem(v) !== undefined || Number.isFinite(longestGapSeconds(v)), {
        message: "never runs (no date matches it): backups would never be taken",
      }),
      /** Grandfather-father-son retention: how many of the newest hourly, daily, weekly and monthly backups stay. */
      retention: z.strictObject({ hourly: positiveInt, daily: positiveInt, weekly: positiveInt, monthly: positiveInt }),
      /** The daily mirror of an R2 results store under the backup bucket's `r2/`: its schedule (UTC) and retention. */
      resultsMirror: z.strictObject({ schedule: cronField, retention: z.strictObject({ daily: positiveInt, weekly: positiveInt }) }),
      /**
       * The cluster-state backup (Velero) under the cloud backup bucket's `configs/`: its schedule (UTC), how long each
       * backup is kept (a Go duration such as 8760h) and how old the newest may grow before VeleroBackupStale.
       */
      configs: z.strictObject({
        schedule: cronField,
        ttl: z.string().regex(/^(?=\d)(\d+h)?(\d+m)?(\d+s)?$/, "expected a Go duration in hours, minutes or seconds such as 8760h").refine((v) => /[1-9]/.test(v), "expected a duration above 0"),
        maxAgeHours: z.number().positive("expected a number of hours above 0"),
      }),
      /** The daily copy of the bucket's `postgres/` and `r2/` into the stack's own cloud (GCS on gcp, S3 on aws). */
      cloudCopy: z.strictObject({
        schedule: cronField,
        deadlineMinutes: z.number().int().min(10, "expected at least 10 minutes").max(1440, "expected at most 1440 minutes (a day)"),
        /** Days a replaced or deleted version stays in the copy. */
        noncurrentDays: positiveInt,
        /** Days the copy's access logs are kept. */
        accessLogDays: positiveInt,
      }),
    }),
    /** Daily restore of the newest backup into a scratch database, and how old backups may grow before alerts. */
    restoreVerification: z.strictObject({
      schedule: cronField,
      maxVerifiedBackupAgeHours: z.number().positive("expected a number of hours above 0"),
      deadlineMinutes: z.number().int().min(5, "expected at least 5 minutes").max(1440, "expected at most 1440 minutes (a day)"),
      scratchStorage: quantity,
    }),
    /** Prometheus, Alertmanager, Loki and Grafana: figures, routing and retention. */
    observability: observabilitySchema,
    cost: costSchema,
    /** The public edge: ingress controller, routes and their limits, origin TLS, Cloudflare. */
    edge: edgeSchema,
    results: z.strictObject({
      /** Where handlers write outputs: `s3://bucket/prefix` (R2 or S3) or `file:///dir`. */
      storeUrl: z.string().regex(/^(s3|gs|file):\/\/.+/, "expected s3://bucket/prefix, gs://bucket/prefix or file:///dir"),
      /**
       * Cloudflare R2's endpoint (`https://<account>.r2.cloudflarestorage.com`): the program mints the processors' token
       * for the results bucket in that account. Unset for the cloud's own object storage, reached by workload identity.
       */
      s3Endpoint: z.string().regex(R2_ENDPOINT, "expected R2's endpoint https://<32-hex-digit account id>.r2.cloudflarestorage.com").optional(),
    }),
  })
  .superRefine((c, ctx) => {
    for (const issue of unpricedKeys(c.cluster)) ctx.addIssue({ code: "custom", ...issue });
    if (c.cost.monthlyBudgetUsd !== undefined && c.cluster.cloud === "gcp" && !c.cost.billingAccount) {
      ctx.addIssue({ code: "custom", path: ["cost", "billingAccount"], message: "required on gcp when cost.monthlyBudgetUsd is set (the budget lives on the billing account)" });
    }
    if (!c.database.cidrs) {
      for (const [key, message] of databaseSettingsProblems(c.database)) ctx.addIssue({ code: "custom", path: ["database", key], message });
    }
    if (c.database.cidrs && c.database.replicaOf) {
      ctx.addIssue({ code: "custom", path: ["database", "replicaOf"], message: "applies only to a database the program runs; remove database.cidrs or replicaOf" });
    }
    if (c.failover.phase === 100 && !c.database.cidrs && !c.database.replicaOf) {
      ctx.addIssue({ code: "custom", path: ["failover", "phase"], message: "100 promotes this stack's replica database, but database.replicaOf is not set" });
    }
    const pools = c.cluster.nodePools;
    for (const name of PROCESSOR_NAMES) {
      const p = c.processors[name];
      if (p.resources.gpu > 0) {
        if (p.placement.pool !== "gpu") {
          ctx.addIssue({
            code: "custom",
            path: ["processors", name, "placement", "pool"],
            message: `must be "gpu" because processors.${name}.resources.gpu is ${p.resources.gpu}`,
          });
        }
        if (pools.gpu.maxNodes === 0 || pools.gpu.gpuCount === 0) {
          ctx.addIssue({
            code: "custom",
            path: ["cluster", "nodePools", "gpu", pools.gpu.maxNodes === 0 ? "maxNodes" : "gpuCount"],
            message: `must be > 0 because processors.${name}.resources.gpu requests ${p.resources.gpu} GPU(s)`,
          });
        }
      }
      const pool = pools[p.placement.pool];
      const canFallBack = p.placement.fallbackToOnDemand && pools.general.maxNodes > 0;
      if (pool.maxNodes === 0 && p.resources.gpu === 0 && !canFallBack) {
        ctx.addIssue({
          code: "custom",
          path: ["processors", name, "placement", "pool"],
          message: `is "${p.placement.pool}", but cluster.nodePools.${p.placement.pool}.maxNodes is 0: the pods could never be scheduled`,
        });
      }
      if (p.placement.fallbackToOnDemand && p.placement.pool !== "spot") {
        ctx.addIssue({
          code: "custom",
          path: ["processors", name, "placement", "fallbackToOnDemand"],
          message: `only applies to the spot pool, but placement.pool is "${p.placement.pool}"`,
        });
      }
      if (p.resources.gpu > 0 && p.rolloutTimeoutMinutes < 20) {
        // New GPU node (~5 min), driver install (~5 min), CUDA image pull (~5 min) and the 300 s startup probe.
        ctx.addIssue({
          code: "custom",
          path: ["processors", name, "rolloutTimeoutMinutes"],
          message: `must be ≥ 20 for a GPU processor (node from zero, driver, image pull, 5 min startup probe), got ${p.rolloutTimeoutMinutes}`,
        });
      }
      if (p.jobLeaseSeconds >= p.jobTimeoutSeconds) {
        // A lease longer than the job itself means a crashed worker's job waits longer than it would have run.
        ctx.addIssue({
          code: "custom",
          path: ["processors", name, "jobLeaseSeconds"],
          message: `must be < jobTimeoutSeconds (${p.jobTimeoutSeconds}), got ${p.jobLeaseSeconds}`,
        });
      }
    }
    // Every processor at its maximum must fit the namespace quota, or autoscaling stalls silently at the quota.
    for (const [quotaKey, resource] of [
      ["requests.cpu", "cpu"],
      ["requests.memory", "memory"],
    ] as const) {
      const hard = c.resourceQuota[quotaKey];
      if (!hard) continue;
      const total = PROCESSOR_NAMES.reduce(
        (sum, n) => sum + c.processors[n].scaling.maxReplicas * parseQuantity(c.processors[n].resources.requests[resource]),
        0,
      );
      if (Number.isFinite(total) && total > parseQuantity(hard)) {
        ctx.addIssue({
          code: "custom",
          path: ["resourceQuota", quotaKey],
          message: `is ${hard}, but the processors at maxReplicas request ${formatTotal(resource, total)}; raise the quota or lower processors.*.scaling.maxReplicas / resources.requests.${resource}`,
        });
      }
    }
  })
  // A processor without its own job-second price gets the one its pool's machine and its requests cost (docs/cost.md).
  .transform((c) => ({
    ...c,
    processors: Object.fromEntries(
      PROCESSOR_NAMES.map((n) => [n, { ...c.processors[n], costPerSecondUsd: c.processors[n].costPerSecondUsd ?? derivedCostPerSecondUsd(c.cluster, c.processors[n]) }]),
    ) as Record<ProcessorName, ProcessorConfig>,
  }));

function formatTotal(resource: "cpu" | "memory", total: number): string {
  return resource === "cpu" ? `${+total.toFixed(2)} CPU` : `${+(total / 1024 ** 3).toFixed(2)}Gi`;
}

export type PlatformConfig = z.infer<typeof platformSchema>;
