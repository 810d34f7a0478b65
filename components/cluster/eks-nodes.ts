import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsTags, type LabelContext } from "../labels";
import { movedFrom, type MovedFrom } from "../moved";
import type { ResolvedEksClusterArgs } from "./eks-args";
import { servicePrincipalTrust } from "./eks-iam";
import { sandboxUserData } from "./gvisor";
import { cloudTaintEffect, declaredPoolLabels, poolResourceName, poolScheduling } from "./scheduling";
import { POOL_NAMES, type PoolName } from "./types";

/** AMI per pool: the NVIDIA variant ships the driver and container toolkit the device plugin needs. */
export function eksAmiType(pool: PoolName): string {
  return pool === "gpu" ? "AL2023_x86_64_NVIDIA" : "AL2023_x86_64_STANDARD";
}

/** Instance types per pool: the spot pool spreads over several so one type's shortage does not empty it. */
export function eksInstanceTypes(pool: PoolName, cfg: Pick<ResolvedEksClusterArgs, "nodePools">): string[] {
  const p = cfg.nodePools[pool];
  if (pool === "spot" && p.instanceTypes.length > 0) return [...p.instanceTypes];
  return [p.machineType];
}

export interface EksNodeGroupInputs {
  readonly tags: Record<string, string>;
  readonly clusterName: pulumi.Input<string>;
  readonly nodeRoleArn: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string>[];
  readonly launchTemplate: { id: pulumi.Input<string>; version: pulumi.Input<string> };
}

export function eksNodeGroupArgs(pool: PoolName, cfg: ResolvedEksClusterArgs, i: EksNodeGroupInputs): aws.eks.NodeGroupArgs {
  const p = cfg.nodePools[pool];
  const scheduling = poolScheduling("aws", pool, cfg.name);
  return {
    clusterName: i.clusterName,
    nodeGroupName: poolResourceName("aws", cfg.name, pool),
    nodeRoleArn: i.nodeRoleArn,
    subnetIds: i.subnetIds,
    amiType: eksAmiType(pool),
    // The control plane's minor: without it a group keeps the version it was created with, and every control-plane
    // upgrade would leave its kubelets a minor further behind. Depending on the cluster, the group rolls after it.
    version: cfg.kubernetesVersion,
    capacityType: pool === "spot" ? "SPOT" : "ON_DEMAND",
    instanceTypes: eksInstanceTypes(pool, cfg),
    // The cluster autoscaler moves desiredSize; it is read back from AWS, never reset by a deploy.
    scalingConfig: { minSize: p.minNodes, maxSize: p.maxNodes, desiredSize: p.minNodes },
    updateConfig: { maxUnavailable: 1 },
    labels: declaredPoolLabels("aws", pool),
    taints: scheduling.taints.map((t) => ({ key: t.key, value: t.value, effect: cloudTaintEffect(t.effect) })),
    launchTemplate: i.launchTemplate,
    nodeRepairConfig: { enabled: true },
    tags: { ...i.tags, Name: poolResourceName("aws", cfg.name, pool) },
  };
}

export function eksLaunchTemplateArgs(pool: PoolName, cfg: ResolvedEksClusterArgs, ctx: LabelContext): aws.ec2.LaunchTemplateArgs {
  const p = cfg.nodePools[pool];
  return {
    description: `${cfg.name} ${pool} nodes`,
    updateDefaultVersion: true,
    // Hop limit 1 keeps pods (other than host-network agents) away from the node role's credentials,
    // so a pod gets exactly its IRSA role and nothing more.
    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
    blockDeviceMappings: [
      {
        deviceName: "/dev/xvda",
        ebs: { volumeSize: p.diskSizeGb, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
      },
    ],
    tagSpecifications: [
      { resourceType: "instance", tags: { ...awsTags(ctx), Name: `${cfg.name}-${pool}` } },
      { resourceType: "volume", tags: awsTags(ctx) },
    ],
    ...(pool === "sandbox" ? { userData: Buffer.from(sandboxUserData()).toString("base64") } : {}),
    tags: awsTags(ctx),
  };
}

export interface EksNodeGroupsArgs {
  /** The resolved cluster arguments: name and pools. Required. */
  readonly cluster: ResolvedEksClusterArgs;
  /** The EKS cluster the groups join. Required. */
  readonly clusterName: pulumi.Input<string>;
  /** Private subnets the nodes run in. Required. */
  readonly subnetIds: pulumi.Input<string>[];
  /** The AWS partition, for managed policy ARNs. Required. */
  readonly partition: pulumi.Input<string>;
  /** Resources the groups must wait for (the CNI and kube-proxy add-ons). Default: none. */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** Where these resources were declared before this component existed (aliases keep them). Default: none. */
  readonly movedFrom?: MovedFrom;
}

/** The node role and one launch template and managed node group per pool with nodes. */
export class EksNodeGroups extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly groups: Partial<Record<PoolName, aws.eks.NodeGroup>>;

  constructor(name: string, args: EksNodeGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:cluster:EksNodeGroups", name, {}, opts);
    const cfg = args.cluster;
    const tags = awsTags(cfg.labels);
    const prefix = args.movedFrom?.prefix;
    const o = (role: string, formerRole?: string) => ({
      parent: this,
      ...movedFrom(args.movedFrom, role, formerRole && prefix ? `${prefix}-${formerRole}` : undefined),
    });
    this.role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: servicePrincipalTrust("ec2.amazonaws.com"), tags }, o("role", "node-role"));
    const policies = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"].map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-${policy}`,
          { role: this.role.name, policyArn: pulumi.interpolate`arn:${args.partition}:iam::aws:policy/${policy}` },
          o(policy, `node-${policy}`),
        ),
    );
    const groups: Partial<Record<PoolName, aws.eks.NodeGroup>> = {};
    for (const pool of POOL_NAMES) {
      // A pool bounded at zero nodes would never schedule anything; leaving it out keeps the plan honest.
      if (cfg.nodePools[pool].maxNodes === 0) continue;
      const lt = new aws.ec2.LaunchTemplate(`${name}-${pool}-lt`, eksLaunchTemplateArgs(pool, cfg, cfg.labels), o(`${pool}-lt`));
      groups[pool] = new aws.eks.NodeGroup(
        `${name}-${pool}`,
        eksNodeGroupArgs(pool, cfg, {
          tags,
          clusterName: args.clusterName,
          nodeRoleArn: this.role.arn,
          subnetIds: args.subnetIds,
          launchTemplate: { id: lt.id, version: lt.latestVersion.apply(String) },
        }),
        { ...o(pool), dependsOn: [...policies, ...(args.dependsOn ?? [])], ignoreChanges: ["scalingConfig.desiredSize"] },
      );
    }
    this.groups = groups;
    this.registerOutputs({ role: this.role.arn });
  }
}
