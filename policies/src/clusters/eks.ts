import { arr } from "../core/k8s";
import { configOf, resourcePolicy, stackPolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";

export const EKS_CLUSTER = "aws:eks/cluster:Cluster";
export const EKS_NODEGROUP = "aws:eks/nodeGroup:NodeGroup";

const EKS_BP = "EKS Best Practices Guide (security)";

export const eksSecretsEncryption = resourcePolicy({
    name: "eks-secrets-encryption",
    summary: "EKS clusters must envelope-encrypt Kubernetes secrets with a customer-managed KMS key.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_AWS_58; tfsec aws-eks-encrypt-secrets; ${EKS_BP}`,
        why: "Database credentials live in Secrets; envelope encryption keeps them unreadable in etcd snapshots and under our key's policy.",
    },
    fix: "Set encryptionConfig { resources: [\"secrets\"], provider: { keyArn: <platform key ARN> } }.",
    types: [EKS_CLUSTER],
    validate: (args, report) => {
        const configs = [args.props.encryptionConfig].flat().filter(Boolean);
        const ok = configs.some((c) => arr<string>(c.resources).includes("secrets") && typeof c.provider?.keyArn === "string" && c.provider.keyArn !== "");
        if (!ok) report(`EKS cluster ${args.props.name ?? args.name} does not encrypt secrets with a KMS key.`);
    },
});

export const eksControlPlaneLogging = resourcePolicy({
    name: "eks-control-plane-logging",
    summary: "EKS clusters must ship the api, audit and authenticator control-plane logs (configurable).",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_AWS_37; tfsec aws-eks-enable-control-plane-logging; ${EKS_BP} (auditing)`,
        why: "The audit log is the only record of who changed what in the cluster; without it an incident cannot be reconstructed.",
    },
    fix: "Set enabledClusterLogTypes to include api, audit and authenticator.",
    configSchema: schemaFor(["eksLogTypes"]),
    types: [EKS_CLUSTER],
    validate: (args, report) => {
        const cfg = configOf(args, { eksLogTypes: DEFAULTS.eksLogTypes as readonly string[] });
        const have = arr<string>(args.props.enabledClusterLogTypes);
        const missing = cfg.eksLogTypes.filter((t) => !have.includes(t));
        if (missing.length > 0) report(`EKS cluster ${args.props.name ?? args.name} does not log ${missing.join(", ")}.`);
    },
});

export const eksPublicEndpoint = resourcePolicy({
    name: "eks-public-endpoint-restricted",
    summary: "The EKS API endpoint must be private, or public only to listed CIDRs (never 0.0.0.0/0).",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_AWS_38/CKV_AWS_39; tfsec aws-eks-no-public-cluster-access(-to-cidr); ${EKS_BP}`,
        why: "EKS defaults to a public endpoint open to the internet; credential theft then needs no network foothold.",
    },
    fix: "Set vpcConfig.endpointPrivateAccess: true and either endpointPublicAccess: false or publicAccessCidrs to the CI/VPN ranges.",
    types: [EKS_CLUSTER],
    validate: (args, report) => {
        const v = args.props.vpcConfig ?? {};
        const name = args.props.name ?? args.name;
        if (v.endpointPublicAccess === false) return;
        const cidrs = arr<string>(v.publicAccessCidrs);
        if (cidrs.length === 0 || cidrs.includes("0.0.0.0/0")) report(`EKS cluster ${name} exposes its API endpoint to the whole internet.`);
        if (v.endpointPrivateAccess !== true) report(`EKS cluster ${name} does not enable the private endpoint.`);
    },
});

export const EC2_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
export const EKS_ADDON = "aws:eks/addon:Addon";

function truthy(v: unknown): boolean {
    return v === true || v === "true";
}

export const eksNodeImdsV2 = resourcePolicy({
    name: "eks-node-imdsv2-hop-limit",
    summary: "EKS node groups must use a launch template that requires IMDSv2 with a hop limit of 1.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_AWS_79 (IMDSv2), CKV_AWS_341 (hop limit 1); ${EKS_BP} (restrict access to the instance profile)`,
        why: "With IMDSv1 or a hop limit above 1 every pod can fetch the node role's credentials; pods get their own identity through IRSA instead.",
    },
    fix: "Give the node group a launch template with metadataOptions { httpTokens: \"required\", httpPutResponseHopLimit: 1 }.",
    types: [EC2_LAUNCH_TEMPLATE, EKS_NODEGROUP],
    validate: (args, report) => {
        if (args.type === EKS_NODEGROUP) {
            if (!args.props.launchTemplate) report(`EKS node group ${args.props.nodeGroupName ?? args.name} has no launch template, so its nodes allow IMDSv1 with hop limit 2.`);
            return;
        }
        const m = args.props.metadataOptions ?? {};
        if (m.httpEndpoint === "disabled") return;
        if (m.httpTokens !== "required") report(`Launch template ${args.name} does not require IMDSv2 tokens.`);
        if (typeof m.httpPutResponseHopLimit !== "number" || m.httpPutResponseHopLimit > 1) report(`Launch template ${args.name} lets containers reach the metadata service (hop limit ${m.httpPutResponseHopLimit ?? "default 2"}).`);
    },
});

export const launchTemplateEncryptedVolumes = resourcePolicy({
    name: "ec2-launch-template-encrypted-volumes",
    summary: "Launch templates must encrypt every EBS volume they attach.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: "Checkov CKV_AWS_8; AWS Foundational Security Best Practices EC2.7 (EBS default encryption)",
        why: "Node disks hold container layers, emptyDir scratch files with customer media and, for a while, job results.",
    },
    fix: "Set blockDeviceMappings[].ebs.encrypted: true (optionally kmsKeyId).",
    types: [EC2_LAUNCH_TEMPLATE],
    validate: (args, report) => {
        for (const b of arr(args.props.blockDeviceMappings)) {
            if (b?.ebs && !truthy(b.ebs.encrypted)) report(`Launch template ${args.name} attaches ${b.deviceName ?? "a volume"} unencrypted.`);
        }
    },
});

const NETPOL_CHART = /calico|tigera|cilium/i;

export const eksNetworkPolicy = stackPolicy({
    name: "eks-network-policy-enforcement",
    summary: "EKS clusters must run a CNI that enforces NetworkPolicy (vpc-cni with enableNetworkPolicy, Calico or Cilium).",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `${EKS_BP} (network security: VPC CNI network policies); the EKS counterpart of Checkov CKV_GCP_12`,
        why: "The VPC CNI ignores NetworkPolicy unless told otherwise, which would silently void the default-deny and code-executor lockdown on the DR cluster.",
    },
    fix: "Install the vpc-cni add-on with configurationValues {\"enableNetworkPolicy\": \"true\"} (or a Calico/Cilium release).",
    validate: (args, report) => {
        const clusters = args.resources.filter((r) => r.type === EKS_CLUSTER);
        if (clusters.length === 0) args.notApplicable("no EKS cluster");
        const addonOk = args.resources.some((r) => {
            if (r.type !== EKS_ADDON || r.props.addonName !== "vpc-cni") return false;
            const cv = r.props.configurationValues;
            try {
                return truthy((typeof cv === "string" ? JSON.parse(cv) : cv ?? {}).enableNetworkPolicy);
            } catch {
                return false;
            }
        });
        const chartOk = args.resources.some((r) => r.type === "kubernetes:helm.sh/v3:Release" && NETPOL_CHART.test(String(r.props.chart ?? "")));
        if (!addonOk && !chartOk) for (const c of clusters) report(`EKS cluster ${c.props.name ?? c.name} has no NetworkPolicy-enforcing CNI.`, c.urn);
    },
});
