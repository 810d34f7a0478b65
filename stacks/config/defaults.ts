/**
 * The operations playbook's figures, as the defaults every stack starts from.
 * Stack files override them key by key; nothing else in the program repeats these numbers.
 */

export const PROCESSOR_NAMES = [
  "video-processor",
  "document-processor",
  "ai-inference",
  "media-transcoder",
  "code-executor",
] as const;
export type ProcessorName = (typeof PROCESSOR_NAMES)[number];

/** The cluster components define the pools; the stack config names them. */
export { POOL_NAMES, type PoolName } from "../../components/cluster/types";

/** Job type each processor serves; the worker's `JOB_TYPE` and the KEDA queue query use it. */
export const JOB_TYPE_OF: Record<ProcessorName, string> = {
  "video-processor": "video",
  "document-processor": "document",
  "ai-inference": "inference",
  "media-transcoder": "media",
  "code-executor": "code",
};

/** Playbook "Horizontal Scaling Configuration": min / max / CPU % / memory % / queue depth / up / down / cooldown s. */
const scaling = (
  minReplicas: number,
  maxReplicas: number,
  targetCPU: number,
  targetMemory: number,
  targetQueueDepth: number,
  scaleUpRate: number,
  scaleDownRate: number,
  cooldownPeriod: number,
) => ({ minReplicas, maxReplicas, targetCPU, targetMemory, targetQueueDepth, scaleUpRate, scaleDownRate, cooldownPeriod });

const resources = (cpu: string, memory: string, cpuLimit: string, memoryLimit: string, ephemeral: string) => ({
  requests: { cpu, memory, ephemeralStorage: ephemeral },
  limits: { cpu: cpuLimit, memory: memoryLimit, ephemeralStorage: ephemeral },
});

/**
 * Per-processor defaults. Scaling and SLOs are the playbook's; resources, timeouts and concurrency are sized so
 * that every processor at its maximum replicas fits the playbook's ResourceQuota (100 CPU, 200Gi requested).
 */
/** Rollouts wait Pulumi's usual 10 minutes, except on GPU nodes: a node from zero, the driver, the CUDA image, a 5 min probe. */
export const PROCESSOR_DEFAULTS = {
  "video-processor": {
    scaling: scaling(2, 10, 70, 80, 50, 2, 1, 300),
    resources: { ...resources("2", "4Gi", "4", "8Gi", "20Gi"), gpu: 0 },
    maxConcurrentJobs: 2,
    jobTimeoutSeconds: 900,
    jobLeaseSeconds: 30,
    rolloutTimeoutMinutes: 10,
    placement: { pool: "spot", fallbackToOnDemand: true },
    slo: { availability: 99.9, latencyP95Seconds: 600 },
    prewarm: [],
  },
  "document-processor": {
    scaling: scaling(3, 20, 75, 85, 100, 3, 1, 180),
    resources: { ...resources("500m", "1Gi", "1", "2Gi", "2Gi"), gpu: 0 },
    maxConcurrentJobs: 4,
    jobTimeoutSeconds: 120,
    jobLeaseSeconds: 30,
    rolloutTimeoutMinutes: 10,
    placement: { pool: "general", fallbackToOnDemand: false },
    slo: { availability: 99.95, latencyP95Seconds: 60 },
    prewarm: [],
  },
  "ai-inference": {
    scaling: scaling(1, 5, 60, 70, 20, 1, 1, 600),
    resources: { ...resources("2", "8Gi", "4", "16Gi", "10Gi"), gpu: 1 },
    maxConcurrentJobs: 8,
    jobTimeoutSeconds: 300,
    jobLeaseSeconds: 30,
    rolloutTimeoutMinutes: 30,
    placement: { pool: "gpu", fallbackToOnDemand: false },
    slo: { availability: 99.5, latencyP95Seconds: 300 },
    prewarm: [],
  },
  "media-transcoder": {
    scaling: scaling(2, 8, 70, 75, 40, 2, 1, 300),
    resources: { ...resources("1", "2Gi", "2", "4Gi", "10Gi"), gpu: 0 },
    maxConcurrentJobs: 2,
    jobTimeoutSeconds: 600,
    jobLeaseSeconds: 30,
    rolloutTimeoutMinutes: 10,
    placement: { pool: "spot", fallbackToOnDemand: true },
    slo: { availability: 99.9, latencyP95Seconds: 300 },
    prewarm: [],
  },
  "code-executor": {
    scaling: scaling(5, 50, 80, 90, 200, 5, 2, 120),
    resources: { ...resources("250m", "256Mi", "1", "512Mi", "1Gi"), gpu: 0 },
    maxConcurrentJobs: 10,
    jobTimeoutSeconds: 30,
    jobLeaseSeconds: 15,
    rolloutTimeoutMinutes: 10,
    placement: { pool: "sandbox", fallbackToOnDemand: false },
    slo: { availability: 99.99, latencyP95Seconds: 30 },
    prewarm: [],
  },
} as const;

/** Playbook "Implement resource quotas". */
export const RESOURCE_QUOTA_DEFAULTS = {
  "requests.cpu": "100",
  "requests.memory": "200Gi",
  persistentvolumeclaims: "10",
  "services.loadbalancers": "2",
} as const;

/** Playbook backup policy: untagged images are kept 7 days. */
export const UNTAGGED_IMAGE_RETENTION_DAYS = 7;

/** Playbook backup policy for PostgreSQL: hourly, keeping 24 hourly, 7 daily, 4 weekly and 12 monthly copies. */
export const DATABASE_BACKUP_DEFAULTS = {
  location: "wnam",
  schedule: "0 * * * *",
  retention: { hourly: 24, daily: 7, weekly: 4, monthly: 12 },
  /** Playbook `backup_policy.storage.r2`: the results store mirrored daily under `r2/`, 30 daily and 12 weekly kept. */
  resultsMirror: { schedule: "30 3 * * *", retention: { daily: 30, weekly: 12 } },
  /**
   * Playbook `backup_policy.configurations` (on change, kept without limit) and its `configs` backup (the Sunday
   * 03:00 full backup): a daily Velero backup at 03:15 UTC, each kept a year (8760 h), and stale after two missed
   * days (50 h). See docs/decisions.md for why not "on change" and "unlimited".
   */
  configs: { schedule: "15 3 * * *", ttl: "8760h", maxAgeHours: 50 },
  /**
   * The copy in the stack's own cloud, daily at 05:00 UTC: after the day's first dump has filled the daily (and weekly,
   * monthly) tier, after the 03:30 results mirror and the 04:30 restore verification. Replaced versions stay 30 days,
   * access logs a year (CIS keeps audit trails 365 days).
   */
  cloudCopy: { schedule: "0 5 * * *", deadlineMinutes: 180, noncurrentDays: 30, accessLogDays: 365 },
} as const;

/**
 * Restore verification of the newest backup (playbook backup policy and monthly DR test, made daily): at 04:30 UTC,
 * after the 01:00 base backup, the 02:00 maintenance and the Sunday 03:00 jobs. Verification is daily, so the newest
 * verified backup may be 26 h old (a day plus one missed hourly backup) before `RestoreVerificationStale`.
 * (`BackupStale` reads the backup job's own runs; its threshold follows `backups.schedule`.)
 */
export const RESTORE_VERIFICATION_DEFAULTS = {
  schedule: "30 4 * * *",
  maxVerifiedBackupAgeHours: 26,
  deadlineMinutes: 60,
  scratchStorage: "20Gi",
} as const;

/**
 * Monitoring: the playbook's scrape and evaluation intervals, its five alert rules, the key-metrics table's critical
 * thresholds and the runbook index's triggers. Figures the playbook does not give are chosen and explained in
 * docs/decisions.md (retention, dead-letter and lease-expiry thresholds, digest timing).
 */
export const OBSERVABILITY_DEFAULTS = {
  agentsNamespace: "monitoring-agents",
  runbookBaseUrl: "https://github.com/pitchey/pitchey-containers/blob/main/docs/runbooks/",
  prometheus: {
    scrapeInterval: "15s",
    evaluationInterval: "15s",
    retention: "30d",
    retentionSize: "45GB",
    storageSize: "50Gi",
    replicas: 1,
  },
  alertmanager: {
    replicas: 2,
    storageSize: "1Gi",
    slackChannel: "#ops-containers",
    email: {
      to: "ops-containers@pitchey.com",
      from: "alertmanager@pitchey.com",
      smarthost: "smtp.pitchey.com:587",
      username: "alertmanager@pitchey.com",
    },
    digest: { groupWait: "5m", groupInterval: "1h", repeatInterval: "24h" },
  },
  alerts: {
    containerDown: { for: "2m" },
    highCpu: { threshold: 85, for: "5m" },
    highMemory: { threshold: 90, for: "5m" },
    queueBacklog: { threshold: 500, for: "10m" },
    errorRate: { threshold: 0.01, for: "5m" },
    responseTimeP95: { threshold: 1, for: "5m" },
    costPerJob: { threshold: 0.25, for: "15m" },
    databaseConnections: { threshold: 5, for: "2m" },
    storage: { threshold: 90, for: "5m" },
    certificateExpiryDays: { threshold: 7, for: "1h" },
    deadLetters: { threshold: 0, for: "0m", window: "15m" },
    leaseExpiries: { threshold: 5, for: "0m", window: "15m" },
  },
  burnRate: {
    periodDays: 30,
    page: [
      { factor: 14.4, long: "1h", short: "5m" },
      { factor: 6, long: "6h", short: "30m" },
    ],
    ticket: [
      { factor: 3, long: "1d", short: "2h" },
      { factor: 1, long: "3d", short: "6h" },
    ],
    pageFor: "2m",
    ticketFor: "15m",
  },
  loki: { location: "wnam", retention: "30d", storageSize: "10Gi" },
  grafana: { adminUser: "admin", storageSize: "2Gi" },
};
/** Cloudflare's published edge address ranges (https://www.cloudflare.com/ips/): the only clients the origin admits. */
export const CLOUDFLARE_RANGES = [
  "173.245.48.0/20",
  "103.21.244.0/22",
  "103.22.200.0/22",
  "103.31.4.0/22",
  "141.101.64.0/18",
  "108.162.192.0/18",
  "190.93.240.0/20",
  "188.114.96.0/20",
  "197.234.240.0/22",
  "198.41.128.0/17",
  "162.158.0.0/15",
  "104.16.0.0/13",
  "104.24.0.0/14",
  "172.64.0.0/13",
  "131.0.72.0/22",
  "2400:cb00::/32",
  "2606:4700::/32",
  "2803:f800::/32",
  "2405:b500::/32",
  "2405:8100::/32",
  "2a06:98c0::/29",
  "2c0f:f248::/32",
] as const;

const route = (
  zone: "api" | "heavy",
  burst: number,
  clientBurst: number,
  timeoutSeconds: number,
  buffering: boolean,
) => ({
  zone,
  burst,
  clientBurst,
  readTimeoutSeconds: timeoutSeconds,
  sendTimeoutSeconds: timeoutSeconds,
  requestBuffering: buffering,
  responseBuffering: buffering,
});

/**
 * Playbook "Network Optimization" (nginx.conf): the controller-wide settings, the `api` (10 r/s) and `heavy` (1 r/s)
 * zones, `/api/video/` (heavy, burst 5, 600 s, no buffering) and `/api/document/` (api, burst 20), upstreams with
 * least_conn, keepalive 32, max_fails 3, fail_timeout 30 s. The playbook has no block for inference, media and code,
 * nor per-client limits: those figures are ours (docs/edge.md says why).
 */
export const EDGE_DEFAULTS = {
  zone: "pitchey.com",
  apiHost: "api.pitchey.com",
  ingress: {
    replicas: 2,
    nginx: {
      workerProcesses: "auto",
      workerConnections: 4096,
      keepaliveTimeoutSeconds: 65,
      keepaliveRequests: 100,
      clientBodyBufferSize: "128k",
      clientMaxBodySize: "100m",
      largeClientHeaderBuffers: { number: 4, size: "8k" },
      gzip: { level: 6, types: ["text/plain", "text/css", "application/json", "application/javascript"] },
    },
    upstream: { lbMethod: "least_conn", keepalive: 32, maxFails: 3, failTimeoutSeconds: 30, connectTimeoutSeconds: 5 },
    cloudflareRanges: CLOUDFLARE_RANGES,
    hstsMaxAgeSeconds: 31536000,
  },
  rateLimits: {
    zones: {
      api: { ratePerSecond: 10, clientRatePerSecond: 50 },
      heavy: { ratePerSecond: 1, clientRatePerSecond: 5 },
    },
    routes: {
      "video-processor": route("heavy", 5, 10, 600, false),
      "document-processor": route("api", 20, 40, 60, true),
      "ai-inference": route("heavy", 5, 10, 300, true),
      "media-transcoder": route("heavy", 5, 10, 600, false),
      "code-executor": route("api", 20, 40, 60, true),
    },
  },
  tls: {
    acmeServer: "https://acme-v02.api.letsencrypt.org/directory",
  },
} as const;

/** Cloudflare figures a stack that manages Cloudflare (`edge.cloudflare` set) starts from. */
export const EDGE_CLOUDFLARE_DEFAULTS = {
    securityLevel: "medium",
    rateLimitPeriodSeconds: 10,
    mitigationTimeoutSeconds: 10,
    loadBalancer: {
      poolWeights: { primary: 1, standby: 0 },
      monitor: { path: "/health", expectedCodes: "200", intervalSeconds: 60, retries: 2, timeoutSeconds: 5 },
    },
} as const;
