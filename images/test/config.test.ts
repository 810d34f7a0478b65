import { describe, expect, it } from "vitest";
import { parseBackupEnv } from "../src/backup/env";
import { parseEnv } from "../src/runtime/config";

const base = { DATABASE_URL: "postgres://u:p@db:5432/jobs" };

describe("env contract", () => {
  it("applies defaults", () => {
    const env = parseEnv({ ...base, POD_NAME: "video-processor-abc" });
    expect(env).toMatchObject({ port: 8080, metricsPort: 9090, maxConcurrentJobs: 4, jobTimeoutSeconds: 300, leaseSeconds: 30, containerId: "video-processor-abc" });
  });

  it("parses the Deployment's values", () => {
    const env = parseEnv({ ...base, JOB_TYPE: "video", PORT: "9000", METRICS_PORT: "9100", MAX_CONCURRENT_JOBS: "2", JOB_TIMEOUT: "600", JOB_LEASE_SECONDS: "45", JOB_COST_PER_SECOND_USD: "0.0004" });
    expect(env).toMatchObject({ jobType: "video", port: 9000, metricsPort: 9100, maxConcurrentJobs: 2, jobTimeoutSeconds: 600, leaseSeconds: 45, costPerSecondUsd: 0.0004 });
  });

  it("names every bad variable", () => {
    let message = "";
    try {
      parseEnv({ JOB_TYPE: "fax", MAX_CONCURRENT_JOBS: "lots", JOB_TIMEOUT: "-1" });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("DATABASE_URL: DATABASE_URL is required");
    expect(message).toContain("JOB_TYPE: JOB_TYPE must be one of video, document, inference, media, code");
    expect(message).toContain("MAX_CONCURRENT_JOBS: MAX_CONCURRENT_JOBS must be a number");
    expect(message).toContain("JOB_TIMEOUT: JOB_TIMEOUT must be greater than 0");
    expect(() => parseEnv({ ...base, JOB_LEASE_SECONDS: "0" })).toThrow(/JOB_LEASE_SECONDS: JOB_LEASE_SECONDS must be greater than 0/);
  });
});

describe("secrets as files", () => {
  const files: Record<string, string> = {
    "/run/s/db/url": "postgres://u:from-file@db:5432/jobs\n",
    "/run/s/store/id": "key-from-file\n",
    "/run/s/store/secret": "secret-from-file",
  };
  const read = (path: string) => {
    if (!(path in files)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    return files[path]!;
  };

  it("the worker reads DATABASE_URL and store keys from their _FILE, trailing newline trimmed, the file winning", () => {
    const env = parseEnv(
      { DATABASE_URL: "postgres://u:from-env@db/jobs", DATABASE_URL_FILE: "/run/s/db/url", AWS_ACCESS_KEY_ID_FILE: "/run/s/store/id", AWS_SECRET_ACCESS_KEY_FILE: "/run/s/store/secret" },
      read,
    );
    expect(env.databaseUrl).toBe("postgres://u:from-file@db:5432/jobs");
    expect(env.resolved).toMatchObject({ AWS_ACCESS_KEY_ID: "key-from-file", AWS_SECRET_ACCESS_KEY: "secret-from-file" });
    expect(env.resolved.DATABASE_URL_FILE).toBeUndefined();
  });

  it("names the variable whose file cannot be read", () => {
    expect(() => parseEnv({ DATABASE_URL_FILE: "/run/s/missing" }, read)).toThrow(/DATABASE_URL_FILE: cannot read \/run\/s\/missing: ENOENT/);
  });

  it("the backup command reads its database URL and S3 keys from files too", () => {
    const env = parseBackupEnv(
      { DATABASE_URL_FILE: "/run/s/db/url", BACKUP_STORE_URL: "s3://backups", AWS_ACCESS_KEY_ID_FILE: "/run/s/store/id", AWS_SECRET_ACCESS_KEY_FILE: "/run/s/store/secret" },
      read,
    );
    expect(env.databaseUrl).toBe("postgres://u:from-file@db:5432/jobs");
    expect(env.s3.credentials).toEqual({ accessKeyId: "key-from-file", secretAccessKey: "secret-from-file" });
    expect(() => parseBackupEnv({ DATABASE_URL_FILE: "/nope", BACKUP_STORE_URL: "s3://b" }, read)).toThrow(/DATABASE_URL_FILE: cannot read/);
  });

  it("reads the pod's CPU and memory limits", () => {
    const env = parseEnv({ ...base, CPU_LIMIT_MILLICORES: "1000", MEMORY_LIMIT_BYTES: "536870912" });
    expect(env).toMatchObject({ cpuLimitMillicores: 1000, memoryLimitBytes: 536870912 });
    expect(() => parseEnv({ ...base, CPU_LIMIT_MILLICORES: "1.5" })).toThrow(/CPU_LIMIT_MILLICORES/);
  });
});
