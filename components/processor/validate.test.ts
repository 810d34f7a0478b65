import { describe, expect, it } from "vitest";
import type { PoolScheduling } from "../cluster/types";
import { validateProcessorArgs, type ProcessorServiceArgs } from "./index";
import { PROCESSOR_FIXTURES } from "./test-fixtures";

const config = { processors: PROCESSOR_FIXTURES };
const pool = (name: PoolScheduling["name"], taintKey?: string): PoolScheduling => ({
  name,
  labels: { "pitchey.io/pool": name },
  taints: taintKey ? [{ key: taintKey, value: "x", effect: "NoSchedule" }] : [],
});

function args(name: keyof typeof config.processors, over: Partial<ProcessorServiceArgs> = {}): ProcessorServiceArgs {
  const pc = config.processors[name];
  return {
    name,
    jobType: "code",
    config: pc,
    image: "r/x@sha256:" + "a".repeat(64),
    labels: { environment: "production", costCenter: "c", team: "t" },
    namespace: "processors",
    pool: pool(pc.placement.pool, pc.placement.pool === "gpu" ? "nvidia.com/gpu" : undefined),
    fallbackPool: pc.placement.fallbackToOnDemand ? pool("general") : undefined,
    runtimeClassName: pc.placement.pool === "sandbox" ? "gvisor" : undefined,
    databaseSecretName: "jobs-database",
    resultsStoreUrl: "s3://results/jobs",
    httpsEgress: pc.placement.pool !== "sandbox",
    triggerAuthenticationName: "jobs-database",
    ...over,
  };
}

describe("ProcessorService argument checks", () => {
  it("accept what the composition passes for every processor", () => {
    for (const name of Object.keys(config.processors) as (keyof typeof config.processors)[]) {
      expect(validateProcessorArgs(args(name)), name).toEqual([]);
    }
  });

  it("refuse untrusted code outside gVisor or with a route out, naming each argument", () => {
    const problems = validateProcessorArgs(args("code-executor", { runtimeClassName: undefined, httpsEgress: true }));
    expect(problems.map((p) => p.propertyPath).sort()).toEqual(["httpsEgress", "runtimeClassName"]);
  });

  it("refuse scheduling facts of another pool, a missing fallback, and a GPU request off the GPU pool", () => {
    expect(validateProcessorArgs(args("document-processor", { pool: pool("spot") }))).toEqual([
      { propertyPath: "pool", reason: 'scheduling facts are for pool "spot" but config.placement.pool is "general"' },
    ]);
    expect(validateProcessorArgs(args("video-processor", { fallbackPool: undefined }))[0].propertyPath).toBe("fallbackPool");
    expect(validateProcessorArgs(args("ai-inference", { pool: pool("gpu") }))[0].reason).toContain("is not a GPU pool");
  });
});
