import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { DATABASE_DEFAULTS } from "../../components/database/builders";
import { MAINTENANCE_DEFAULTS } from "../../components/database/maintenance";
import { CLUSTER_DEFAULTS } from "./cluster";
import { DATABASE_BACKUP_DEFAULTS, RESTORE_VERIFICATION_DEFAULTS, EDGE_CLOUDFLARE_DEFAULTS, EDGE_DEFAULTS, OBSERVABILITY_DEFAULTS, PROCESSOR_DEFAULTS, RESOURCE_QUOTA_DEFAULTS, UNTAGGED_IMAGE_RETENTION_DAYS } from "./defaults";
import { COST_DEFAULTS } from "./cost";
import { platformSchema, type PlatformConfig } from "./schema";

export type { PlatformConfig, ProcessorConfig } from "./schema";
export type { ClusterConfig, PoolConfig } from "./cluster";
export type { ObservabilityConfig } from "./observability";
export type { EdgeConfig } from "./edge";
export * from "./defaults";

export const PROJECT = "pitchey-containers";

/**
 * Config keys that hold secrets; they are read as `Output`s and never enter `PlatformConfig`. No object-store key is
 * among them: the program mints one R2 token per use (results, backup writer, backup reader, the database's archive, Loki's logs)
 * with the Cloudflare provider's own token (`cloudflare:apiToken`), each limited to its bucket.
 * `edgeDnsApiToken` is a Cloudflare API token limited to DNS edits on the zone: cert-manager answers the ACME DNS-01
 * challenge for the origin certificate with it.
 */
export const SECRET_KEYS = [
  "databaseUrl",
  // Alertmanager's receivers and Grafana's admin.
  "pagerdutyRoutingKey",
  "slackWebhookUrl",
  "smtpPassword",
  "grafanaAdminPassword",
  // cert-manager's Cloudflare token for ACME DNS-01.
  "edgeDnsApiToken",
] as const;

/** Values every stack starts from before its own file is applied. */
export const PLATFORM_DEFAULTS = {
  costCenter: "platform-processing",
  team: "platform",
  namespace: "processors",
  ingressNamespace: "ingress-nginx",
  monitoringNamespace: "monitoring",
  kedaNamespace: "keda",
  processors: PROCESSOR_DEFAULTS,
  database: { port: 5432, ...DATABASE_DEFAULTS },
  failover: { phase: 0 },
  maintenance: MAINTENANCE_DEFAULTS,
  images: {
    context: "images",
    dockerfile: "images/Dockerfile",
    platforms: ["linux/amd64"],
    push: true,
    untaggedRetentionDays: UNTAGGED_IMAGE_RETENTION_DAYS,
  },
  resourceQuota: RESOURCE_QUOTA_DEFAULTS,
  backups: DATABASE_BACKUP_DEFAULTS,
  restoreVerification: RESTORE_VERIFICATION_DEFAULTS,
  observability: OBSERVABILITY_DEFAULTS,
  cost: COST_DEFAULTS,
  edge: EDGE_DEFAULTS,
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === "object" && v !== null && !Array.isArray(v);

/** Objects merge key by key; anything else (arrays included) from `override` replaces `base`. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (!isPlain(base) || !isPlain(override)) return override;
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = deepMerge(base[k], v);
  return out;
}

/** Keys the program once read and reads no more, with what replaced them: named when a stack still sets one. */
export const REMOVED_KEYS: Readonly<Record<string, string>> = {
  logsStoreAccessKeyId:
    "no longer read: the program mints Loki's R2 token itself (write on the logs bucket only); remove the key with `pulumi config rm logsStoreAccessKeyId` and revoke the token it held",
  logsStoreSecretAccessKey:
    "no longer read: the program mints Loki's R2 token itself (write on the logs bucket only); remove the key with `pulumi config rm logsStoreSecretAccessKey`",
  "restoreVerification.maxBackupAgeHours":
    "no longer read: BackupStale reads the backup job's own runs, and its threshold follows backups.schedule (twice the longest gap between runs); remove the key",
};

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".") || "(root)";
  if (issue.code === "unrecognized_keys") {
    return issue.keys
      .map((k) => {
        const key = path === "(root)" ? k : `${path}.${k}`;
        return `${key}: ${REMOVED_KEYS[key] ?? "unknown key (check its spelling; unknown keys are rejected, not ignored)"}`;
      })
      .join("\n  - ");
  }
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return `${path}: required, expected ${issue.expected}`;
  }
  return `${path}: ${issue.message}`;
}

/**
 * Parses a stack's config map (keys without the project prefix, values already JSON-decoded) into a
 * `PlatformConfig`, applying the playbook defaults. Throws `ConfigError` listing every problem.
 */
export function parsePlatformConfig(raw: Plain): PlatformConfig {
  const cloud = isPlain(raw.cluster) ? raw.cluster.cloud : undefined;
  const clusterDefaults = cloud === "gcp" || cloud === "aws" ? CLUSTER_DEFAULTS[cloud] : {};
  // Cloudflare's defaults apply only to a stack that manages Cloudflare at all.
  const managesCloudflare = isPlain(raw.edge) && raw.edge.cloudflare !== undefined;
  const edgeDefaults = managesCloudflare ? { ...EDGE_DEFAULTS, cloudflare: EDGE_CLOUDFLARE_DEFAULTS } : EDGE_DEFAULTS;
  const merged = deepMerge({ ...PLATFORM_DEFAULTS, cluster: clusterDefaults, edge: edgeDefaults }, raw);
  const result = platformSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(result.error.issues.map(formatIssue));
  return result.data;
}

export interface StackInputs {
  readonly stack: string;
  readonly config: PlatformConfig;
  readonly secrets: {
    /** External database only (`database.cidrs` set). */
    readonly databaseUrl: pulumi.Output<string> | undefined;
    readonly observability: {
      readonly pagerdutyRoutingKey: pulumi.Output<string>;
      readonly slackWebhookUrl: pulumi.Output<string>;
      readonly smtpPassword: pulumi.Output<string>;
      readonly grafanaAdminPassword: pulumi.Output<string>;
    };
    /** Cloudflare token (Zone DNS edit) for cert-manager's DNS-01 challenges. */
    readonly dnsApiToken: pulumi.Output<string>;
  };
}

/**
 * The only reader of Pulumi config. Reads every `pitchey-containers:*` key, so a misspelt top-level key
 * is reported instead of silently ignored.
 */
export function loadStackInputs(): StackInputs {
  const prefix = `${PROJECT}:`;
  const raw: Plain = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    if ((SECRET_KEYS as readonly string[]).includes(name)) continue;
    try {
      raw[name] = JSON.parse(value);
    } catch {
      raw[name] = value;
    }
  }
  let config: PlatformConfig | undefined;
  try {
    config = parsePlatformConfig(raw);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  const cfg = new pulumi.Config(PROJECT);
  for (const key of SECRET_KEYS) {
    // The program makes the connection itself unless the database is external.
    if (key === "databaseUrl" && config && !config.database.cidrs) continue;
    if (cfg.get(key) === undefined) problems.push(`${key}: required secret; set it with \`pulumi config set --secret ${key} <value>\``);
  }
  if (problems.length > 0 || !config) throw new ConfigError(problems);
  const observability = {
    pagerdutyRoutingKey: cfg.requireSecret("pagerdutyRoutingKey"),
    slackWebhookUrl: cfg.requireSecret("slackWebhookUrl"),
    smtpPassword: cfg.requireSecret("smtpPassword"),
    grafanaAdminPassword: cfg.requireSecret("grafanaAdminPassword"),
  };
  return { stack: pulumi.getStack(), config, secrets: { databaseUrl: config.database.cidrs ? cfg.requireSecret("databaseUrl") : undefined, observability, dnsApiToken: cfg.requireSecret("edgeDnsApiToken") } };
}
