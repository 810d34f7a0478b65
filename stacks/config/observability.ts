import { z } from "zod";
import { durationSeconds } from "../../components/observability/rules";
import { QUANTITY_PATTERN } from "./quantity";

const duration = z
  .string()
  .refine((d) => Number.isFinite(durationSeconds(d)), "expected a Prometheus duration such as 30s, 5m, 2h or 30d");
const quantity = z.string().regex(QUANTITY_PATTERN, "expected a Kubernetes quantity such as 10Gi");
const name = z.string().regex(/^[a-z0-9-]+$/, "expected lowercase letters, digits and dashes");
const threshold = z.strictObject({ threshold: z.number().min(0), for: duration });
const windowed = threshold.extend({ window: duration });
const burnWindow = z
  .strictObject({ factor: z.number().positive(), long: duration, short: duration })
  .refine((w) => durationSeconds(w.short) < durationSeconds(w.long), { message: "short must be shorter than long", path: ["short"] });

export const observabilitySchema = z.strictObject({
  /** Namespace of the node agents (node-exporter, the log agent): they need host access, so PSA privileged. */
  agentsNamespace: name,
  /** Prefix of every alert's runbook_url; `<Alert>.md` is appended. */
  runbookBaseUrl: z.string().regex(/^(https?:\/\/\S+\/|\S*\/)$/, "expected a URL or path ending in /"),
  prometheus: z.strictObject({
    scrapeInterval: duration,
    evaluationInterval: duration,
    /** How long samples are kept; the SLO dashboards read a 30-day window, so keep at least that. */
    retention: duration,
    /** Size cap on the TSDB; must fit the volume. */
    retentionSize: z.string().regex(/^\d+(B|KB|MB|GB|TB)$/, "expected a size such as 45GB"),
    storageSize: quantity,
    replicas: z.number().int().min(1).max(3),
  }),
  alertmanager: z.strictObject({
    replicas: z.number().int().min(1).max(5),
    storageSize: quantity,
    /** Slack channel warnings are posted to. */
    slackChannel: z.string().regex(/^#[a-z0-9_-]+$/, "expected a Slack channel such as #ops-containers"),
    email: z.strictObject({
      to: z.email(),
      from: z.email(),
      /** `host:port` of the SMTP relay (STARTTLS). */
      smarthost: z.string().regex(/^[a-z0-9.-]+:\d{1,5}$/, "expected host:port"),
      username: z.string().min(1),
    }),
    /** The email digest: everything, batched. */
    digest: z.strictObject({ groupWait: duration, groupInterval: duration, repeatInterval: duration }),
  }),
  alerts: z.strictObject({
    containerDown: z.strictObject({ for: duration }),
    highCpu: threshold,
    highMemory: threshold,
    queueBacklog: threshold,
    errorRate: threshold,
    responseTimeP95: threshold,
    costPerJob: threshold,
    databaseConnections: threshold,
    storage: threshold,
    certificateExpiryDays: threshold,
    deadLetters: windowed,
    leaseExpiries: windowed,
  }),
  burnRate: z.strictObject({
    periodDays: z.number().int().min(1).max(90),
    page: z.array(burnWindow),
    ticket: z.array(burnWindow),
    pageFor: duration,
    ticketFor: duration,
  }),
  loki: z.strictObject({
    /** R2 bucket for chunks and index; default `<cluster.name>-logs`. */
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, "expected an R2 bucket name (3–63 lowercase letters, digits, dashes)")
      .optional(),
    location: z.enum(["wnam", "enam", "weur", "eeur", "apac", "oc"]),
    /** How long logs are kept (Loki's compactor deletes older chunks; the bucket's lifecycle is the backstop). */
    retention: duration.refine((d) => durationSeconds(d) >= 86400 && durationSeconds(d) % 86400 === 0, "expected whole days such as 30d"),
    /** Write-ahead log and cache volume of the single Loki instance. */
    storageSize: quantity,
  }),
  grafana: z.strictObject({
    adminUser: z.string().min(1),
    storageSize: quantity,
  }),
});

export type ObservabilityConfig = z.infer<typeof observabilitySchema>;
