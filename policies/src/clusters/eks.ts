import { arr } from "../core/k8s";
import { configOf, resourcePolicy } from "../core/policy";
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
