import { beforeAll, describe, expect, it } from "vitest";
import { evaluatePlan } from "../policies/src/evaluate";
import { allPolicies } from "../policies/src/policies";
import { planStack } from "./plan/wholeStack";

let plan: Awaited<ReturnType<typeof planStack>>;
beforeAll(async () => {
  plan = await planStack("dr");
}, 120_000);

const urnOf = (type: string, name: RegExp) => {
  const found = plan.resources.filter((r) => r.type === type && name.test(r.name));
  expect(found, `${type} ${name}`).toHaveLength(1);
  return found[0].urn;
};
const dependsOn = (urn: string) => plan.dependencies.get(urn) ?? [];

describe("dr on EKS: what the cluster must serve before the platform uses it", () => {
  it("serves metrics.k8s.io before KEDA: the KEDA release waits for the metrics-server add-on", () => {
    const addon = urnOf("aws:eks/addon:Addon", /-metrics-server$/);
    expect(dependsOn(urnOf("kubernetes:helm.sh/v3:Release", /^keda-release$/))).toContain(addon);
  });

  it("binds the database's volumes: the CloudNativePG cluster waits for the EBS CSI driver add-on", () => {
    const addon = urnOf("aws:eks/addon:Addon", /-ebs-csi-driver$/);
    const cluster = plan.resources.find((r) => r.type === "kubernetes:postgresql.cnpg.io/v1:Cluster")!;
    expect(dependsOn(cluster.urn)).toContain(addon);
    const storageClass = (cluster.props as any).spec.storage.storageClass;
    const sc = plan.k8s("StorageClass").find((c) => c.metadata.name === storageClass);
    expect(sc).toMatchObject({ provisioner: "ebs.csi.aws.com", parameters: { type: "gp3", encrypted: "true" }, reclaimPolicy: "Retain" });
  });

  it("passes the metrics-API policy, which fires once the add-on is gone", () => {
    const policy = allPolicies.filter((p) => p.name === "resource-metrics-api-served");
    const resources = plan.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent, props: r.props }));
    expect(evaluatePlan(resources, { policies: policy }).violations).toEqual([]);
    const without = resources.filter((r) => !(r.type === "aws:eks/addon:Addon" && r.props.addonName === "metrics-server"));
    expect(evaluatePlan(without, { policies: policy }).violations.map((v) => v.policy)).toEqual(["resource-metrics-api-served"]);
  });

  it("passes the EBS CSI driver policy, which fires on the database's StorageClass once the add-on is gone", () => {
    const policy = allPolicies.filter((p) => p.name === "ebs-csi-driver-installed");
    const resources = plan.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent, props: r.props }));
    expect(evaluatePlan(resources, { policies: policy }).violations).toEqual([]);
    const without = resources.filter((r) => !(r.type === "aws:eks/addon:Addon" && r.props.addonName === "aws-ebs-csi-driver"));
    const violations = evaluatePlan(without, { policies: policy }).violations;
    expect(violations.map((v) => v.message)).toEqual([expect.stringMatching(/^StorageClass jobs-db-ssd is provisioned by ebs\.csi\.aws\.com/)]);
  });

  it("lets CI's deploy role and on-call's break-glass role in, and exports the cluster name and a kubeconfig", () => {
    const entries = plan.ofType("aws:eks/accessEntry:AccessEntry").map((r) => (r.props as any).principalArn);
    expect(entries.sort()).toEqual([plan.config.cluster.access!.breakGlassRoleArn, plan.config.cluster.access!.deployRoleArn].sort());
    expect(plan.ofType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")).toHaveLength(2);
    expect(plan.outputs.clusterName).toBe("pitchey-containers-dr");
    const kc = JSON.parse(String(plan.outputs.kubeconfig));
    expect(kc.users[0].user.exec.args).toEqual(expect.arrayContaining(["get-token", "--cluster-name", "pitchey-containers-dr"]));
  });
});
