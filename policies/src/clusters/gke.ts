import { resourcePolicy, stackPolicy } from "../core/policy";

export const GKE_CLUSTER = "gcp:container/cluster:Cluster";
export const GKE_POOL = "gcp:container/nodePool:NodePool";

const GKE_HARDENING = "GKE hardening guide";

export const gkePrivateNodes = resourcePolicy({
    name: "gke-private-nodes",
    summary: "GKE clusters must use private nodes (no public node IPs).",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_GCP_25; tfsec google-gke-enable-private-cluster; ${GKE_HARDENING}`,
        why: "Nodes with public IPs are reachable from the internet on every port the firewall forgets; private nodes egress through Cloud NAT only.",
    },
    fix: "Set privateClusterConfig.enablePrivateNodes: true (with a masterIpv4CidrBlock).",
    types: [GKE_CLUSTER],
    validate: (args, report) => {
        if (args.props.privateClusterConfig?.enablePrivateNodes !== true) report(`GKE cluster ${args.props.name ?? args.name} does not use private nodes.`);
    },
});

export const gkeWorkloadIdentity = resourcePolicy({
    name: "gke-workload-identity",
    summary: "GKE clusters must enable Workload Identity and node pools must expose only the GKE metadata server.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_GCP_69 (GKE_METADATA); tfsec google-gke-enable-workload-identity / node-metadata-security; ${GKE_HARDENING}`,
        why: "Without it pods read the node's service-account token from the metadata server and act as the node.",
    },
    fix: "Set workloadIdentityConfig.workloadPool to \"<project>.svc.id.goog\" and nodeConfig.workloadMetadataConfig.mode GKE_METADATA on pools.",
    types: [GKE_CLUSTER, GKE_POOL],
    validate: (args, report) => {
        if (args.type === GKE_CLUSTER) {
            const pool = args.props.workloadIdentityConfig?.workloadPool;
            if (typeof pool !== "string" || pool === "") report(`GKE cluster ${args.props.name ?? args.name} does not enable Workload Identity.`);
            return;
        }
        if (args.props.nodeConfig?.workloadMetadataConfig?.mode !== "GKE_METADATA") report(`GKE node pool ${args.props.name ?? args.name} does not set workloadMetadataConfig.mode GKE_METADATA.`);
    },
});

export const gkeShieldedNodes = resourcePolicy({
    name: "gke-shielded-nodes-secure-boot",
    summary: "GKE clusters must keep shielded nodes on and node pools must enable secure boot and integrity monitoring.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_GCP_71 (shielded nodes), CKV_GCP_68 (secure boot), CKV_GCP_72 (integrity monitoring); ${GKE_HARDENING}`,
        why: "Secure boot and integrity monitoring stop rootkits from persisting in the node's boot chain and let GKE verify node identity.",
    },
    fix: "Leave enableShieldedNodes true on the cluster; set nodeConfig.shieldedInstanceConfig { enableSecureBoot: true, enableIntegrityMonitoring: true } on pools.",
    types: [GKE_CLUSTER, GKE_POOL],
    validate: (args, report) => {
        if (args.type === GKE_CLUSTER) {
            if (args.props.enableShieldedNodes === false) report(`GKE cluster ${args.props.name ?? args.name} disables shielded nodes.`);
            return;
        }
        const s = args.props.nodeConfig?.shieldedInstanceConfig ?? {};
        if (s.enableSecureBoot !== true) report(`GKE node pool ${args.props.name ?? args.name} does not enable secure boot.`);
        if (s.enableIntegrityMonitoring === false) report(`GKE node pool ${args.props.name ?? args.name} disables integrity monitoring.`);
    },
});

export const gkeAutoRepairUpgrade = resourcePolicy({
    name: "gke-node-auto-repair-upgrade",
    summary: "GKE node pools must enable auto-repair and auto-upgrade.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_GCP_9 (auto-repair), CKV_GCP_10 (auto-upgrade); ${GKE_HARDENING}`,
        why: "Auto-upgrade is how node security patches arrive; auto-repair replaces broken nodes before the autoscaler strands jobs on them.",
    },
    fix: "Set management { autoRepair: true, autoUpgrade: true }.",
    types: [GKE_POOL],
    validate: (args, report) => {
        const m = args.props.management ?? {};
        if (m.autoRepair !== true) report(`GKE node pool ${args.props.name ?? args.name} does not enable auto-repair.`);
        if (m.autoUpgrade !== true) report(`GKE node pool ${args.props.name ?? args.name} does not enable auto-upgrade.`);
    },
});

export const gkeReleaseChannel = resourcePolicy({
    name: "gke-release-channel",
    summary: "GKE clusters must be enrolled in the REGULAR or STABLE release channel.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_GCP_70; ${GKE_HARDENING}`,
        why: "A release channel keeps the control plane on supported, patched versions; RAPID is for testing and UNSPECIFIED drifts out of support.",
    },
    fix: "Set releaseChannel: { channel: \"REGULAR\" } (or STABLE).",
    types: [GKE_CLUSTER],
    validate: (args, report) => {
        const ch = args.props.releaseChannel?.channel;
        if (ch !== "REGULAR" && ch !== "STABLE") report(`GKE cluster ${args.props.name ?? args.name} release channel is ${ch ?? "unset"}.`);
    },
});

export const gkeNetworkPolicy = resourcePolicy({
    name: "gke-network-policy-enforcement",
    summary: "GKE clusters must enforce NetworkPolicy (Dataplane V2 or the Calico network policy add-on).",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_GCP_12; tfsec google-gke-enable-network-policy; ${GKE_HARDENING}`,
        why: "Without an enforcing dataplane every NetworkPolicy in the stack, including the code-executor lockdown, is silently ignored.",
    },
    fix: "Set datapathProvider: \"ADVANCED_DATAPATH\" (or networkPolicy { enabled: true } with addonsConfig.networkPolicyConfig enabled).",
    types: [GKE_CLUSTER],
    validate: (args, report) => {
        const p = args.props;
        const dpv2 = p.datapathProvider === "ADVANCED_DATAPATH";
        const calico = p.networkPolicy?.enabled === true && p.addonsConfig?.networkPolicyConfig?.disabled !== true;
        if (!dpv2 && !calico) report(`GKE cluster ${p.name ?? args.name} does not enforce NetworkPolicy.`);
    },
});

function isDefaultSa(sa: unknown): boolean {
    return sa === undefined || sa === "" || sa === "default" || (typeof sa === "string" && sa.endsWith("-compute@developer.gserviceaccount.com"));
}

export const gkeNoDefaultSa = resourcePolicy({
    name: "gke-pool-no-default-service-account",
    summary: "GKE node pools must run as a dedicated least-privilege service account, not the Compute Engine default; the default pool must be removed.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_GCP_30; CIS GKE 5.2.1; ${GKE_HARDENING}`,
        why: "The default compute service account has Editor on the project: every node (and any pod that escapes) could change the whole project.",
    },
    fix: "Set nodeConfig.serviceAccount to the node service account; on the cluster set removeDefaultNodePool: true.",
    types: [GKE_CLUSTER, GKE_POOL],
    validate: (args, report) => {
        if (args.type === GKE_CLUSTER) {
            if (args.props.removeDefaultNodePool !== true && isDefaultSa(args.props.nodeConfig?.serviceAccount)) {
                report(`GKE cluster ${args.props.name ?? args.name} keeps a default node pool running as the default service account.`);
            }
            return;
        }
        if (isDefaultSa(args.props.nodeConfig?.serviceAccount)) report(`GKE node pool ${args.props.name ?? args.name} runs as the default compute service account.`);
    },
});

export const gkeControlPlaneRestricted = resourcePolicy({
    name: "gke-control-plane-authorized-networks",
    summary: "The GKE control plane must be private or reachable only from master authorized networks (never 0.0.0.0/0).",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_GCP_20; tfsec google-gke-enable-master-networks; CIS GKE 5.6.3; ${GKE_HARDENING}`,
        why: "A control plane open to the internet needs only a stolen credential; authorized networks add the network as a second factor.",
    },
    fix: "Set masterAuthorizedNetworksConfig.cidrBlocks to the CI and VPN ranges (or privateClusterConfig.enablePrivateEndpoint: true).",
    types: [GKE_CLUSTER],
    validate: (args, report) => {
        const p = args.props;
        if (p.privateClusterConfig?.enablePrivateEndpoint === true) return;
        const cidrs = (p.masterAuthorizedNetworksConfig?.cidrBlocks ?? []).map((b: { cidrBlock?: string }) => b.cidrBlock);
        if (cidrs.length === 0) report(`GKE cluster ${p.name ?? args.name} has a public control plane without authorized networks.`);
        else if (cidrs.includes("0.0.0.0/0")) report(`GKE cluster ${p.name ?? args.name} authorizes 0.0.0.0/0 to its control plane.`);
        if (p.masterAuthorizedNetworksConfig?.gcpPublicCidrsAccessEnabled === true) report(`GKE cluster ${p.name ?? args.name} lets all Google Cloud public IPs reach its control plane.`);
    },
});

export const gkeLegacyAuthDisabled = resourcePolicy({
    name: "gke-legacy-auth-disabled",
    summary: "GKE clusters must not enable legacy ABAC, client certificates or basic auth.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_GCP_7 (legacy ABAC), CKV_GCP_13 (client certificate), CKV_GCP_19 (basic auth); CIS GKE 5.8; ${GKE_HARDENING}`,
        why: "Each of these grants cluster access outside IAM and RBAC, with credentials that cannot be rotated or revoked per user.",
    },
    fix: "Remove enableLegacyAbac, masterAuth.clientCertificateConfig.issueClientCertificate and masterAuth username/password.",
    types: [GKE_CLUSTER],
    validate: (args, report) => {
        const p = args.props;
        const name = p.name ?? args.name;
        if (p.enableLegacyAbac === true) report(`GKE cluster ${name} enables legacy ABAC.`);
        if (p.masterAuth?.clientCertificateConfig?.issueClientCertificate === true) report(`GKE cluster ${name} issues a client certificate.`);
        if (p.masterAuth?.username || p.masterAuth?.password) report(`GKE cluster ${name} enables basic authentication.`);
    },
});

export const gkeLoggingMonitoring = resourcePolicy({
    name: "gke-logging-monitoring-enabled",
    summary: "GKE clusters must keep Cloud Logging and Cloud Monitoring on (system components at least).",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: `Checkov CKV_GCP_1 (logging), CKV_GCP_8 (monitoring); ${GKE_HARDENING} (audit logging)`,
        why: "Control-plane and system logs are the audit trail for the production cluster, the GKE counterpart of EKS control-plane logging.",
    },
    fix: "Leave loggingService / monitoringService at their defaults (or loggingConfig.enableComponents including SYSTEM_COMPONENTS).",
    types: [GKE_CLUSTER],
    validate: (args, report) => {
        const p = args.props;
        const name = p.name ?? args.name;
        if (p.loggingService === "none") report(`GKE cluster ${name} disables Cloud Logging.`);
        if (p.monitoringService === "none") report(`GKE cluster ${name} disables Cloud Monitoring.`);
        const comps = p.loggingConfig?.enableComponents;
        if (Array.isArray(comps) && !comps.includes("SYSTEM_COMPONENTS")) report(`GKE cluster ${name} does not log system components.`);
    },
});

export const gkeSecretsEncryption = resourcePolicy({
    name: "gke-secrets-encryption-cmek",
    summary: "GKE clusters should encrypt Kubernetes Secrets at the application layer with a Cloud KMS key.",
    enforcement: "advisory",
    meta: {
        area: "clusters-and-pools",
        source: `CIS GKE 5.3.1; ${GKE_HARDENING} (application-layer secrets encryption)`,
        why: "Puts database credentials under a key the platform controls, as EKS secrets encryption does in dr. Advisory because GKE already encrypts etcd at rest with Google-managed keys.",
    },
    fix: "Set databaseEncryption { state: \"ENCRYPTED\", keyName: <Cloud KMS key> } (the GKE service agent needs encrypter/decrypter on it).",
    types: [GKE_CLUSTER],
    validate: (args, report) => {
        const d = args.props.databaseEncryption;
        if (d?.state !== "ENCRYPTED" || typeof d?.keyName !== "string" || d.keyName === "") report(`GKE cluster ${args.props.name ?? args.name} does not encrypt Secrets with a Cloud KMS key.`);
    },
});

export const GCP_SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account";
export const GCP_KEY_RING = "gcp:kms/keyRing:KeyRing";

/** What a derived id keeps of the cluster's name when it has to be shortened to 30 characters. */
const clusterPrefix = (cluster: string) => cluster.slice(0, 16).replace(/-+$/, "");

export const gcpNamesPerCluster = stackPolicy({
    name: "gcp-names-per-cluster",
    summary: "Project-wide GCP names the platform derives carry the GKE cluster's name: service account ids start with it, and the KMS key ring is `<cluster>-<suffix>`, never the bare cluster name.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: "GCP IAM (service account ids are unique per project, 6–30 characters); Cloud KMS (key rings cannot be deleted)",
        why: "A second stack in the project asks for the same service account id and fails with 409; a key ring named after the cluster outlives `pulumi destroy`, so recreating the stack collides with it.",
    },
    fix: "Derive service account ids from the cluster name (gcpAccountId) and give the key ring a random suffix kept in state (random.RandomId).",
    validate: (args, report) => {
        const cluster = args.resources.find((r) => r.type === GKE_CLUSTER);
        if (!cluster) args.notApplicable("no GKE cluster in the stack");
        const name = String(cluster!.props.name ?? "");
        for (const r of args.resources.filter((x) => x.type === GCP_SERVICE_ACCOUNT)) {
            const id = String(r.props.accountId ?? "");
            if (!id.startsWith(clusterPrefix(name))) report(`Service account id "${id}" does not start with the cluster's name "${name}"; a second cluster in the project would collide.`, r.urn);
        }
        for (const r of args.resources.filter((x) => x.type === GCP_KEY_RING)) {
            const ring = String(r.props.name ?? "");
            if (ring === name || !ring.startsWith(`${name}-`)) report(`KMS key ring "${ring}" is not "${name}-<suffix>"; key rings cannot be deleted, so a recreated stack would collide with it.`, r.urn);
        }
    },
});
