import { beforeAll, describe, expect, it } from "vitest";
import { PROCESSOR_NAMES } from "./config";
import { monitoringChecks, stackRaw } from "./monitoring.shared";
import { planStack } from "./plan/wholeStack";
import { clusterStateBackupChecks } from "./velero.shared";
import { stackConfig } from "./config/test-support";
import { edgeChecks } from "./edge.shared";
import { commonStackChecks, placementMatchesPools, renderingChecks } from "./stack.shared";

let plan: Awaited<ReturnType<typeof planStack>>;
beforeAll(async () => {
  plan = await planStack("dr");
}, 120_000);

describe("dr stack (EKS, eu-west-1)", () => {
  commonStackChecks(() => plan, /^\d{12}\.dkr\.ecr\.eu-west-1\.amazonaws\.com\//);
  clusterStateBackupChecks(() => plan, "aws");
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

  const autoscaler = () => plan.ofType("kubernetes:helm.sh/v3:Release").find((r) => (r.props as any).chart === "cluster-autoscaler")!.props as any;

  it("adds spot nodes first: the autoscaler's priority expander ranks the spot node group above the others", () => {
    const values = autoscaler().values;
    const expanders = String(values.extraArgs.expander).split(",");
    expect(expanders).toEqual(["priority", "least-waste"]);
    // The chart writes the cluster-autoscaler-priority-expander ConfigMap only when both of these hold.
    expect(Object.keys(values.expanderPriorities).length).toBeGreaterThan(0);
    const ranks = Object.keys(values.expanderPriorities).map(Number).sort((a, b) => b - a);
    const matching = (group: string) => {
      // Managed node groups' Auto Scaling groups are named eks-<nodeGroupName>-<uuid>; the expander sees those.
      const asg = `eks-${group}-6ec6b3d2-41a8-9f20-7b1c-3e2f0d4a5b6c`;
      return ranks.find((rank) => values.expanderPriorities[rank].some((re: string) => new RegExp(re).test(asg)));
    };
    const groups = plan.ofType("aws:eks/nodeGroup:NodeGroup").map((r) => r.props as any);
    const spot = groups.find((g) => g.capacityType === "SPOT").nodeGroupName;
    expect(matching(spot)).toBe(ranks[0]);
    for (const g of groups.filter((g) => g.capacityType !== "SPOT")) expect(matching(g.nodeGroupName), g.nodeGroupName).toBeLessThan(ranks[0]);
  });

  it("lets the autoscaler drain a node as long as the longest worker's grace, so no worker needs to opt out", () => {
    const cap = Number(autoscaler().values.extraArgs["max-graceful-termination-sec"]);
    const graces = plan.k8s("Deployment").map((d) => d.spec.template.spec.terminationGracePeriodSeconds ?? 30);
    expect(Math.max(...graces)).toBe(930);
    expect(cap).toBe(930);
    for (const d of plan.k8s("Deployment")) {
      expect(d.spec.template.metadata.annotations?.["cluster-autoscaler.kubernetes.io/safe-to-evict"], d.metadata.name).toBeUndefined();
    }
  });
});
