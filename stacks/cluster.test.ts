import { describe, expect, it } from "vitest";
import type { ClusterCommonArgs } from "../components/cluster";
import { resolveEksClusterArgs } from "../components/cluster/eks-args";
import { resolveGkeClusterArgs } from "../components/cluster/gke-args";
import { eksTestArgs, gkeTestArgs } from "../components/cluster/test-support";
import { PROCESSOR_FIXTURES } from "../components/processor/test-fixtures";
import { toEksClusterArgs, toGkeClusterArgs } from "./cluster";
import { PROCESSOR_DEFAULTS, PROCESSOR_NAMES } from "./config";
import { stackConfig } from "./config/test-support";

/** The fields the component tests' hand-written arguments state, compared after defaults on both sides. */
const common = (a: ClusterCommonArgs): ClusterCommonArgs => ({
  labels: a.labels,
  workloads: a.workloads,
  imageRepositories: a.imageRepositories,
  resultsBucket: a.resultsBucket,
  backupsBucket: a.backupsBucket,
});

describe("stack config → cluster arguments", () => {
  it("gives GkeCluster exactly what the component tests assume of prod", () => {
    const fixture = gkeTestArgs();
    const mapped = resolveGkeClusterArgs(toGkeClusterArgs(stackConfig("prod").cluster, common(fixture)));
    expect(mapped).toEqual(resolveGkeClusterArgs(fixture));
  });

  it("gives EksCluster exactly what the component tests assume of dr", () => {
    const fixture = eksTestArgs();
    const mapped = resolveEksClusterArgs(toEksClusterArgs(stackConfig("dr").cluster, common(fixture)));
    expect(mapped).toEqual(resolveEksClusterArgs(fixture));
  });

  it("carries no EKS-only setting to GKE and no GKE-only setting to EKS", () => {
    const gke = toGkeClusterArgs(stackConfig("prod").cluster, { labels: { environment: "e", costCenter: "c", team: "t" } });
    for (const key of ["sandboxRuntimeClass", "controlPlaneLogRetentionDays", "autoscaling", "cloud"]) expect(gke).not.toHaveProperty(key);
    for (const pool of Object.values(gke.nodePools)) expect(pool).not.toHaveProperty("instanceTypes");
    const eks = toEksClusterArgs(stackConfig("dr").cluster, { labels: { environment: "e", costCenter: "c", team: "t" } });
    for (const key of ["project", "releaseChannel", "autoscalingProfile", "cloud"]) expect(eks).not.toHaveProperty(key);
    for (const pool of Object.values(eks.nodePools)) {
      expect(pool).not.toHaveProperty("zones");
      expect(pool).not.toHaveProperty("gpuType");
    }
  });
});

describe("processor settings", () => {
  it("the component tests' hand-written settings are the stack config's playbook defaults", () => {
    for (const name of PROCESSOR_NAMES) {
      // The per-second price is derived from the cost book, not a playbook figure; SLOs are not the component's.
      const { slo: _slo, costPerSecondUsd: _price, ...defaults } = PROCESSOR_DEFAULTS[name] as Record<string, unknown>;
      const { costPerSecondUsd: _fixturePrice, ...fixture } = PROCESSOR_FIXTURES[name];
      expect(fixture, name).toEqual(defaults);
    }
  });
});
