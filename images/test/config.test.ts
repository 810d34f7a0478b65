import { describe, expect, it } from "vitest";
import { parseEnv } from "../src/runtime/config";

const base = { DATABASE_URL: "postgres://u:p@db:5432/jobs" };

describe("env contract", () => {
  it("applies defaults", () => {
    const env = parseEnv({ ...base, POD_NAME: "video-processor-abc" });
    expect(env).toMatchObject({ port: 8080, maxConcurrentJobs: 4, jobTimeoutSeconds: 300, leaseSeconds: 30, containerId: "video-processor-abc" });
  });

  it("parses the Deployment's values", () => {
    const env = parseEnv({ ...base, JOB_TYPE: "video", PORT: "9000", MAX_CONCURRENT_JOBS: "2", JOB_TIMEOUT: "600", JOB_LEASE_SECONDS: "45", JOB_COST_PER_SECOND_USD: "0.0004" });
    expect(env).toMatchObject({ jobType: "video", port: 9000, maxConcurrentJobs: 2, jobTimeoutSeconds: 600, leaseSeconds: 45, costPerSecondUsd: 0.0004 });
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
