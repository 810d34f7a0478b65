import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, RecordingMocks } from "../testing/mocks";
import type { EksCluster as Eks } from "./eks";
import { ofType, one, resolve, settle, eksTestArgs } from "./test-support";

const mocks = new RecordingMocks();
let eks: Eks;
const DEPLOY = "arn:aws:iam::123456789012:role/pitchey-deploy";
const BREAK_GLASS = "arn:aws:iam::123456789012:role/pitchey-break-glass";

beforeAll(async () => {
  await installMocks(mocks, "pitchey-containers", "dr");
  const { EksCluster } = await import("./eks");
  eks = new EksCluster("dr", eksTestArgs());
  await resolve(eks.oidcIssuer);
  await settle();
}, 60_000);

describe("who can reach the EKS cluster", () => {
  it("takes the dr stack's deploy and break-glass roles", () => {
    expect(eksTestArgs().clusterAdmins).toEqual([
      { name: "deploy", roleArn: DEPLOY },
      { name: "break-glass", roleArn: BREAK_GLASS },
    ]);
  });

  it("authenticates through access entries only, keeping the creator's bootstrap entry", () => {
    const c = one(mocks.resources, "aws:eks/cluster:Cluster", "dr-eks").props as Record<string, any>;
    expect(c.accessConfig).toEqual({ authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true });
  });

  it("gives the deploy and break-glass roles cluster admin through an access entry each", () => {
    const entries = ofType(mocks.resources, "aws:eks/accessEntry:AccessEntry").map((r) => r.props as Record<string, any>);
    expect(entries.map((e) => e.principalArn).sort()).toEqual([BREAK_GLASS, DEPLOY]);
    for (const e of entries) expect(e).toMatchObject({ clusterName: "pitchey-containers-dr", type: "STANDARD" });
    const associations = ofType(mocks.resources, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").map((r) => r.props as Record<string, any>);
    expect(associations.map((a) => a.principalArn).sort()).toEqual([BREAK_GLASS, DEPLOY]);
    for (const a of associations) {
      expect(a.policyArn).toBe("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
      expect(a.accessScope).toEqual({ type: "cluster" });
    }
  });

  it("lets the Kubernetes provider act only once the admins' entries exist", () => {
    const provider = one(mocks.resources, "pulumi:providers:kubernetes", "dr-k8s");
    const deps = mocks.dependencies.get(provider.urn) ?? [];
    for (const a of ofType(mocks.resources, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")) expect(deps).toContain(a.urn);
  });

  it("exposes the cluster name and a secret kubeconfig that asks the AWS CLI for a token", async () => {
    expect(await resolve(eks.clusterName)).toBe("pitchey-containers-dr");
    expect(await (eks.kubeconfig as unknown as { isSecret: Promise<boolean> }).isSecret).toBe(true);
    const kc = JSON.parse(await resolve(eks.kubeconfig));
    expect(kc.users[0].user.exec).toMatchObject({ command: "aws", args: ["eks", "get-token", "--cluster-name", "pitchey-containers-dr", "--region", "eu-west-1", "--output", "json"] });
    expect(kc.users[0].user.token).toBeUndefined();
  });

  it("refuses a session ARN or a duplicate role, naming the argument", async () => {
    const { EksCluster } = await import("./eks");
    expect(
      () =>
        new EksCluster(
          "bad",
          eksTestArgs({
            clusterAdmins: [
              { name: "deploy", roleArn: "arn:aws:sts::123456789012:assumed-role/pitchey-deploy/ci" },
              { name: "break-glass", roleArn: BREAK_GLASS },
              { name: "on-call", roleArn: BREAK_GLASS },
            ],
          }),
        ),
    ).toThrow(/clusterAdmins\[0\]\.roleArn: expected an IAM role ARN .*; clusterAdmins\[2\]\.roleArn: .* is listed twice/);
  });
});
