import { describe, expect, it } from "vitest";
import { parseBackupEnv, parseMirrorEnv } from "../images/src/backup/env";
import { parseEnv } from "../images/src/runtime/config";
import { backupCronJobSpec, mirrorCronJobSpec, r2Endpoint } from "../components/backup/builders";
import type { PoolScheduling } from "../components/cluster/types";
import { deploymentSpec } from "../components/processor/builders";
import { JOB_TYPE_OF, parsePlatformConfig } from "./config";
import { parseQuantity } from "./config/quantity";

/**
 * The env the manifests set is the contract with the worker and backup commands: resolve it as the kubelet would
 * and parse it with the commands' own parsers, so a renamed or misspelt variable fails here, not in production.
 */
const SECRET_DATA: Record<string, Record<string, string>> = {
  "jobs-database": { DATABASE_URL: "postgres://worker:pw@db.internal:5432/jobs" },
  "results-store": { AWS_ACCESS_KEY_ID: "key-id", AWS_SECRET_ACCESS_KEY: "secret" },
  "backup-writer": { AWS_ACCESS_KEY_ID: "key-id", AWS_SECRET_ACCESS_KEY: "secret" },
};

/**
 * The container's environment and files as the kubelet would give them: values, field and resource references,
 * and the projected keys of Secret volumes at their mount paths. A secretKeyRef in env is refused outright.
 */
function kubelet(pod: any): { env: NodeJS.ProcessEnv; readSecret: (path: string) => string } {
  const c = pod.containers[0];
  const files = new Map<string, string>();
  for (const m of c.volumeMounts ?? []) {
    const v = pod.volumes.find((x: any) => x.name === m.name);
    if (!v?.secret) continue;
    for (const item of v.secret.items) files.set(`${m.mountPath}/${item.path}`, `${SECRET_DATA[v.secret.secretName][item.key]}\n`);
  }
  const limits: Record<string, string> = { "limits.cpu": String(parseQuantity(c.resources.limits.cpu) * 1000), "limits.memory": String(parseQuantity(c.resources.limits.memory)) };
  const env = Object.fromEntries(
    (c.env as any[]).map((e) => {
      if (e.valueFrom?.secretKeyRef) throw new Error(`${e.name} is a secret in the environment`);
      if (e.valueFrom?.resourceFieldRef) return [e.name, limits[e.valueFrom.resourceFieldRef.resource]];
      if (e.valueFrom?.fieldRef) return [e.name, "video-processor-7d9f-abcde"];
      return [e.name, e.value];
    }),
  );
  return {
    env,
    readSecret: (path) => {
      const v = files.get(path);
      if (v === undefined) throw new Error(`no file ${path} in the pod`);
      return v;
    },
  };
}

const pool: PoolScheduling = { name: "general", labels: { "pitchey.io/pool": "general" }, taints: [] };
const config = parsePlatformConfig({
  environment: "production",
  cluster: { cloud: "gcp", region: "us-west1", project: "p", authorizedNetworks: [{ name: "vpn", cidr: "203.0.113.0/24" }] },
  database: { cidrs: ["10.40.0.0/24"] },
  results: { storeUrl: "s3://results/jobs", s3Endpoint: "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com" },
  backups: { accountId: "0123456789abcdef0123456789abcdef", bucket: "backups", retention: { hourly: 30, daily: 9, weekly: 5, monthly: 14 } },
  processors: { "document-processor": { maxConcurrentJobs: 7, jobTimeoutSeconds: 111, jobLeaseSeconds: 22, costPerSecondUsd: 0.0005 } },
});

describe("manifest env ↔ worker env contract", () => {
  it("the processor Deployment's env parses into exactly the configured settings", () => {
    const pc = config.processors["document-processor"];
    const spec = deploymentSpec({
      name: "document-processor",
      jobType: JOB_TYPE_OF["document-processor"],
      config: pc,
      image: `r/document-processor@sha256:${"c".repeat(64)}`,
      labels: { environment: "production", costCenter: "c", team: "t" },
      pool,
      serviceAccountName: "document-processor",
      databaseSecretName: "jobs-database",
      resultsStoreUrl: config.results.storeUrl,
      resultsS3Endpoint: config.results.s3Endpoint,
      resultsStoreSecretName: "results-store",
      httpsEgress: true,
    }) as any;
    const k = kubelet(spec.template.spec);
    const env = parseEnv(k.env, k.readSecret);
    expect(env).toMatchObject({
      jobType: "document",
      port: 8080,
      maxConcurrentJobs: 7,
      jobTimeoutSeconds: 111,
      leaseSeconds: 22,
      costPerSecondUsd: 0.0005,
      resultsStoreUrl: "s3://results/jobs",
      containerId: "video-processor-7d9f-abcde",
      shutdownGraceSeconds: 111 + 30 - 10,
      databaseUrl: SECRET_DATA["jobs-database"].DATABASE_URL,
      cpuLimitMillicores: 1000,
      memoryLimitBytes: 2 * 1024 ** 3,
      apiAuth: "required",
    });
    expect(env.resolved.AWS_SECRET_ACCESS_KEY).toBe("secret");
    for (const [name, value] of Object.entries(k.env)) expect(String(value), name).not.toMatch(/pw@|^secret$|^key-id$/);
  });

  it("the backup CronJob's env parses into the configured store and retention", () => {
    const spec = backupCronJobSpec({
      image: `r/db-backup@sha256:${"d".repeat(64)}`,
      schedule: config.backups.schedule,
      retention: config.backups.retention,
      storeUrl: `s3://${config.backups.bucket}`,
      s3Endpoint: r2Endpoint(config.backups.accountId),
      storeSecretName: "backup-writer",
      databaseSecretName: "jobs-database",
      serviceAccountName: "db-backup",
      pool,
      labels: {},
    }) as any;
    const k = kubelet(spec.jobTemplate.spec.template.spec);
    const env = parseBackupEnv(k.env, k.readSecret);
    expect(env).toMatchObject({
      storeUrl: "s3://backups",
      s3: { endpoint: r2Endpoint(config.backups.accountId) },
      policy: { hourly: 30, daily: 9, weekly: 5, monthly: 14 },
      databaseUrl: SECRET_DATA["jobs-database"].DATABASE_URL,
    });
  });
});

describe("results mirror CronJob ↔ the mirror command", () => {
  it("the mirror CronJob's env parses into the configured stores and retention, its token read from files", () => {
    const spec = mirrorCronJobSpec({
      image: `r/db-backup@sha256:${"e".repeat(64)}`,
      schedule: "30 3 * * *",
      retention: { daily: 30, weekly: 12 },
      sourceUrl: "s3://pitchey-results/jobs",
      targetUrl: "s3://pitchey-backups",
      s3Endpoint: r2Endpoint("0123456789abcdef0123456789abcdef"),
      storeSecretName: "results-mirror",
      serviceAccountName: "results-mirror",
      pool,
      labels: {},
    }) as any;
    const pod = spec.jobTemplate.spec.template.spec;
    expect(pod.containers[0].command).toEqual(["node", "dist/cli/mirror-results.js"]);
    SECRET_DATA["results-mirror"] = { AWS_ACCESS_KEY_ID: "mirror-id", AWS_SECRET_ACCESS_KEY: "mirror-secret" };
    const k = kubelet(pod);
    expect(parseMirrorEnv(k.env, k.readSecret)).toMatchObject({
      sourceUrl: "s3://pitchey-results/jobs",
      targetUrl: "s3://pitchey-backups",
      s3: { endpoint: r2Endpoint("0123456789abcdef0123456789abcdef"), credentials: { accessKeyId: "mirror-id", secretAccessKey: "mirror-secret" } },
      retention: { daily: 30, weekly: 12 },
    });
  });

  it("refuses a zero retention, naming the variable", () => {
    expect(() => parseMirrorEnv({ MIRROR_SOURCE_URL: "s3://a", MIRROR_TARGET_URL: "s3://b", MIRROR_KEEP_DAILY: "0" })).toThrow(/MIRROR_KEEP_DAILY must be a positive integer, got "0"/);
    expect(() => parseMirrorEnv({ MIRROR_TARGET_URL: "s3://b" })).toThrow(/MIRROR_SOURCE_URL is required/);
  });
});
