import { describe, expect, it } from "vitest";
import { clusterAutoscalerValues, devicePluginConfig, gvisorRuntimeClass, nvidiaDevicePluginValues } from "./addons";
import { CLUSTER_ARG_DEFAULTS, missingBucketGrants } from "./args";
import { chartSource, ecrLifecyclePolicy, eksInstanceTypes, eksNodeGroupArgs, irsaTrustPolicy, workloadPolicy } from "./eks";
import { resolveEksClusterArgs, type EksClusterArgs } from "./eks-args";
import { artifactRegistryArgs, gcpAccountId, gkeNodePoolArgs } from "./gke";
import { resolveGkeClusterArgs, type GkeClusterArgs } from "./gke-args";
import { eksKubeconfig, gkeKubeconfig } from "./kubeconfig";
import { awsSubnetPlan, cidrSubnet } from "./network";
import { POOL_LABEL, poolScheduling, toleration } from "./scheduling";
import { gkeTestArgs } from "./test-support";
import { CHARTS, KUBERNETES_VERSION } from "../versions";

const labels = { environment: "production", costCenter: "platform-processing", team: "platform" };
const base = {
  name: "pitchey-containers",
  authorizedNetworks: [{ name: "vpn", cidr: "203.0.113.0/24" }],
  labels,
  nodePools: {
    general: { machineType: "n2-standard-4", minNodes: 3, maxNodes: 20 },
    spot: { machineType: "n2-standard-4", minNodes: 0, maxNodes: 10 },
    gpu: { machineType: "g2-standard-8", minNodes: 0, maxNodes: 5, gpuType: "nvidia-l4", gpuCount: 1 },
    sandbox: { machineType: "n2-standard-4", minNodes: 1, maxNodes: 10 },
  },
};
const gcp = (over: Partial<GkeClusterArgs> = {}) => resolveGkeClusterArgs({ ...base, region: "us-west1", project: "p", ...over });
const aws = (over: Partial<EksClusterArgs> = {}) =>
  resolveEksClusterArgs({
    ...base,
    region: "eu-west-1",
    nodePools: {
      ...base.nodePools,
      spot: { machineType: "m6i.xlarge", instanceTypes: ["m6i.xlarge", "m5.xlarge"], minNodes: 0, maxNodes: 10 },
      gpu: { machineType: "g6.2xlarge", minNodes: 0, maxNodes: 5, gpuCount: 1 },
    },
    ...over,
  });
const NAME = "pitchey-containers";

describe("pool scheduling facts", () => {
  it("uses GKE's own taints on GKE and pitchey.io keys on EKS, with the pool label everywhere", () => {
    expect(poolScheduling("gcp", "spot", NAME).taints).toEqual([
      { key: "cloud.google.com/gke-spot", value: "true", effect: "NoSchedule" },
      // GKE's spot pool belongs to the spot-first ComputeClass, whose pools must carry its taint.
      { key: "cloud.google.com/compute-class", value: "pitchey-spot-first", effect: "NoSchedule" },
    ]);
    expect(poolScheduling("aws", "spot", NAME).taints).toEqual([{ key: "pitchey.io/spot", value: "true", effect: "NoSchedule" }]);
    expect(poolScheduling("gcp", "sandbox", NAME).taints).toEqual([{ key: "sandbox.gke.io/runtime", value: "gvisor", effect: "NoSchedule" }]);
    expect(poolScheduling("aws", "sandbox", NAME).taints).toEqual([{ key: "pitchey.io/sandbox", value: "gvisor", effect: "NoSchedule" }]);
    for (const cloud of ["gcp", "aws"] as const) {
      expect(poolScheduling(cloud, "gpu", NAME).taints).toEqual([
        { key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" },
      ]);
      expect(poolScheduling(cloud, "general", NAME).taints).toEqual([]);
    }
    expect(poolScheduling("gcp", "gpu", NAME).labels).toEqual({ [POOL_LABEL]: "gpu", "cloud.google.com/gke-nodepool": "gpu" });
    expect(poolScheduling("aws", "spot", NAME).labels).toEqual({
      [POOL_LABEL]: "spot",
      "eks.amazonaws.com/nodegroup": "pitchey-containers-spot",
      "eks.amazonaws.com/capacityType": "SPOT",
    });
  });

  it("turns a taint into the toleration that matches it exactly", () => {
    expect(toleration({ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" })).toEqual({
      key: "nvidia.com/gpu",
      operator: "Equal",
      value: "present",
      effect: "NoSchedule",
    });
  });
});

describe("GKE builders", () => {
  const inputs = { cluster: "c", nodeServiceAccount: "nodes@p.iam.gserviceaccount.com", ctx: labels };

  it("turns on time-sharing when the GPU pool asks for more than one replica", () => {
    const cfg = gcp({ nodePools: { ...base.nodePools, gpu: { ...base.nodePools.gpu, gpuTimeSlicingReplicas: 4 } } });
    expect(gkeNodePoolArgs("gpu", cfg, inputs).nodeConfig).toMatchObject({
      guestAccelerators: [{ gpuSharingConfig: { gpuSharingStrategy: "TIME_SHARING", maxSharedClientsPerGpu: 4 } }],
    });
    expect((gkeNodePoolArgs("gpu", gcp(), inputs).nodeConfig as any).guestAccelerators[0].gpuSharingConfig).toBeUndefined();
  });

  it("limits a pool to the configured zones, or leaves the region's choice", () => {
    const cfg = gcp({ nodePools: { ...base.nodePools, gpu: { ...base.nodePools.gpu, zones: ["us-west1-a", "us-west1-b"] } } });
    expect(gkeNodePoolArgs("gpu", cfg, inputs).nodeLocations).toEqual(["us-west1-a", "us-west1-b"]);
    expect(gkeNodePoolArgs("general", cfg, inputs).nodeLocations).toBeUndefined();
    expect(() => gcp({ nodePools: { ...base.nodePools, gpu: { ...base.nodePools.gpu, zones: ["us-east1-b"] } } })).toThrow(
      "nodePools.gpu.zones[0]: must be a zone of region us-west1, got us-east1-b",
    );
  });

  it("leaves the sandbox taint to GKE and labels pools for cost attribution", () => {
    const args = gkeNodePoolArgs("sandbox", gcp(), inputs) as any;
    expect(args.nodeConfig.taints).toEqual([]);
    expect(args.nodeConfig.resourceLabels).toMatchObject({ service: "pitchey-containers", cost_center: "platform-processing", pool: "sandbox" });
  });

  it("derives account ids from the cluster's name, 6–30 characters of [a-z0-9-], distinct per cluster", () => {
    const valid = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
    expect(gcpAccountId("pitchey-containers", "nodes")).toBe("pitchey-containers-nodes");
    const id = gcpAccountId("pitchey-containers", "document-processor");
    expect(id).toMatch(valid);
    expect(id).toMatch(/^pitchey-containers-docu-[0-9a-f]{6}$/);
    // Two clusters whose names differ only past the cut still get different ids; the same inputs, the same id.
    const a = gcpAccountId("pitchey-containers-staging-a", "video-processor");
    const b = gcpAccountId("pitchey-containers-staging-b", "video-processor");
    expect(a).not.toBe(b);
    expect(gcpAccountId("pitchey-containers-staging-a", "video-processor")).toBe(a);
    for (const x of [a, b, gcpAccountId("a-very-long-cluster-name-here-and-more", "nodes")]) expect(x).toMatch(valid);
    // Without the cluster's name a second cluster in the project would ask for the same id (409).
    expect(gcpAccountId("pitchey-analytics", "video-processor")).not.toBe(gcpAccountId("pitchey-containers", "video-processor"));
  });

  it("refuses, naming the input, an id GCP would refuse", () => {
    expect(() => gcpAccountId("abc", "x")).toThrow(/service account id "abc-x" \(cluster "abc", role "x"\) is not 6–30 characters/);
    expect(() => resolveGkeClusterArgs(gkeTestArgs({ name: "abc", workloads: [{ name: "x", namespace: "processors", access: [] }] }))).toThrow(
      /workloads\[0\]\.name: service account id "abc-x"/,
    );
  });

  it("expires untagged images after the retention given", () => {
    expect(artifactRegistryArgs({ cfg: gcp(), ctx: labels, untaggedImageRetentionDays: 3 }).cleanupPolicies).toEqual([
      { id: "delete-untagged", action: "DELETE", condition: { tagState: "UNTAGGED", olderThan: "259200s" } },
    ]);
  });
});

describe("EKS builders", () => {
  it("spreads spot over the configured instance types and keeps one type elsewhere", () => {
    expect(eksInstanceTypes("spot", aws())).toEqual(["m6i.xlarge", "m5.xlarge"]);
    expect(eksInstanceTypes("general", aws())).toEqual(["n2-standard-4"]);
    const args = eksNodeGroupArgs("gpu", aws(), {
      tags: {},
      clusterName: "c",
      nodeRoleArn: "r",
      subnetIds: ["a"],
      launchTemplate: { id: "lt", version: "1" },
    });
    expect(args.amiType).toBe("AL2023_x86_64_NVIDIA");
    expect(args.labels).toEqual({ [POOL_LABEL]: "gpu", "nvidia.com/gpu.present": "true" });
  });

  it("scopes an IRSA trust policy to one ServiceAccount and the STS audience", () => {
    const doc = JSON.parse(irsaTrustPolicy("arn:aws:iam::1:oidc-provider/oidc.example/id/X", "https://oidc.example/id/X", "ns", "sa"));
    expect(doc.Statement).toHaveLength(1);
    expect(doc.Statement[0].Condition.StringEquals).toEqual({
      "oidc.example/id/X:sub": "system:serviceaccount:ns:sa",
      "oidc.example/id/X:aud": "sts.amazonaws.com",
    });
  });

  it("grants results read-write and backups write-only", () => {
    const doc = JSON.parse(
      workloadPolicy("aws", [
        { access: "results-bucket", bucket: "r" },
        { access: "backups-bucket", bucket: "b" },
      ]),
    );
    expect(doc.Statement).toEqual([
      { Effect: "Allow", Action: ["s3:ListBucket"], Resource: ["arn:aws:s3:::r"] },
      { Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: ["arn:aws:s3:::r/*"] },
      { Effect: "Allow", Action: ["s3:ListBucket"], Resource: ["arn:aws:s3:::b"] },
      { Effect: "Allow", Action: ["s3:PutObject"], Resource: ["arn:aws:s3:::b/*"] },
    ]);
  });

  it("expires untagged ECR images after the retention given", () => {
    expect(JSON.parse(ecrLifecyclePolicy(7)).rules[0]).toMatchObject({
      selection: { tagStatus: "untagged", countNumber: 7, countUnit: "days" },
      action: { type: "expire" },
    });
  });

  it("addresses OCI charts by URL and HTTP charts by repository", () => {
    expect(chartSource({ chart: "x", version: "1.0.0", repo: "oci://r.example/helm" })).toEqual({ chart: "oci://r.example/helm/x", version: "1.0.0" });
    expect(chartSource({ chart: "x", version: "1.0.0", repo: "https://r.example" })).toEqual({
      chart: "x",
      version: "1.0.0",
      repositoryOpts: { repo: "https://r.example" },
    });
  });
});

describe("network layout", () => {
  it("splits CIDRs like cidrsubnet", () => {
    expect(cidrSubnet("10.60.0.0/16", 2, 3)).toBe("10.60.192.0/18");
    expect(cidrSubnet("10.60.5.7/16", 8, 1)).toBe("10.60.1.0/24");
    expect(() => cidrSubnet("10.0.0.0/16", 2, 4)).toThrow(/no subnet 4/);
  });

  it("lays out non-overlapping private and public subnets for up to six zones", () => {
    for (const zones of [2, 3, 4, 6]) {
      const plan = awsSubnetPlan("10.60.0.0/16", zones);
      const all = [...plan.private, ...plan.public];
      expect(new Set(all).size).toBe(zones * 2);
      const ranges = all.map((c) => {
        const [ip, len] = c.split("/");
        const start = ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
        return [start, start + 2 ** (32 - Number(len))];
      });
      ranges.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThanOrEqual(ranges[i - 1][1]);
    }
  });
});

describe("cluster autoscaler: spot first, drains as long as the longest grace", () => {
  const pools = { general: poolScheduling("aws", "general", NAME) };
  const values = (spotNodeGroup?: string) =>
    clusterAutoscalerValues({
      clusterName: NAME,
      kubernetesVersion: "1.35",
      region: "eu-west-1",
      roleArn: "arn",
      scaleDownUnneededTime: "10m",
      scaleDownUtilizationThreshold: 0.5,
      maxGracefulTerminationSeconds: 930,
      general: pools.general,
      spotNodeGroup,
      labels: {},
    }) as any;
  // EKS names a managed node group's Auto Scaling group eks-<nodeGroupName>-<uuid>; the expander matches that.
  const asg = (group: string) => `eks-${group}-58c6b3a4-2f1e-7d40-a9b3-0c1d2e3f4a5b`;
  const rankOf = (v: any, group: string) =>
    Math.max(...Object.entries(v.expanderPriorities as Record<string, string[]>).filter(([, res]) => res.some((re) => new RegExp(re).test(asg(group)))).map(([rank]) => Number(rank)));

  it("ranks the spot node group above every other group with the priority expander, least-waste breaking ties", () => {
    const v = values(`${NAME}-spot`);
    expect(v.extraArgs.expander).toBe("priority,least-waste");
    // The chart renders the cluster-autoscaler-priority-expander ConfigMap only from a non-empty expanderPriorities.
    expect(Object.keys(v.expanderPriorities).length).toBeGreaterThan(0);
    const spot = rankOf(v, `${NAME}-spot`);
    for (const other of ["general", "gpu", "sandbox"]) expect(rankOf(v, `${NAME}-${other}`), other).toBeLessThan(spot);
    // A cluster whose name extends this one's does not get its spot group ranked by this regex.
    expect(rankOf(v, `${NAME}-spot-2`)).toBeLessThan(spot);
  });

  it("uses least-waste alone when there is no spot group to prefer", () => {
    const v = values(undefined);
    expect(v.extraArgs.expander).toBe("least-waste");
    expect(v.expanderPriorities).toBeUndefined();
  });

  it("waits for a pod's whole grace before deleting a node it drains", () => {
    expect(values(`${NAME}-spot`).extraArgs["max-graceful-termination-sec"]).toBe("930");
  });
});

describe("add-on values", () => {
  const pools = { general: poolScheduling("aws", "general", NAME), spot: poolScheduling("aws", "spot", NAME), gpu: poolScheduling("aws", "gpu", NAME), sandbox: poolScheduling("aws", "sandbox", NAME) };

  it("shares a GPU only when asked to", () => {
    expect(devicePluginConfig(1)).not.toContain("timeSlicing");
    expect(devicePluginConfig(4)).toContain("replicas: 4");
    expect((nvidiaDevicePluginValues(pools.gpu, 2) as any).config.map.default).toContain("replicas: 2");
  });

  it("passes the playbook's scale-down figures as autoscaler flags", () => {
    const v = clusterAutoscalerValues({
      clusterName: "c",
      kubernetesVersion: "1.35",
      region: "eu-west-1",
      roleArn: "arn",
      scaleDownUnneededTime: "10m",
      scaleDownUtilizationThreshold: 0.5,
      maxGracefulTerminationSeconds: 600,
      general: pools.general,
      labels: {},
    }) as any;
    expect(v.extraArgs).toMatchObject({
      "scale-down-unneeded-time": "10m",
      "scale-down-utilization-threshold": "0.5",
      "skip-nodes-with-local-storage": "false",
      "skip-nodes-with-system-pods": "false",
    });
    expect(v.nodeSelector).toEqual({ [POOL_LABEL]: "general" });
    expect(v.image).toEqual({ tag: "v1.35.0" });
  });

  it("installs the autoscaler chart released for the cluster's minor (its RBAC is that autoscaler's)", () => {
    expect(CHARTS.clusterAutoscaler.appVersion?.split(".").slice(0, 2).join(".")).toBe(KUBERNETES_VERSION);
  });

  it("makes the RuntimeClass carry the sandbox pool's selector and toleration", () => {
    expect(gvisorRuntimeClass("gvisor", pools.sandbox)).toEqual({
      metadata: { name: "gvisor" },
      handler: "runsc",
      overhead: { podFixed: { cpu: "100m", memory: "64Mi" } },
      scheduling: {
        nodeSelector: { [POOL_LABEL]: "sandbox" },
        tolerations: [{ key: "pitchey.io/sandbox", operator: "Equal", value: "gvisor", effect: "NoSchedule" }],
      },
    });
  });
});

describe("kubeconfigs", () => {
  it("hold no credential, only an exec plugin", () => {
    for (const kc of [gkeKubeconfig("c", "1.2.3.4", "Q0E="), eksKubeconfig("c", "https://x", "Q0E=", "c", "eu-west-1")]) {
      const user = JSON.parse(kc).users[0].user;
      expect(Object.keys(user)).toEqual(["exec"]);
    }
  });
});

describe("cluster arguments", () => {
  it("applies defaults", () => {
    const r = gcp();
    expect(r.alertmanagerUrl).toBe(CLUSTER_ARG_DEFAULTS.alertmanagerUrl);
    expect(r.untaggedImageRetentionDays).toBe(7);
    expect(r).toMatchObject({ releaseChannel: "REGULAR", autoscalingProfile: "BALANCED", kubernetesVersion: "1.35", deletionProtection: true });
    expect(r.nodePools.general).toMatchObject({ diskSizeGb: 100, gpuCount: 0, gpuTimeSlicingReplicas: 1, zones: [] });
    const e = aws();
    expect(e.autoscaling).toEqual({ maxGracefulTerminationSeconds: 600, scaleDownUnneededTime: "10m", scaleDownUtilizationThreshold: 0.5 });
    expect(e.network).toMatchObject({ availabilityZones: 3, natGatewayPerZone: true });
    expect(e).toMatchObject({ controlPlaneLogRetentionDays: 90, sandboxRuntimeClass: "gvisor", falcoMinimumPriority: "warning" });
  });

  it("reports every bad argument with its path", () => {
    expect(() =>
      gcp({
        workloads: [
          { name: "Bad_Name", namespace: "ns", access: [] },
          { name: "a", namespace: "ns", access: [] },
          { name: "a", namespace: "ns", access: [] },
        ],
        untaggedImageRetentionDays: 0,
        alertmanagerUrl: "alertmanager:9093",
      }),
    ).toThrow(/workloads\[0\]\.name.*workloads\[2\]\.name: "a" is requested twice.*untaggedImageRetentionDays.*alertmanagerUrl/);
  });

  it("names the bucket grants it cannot make", () => {
    const r = gcp({ workloads: [{ name: "a", namespace: "ns", access: ["backups-bucket"] }] });
    expect(missingBucketGrants(r)).toEqual(["a asks for backups-bucket access but backupsBucket is not set; no grant made"]);
  });

  it("refuses GPUs outside the GPU pool and a GKE GPU without a type", () => {
    expect(() => aws({ nodePools: { ...base.nodePools, gpu: { machineType: "g6.2xlarge", minNodes: 0, maxNodes: 2 } } })).toThrow(
      "nodePools.gpu.gpuCount: must be > 0 when maxNodes > 0",
    );
    expect(() => gcp({ nodePools: { ...base.nodePools, gpu: { machineType: "g2-standard-8", minNodes: 0, maxNodes: 2, gpuCount: 1 } } })).toThrow(
      /nodePools\.gpu\.gpuType: required when gpuCount > 0/,
    );
    expect(() => aws({ nodePools: { ...base.nodePools, general: { ...base.nodePools.general, gpuCount: 1 } } })).toThrow(
      "nodePools.general.gpuCount: GPUs belong to the gpu pool only",
    );
  });
});
