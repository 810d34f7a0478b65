import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { installMocks, RecordingMocks } from "../../components/testing/mocks";
import { diffPlans, formatDiff, isSamePlan, type PlanRecord } from "./diff";

const urn = (chain: string, name: string) => `urn:pulumi:prod::p::${chain}::${name}`;
const rec = (u: string, props: Record<string, unknown>, aliases?: string[]): PlanRecord => ({
  urn: u,
  type: u.split("::")[2].split("$").pop()!,
  name: u.split("::")[3],
  parent: null,
  props,
  ...(aliases ? { aliases } : {}),
});

describe("plan diff", () => {
  const vpc = rec(urn("pulumi:pulumi:Stack$pitchey:cluster:EksCluster$aws:ec2/vpc:Vpc", "dr-vpc"), { cidrBlock: "10.60.0.0/16", tags: { a: "1" } });

  it("finds nothing between a plan and itself", () => {
    const d = diffPlans([vpc], [vpc]);
    expect(isSamePlan(d)).toBe(true);
    expect(d.unchanged).toBe(1);
  });

  it("accepts a resource moved under a new parent when its alias names the old URN", () => {
    const movedVpc = rec(
      urn("pulumi:pulumi:Stack$pitchey:cluster:EksCluster$pitchey:cluster:AwsNetwork$aws:ec2/vpc:Vpc", "dr-network-vpc"),
      vpc.props,
      [vpc.urn],
    );
    const d = diffPlans([vpc], [movedVpc]);
    expect(isSamePlan(d)).toBe(true);
    expect(d.moved).toEqual([{ from: vpc.urn, to: movedVpc.urn }]);
  });

  it("follows references to a moved resource's mock id, which the mock derives from its name", () => {
    const movedVpc = rec(
      urn("pulumi:pulumi:Stack$pitchey:cluster:EksCluster$pitchey:cluster:AwsNetwork$aws:ec2/vpc:Vpc", "dr-network-vpc"),
      vpc.props,
      [vpc.urn],
    );
    const subnet = rec(urn("pitchey:cluster:EksCluster$aws:ec2/subnet:Subnet", "dr-public-0"), { vpcId: "aws:ec2/vpc:Vpc::dr-vpc-id" });
    const same = rec(subnet.urn, { vpcId: "aws:ec2/vpc:Vpc::dr-network-vpc-id" });
    expect(isSamePlan(diffPlans([vpc, subnet], [movedVpc, same]))).toBe(true);
    const other = rec(subnet.urn, { vpcId: "aws:ec2/vpc:Vpc::dr-other-vpc-id" });
    expect(diffPlans([vpc, subnet], [movedVpc, other]).changed).toHaveLength(1);
  });

  it("counts a new component apart: it groups resources and creates nothing", () => {
    const component = rec(urn("pulumi:pulumi:Stack$pitchey:cluster:AwsNetwork", "dr-network"), {});
    const d = diffPlans([vpc], [vpc, component]);
    expect(isSamePlan(d)).toBe(true);
    expect(d.addedComponents).toEqual([component.urn]);
  });

  it("reports a move without an alias as a removal and an addition", () => {
    const movedVpc = rec(urn("pulumi:pulumi:Stack$pitchey:cluster:AwsNetwork$aws:ec2/vpc:Vpc", "dr-vpc"), vpc.props);
    const d = diffPlans([vpc], [movedVpc]);
    expect(isSamePlan(d)).toBe(false);
    expect(d.removed).toEqual([vpc.urn]);
    expect(d.added).toEqual([movedVpc.urn]);
  });

  it("names each changed property with its path and both values", () => {
    const changed = rec(vpc.urn, { cidrBlock: "10.61.0.0/16", tags: { a: "1", b: "2" } });
    const d = diffPlans([vpc], [changed]);
    expect(d.changed).toEqual([
      {
        urn: vpc.urn,
        changes: [
          { path: "cidrBlock", before: "10.60.0.0/16", after: "10.61.0.0/16" },
          { path: "tags.b", before: undefined, after: "2" },
        ],
      },
    ]);
    expect(formatDiff(d)).toContain('    cidrBlock: "10.60.0.0/16" -> "10.61.0.0/16"');
  });
});

describe("recorded aliases", () => {
  it("resolves a child's parent alias to the URN it had under its former parent", async () => {
    const mocks = new RecordingMocks();
    await installMocks(mocks, "p", "prod");
    const former = new pulumi.ComponentResource("test:x:Former", "former", {});
    const current = new pulumi.ComponentResource("test:x:Current", "current", {});
    new pulumi.ComponentResource("test:x:Leaf", "current-leaf", {}, { parent: current, aliases: [{ name: "leaf", parent: former }] });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
    const leaf = mocks.resources.find((r) => r.name === "current-leaf")!;
    expect(leaf.urn).toBe("urn:pulumi:prod::p::test:x:Current$test:x:Leaf::current-leaf");
    expect(leaf.aliases).toEqual(["urn:pulumi:prod::p::test:x:Former$test:x:Leaf::leaf"]);
  });
});
