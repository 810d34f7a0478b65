import { z } from "zod";
import { POOL_NAMES, type PoolName } from "./defaults";
import { KUBERNETES_VERSION } from "../../components/versions";

const cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, "expected an IPv4 CIDR such as 10.0.0.0/16");

/** An IAM role, not a user and not an assumed-role session (`arn:aws:sts::…:assumed-role/…` is a common slip). */
const iamRoleArn = z
  .string()
  .regex(
    /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
    "expected an IAM role ARN such as arn:aws:iam::123456789012:role/pitchey-deploy (not a user or an assumed-role session)",
  );

const poolSchema = z.strictObject({
  /** GCE machine type or EC2 instance type. */
  machineType: z.string().min(1),
  /** EKS spot pools spread over several instance types; ignored on GKE. */
  instanceTypes: z.array(z.string().min(1)).default([]),
  minNodes: z.number().int().min(0),
  maxNodes: z.number().int().min(0),
  diskSizeGb: z.number().int().min(20).default(100),
  /** Accelerator type (GKE, e.g. nvidia-l4); EKS picks the instance type instead. */
  gpuType: z.string().optional(),
  /** GPUs per node. */
  gpuCount: z.number().int().min(0).default(0),
  /** Pods sharing one GPU via the device plugin's time-slicing; 1 disables sharing. */
  gpuTimeSlicingReplicas: z.number().int().min(1).default(1),
  /**
   * GKE only: zones the pool's nodes run in (e.g. where its accelerator is offered); empty means every zone of
   * the region.
   */
  zones: z.array(z.string().regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, "expected a zone such as us-west1-a")).default([]),
});
export type PoolConfig = z.infer<typeof poolSchema>;

export const clusterSchema = z
  .strictObject({
    cloud: z.enum(["gcp", "aws"]),
    name: z.string().regex(/^[a-z][a-z0-9-]{1,38}[a-z0-9]$/, "expected a lowercase DNS-style name of 3–40 characters"),
    region: z.string().min(1),
    /** GCP project id (gcp only). */
    project: z.string().optional(),
    /** CIDRs allowed to reach the Kubernetes API. */
    authorizedNetworks: z.array(z.strictObject({ name: z.string().min(1), cidr })).min(1),
    releaseChannel: z.enum(["RAPID", "REGULAR", "STABLE"]).default("REGULAR"),
    kubernetesVersion: z.string().default(KUBERNETES_VERSION),
    network: z
      .strictObject({
        nodesCidr: cidr.default("10.10.0.0/20"),
        podsCidr: cidr.default("10.20.0.0/14"),
        servicesCidr: cidr.default("10.30.0.0/20"),
        masterCidr: cidr.default("172.16.0.32/28"),
        /** AWS only: availability zones the VPC spans (one private and one public subnet in each). */
        availabilityZones: z.number().int().min(2, "expected at least 2 zones").max(6, "expected at most 6 zones").default(3),
        /** AWS only: one NAT gateway per zone (survives a zone loss) or a single shared one (cheaper). */
        natGatewayPerZone: z.boolean().default(true),
      })
      .prefault({}),
    autoscaling: z
      .strictObject({
        scaleDownUnneededTime: z.string().regex(/^\d+[smh]$/, "expected a duration such as 10m").default("10m"),
        scaleDownUtilizationThreshold: z.number().gt(0).lt(1).default(0.5),
        /**
         * GKE only: the managed autoscaler takes a profile, not flags. BALANCED keeps the upstream defaults
         * (10m unneeded time, 0.5 utilization), which are the playbook's figures.
         */
        gkeProfile: z.enum(["BALANCED", "OPTIMIZE_UTILIZATION"]).default("BALANCED"),
      })
      .prefault({}),
    nodePools: z.strictObject(
      Object.fromEntries(POOL_NAMES.map((p) => [p, poolSchema])) as Record<PoolName, typeof poolSchema>,
    ),
    /** RuntimeClass the sandboxed processor runs under. */
    sandboxRuntimeClass: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "expected a RuntimeClass name such as gvisor").default("gvisor"),
    /**
     * AWS only, required there: the IAM roles given cluster admin through EKS access entries. Without them only the
     * identity that created the cluster can reach it, and during a failover CI and on-call would be refused.
     */
    access: z
      .strictObject({
        /** The role CI's `pulumi up` runs as. */
        deployRoleArn: iamRoleArn,
        /** The role the on-call engineer assumes in an emergency (see docs/runbooks/disaster-recovery.md). */
        breakGlassRoleArn: iamRoleArn,
      })
      .optional(),
    /** Days the EKS control-plane logs are kept (the playbook keeps access audit 90 days). */
    controlPlaneLogRetentionDays: z.number().int().positive().default(90),
    /** Protects the cluster from `pulumi destroy`; turn off only to tear a stack down. */
    deletionProtection: z.boolean().default(true),
    /** Lowest Falco priority forwarded to Alertmanager. */
    falcoMinimumPriority: z
      .enum(["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"])
      .default("warning"),
  })
  .superRefine((c, ctx) => {
    if (c.cloud === "aws" && !c.access) {
      ctx.addIssue({
        code: "custom",
        path: ["access"],
        message: "required when cloud is aws: set access.deployRoleArn and access.breakGlassRoleArn (IAM role ARNs), or only the cluster's creator can reach it",
      });
    }
    if (c.cloud === "gcp" && c.access) {
      ctx.addIssue({ code: "custom", path: ["access"], message: "AWS only: on gcp, cluster access is granted with IAM roles on the project" });
    }
    if (c.access && c.access.deployRoleArn === c.access.breakGlassRoleArn) {
      ctx.addIssue({ code: "custom", path: ["access", "breakGlassRoleArn"], message: "must differ from access.deployRoleArn: break-glass access must not depend on CI's role" });
    }
    if (c.cloud === "gcp" && !c.project) {
      ctx.addIssue({ code: "custom", path: ["project"], message: "required when cloud is gcp" });
    }
    if (c.cloud === "gcp" && c.sandboxRuntimeClass !== "gvisor") {
      ctx.addIssue({
        code: "custom",
        path: ["sandboxRuntimeClass"],
        message: `must be "gvisor" when cloud is gcp (GKE Sandbox names its RuntimeClass), got "${c.sandboxRuntimeClass}"`,
      });
    }
    if (
      c.cloud === "gcp" &&
      c.autoscaling.gkeProfile === "BALANCED" &&
      (c.autoscaling.scaleDownUnneededTime !== "10m" || c.autoscaling.scaleDownUtilizationThreshold !== 0.5)
    ) {
      // GKE exposes no scale-down flags; silently ignoring the figures would be worse than refusing them.
      ctx.addIssue({
        code: "custom",
        path: ["autoscaling", "scaleDownUnneededTime"],
        message:
          "GKE's BALANCED profile fixes scale-down at 10m / 0.5; keep autoscaling.scaleDownUnneededTime=10m and autoscaling.scaleDownUtilizationThreshold=0.5, or set autoscaling.gkeProfile=OPTIMIZE_UTILIZATION",
      });
    }
    const gpu = c.nodePools.gpu;
    if (gpu.maxNodes > 0 && gpu.gpuCount === 0) {
      ctx.addIssue({ code: "custom", path: ["nodePools", "gpu", "gpuCount"], message: "must be > 0 when nodePools.gpu.maxNodes > 0" });
    }
    if (c.cloud === "gcp" && gpu.gpuCount > 0 && !gpu.gpuType) {
      ctx.addIssue({
        code: "custom",
        path: ["nodePools", "gpu", "gpuType"],
        message: "required on gcp when nodePools.gpu.gpuCount > 0 (an accelerator type such as nvidia-l4)",
      });
    }
    for (const name of POOL_NAMES) {
      const p = c.nodePools[name];
      p.zones.forEach((zone, i) => {
        if (c.cloud !== "gcp") {
          ctx.addIssue({ code: "custom", path: ["nodePools", name, "zones"], message: "applies to gcp only; EKS pools span network.availabilityZones" });
        } else if (!zone.startsWith(`${c.region}-`)) {
          ctx.addIssue({ code: "custom", path: ["nodePools", name, "zones", i], message: `must be a zone of region ${c.region}, got ${zone}` });
        }
      });
      if (name !== "gpu" && (p.gpuCount > 0 || p.gpuType)) {
        ctx.addIssue({
          code: "custom",
          path: ["nodePools", name, p.gpuType ? "gpuType" : "gpuCount"],
          message: `GPUs belong to nodePools.gpu only; nodePools.${name} carries no GPU taint`,
        });
      }
      if (p.minNodes > p.maxNodes) {
        ctx.addIssue({
          code: "custom",
          path: ["nodePools", name, "minNodes"],
          message: `must be ≤ nodePools.${name}.maxNodes (${p.maxNodes}), got ${p.minNodes}`,
        });
      }
    }
  });
export type ClusterConfig = z.infer<typeof clusterSchema>;

/** Per-cloud defaults; the stack file supplies region, project and authorized networks. */
export const CLUSTER_DEFAULTS = {
  gcp: {
    name: "pitchey-containers",
    nodePools: {
      general: { machineType: "n2-standard-4", minNodes: 3, maxNodes: 20 },
      spot: { machineType: "n2-standard-4", minNodes: 0, maxNodes: 10 },
      gpu: { machineType: "g2-standard-8", minNodes: 0, maxNodes: 5, gpuType: "nvidia-l4", gpuCount: 1 },
      sandbox: { machineType: "n2-standard-4", minNodes: 1, maxNodes: 10 },
    },
  },
  aws: {
    name: "pitchey-containers",
    nodePools: {
      general: { machineType: "m6i.xlarge", minNodes: 3, maxNodes: 20 },
      spot: {
        machineType: "m6i.xlarge",
        instanceTypes: ["m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m5a.xlarge"],
        minNodes: 0,
        maxNodes: 10,
      },
      gpu: { machineType: "g6.2xlarge", minNodes: 0, maxNodes: 5, gpuCount: 1 },
      sandbox: { machineType: "m6i.xlarge", minNodes: 1, maxNodes: 10 },
    },
  },
} as const;
