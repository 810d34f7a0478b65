import { clusterAutoscaler, find, pod, preferSpot, processorDeployment, remove, type Case } from "../util";

const b64 = (text: string) => Buffer.from(text).toString("base64");
/** A sandbox node's boot script fetching gVisor from one channel and version of its release bucket. */
export const gvisorScript = (version: string, channel = "release") =>
    ["#!/bin/bash", 'release="20260525.0"', `curl -fsSLo runsc "https://storage.googleapis.com/gvisor/releases/${channel}/${version}/x86_64/runsc"`].join("\n");

const nc = (s: Parameters<Case["mutate"]>[0], name: string) => find(s, name).props.nodeConfig;

export const clusterCases: Record<string, Case[]> = {
    "gke-private-nodes": [{ name: "nodes are public", culprit: "gke", mutate: (s) => void delete find(s, "gke").props.privateClusterConfig }],
    "gke-workload-identity": [
        { name: "the cluster has no workload pool", culprit: "gke", mutate: (s) => void delete find(s, "gke").props.workloadIdentityConfig },
        { name: "a pool exposes the node metadata", culprit: "gke-general", mutate: (s) => void (nc(s, "gke-general").workloadMetadataConfig.mode = "GCE_METADATA") },
    ],
    "gke-shielded-nodes-secure-boot": [
        { name: "the cluster disables shielded nodes", culprit: "gke", mutate: (s) => void (find(s, "gke").props.enableShieldedNodes = false) },
        { name: "a pool lacks secure boot", culprit: "gke-spot", mutate: (s) => void delete nc(s, "gke-spot").shieldedInstanceConfig },
    ],
    "gke-node-auto-repair-upgrade": [
        { name: "auto-upgrade is off", culprit: "gke-gpu", mutate: (s) => void (find(s, "gke-gpu").props.management.autoUpgrade = false) },
        { name: "management is missing", culprit: "gke-general", mutate: (s) => void delete find(s, "gke-general").props.management },
    ],
    "gke-release-channel": [
        { name: "no release channel", culprit: "gke", mutate: (s) => void delete find(s, "gke").props.releaseChannel },
        { name: "the RAPID channel", culprit: "gke", mutate: (s) => void (find(s, "gke").props.releaseChannel.channel = "RAPID") },
    ],
    "kubernetes-version-supported": [
        { name: "the cluster is on 1.32, out of standard support since 2026-03-23", culprit: "eks", mutate: (s) => void (find(s, "eks").props.version = "1.32") },
        { name: "the cluster declares no version", culprit: "eks", mutate: (s) => void delete find(s, "eks").props.version },
        { name: "the price book has no dates for the minor", culprit: "eks", mutate: (s) => void (find(s, "eks").props.version = "1.20") },
        { name: "the project's own minor, judged after its standard support", culprit: "eks", mutate: () => undefined, config: { "kubernetes-version-supported": { asOf: "2099-01-01" } } },
    ],
    "gke-network-policy-enforcement": [{ name: "legacy dataplane without network policy", culprit: "gke", mutate: (s) => void delete find(s, "gke").props.datapathProvider }],
    "gke-pool-no-default-service-account": [
        { name: "a pool has no service account", culprit: "gke-general", mutate: (s) => void delete nc(s, "gke-general").serviceAccount },
        { name: "a pool uses the compute default account", culprit: "gke-gpu", mutate: (s) => void (nc(s, "gke-gpu").serviceAccount = "1234-compute@developer.gserviceaccount.com") },
        { name: "the default pool is kept", culprit: "gke", mutate: (s) => void delete find(s, "gke").props.removeDefaultNodePool },
    ],
    "gke-control-plane-authorized-networks": [
        { name: "no authorized networks", culprit: "gke", mutate: (s) => void delete find(s, "gke").props.masterAuthorizedNetworksConfig },
        { name: "0.0.0.0/0 is authorized", culprit: "gke", mutate: (s) => void find(s, "gke").props.masterAuthorizedNetworksConfig.cidrBlocks.push({ cidrBlock: "0.0.0.0/0" }) },
    ],
    "gke-legacy-auth-disabled": [
        { name: "legacy ABAC is on", culprit: "gke", mutate: (s) => void (find(s, "gke").props.enableLegacyAbac = true) },
        { name: "a client certificate is issued", culprit: "gke", mutate: (s) => void (find(s, "gke").props.masterAuth.clientCertificateConfig.issueClientCertificate = true) },
    ],
    "gke-logging-monitoring-enabled": [
        { name: "logging is off", culprit: "gke", mutate: (s) => void (find(s, "gke").props.loggingService = "none") },
        { name: "only workload logs are kept", culprit: "gke", mutate: (s) => void (find(s, "gke").props.loggingConfig = { enableComponents: ["WORKLOADS"] }) },
    ],
    "gke-secrets-encryption-cmek": [{ name: "no application-layer encryption", culprit: "gke", mutate: (s) => void delete find(s, "gke").props.databaseEncryption }],
    "eks-network-policy-enforcement": [
        { name: "vpc-cni without network policy", culprit: "eks", mutate: (s) => void (find(s, "vpc-cni").props.configurationValues = "{}") },
        { name: "no vpc-cni add-on", culprit: "eks", mutate: (s) => remove(s, "vpc-cni") },
    ],
    "resource-metrics-api-served": [
        { name: "the EKS cluster has no metrics-server add-on", culprit: "eks", mutate: (s) => remove(s, "metrics-server") },
        { name: "the metrics-server add-on belongs to another cluster", culprit: "eks", mutate: (s) => void (find(s, "metrics-server").props.clusterName = "pitchey-staging") },
        {
            name: "no cluster and no metrics-server chart in the stack",
            culprit: "code-executor-scaler",
            mutate: (s) => ["gke", "eks", "metrics-server"].forEach((n) => remove(s, n)),
        },
    ],
    "eks-access-beyond-creator": [
        {
            name: "no access entries: only the creator reaches the cluster",
            culprit: "eks",
            mutate: (s) => ["deploy", "break-glass"].forEach((r) => (remove(s, `eks-access-${r}`), remove(s, `eks-access-${r}-admin`))),
        },
        {
            name: "entries without an access policy",
            culprit: "eks",
            mutate: (s) => ["deploy", "break-glass"].forEach((r) => remove(s, `eks-access-${r}-admin`)),
        },
    ],
    "ebs-csi-driver-installed": [
        { name: "an EBS StorageClass without the driver add-on", culprit: "jobs-db-storage", mutate: (s) => remove(s, "ebs-csi-driver") },
    ],
    "gvisor-pinned-release": [
        { name: "the sandbox nodes install gVisor latest", culprit: "eks-nodes-lt", mutate: (s) => void (find(s, "eks-nodes-lt").props.userData = b64(gvisorScript("latest"))) },
        { name: "the sandbox nodes install a nightly build", culprit: "eks-nodes-lt", mutate: (s) => void (find(s, "eks-nodes-lt").props.userData = b64(gvisorScript("2026-05-25", "nightly"))) },
        { name: "the release variable is never pinned", culprit: "eks-nodes-lt", mutate: (s) => void (find(s, "eks-nodes-lt").props.userData = b64(gvisorScript("${release}").replace(/^release=.*$/m, 'release="$(curl -fsS https://example.invalid/latest)"'))) },
    ],
    "eks-node-imdsv2-hop-limit": [
        { name: "IMDSv1 is allowed", culprit: "eks-nodes-lt", mutate: (s) => void (find(s, "eks-nodes-lt").props.metadataOptions.httpTokens = "optional") },
        { name: "the hop limit is 2", culprit: "eks-nodes-lt", mutate: (s) => void (find(s, "eks-nodes-lt").props.metadataOptions.httpPutResponseHopLimit = 2) },
        { name: "a node group has no launch template", culprit: "eks-spot", mutate: (s) => void delete find(s, "eks-spot").props.launchTemplate },
    ],
    "ec2-launch-template-encrypted-volumes": [
        { name: "the root volume is unencrypted", culprit: "eks-nodes-lt", mutate: (s) => void (find(s, "eks-nodes-lt").props.blockDeviceMappings[0].ebs.encrypted = "false") },
    ],
    "eks-secrets-encryption": [{ name: "no encryptionConfig", culprit: "eks", mutate: (s) => void delete find(s, "eks").props.encryptionConfig }],
    "eks-control-plane-logging": [{ name: "audit logs are off", culprit: "eks", mutate: (s) => void (find(s, "eks").props.enabledClusterLogTypes = ["api"]) }],
    "eks-public-endpoint-restricted": [
        { name: "the endpoint is open to 0.0.0.0/0", culprit: "eks", mutate: (s) => void (find(s, "eks").props.vpcConfig.publicAccessCidrs = ["0.0.0.0/0"]) },
        { name: "public access is defaulted", culprit: "eks", mutate: (s) => void (find(s, "eks").props.vpcConfig = { subnetIds: ["subnet-1"] }) },
    ],
    "node-pool-special-pools-tainted": [
        { name: "the GKE spot pool is untainted", culprit: "gke-spot", mutate: (s) => void (nc(s, "gke-spot").taints = []) },
        { name: "the EKS GPU node group is untainted", culprit: "eks-gpu", mutate: (s) => void (find(s, "eks-gpu").props.taints = []) },
        { name: "a PreferNoSchedule taint only", culprit: "eks-spot", mutate: (s) => void (find(s, "eks-spot").props.taints[0].effect = "PREFER_NO_SCHEDULE") },
    ],
    "workload-tolerates-exactly-its-pool-taints": [
        { name: "ai-inference does not tolerate the GPU taint", culprit: "ai-inference", mutate: (s) => void (pod(find(s, "ai-inference")).tolerations = []) },
        { name: "video-processor tolerates the GPU pool it does not select", culprit: "video-processor", mutate: (s) => void pod(find(s, "video-processor")).tolerations.push({ key: "pitchey.io/pool", operator: "Equal", value: "gpu", effect: "NoSchedule" }) },
        { name: "a blanket toleration", culprit: "document-processor", mutate: (s) => void pod(find(s, "document-processor")).tolerations.push({ operator: "Exists" }) },
        {
            name: "a workload without a selector tolerates the spot taint",
            culprit: "reporting",
            mutate: (s) => {
                const w = processorDeployment("reporting");
                delete pod(w).nodeSelector;
                pod(w).tolerations = [{ key: "pitchey.io/pool", operator: "Exists" }];
                s.push(w);
            },
        },
    ],
    "workload-grace-within-autoscaler-drain": [
        {
            name: "media-transcoder outlasts GKE's 600 s drain and may be evicted",
            culprit: "media-transcoder",
            mutate: (s) => void delete find(s, "media-transcoder").props.spec.template.metadata.annotations,
        },
        {
            name: "the EKS autoscaler drains for 300 s",
            culprit: "document-processor",
            mutate: (s) => {
                remove(s, "gke");
                s.push(clusterAutoscaler({ maxGrace: 300 }));
                delete find(s, "document-processor").props.spec.template.metadata.annotations;
            },
        },
    ],
    "spot-preference-visible-to-autoscaler": [
        { name: "video-processor prefers spot by node affinity only", culprit: "video-processor", mutate: (s) => void preferSpot(find(s, "video-processor")) },
        {
            name: "the EKS autoscaler picks by least-waste",
            culprit: "video-processor",
            mutate: (s) => {
                remove(s, "gke");
                preferSpot(find(s, "video-processor"));
                s.push(clusterAutoscaler({ expander: "least-waste" }));
            },
        },
        {
            name: "the priority expander ranks the on-demand group as high as spot",
            culprit: "video-processor",
            mutate: (s) => {
                remove(s, "gke");
                preferSpot(find(s, "video-processor"));
                s.push(clusterAutoscaler({ priorities: { 10: [".*"] } }));
            },
        },
    ],
    "gcp-names-per-cluster": [
        { name: "a Workload Identity account id without the cluster's name", culprit: "wi-video-processor", mutate: (s) => void (find(s, "wi-video-processor").props.accountId = "wi-video-processor") },
        { name: "the key ring is named after the cluster alone", culprit: "gke-keyring", mutate: (s) => void (find(s, "gke-keyring").props.name = "pitchey-prod") },
    ],
};
