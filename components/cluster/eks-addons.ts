import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { awsTags, k8sLabels } from "../labels";
import { movedFrom, type MovedFrom } from "../moved";
import { CHARTS, eksAddonsFor, type ChartPin, type EksAddonKey } from "../versions";
import {
  ADDON_NAMESPACES,
  CLUSTER_AUTOSCALER_SA,
  clusterAutoscalerValues,
  gvisorRuntimeClass,
  nodeTerminationHandlerValues,
  nvidiaDevicePluginValues,
  sandboxAdmissionPolicy,
} from "./addons";
import type { ResolvedEksClusterArgs } from "./eks-args";
import { poolResourceName } from "./scheduling";
import { irsaRole, type IrsaTrust } from "./eks-iam";
import type { PoolName, PoolScheduling } from "./types";

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

/** Helm release arguments for a pinned chart from an HTTP or OCI repository. */
export function chartSource(pin: ChartPin): Pick<k8s.helm.v3.ReleaseArgs, "chart" | "version" | "repositoryOpts"> {
  return pin.repo.startsWith("oci://")
    ? { chart: `${pin.repo}/${pin.chart}`, version: pin.version }
    : { chart: pin.chart, version: pin.version, repositoryOpts: { repo: pin.repo } };
}

/** The EBS CSI controller's ServiceAccount, as the add-on creates it; its IAM role trusts exactly this one. */
export const EBS_CSI_SA = { namespace: "kube-system", name: "ebs-csi-controller-sa" } as const;

/**
 * Arguments of an EKS-managed add-on at the version pinned for the cluster's Kubernetes minor: the networking ones
 * the cluster installs before its nodes (vpc-cni, kube-proxy) and CoreDNS, and those running as Deployments on the
 * nodes: metrics-server (the resource metrics API the HPA reads for cpu and memory) and the EBS CSI driver.
 */
export function eksNodeAddonArgs(
  addon: EksAddonKey,
  kubernetesVersion: string,
  clusterName: pulumi.Input<string>,
  tags: Record<string, string>,
  serviceAccountRoleArn?: pulumi.Input<string>,
): aws.eks.AddonArgs {
  const pin = eksAddonsFor(kubernetesVersion)?.[addon];
  if (!pin) throw new Error(`no ${addon} add-on pinned for Kubernetes ${kubernetesVersion} (EKS_ADDONS_BY_MINOR in components/versions.ts)`);
  return {
    clusterName,
    addonName: pin.name,
    addonVersion: pin.version,
    resolveConflictsOnCreate: "OVERWRITE",
    resolveConflictsOnUpdate: "OVERWRITE",
    ...(serviceAccountRoleArn ? { serviceAccountRoleArn } : {}),
    tags,
  };
}

export interface EksAddonsArgs {
  /** The resolved cluster arguments: name, version, region, autoscaler flags, sandbox class. Required. */
  readonly cluster: ResolvedEksClusterArgs;
  /** The EKS cluster's name as an output of the cluster, so the EKS-managed add-ons follow it. Required. */
  readonly clusterName: pulumi.Input<string>;
  /** The node groups: the EKS-managed add-ons run Deployments and only become ACTIVE once nodes exist. Required. */
  readonly nodes: readonly pulumi.Resource[];
  /** The AWS partition, for managed policy ARNs. Required. */
  readonly partition: pulumi.Input<string>;
  /** The pools' scheduling facts. Required. */
  readonly pools: Readonly<Record<PoolName, PoolScheduling>>;
  /** Which pools have nodes: the spot and GPU add-ons are installed only with their pool. Required. */
  readonly poolsWithNodes: readonly PoolName[];
  /** Who the cluster autoscaler's IAM role trusts. Required. */
  readonly trust: IrsaTrust;
  /** Where these resources were declared before this component existed (aliases keep them). Default: none. */
  readonly movedFrom?: MovedFrom;
}

/**
 * The add-ons that run on the nodes: EKS-managed metrics-server and EBS CSI driver (with its IAM role), and the
 * ones EKS does not manage: cluster-autoscaler (with its IAM role), the spot termination handler, the NVIDIA device
 * plugin, and gVisor's RuntimeClass with the admission policy that keeps runc pods off the sandbox pool. Takes an
 * AWS and a Kubernetes provider.
 */
export class EksAddons extends pulumi.ComponentResource {
  /** What in-cluster workloads wait for. */
  readonly ready: readonly pulumi.Resource[];
  /** metrics-server: serves metrics.k8s.io, without which cpu and memory triggers are never read. */
  readonly metricsServer: aws.eks.Addon;
  /** The EBS CSI driver: without it a PersistentVolumeClaim on an `ebs.csi.aws.com` class never binds. */
  readonly ebsCsiDriver: aws.eks.Addon;

  constructor(name: string, args: EksAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:cluster:EksAddons", name, {}, opts);
    const cfg = args.cluster;
    const a = cfg;
    const pools = args.pools;
    const o = (role: string) => ({ parent: this, ...movedFrom(args.movedFrom, role) });
    const caRole = irsaRole(
      `${name}-cluster-autoscaler-role`,
      args.trust,
      { namespace: ADDON_NAMESPACES.system, name: CLUSTER_AUTOSCALER_SA },
      awsTags(cfg.labels),
      o("cluster-autoscaler-role"),
    );
    new aws.iam.RolePolicy(`${name}-cluster-autoscaler-role`, { role: caRole.name, policy: clusterAutoscalerPolicy(cfg.name) }, o("cluster-autoscaler-role"));

    const tags = awsTags(cfg.labels);
    const onNodes = { parent: this, dependsOn: [...args.nodes] };
    this.metricsServer = new aws.eks.Addon(`${name}-metrics-server`, eksNodeAddonArgs("metricsServer", cfg.kubernetesVersion, args.clusterName, tags), onNodes);
    const ebsRole = irsaRole(`${name}-ebs-csi-role`, args.trust, EBS_CSI_SA, tags, { parent: this });
    const ebsPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-ebs-csi-role`,
      { role: ebsRole.name, policyArn: pulumi.interpolate`arn:${args.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy` },
      { parent: this },
    );
    this.ebsCsiDriver = new aws.eks.Addon(
      `${name}-ebs-csi-driver`,
      eksNodeAddonArgs("ebsCsiDriver", cfg.kubernetesVersion, args.clusterName, tags, ebsRole.arn),
      { ...onNodes, dependsOn: [...args.nodes, ebsPolicy] },
    );

    const addons: pulumi.Resource[] = [this.metricsServer, this.ebsCsiDriver];
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
              maxGracefulTerminationSeconds: cfg.autoscaling.maxGracefulTerminationSeconds,
              general: pools.general,
              spotNodeGroup: args.poolsWithNodes.includes("spot") ? poolResourceName("aws", cfg.name, "spot") : undefined,
              labels: k8sLabels(cfg.labels, "cluster-autoscaler", "node-autoscaler"),
            }),
          ),
        },
        o("cluster-autoscaler"),
      ),
    );
    if (args.poolsWithNodes.includes("spot")) {
      addons.push(
        new k8s.helm.v3.Release(
          `${name}-node-termination-handler`,
          {
            name: "aws-node-termination-handler",
            ...chartSource(CHARTS.awsNodeTerminationHandler),
            namespace: ADDON_NAMESPACES.system,
            values: nodeTerminationHandlerValues(pools.spot, k8sLabels(cfg.labels, "aws-node-termination-handler", "spot-drainer")),
          },
          o("node-termination-handler"),
        ),
      );
    }
    if (args.poolsWithNodes.includes("gpu")) {
      addons.push(
        new k8s.helm.v3.Release(
          `${name}-nvidia-device-plugin`,
          {
            name: "nvidia-device-plugin",
            ...chartSource(CHARTS.nvidiaDevicePlugin),
            namespace: ADDON_NAMESPACES.system,
            values: nvidiaDevicePluginValues(pools.gpu, cfg.nodePools.gpu.gpuTimeSlicingReplicas),
          },
          o("nvidia-device-plugin"),
        ),
      );
    }
    const runtimeClass = gvisorRuntimeClass(cfg.sandboxRuntimeClass, pools.sandbox);
    addons.push(
      new k8s.node.v1.RuntimeClass(
        `${name}-gvisor`,
        { ...runtimeClass, metadata: { ...runtimeClass.metadata, labels: k8sLabels(a.labels, "gvisor", "sandbox-runtime") } },
        o("gvisor"),
      ),
    );

    const admission = sandboxAdmissionPolicy(cfg.sandboxRuntimeClass, pools.sandbox, [
      ADDON_NAMESPACES.system,
      ADDON_NAMESPACES.falco,
      ...a.nodeAgentNamespaces,
    ]);
    const admissionName = "pitchey-sandbox-requires-gvisor";
    const sandboxPolicy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
      `${name}-sandbox-policy`,
      { metadata: { name: admissionName, labels: k8sLabels(a.labels, "gvisor", "sandbox-runtime") }, spec: admission.policy },
      o("sandbox-policy"),
    );
    addons.push(
      new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        `${name}-sandbox-policy`,
        {
          metadata: { name: admissionName, labels: k8sLabels(a.labels, "gvisor", "sandbox-runtime") },
          spec: { policyName: sandboxPolicy.metadata.name, ...admission.binding },
        },
        o("sandbox-policy"),
      ),
    );

    this.ready = addons;
    this.registerOutputs({});
  }
}
