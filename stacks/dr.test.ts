import { beforeAll, describe, expect, it } from "vitest";
import { PROCESSOR_NAMES } from "./config";
import { monitoringChecks, stackRaw } from "./monitoring.shared";
import { planStack } from "./plan/wholeStack";
import { stackConfig } from "./config/test-support";
import { edgeChecks } from "./edge.shared";
import { commonStackChecks, placementMatchesPools, renderingChecks } from "./stack.shared";

let plan: Awaited<ReturnType<typeof planStack>>;
beforeAll(async () => {
  plan = await planStack("dr");
}, 120_000);

describe("dr stack (EKS, eu-west-1)", () => {
  commonStackChecks(() => plan, /^\d{12}\.dkr\.ecr\.eu-west-1\.amazonaws\.com\//);
  renderingChecks(() => plan);
  monitoringChecks(() => plan, () => stackRaw("dr"));
  edgeChecks(() => plan, () => stackConfig("dr"), "standby");
  placementMatchesPools(
    () => plan,
    "aws:eks/nodeGroup:NodeGroup",
    (p) => ({ labels: p.labels, taints: p.taints ?? [] }),
  );

  it("is built on AWS only", () => {
    const providers = new Set(plan.resources.filter((r) => r.custom).map((r) => r.type.split(":")[0]));
    expect(providers.has("aws")).toBe(true);
    expect(providers.has("gcp")).toBe(false);
    expect(plan.ofType("aws:eks/cluster:Cluster")).toHaveLength(1);
  });

  it("binds each processor's ServiceAccount to an IAM role through IRSA", () => {
    const processorAccounts = plan.k8s("ServiceAccount").filter((s) => (PROCESSOR_NAMES as readonly string[]).includes(s.metadata.name));
    expect(processorAccounts).toHaveLength(5);
    for (const sa of processorAccounts) {
      expect(sa.metadata.annotations?.["eks.amazonaws.com/role-arn"], sa.metadata.name).toMatch(/^arn:aws:iam::\d{12}:role\//);
      expect(sa.automountServiceAccountToken).toBe(false);
    }
  });
});
