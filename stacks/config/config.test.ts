import { describe, expect, it } from "vitest";
import { parsePlatformConfig, PROCESSOR_NAMES } from "./index";
import { problems, stackRaw } from "./test-support";

// Playbook "Horizontal Scaling Configuration": min / max / CPU % / memory % / queue depth / up / down / cooldown s.
const PLAYBOOK: Record<string, number[]> = {
  "video-processor": [2, 10, 70, 80, 50, 2, 1, 300],
  "document-processor": [3, 20, 75, 85, 100, 3, 1, 180],
  "ai-inference": [1, 5, 60, 70, 20, 1, 1, 600],
  "media-transcoder": [2, 8, 70, 75, 40, 2, 1, 300],
  "code-executor": [5, 50, 80, 90, 200, 5, 2, 120],
};

describe("stack config", () => {
  it("parses prod as GKE in us-west1 with the playbook's scaling policies", () => {
    const c = parsePlatformConfig(stackRaw("prod"));
    expect(c.cluster.cloud).toBe("gcp");
    expect(c.cluster.region).toBe("us-west1");
    expect(c.environment).toBe("production");
    for (const name of PROCESSOR_NAMES) {
      const s = c.processors[name].scaling;
      expect([s.minReplicas, s.maxReplicas, s.targetCPU, s.targetMemory, s.targetQueueDepth, s.scaleUpRate, s.scaleDownRate, s.cooldownPeriod], name).toEqual(PLAYBOOK[name]);
    }
    expect(c.resourceQuota).toMatchObject({ "requests.cpu": "100", "requests.memory": "200Gi", persistentvolumeclaims: "10", "services.loadbalancers": "2" });
    expect(c.processors["video-processor"].prewarm[0]).toMatchObject({ start: "0 8 * * 1-5", desiredReplicas: 4 });
    expect(c.backups).toMatchObject({ schedule: "0 * * * *", retention: { hourly: 24, daily: 7, weekly: 4, monthly: 12 }, location: "wnam" });
  });

  it("parses dr as EKS in eu-west-1", () => {
    const c = parsePlatformConfig(stackRaw("dr"));
    expect(c.cluster.cloud).toBe("aws");
    expect(c.cluster.region).toBe("eu-west-1");
    expect(c.cluster.nodePools.general.machineType).toBe("m6i.xlarge");
  });

  it("names the key when minReplicas exceeds maxReplicas", () => {
    const raw = stackRaw("prod");
    raw.processors["video-processor"].scaling = { minReplicas: 12 };
    expect(problems(raw)).toEqual([expect.stringMatching(/^processors\.video-processor\.scaling\.minReplicas: must be ≤ maxReplicas \(10\), got 12$/)]);
  });

  it("refuses a GPU rollout timeout shorter than a GPU node from zero takes", () => {
    const raw = stackRaw("prod");
    raw.processors["ai-inference"] = { rolloutTimeoutMinutes: 10 };
    expect(problems(raw)).toEqual([expect.stringMatching(/^processors\.ai-inference\.rolloutTimeoutMinutes: must be ≥ 20 for a GPU processor/)]);
    raw.processors["ai-inference"] = { rolloutTimeoutMinutes: 45 };
    expect(parsePlatformConfig(raw).processors["ai-inference"].rolloutTimeoutMinutes).toBe(45);
  });

  it("keeps the scaling cooldown within an HPA policy period (1–1800 s)", () => {
    const raw = stackRaw("prod");
    raw.processors["video-processor"].scaling = { cooldownPeriod: 3600 };
    expect(problems(raw)).toEqual([expect.stringMatching(/^processors\.video-processor\.scaling\.cooldownPeriod: expected seconds in \[1, 1800\]/)]);
  });

  it("rejects a misspelt key instead of falling back to the default", () => {
    const raw = stackRaw("prod");
    raw.processors["document-processor"] = { scaling: { minReplica: 4 } };
    expect(problems(raw)).toEqual([expect.stringContaining("processors.document-processor.scaling.minReplica: unknown key")]);
  });

  it("rejects unknown processors and top-level keys", () => {
    const raw = stackRaw("prod");
    raw.processors["pdf-processor"] = {};
    raw.enviroment = "x";
    const p = problems(raw);
    expect(p).toContainEqual(expect.stringContaining("processors.pdf-processor: unknown key"));
    expect(p).toContainEqual(expect.stringContaining("enviroment: unknown key"));
  });

  it("names a key the program no longer reads, and what replaced it, rather than calling it unknown", () => {
    const raw = stackRaw("prod");
    // What a stack set up before Loki's token was minted still holds (the plan sees secrets as placeholders).
    raw.logsStoreAccessKeyId = "[secret]";
    raw.logsStoreSecretAccessKey = "[secret]";
    const p = problems(raw).join("\n");
    expect(p).toMatch(/^(  - )?logsStoreAccessKeyId: no longer read: the program mints Loki's R2 token itself .*pulumi config rm logsStoreAccessKeyId/m);
    expect(p).toMatch(/^(  - )?logsStoreSecretAccessKey: no longer read/m);
    expect(p).not.toContain("logsStoreAccessKeyId: unknown key");
  });

  it("keeps percentages in (0, 100]", () => {
    const raw = stackRaw("prod");
    raw.processors["ai-inference"] = { scaling: { targetCPU: 0, targetMemory: 150 } };
    const p = problems(raw);
    expect(p).toContainEqual(expect.stringMatching(/^processors\.ai-inference\.scaling\.targetCPU: expected a percentage in \(0, 100\]/));
    expect(p).toContainEqual(expect.stringMatching(/^processors\.ai-inference\.scaling\.targetMemory: expected a percentage in \(0, 100\]/));
  });

  it("requires a GPU pool for a processor that needs a GPU, naming both keys", () => {
    const raw = stackRaw("prod");
    raw.cluster.nodePools = { gpu: { maxNodes: 0 } };
    expect(problems(raw)).toEqual([
      expect.stringMatching(/^cluster\.nodePools\.gpu\.maxNodes: must be > 0 because processors\.ai-inference\.resources\.gpu requests 1/),
    ]);
  });

  it("reports every problem at once with its path and the expectation", () => {
    const raw = stackRaw("prod");
    raw.processors["code-executor"] = { maxConcurrentJobs: "ten", resources: { requests: { cpu: "lots" } } };
    delete raw.environment;
    const p = problems(raw);
    expect(p).toContainEqual(expect.stringMatching(/^processors\.code-executor\.maxConcurrentJobs: .*expected number/));
    expect(p).toContainEqual(expect.stringMatching(/^processors\.code-executor\.resources\.requests\.cpu: expected a Kubernetes quantity/));
    expect(p).toContainEqual("environment: required, expected string");
  });

  it("refuses requests above limits", () => {
    const raw = stackRaw("prod");
    raw.processors["media-transcoder"] = { resources: { requests: { memory: "16Gi" } } };
    expect(problems(raw)).toContainEqual(expect.stringMatching(/^processors\.media-transcoder\.resources\.requests\.memory: must be ≤ limits\.memory \(4Gi\), got 16Gi/));
  });

  it("refuses scaling that cannot fit the namespace quota", () => {
    const raw = stackRaw("prod");
    raw.processors["code-executor"] = { scaling: { maxReplicas: 400 } };
    expect(problems(raw)).toContainEqual(expect.stringMatching(/^resourceQuota\.requests\.cpu: is 100, but the processors at maxReplicas request 148 CPU/));
  });

  it("refuses a placement on a pool that can have no nodes, naming both keys", () => {
    const raw = stackRaw("prod");
    raw.cluster.nodePools = { sandbox: { minNodes: 0, maxNodes: 0 } };
    expect(problems(raw)).toEqual([
      expect.stringMatching(/^processors\.code-executor\.placement\.pool: is "sandbox", but cluster\.nodePools\.sandbox\.maxNodes is 0/),
    ]);
    // Spot processors that may fall back to on-demand still have somewhere to run.
    const spotless = stackRaw("prod");
    spotless.cluster.nodePools = { spot: { minNodes: 0, maxNodes: 0 } };
    expect(() => parsePlatformConfig(spotless)).not.toThrow();
  });

  it("keeps fallback to on-demand to spot placements", () => {
    const raw = stackRaw("prod");
    raw.processors["document-processor"] = { placement: { fallbackToOnDemand: true } };
    expect(problems(raw)).toEqual([expect.stringContaining("processors.document-processor.placement.fallbackToOnDemand: only applies to the spot pool")]);
  });

  it("needs a cloud it knows", () => {
    const raw = stackRaw("prod");
    raw.cluster.cloud = "azure";
    expect(problems(raw)).toContainEqual(expect.stringMatching(/^cluster\.cloud: /));
  });
});
