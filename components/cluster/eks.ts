import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { awsTags, k8sLabels, type LabelContext } from "../labels";
import { RuntimeSecurity } from "../runtime-security";
import { CHARTS, type ChartPin } from "../versions";
import {
  ADDON_NAMESPACES,
  CLUSTER_AUTOSCALER_SA,
  clusterAutoscalerValues,
  gvisorRuntimeClass,
  nodeTerminationHandlerValues,
  nvidiaDevicePluginValues,
  sandboxAdmissionPolicy,
} from "./addons";
import { bucketFor, identityLookup, missingBucketGrants } from "./args";
import { resolveEksClusterArgs, type EksClusterArgs, type ResolvedEksClusterArgs } from "./eks-args";
import { eksKubeconfig } from "./kubeconfig";
import { createAwsNetwork, type AwsNetwork } from "./eks-network";
import { cloudTaintEffect, declaredPoolLabels, poolResourceName, poolScheduling } from "./scheduling";
import { POOL_NAMES, type ClusterFacts, type PoolName, type PoolScheduling } from "./types";

export const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

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

/**
 * User data for sandbox nodes (MIME multipart, merged by EKS with its own): installs gVisor's runsc and its
 * containerd shim, checksum-verified, and registers the `runsc` runtime handler with containerd via nodeadm.
 */
export function sandboxUserData(gvisorRelease: string): string {
  const script = [
    "#!/bin/bash",
    "set -euo pipefail",
    `url="https://storage.googleapis.com/gvisor/releases/release/${gvisorRelease}/$(uname -m)"`,
    "cd \"$(mktemp -d)\"",
    "for f in runsc containerd-shim-runsc-v1; do",
    "  curl -fsSLo \"$f\" \"$url/$f\"",
    "  curl -fsSLo \"$f.sha512\" \"$url/$f.sha512\"",
    "done",
    "sha512sum -c runsc.sha512 -c containerd-shim-runsc-v1.sha512",
    "install -m 0755 runsc containerd-shim-runsc-v1 /usr/local/bin/",
  ].join("\n");
  // nodeadm writes a containerd 1.7 (config version 2) or 2.x (version 3) file depending on the AMI; the runtime
  // is declared under both plugin ids, and containerd ignores the one its config version does not use.
  const nodeConfig = [
    "apiVersion: node.eks.aws/v1alpha1",
    "kind: NodeConfig",
    "spec:",
    "  containerd:",
    "    config: |",
    "      [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runsc]",
    "        runtime_type = \"io.containerd.runsc.v1\"",
    "      [plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.runsc]",
    "        runtime_type = \"io.containerd.runsc.v1\"",
  ].join("\n");
  return [
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="==PITCHEY=="',
    "",
    "--==PITCHEY==",
    "Content-Type: application/node.eks.aws",
    "",
    nodeConfig,
    "",
    "--==PITCHEY==",
    'Content-Type: text/x-shellscript; charset="us-ascii"',
    "",
    script,
    "",
    "--==PITCHEY==--",
    "",
  ].join("\n");
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
    ...(pool === "sandbox" ? { userData: Buffer.from(sandboxUserData(cfg.gvisorRelease)).toString("base64") } : {}),
    tags: awsTags(ctx),
  };
}

export interface EksClusterInputs {
  readonly tags: Record<string, string>;
  readonly roleArn: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string>[];
  readonly kmsKeyArn: pulumi.Input<string>;
}

export function eksClusterArgs(cfg: ResolvedEksClusterArgs, i: EksClusterInputs): aws.eks.ClusterArgs {
  return {
    name: cfg.name,
    version: cfg.kubernetesVersion,
    roleArn: i.roleArn,
    vpcConfig: {
      subnetIds: i.subnetIds,
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: cfg.authorizedNetworks.map((n) => n.cidr),
    },
    encryptionConfig: { provider: { keyArn: i.kmsKeyArn }, resources: ["secrets"] },
    enabledClusterLogTypes: [...EKS_LOG_TYPES],
    accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
    kubernetesNetworkConfig: { serviceIpv4Cidr: cfg.network.servicesCidr },
    // The VPC CNI, kube-proxy and CoreDNS come as managed add-ons below, versioned by EKS.
    bootstrapSelfManagedAddons: false,
    deletionProtection: cfg.deletionProtection,
    // Standard support only: a version past its end is upgraded by EKS rather than billed as extended support.
    upgradePolicy: { supportType: "STANDARD" },
    tags: i.tags,
  };
}

/** Trust policy letting exactly one Kubernetes ServiceAccount assume a role through the cluster's OIDC issuer. */
export function irsaTrustPolicy(providerArn: string, issuerUrl: string, namespace: string, serviceAccount: string): string {
  const issuer = issuerUrl.replace(/^https:\/\//, "");
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: providerArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
            [`${issuer}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ],
  });
}

export function servicePrincipalTrust(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** S3 rights per access: results are read and written; backups are only ever added to. */
export function bucketPolicy(partition: string, access: "results-bucket" | "backups-bucket", bucket: string) {
  const arn = `arn:${partition}:s3:::${bucket}`;
  const objectActions = access === "results-bucket" ? ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] : ["s3:PutObject"];
  return [
    { Effect: "Allow", Action: ["s3:ListBucket"], Resource: [arn] },
    { Effect: "Allow", Action: objectActions, Resource: [`${arn}/*`] },
  ];
}

export interface BucketGrant {
  readonly access: "results-bucket" | "backups-bucket";
  readonly bucket: string;
}

export function workloadPolicy(partition: string, grants: readonly BucketGrant[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: grants.flatMap((g) => bucketPolicy(partition, g.access, g.bucket)) });
}

/** The autoscaler may resize and terminate only this cluster's node groups (tagged by EKS). */
export function clusterAutoscalerPolicy(clusterName: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities",
          "autoscaling:DescribeTags",
          "ec2:DescribeImages",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions",
          "ec2:GetInstanceTypesFromInstanceRequirements",
          // Reads labels and taints of node groups at zero nodes, so tainted pools can scale up from zero.
          "eks:DescribeNodegroup",
        ],
        Resource: ["*"],
      },
      {
        Effect: "Allow",
        Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
        Resource: ["*"],
        Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" } },
      },
    ],
  });
}

/** Lifecycle policy: untagged images expire after the retention; tagged ones stay. */
export function ecrLifecyclePolicy(untaggedDays: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `Expire untagged images after ${untaggedDays} days`,
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: untaggedDays },
        action: { type: "expire" },
      },
    ],
  });
}

/** Helm release arguments for a pinned chart from an HTTP or OCI repository. */
export function chartSource(pin: ChartPin): Pick<k8s.helm.v3.ReleaseArgs, "chart" | "version" | "repositoryOpts"> {
  return pin.repo.startsWith("oci://")
    ? { chart: `${pin.repo}/${pin.chart}`, version: pin.version }
    : { chart: pin.chart, version: pin.version, repositoryOpts: { repo: pin.repo } };
}

const ADDONS_BEFORE_NODES = ["vpc-cni", "kube-proxy"] as const;

/** EKS with private nodes across three zones, four managed node groups, ECR and IRSA identities. */
export class EksCluster extends pulumi.ComponentResource implements ClusterFacts {
  readonly cloud = "aws" as const;
  readonly provider: k8s.Provider;
  readonly awsProvider: aws.Provider;
  readonly oidcIssuer: pulumi.Output<string>;
  readonly pools: Readonly<Record<PoolName, PoolScheduling>>;
  readonly sandboxRuntimeClassName: string;
  readonly registryAuth: pulumi.Output<{ address: string; username: string; password: string }>;
  readonly readyResources: readonly pulumi.Resource[];
  readonly cluster: aws.eks.Cluster;
  readonly nodeGroups: Partial<Record<PoolName, aws.eks.NodeGroup>>;
  readonly repositories: ReadonlyMap<string, aws.ecr.Repository>;
  /** The VPC and subnets, for resources that must sit beside the cluster (databases, endpoints). */
  readonly network: AwsNetwork;
  readonly identities: ReadonlyMap<string, aws.iam.Role>;
  private readonly lookup: (name: string) => aws.iam.Role;

  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:cluster:EksCluster", name, {}, opts);
    const a = resolveEksClusterArgs(args);
    const cfg = a;
    this.awsProvider = new aws.Provider(
      `${name}-aws`,
      { region: cfg.region as aws.Region, defaultTags: { tags: awsTags(a.labels) } },
      { parent: this },
    );
    const o = { parent: this, provider: this.awsProvider };
    // defaultTags covers every taggable resource; tags are also set explicitly so each resource's own
    // inputs show its owner (and survive a resource being moved to another provider).
    const tags = awsTags(a.labels);
    const tagged = (extra: Record<string, string> = {}) => ({ tags: { ...tags, ...extra } });
    const partition = aws.getPartitionOutput({}, o).partition;

    this.network = createAwsNetwork(name, cfg, tags, o);
    const privateIds = this.network.privateSubnetIds;


    // Keys: one for Kubernetes secrets, one for images; both rotate yearly.
    const secretsKey = new aws.kms.Key(
      `${name}-secrets-key`,
      { description: `${cfg.name} Kubernetes secrets envelope encryption`, enableKeyRotation: true, deletionWindowInDays: 30, ...tagged() },
      o,
    );
    new aws.kms.Alias(`${name}-secrets-key`, { name: `alias/${cfg.name}-secrets`, targetKeyId: secretsKey.keyId }, o);
    const registryKey = new aws.kms.Key(
      `${name}-registry-key`,
      { description: `${cfg.name} image repositories`, enableKeyRotation: true, deletionWindowInDays: 30, ...tagged() },
      o,
    );
    new aws.kms.Alias(`${name}-registry-key`, { name: `alias/${cfg.name}-registry`, targetKeyId: registryKey.keyId }, o);

    // EKS writes to this group; creating it first sets the retention instead of "never expire".
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-control-plane-logs`,
      { name: `/aws/eks/${cfg.name}/cluster`, retentionInDays: cfg.controlPlaneLogRetentionDays, ...tagged() },
      o,
    );

    const clusterRole = new aws.iam.Role(`${name}-cluster-role`, { assumeRolePolicy: servicePrincipalTrust("eks.amazonaws.com"), ...tagged() }, o);
    const clusterPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-cluster-role`,
      { role: clusterRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AmazonEKSClusterPolicy` },
      o,
    );

    this.cluster = new aws.eks.Cluster(
      `${name}-eks`,
      eksClusterArgs(cfg, { tags, roleArn: clusterRole.arn, subnetIds: privateIds, kmsKeyArn: secretsKey.arn }),
      { ...o, dependsOn: [clusterPolicy, logGroup] },
    );
    this.oidcIssuer = this.cluster.identities.apply((ids) => ids?.[0]?.oidcs?.[0]?.issuer ?? "");
    const oidc = new aws.iam.OpenIdConnectProvider(
      `${name}-oidc`,
      { url: this.oidcIssuer, clientIdLists: ["sts.amazonaws.com"], ...tagged() },
      o,
    );
    const irsaRole = (role: string, namespace: string, serviceAccount: string) =>
      new aws.iam.Role(
        `${name}-${role}`,
        {
          assumeRolePolicy: pulumi
            .all([oidc.arn, this.oidcIssuer])
            .apply(([arn, issuer]) => irsaTrustPolicy(arn, issuer, namespace, serviceAccount)),
          ...tagged({ ServiceAccount: `${namespace}/${serviceAccount}` }),
        },
        o,
      );

    const cniRole = irsaRole("vpc-cni-role", "kube-system", "aws-node");
    new aws.iam.RolePolicyAttachment(
      `${name}-vpc-cni-role`,
      { role: cniRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AmazonEKS_CNI_Policy` },
      o,
    );
    const earlyAddons = ADDONS_BEFORE_NODES.map(
      (addon) =>
        new aws.eks.Addon(
          `${name}-${addon}`,
          {
            clusterName: this.cluster.name,
            addonName: addon,
            resolveConflictsOnCreate: "OVERWRITE",
            resolveConflictsOnUpdate: "OVERWRITE",
            ...tagged(),
            ...(addon === "vpc-cni"
              ? {
                  serviceAccountRoleArn: cniRole.arn,
                  // The CNI's network policy agent enforces NetworkPolicy, as Dataplane V2 does on GKE.
                  configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
                }
              : {}),
          },
          o,
        ),
    );

    const nodeRole = new aws.iam.Role(`${name}-node-role`, { assumeRolePolicy: servicePrincipalTrust("ec2.amazonaws.com"), ...tagged() }, o);
    const nodePolicies = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"].map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-${policy}`,
          { role: nodeRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}` },
          o,
        ),
    );

    const nodeGroups: Partial<Record<PoolName, aws.eks.NodeGroup>> = {};
    for (const pool of POOL_NAMES) {
      if (cfg.nodePools[pool].maxNodes === 0) continue;
      const lt = new aws.ec2.LaunchTemplate(`${name}-${pool}-lt`, eksLaunchTemplateArgs(pool, cfg, a.labels), o);
      nodeGroups[pool] = new aws.eks.NodeGroup(
        `${name}-${pool}`,
        eksNodeGroupArgs(pool, cfg, {
          tags,
          clusterName: this.cluster.name,
          nodeRoleArn: nodeRole.arn,
          subnetIds: privateIds,
          launchTemplate: { id: lt.id, version: lt.latestVersion.apply(String) },
        }),
        { ...o, dependsOn: [...nodePolicies, ...earlyAddons], ignoreChanges: ["scalingConfig.desiredSize"] },
      );
    }
    this.nodeGroups = nodeGroups;
    const groups = Object.values(nodeGroups);
    const coredns = new aws.eks.Addon(
      `${name}-coredns`,
      {
        clusterName: this.cluster.name,
        addonName: "coredns",
        resolveConflictsOnCreate: "OVERWRITE",
        resolveConflictsOnUpdate: "OVERWRITE",
        ...tagged(),
      },
      { ...o, dependsOn: groups },
    );

    // Registry: one repository per service, immutable tags, scanned on push, encrypted with our key.
    const repositories = new Map<string, aws.ecr.Repository>();
    for (const svc of a.imageRepositories) {
      const repo = new aws.ecr.Repository(
        `${name}-ecr-${svc}`,
        {
          name: `${cfg.name}/${svc}`,
          imageTagMutability: "IMMUTABLE",
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: registryKey.arn }],
          ...tagged({ Service: svc }),
        },
        o,
      );
      new aws.ecr.LifecyclePolicy(
        `${name}-ecr-${svc}-lifecycle`,
        { repository: repo.name, policy: ecrLifecyclePolicy(a.untaggedImageRetentionDays) },
        o,
      );
      repositories.set(svc, repo);
    }
    this.repositories = repositories;
    const token = aws.ecr.getAuthorizationTokenOutput({}, o);
    this.registryAuth = pulumi.secret(
      token.apply((t) => ({ address: t.proxyEndpoint.replace(/^https:\/\//, ""), username: t.userName, password: t.password })),
    );

    // Identities: one role per ServiceAccount, trusted only from that ServiceAccount.
    for (const warning of missingBucketGrants(a)) pulumi.log.warn(warning, this);
    const identities = new Map<string, aws.iam.Role>();
    for (const w of a.workloads) {
      const role = irsaRole(`irsa-${w.name}`, w.namespace, w.name);
      const grants = w.access.flatMap((acc) => {
        const bucket = bucketFor(a, acc);
        return bucket ? [{ access: acc, bucket }] : [];
      });
      if (grants.length > 0) {
        new aws.iam.RolePolicy(`${name}-irsa-${w.name}`, { role: role.name, policy: partition.apply((p) => workloadPolicy(p, grants)) }, o);
      }
      identities.set(w.name, role);
    }
    this.identities = identities;
    this.lookup = identityLookup("EksCluster.serviceAccountAnnotations", identities);

    const caRole = irsaRole("cluster-autoscaler-role", ADDON_NAMESPACES.system, CLUSTER_AUTOSCALER_SA);
    new aws.iam.RolePolicy(`${name}-cluster-autoscaler-role`, { role: caRole.name, policy: clusterAutoscalerPolicy(cfg.name) }, o);

    const kubeconfig = pulumi
      .all([this.cluster.endpoint, this.cluster.certificateAuthority, this.cluster.name])
      .apply(([endpoint, ca, clusterName]) => eksKubeconfig(cfg.name, endpoint, ca.data ?? "", clusterName, cfg.region));
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig }, { parent: this, dependsOn: [...groups, coredns] });
    const k = { parent: this, provider: this.provider };

    this.pools = Object.fromEntries(POOL_NAMES.map((p) => [p, poolScheduling("aws", p, cfg.name)])) as Record<PoolName, PoolScheduling>;
    this.sandboxRuntimeClassName = cfg.sandboxRuntimeClass;

    const addons: pulumi.Resource[] = [];
    addons.push(
      new k8s.helm.v3.Release(
        `${name}-cluster-autoscaler`,
        {
          name: "cluster-autoscaler",
          ...chartSource(CHARTS.clusterAutoscaler),
          namespace: ADDON_NAMESPACES.system,
          values: pulumi.all([caRole.arn]).apply(([roleArn]) =>
            clusterAutoscalerValues({
              clusterName: cfg.name,
              kubernetesVersion: cfg.kubernetesVersion,
              region: cfg.region,
              roleArn,
              scaleDownUnneededTime: cfg.autoscaling.scaleDownUnneededTime,
              scaleDownUtilizationThreshold: cfg.autoscaling.scaleDownUtilizationThreshold,
              general: this.pools.general,
            }),
          ),
        },
        k,
      ),
    );
    if (nodeGroups.spot) {
      addons.push(
        new k8s.helm.v3.Release(
          `${name}-node-termination-handler`,
          {
            name: "aws-node-termination-handler",
            ...chartSource(CHARTS.awsNodeTerminationHandler),
            namespace: ADDON_NAMESPACES.system,
            values: nodeTerminationHandlerValues(this.pools.spot),
          },
          k,
        ),
      );
    }
    if (nodeGroups.gpu) {
      addons.push(
        new k8s.helm.v3.Release(
          `${name}-nvidia-device-plugin`,
          {
            name: "nvidia-device-plugin",
            ...chartSource(CHARTS.nvidiaDevicePlugin),
            namespace: ADDON_NAMESPACES.system,
            values: nvidiaDevicePluginValues(this.pools.gpu, cfg.nodePools.gpu.gpuTimeSlicingReplicas),
          },
          k,
        ),
      );
    }
    const runtimeClass = gvisorRuntimeClass(cfg.sandboxRuntimeClass, this.pools.sandbox);
    addons.push(
      new k8s.node.v1.RuntimeClass(
        `${name}-gvisor`,
        { ...runtimeClass, metadata: { ...runtimeClass.metadata, labels: k8sLabels(a.labels, "gvisor", "sandbox-runtime") } },
        k,
      ),
    );

    const admission = sandboxAdmissionPolicy(cfg.sandboxRuntimeClass, this.pools.sandbox, [
      ADDON_NAMESPACES.system,
      ADDON_NAMESPACES.falco,
      ...a.nodeAgentNamespaces,
    ]);
    const admissionName = "pitchey-sandbox-requires-gvisor";
    const sandboxPolicy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
      `${name}-sandbox-policy`,
      { metadata: { name: admissionName, labels: k8sLabels(a.labels, "gvisor", "sandbox-runtime") }, spec: admission.policy },
      k,
    );
    addons.push(
      new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        `${name}-sandbox-policy`,
        {
          metadata: { name: admissionName, labels: k8sLabels(a.labels, "gvisor", "sandbox-runtime") },
          spec: { policyName: sandboxPolicy.metadata.name, ...admission.binding },
        },
        k,
      ),
    );

    const falco = new RuntimeSecurity(
      `${name}-falco`,
      {
        labels: a.labels,
        pools: this.pools,
        alertmanagerUrl: a.alertmanagerUrl,
        minimumPriority: a.falcoMinimumPriority,
        movedFrom: { parent: this, prefix: `${name}-falco` },
      },
      k,
    );
    addons.push(falco.release);
    this.readyResources = [...groups, coredns, ...addons];

    this.registerOutputs({
      clusterName: this.cluster.name,
      oidcIssuer: this.oidcIssuer,
      oidcProviderArn: oidc.arn,
    });
  }

  imageRepository(service: string): pulumi.Output<string> {
    const repo = this.repositories.get(service);
    if (!repo) throw new Error(`EksCluster.imageRepository: no repository for "${service}"; list it in imageRepositories`);
    return repo.repositoryUrl;
  }

  serviceAccountAnnotations(name: string): pulumi.Output<Record<string, string>> {
    const role = this.lookup(name);
    return role.arn.apply((arn): Record<string, string> => ({ "eks.amazonaws.com/role-arn": arn }));
  }
}
