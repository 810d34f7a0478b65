import { describe, expect, it } from "vitest";
import { ConfigError, parsePlatformConfig } from "./index";
import { clusterSchema } from "./cluster";
import { stackRaw } from "./test-support";

const base = {
  name: "pitchey-containers",
  authorizedNetworks: [{ name: "vpn", cidr: "203.0.113.0/24" }],
  nodePools: {
    general: { machineType: "n2-standard-4", minNodes: 3, maxNodes: 20 },
    spot: { machineType: "n2-standard-4", minNodes: 0, maxNodes: 10 },
    gpu: { machineType: "g2-standard-8", minNodes: 0, maxNodes: 5, gpuType: "nvidia-l4", gpuCount: 1 },
    sandbox: { machineType: "n2-standard-4", minNodes: 1, maxNodes: 10 },
  },
};
const access = { deployRoleArn: "arn:aws:iam::123456789012:role/pitchey-deploy", breakGlassRoleArn: "arn:aws:iam::123456789012:role/pitchey-break-glass" };
const gcp = (over: Record<string, unknown> = {}) => clusterSchema.parse({ ...base, cloud: "gcp", region: "us-west1", project: "p", ...over });
const issues = (input: unknown) => {
  const r = clusterSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("cluster config validation", () => {
  it("defaults the playbook's autoscaling figures and the new keys", () => {
    const c = gcp();
    expect(c.autoscaling).toEqual({ scaleDownUnneededTime: "10m", scaleDownUtilizationThreshold: 0.5, gkeProfile: "BALANCED" });
    expect(c.network).toMatchObject({ availabilityZones: 3, natGatewayPerZone: true });
    expect(c).toMatchObject({ controlPlaneLogRetentionDays: 90, deletionProtection: true, falcoMinimumPriority: "warning" });
  });

  it("refuses a GKE pool zone outside the region", () => {
    expect(issues({ ...base, cloud: "gcp", region: "us-west1", project: "p", nodePools: { ...base.nodePools, gpu: { ...base.nodePools.gpu, zones: ["us-east1-b"] } } })).toEqual([
      "nodePools.gpu.zones.0: must be a zone of region us-west1, got us-east1-b",
    ]);
  });

  it("requires the deploy and break-glass roles on aws, as IAM role ARNs, and names the key of a bad one", () => {
    const aws = (over: Record<string, unknown>) => issues({ ...base, cloud: "aws", region: "r", ...over });
    expect(aws({ access })).toEqual([]);
    expect(aws({})).toEqual([expect.stringMatching(/^access: required when cloud is aws: set access\.deployRoleArn and access\.breakGlassRoleArn/)]);
    expect(aws({ access: { ...access, deployRoleArn: "arn:aws:sts::123456789012:assumed-role/pitchey-deploy/ci" } })).toEqual([
      "access.deployRoleArn: expected an IAM role ARN such as arn:aws:iam::123456789012:role/pitchey-deploy (not a user or an assumed-role session)",
    ]);
    expect(aws({ access: { ...access, breakGlassRoleArn: "arn:aws:iam::1234:role/x" } })).toEqual([expect.stringMatching(/^access\.breakGlassRoleArn: expected an IAM role ARN/)]);
    expect(aws({ access: { deployRoleArn: access.deployRoleArn } })).toEqual([expect.stringMatching(/^access\.breakGlassRoleArn: /)]);
    expect(aws({ access: { ...access, breakGlassRoleArn: access.deployRoleArn } })).toEqual([
      "access.breakGlassRoleArn: must differ from access.deployRoleArn: break-glass access must not depend on CI's role",
    ]);
    expect(aws({ access: { ...access, readOnlyRoleArn: access.deployRoleArn } })).toEqual([expect.stringMatching(/readOnlyRoleArn/)]);
    expect(issues({ ...base, cloud: "gcp", region: "us-west1", project: "p", access })).toEqual([expect.stringMatching(/^access: AWS only/)]);
  });

  it("refuses scale-down figures GKE cannot apply", () => {
    expect(issues({ ...base, cloud: "gcp", region: "r", project: "p", autoscaling: { scaleDownUnneededTime: "5m" } })).toEqual([
      expect.stringMatching(/^autoscaling\.scaleDownUnneededTime: GKE's BALANCED profile/),
    ]);
    expect(issues({ ...base, cloud: "aws", region: "r", access, autoscaling: { scaleDownUnneededTime: "5m" } })).toEqual([]);
  });

  it("refuses a GPU pool without GPUs, GPUs outside it, a GKE GPU without a type and a renamed GKE sandbox class", () => {
    const pools = (gpu: object, general: object = base.nodePools.general) => ({ ...base.nodePools, gpu, general });
    expect(issues({ ...base, cloud: "aws", region: "r", access, nodePools: pools({ machineType: "g6.2xlarge", minNodes: 0, maxNodes: 2 }) })).toEqual([
      "nodePools.gpu.gpuCount: must be > 0 when nodePools.gpu.maxNodes > 0",
    ]);
    expect(
      issues({ ...base, cloud: "gcp", region: "r", project: "p", nodePools: pools({ machineType: "g2-standard-8", minNodes: 0, maxNodes: 2, gpuCount: 1 }) }),
    ).toEqual([expect.stringMatching(/^nodePools\.gpu\.gpuType: required on gcp/)]);
    expect(
      issues({ ...base, cloud: "aws", region: "r", access, nodePools: pools(base.nodePools.gpu, { ...base.nodePools.general, gpuCount: 1 }) }),
    ).toEqual(["nodePools.general.gpuCount: GPUs belong to nodePools.gpu only; nodePools.general carries no GPU taint"]);
    expect(issues({ ...base, cloud: "gcp", region: "r", project: "p", sandboxRuntimeClass: "runsc" })).toEqual([
      expect.stringMatching(/^sandboxRuntimeClass: must be "gvisor" when cloud is gcp/),
    ]);
  });

  it("names both keys when ai-inference needs a GPU the pool cannot give", () => {
    let problems: string[] = [];
    for (const stack of ["prod", "dr"] as const) {
      const raw = stackRaw(stack);
      raw.cluster.nodePools = { gpu: { maxNodes: 0 } };
      try {
        parsePlatformConfig(raw);
      } catch (e) {
        problems = [...problems, ...(e as ConfigError).problems];
      }
    }
    expect(problems).toHaveLength(2);
    for (const p of problems) expect(p).toMatch(/^cluster\.nodePools\.gpu\.maxNodes: .*processors\.ai-inference\.resources\.gpu/);
  });

  it("names the stack key of a malformed access role in the dr stack", () => {
    const raw = stackRaw("dr");
    expect(raw.cluster.access).toBeDefined();
    raw.cluster.access.breakGlassRoleArn = "pitchey-break-glass";
    let problems: string[] = [];
    try {
      parsePlatformConfig(raw);
    } catch (e) {
      problems = (e as ConfigError).problems;
    }
    expect(problems).toEqual([expect.stringMatching(/^cluster\.access\.breakGlassRoleArn: expected an IAM role ARN/)]);
  });
});
