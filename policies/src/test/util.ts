import { evaluatePlan, type PackConfig, type PlanResource, type Violation } from "../evaluate";
import type { PackPolicy } from "../core/policy";
import { IMAGES, KUBERNETES_VERSION } from "../../../components/versions";

/* Happy-path factories: each returns resources that satisfy every policy in the pack. */

export const STACK = "test";
export const DIGEST = `sha256:${"a".repeat(64)}`;

export type Mutable = Omit<PlanResource, "customTimeouts"> & { props: Record<string, any>; customTimeouts?: { create?: string; update?: string; delete?: string } };

export function res(type: string, name: string, props: Record<string, any>, parent: string | null = null): Mutable {
    return { urn: `urn:pulumi:${STACK}::pitchey-containers::${type}::${name}`, type, name, parent, props };
}

/** The id the offline plan's mocks give a resource; settings resources refer to their bucket by it. */
export function mockId(r: PlanResource): string {
    return `${r.type}::${r.name}-id`;
}

export function labels(service: string, env = "prod"): Record<string, string> {
    return {
        "app.kubernetes.io/name": service,
        "app.kubernetes.io/part-of": "pitchey-containers",
        "pitchey.io/environment": env,
        "pitchey.io/cost-center": "platform",
    };
}

/** The cost labels a chart's pods take from a release's values: the program's labels less app.kubernetes.io/*. */
export function podCostLabels(env = "prod"): Record<string, string> {
    return { "pitchey.io/environment": env, "pitchey.io/cost-center": "platform" };
}

export const tags = { Service: "backups", Environment: "prod", CostCenter: "platform" };
export const gcpLabels = { service: "platform", environment: "prod", cost_center: "platform" };

export const NS = "processors";

export type Pool = "general" | "spot" | "gpu" | "sandbox";

const POOL_OF: Record<string, Pool> = {
    "video-processor": "general",
    "document-processor": "general",
    "media-transcoder": "spot",
    "ai-inference": "gpu",
    "code-executor": "sandbox",
};

function tolerationsFor(pool: Pool): Record<string, string>[] {
    if (pool === "general") return [];
    const own = { key: "pitchey.io/pool", operator: "Equal", value: pool, effect: "NoSchedule" };
    if (pool === "gpu") return [own, { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }];
    if (pool === "sandbox") return [own, { key: "sandbox.gke.io/runtime", operator: "Equal", value: "gvisor", effect: "NoSchedule" }];
    return [own];
}

export function processorDeployment(service: string): Mutable {
    const pool = POOL_OF[service] ?? "general";
    const l = labels(service);
    return res("kubernetes:apps/v1:Deployment", service, {
        metadata: { name: service, namespace: NS, labels: l },
        spec: {
            replicas: service === "code-executor" ? 5 : 2,
            selector: { matchLabels: { "app.kubernetes.io/name": service } },
            template: {
                // The grace below outlasts GKE's 10-minute autoscaler drain: the autoscaler must leave these pods be.
                metadata: { labels: l, annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" } },
                spec: {
                    serviceAccountName: service,
                    automountServiceAccountToken: false,
                    terminationGracePeriodSeconds: 660,
                    ...(service === "code-executor" ? { runtimeClassName: "gvisor" } : {}),
                    securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } },
                    nodeSelector: { "pitchey.io/pool": pool },
                    tolerations: tolerationsFor(pool),
                    containers: [
                        {
                            name: "worker",
                            image: `us-west1-docker.pkg.dev/pitchey/processors/${service}@${DIGEST}`,
                            ports: [{ name: "http", containerPort: 8080 }],
                            env: [
                                { name: "JOB_TIMEOUT", value: "600" },
                                { name: "QUEUE", value: service },
                                { name: "DATABASE_URL_FILE", value: "/var/run/secrets/pitchey/jobs-db/DATABASE_URL" },
                                { name: "API_AUTH", value: "required" },
                                ...(service === "code-executor" ? [] : [{ name: "RESULTS_STORE_URL", value: "s3://pitchey-results/jobs" }]),
                            ],
                            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                            resources: {
                                requests: { cpu: "500m", memory: "1Gi", "ephemeral-storage": "2Gi" },
                                limits: { cpu: "2", memory: "2Gi", "ephemeral-storage": "10Gi" },
                            },
                            livenessProbe: { httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 10 },
                            readinessProbe: { httpGet: { path: "/readyz", port: 8080 }, periodSeconds: 5 },
                            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, { name: "secret-jobs-db", mountPath: "/var/run/secrets/pitchey/jobs-db", readOnly: true }],
                        },
                    ],
                    volumes: [{ name: "tmp", emptyDir: {} }, { name: "secret-jobs-db", secret: { secretName: "jobs-db", items: [{ key: "DATABASE_URL", path: "DATABASE_URL" }], defaultMode: 0o440 } }],
                },
            },
        },
    });
}

/** ai-inference as the platform runs it: one GPU, and a rollout timeout that covers a GPU node from zero. */
function withGpu(d: Mutable): Mutable {
    const c = d.props.spec.template.spec.containers[0];
    c.resources.requests["nvidia.com/gpu"] = "1";
    c.resources.limits["nvidia.com/gpu"] = "1";
    d.customTimeouts = { create: "30m", update: "30m" };
    return d;
}

export function pdb(service: string): Mutable {
    return res("kubernetes:policy/v1:PodDisruptionBudget", `${service}-pdb`, {
        metadata: { name: service, namespace: NS, labels: labels(service) },
        spec: { maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": service } } },
    });
}

export function scaledObject(service: string): Mutable {
    return res("kubernetes:keda.sh/v1alpha1:ScaledObject", `${service}-scaler`, {
        metadata: { name: service, namespace: NS, labels: labels(service) },
        spec: {
            scaleTargetRef: { name: service },
            minReplicaCount: service === "code-executor" ? 5 : 2,
            maxReplicaCount: service === "code-executor" ? 50 : 10,
            triggers: [
                { type: "cpu", metricType: "Utilization", metadata: { value: "70" } },
                { type: "memory", metricType: "Utilization", metadata: { value: "80" } },
                { type: "postgresql", metricType: "Value", metadata: { query: `SELECT runnable_job_count('${service}')`, targetQueryValue: "50" }, authenticationRef: { name: "jobs-database" } },
            ],
            advanced: {
                horizontalPodAutoscalerConfig: {
                    behavior: {
                        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 2, periodSeconds: 300 }] },
                        scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Pods", value: 1, periodSeconds: 300 }] },
                    },
                },
            },
        },
    });
}

export function service(name: string): Mutable {
    return res("kubernetes:core/v1:Service", `${name}-svc`, {
        metadata: { name, namespace: NS, labels: labels(name) },
        spec: { type: "ClusterIP", selector: { "app.kubernetes.io/name": name }, ports: [{ port: 8080, targetPort: 8080 }] },
    });
}

export function serviceAccount(name: string): Mutable {
    return res("kubernetes:core/v1:ServiceAccount", `${name}-sa`, {
        metadata: { name, namespace: NS, labels: labels(name) },
        automountServiceAccountToken: false,
    });
}

export function namespace(name = NS): Mutable {
    return res("kubernetes:core/v1:Namespace", `${name}-ns`, { metadata: { name, labels: labels(name) } });
}

export function resourceQuota(ns = NS): Mutable {
    return res("kubernetes:core/v1:ResourceQuota", `${ns}-quota`, {
        metadata: { name: "container-quota", namespace: ns, labels: labels(ns) },
        spec: { hard: { "requests.cpu": "100", "requests.memory": "200Gi", persistentvolumeclaims: "10", "services.loadbalancers": "2" } },
    });
}

export function networkPolicies(ns = NS): Mutable[] {
    const meta = (name: string) => ({ name, namespace: ns, labels: labels(ns) });
    return [
        res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `${ns}-default-deny`, {
            metadata: meta("default-deny"),
            spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        }),
        res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `${ns}-allow-dns-db`, {
            metadata: meta("allow-dns-and-database"),
            spec: {
                podSelector: {},
                policyTypes: ["Egress"],
                egress: [
                    { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }], ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] },
                    { to: [{ ipBlock: { cidr: "10.20.0.0/24" } }], ports: [{ protocol: "TCP", port: 5432 }] },
                ],
            },
        }),
        res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `${ns}-allow-object-storage`, {
            metadata: meta("allow-object-storage"),
            spec: {
                podSelector: { matchExpressions: [{ key: "app.kubernetes.io/name", operator: "NotIn", values: ["code-executor"] }] },
                policyTypes: ["Egress"],
                egress: [{ ports: [{ protocol: "TCP", port: 443 }] }],
            },
        }),
    ];
}

export function runtimeClass(): Mutable {
    return res("kubernetes:node.k8s.io/v1:RuntimeClass", "gvisor", { metadata: { name: "gvisor", labels: labels("code-executor") }, handler: "runsc" });
}

export function ingressController(): Mutable[] {
    return [
        res("kubernetes:helm.sh/v3:Release", "ingress-nginx", {
            chart: "oci://ghcr.io/nginx/charts/nginx-ingress",
            version: "4.11.3",
            namespace: "ingress-nginx",
            // The chart creates no Service; the program declares the controller's LoadBalancer below.
            values: { controller: { service: { create: false }, pod: { extraLabels: podCostLabels() } } },
        }),
        res("kubernetes:core/v1:Service", "ingress-nginx-controller", {
            metadata: { name: "ingress-nginx-controller", namespace: "ingress-nginx", labels: { ...labels("ingress-nginx"), "app.kubernetes.io/component": "controller" } },
            spec: { type: "LoadBalancer", loadBalancerSourceRanges: ["173.245.48.0/20"], ports: [{ port: 443 }] },
        }),
    ];
}

const NIC = "kubernetes:k8s.nginx.org/v1";

/** The job API's VirtualServer: /health answered by nginx, one rate-limited route per processor. */
export function virtualServer(): Mutable[] {
    const jobType = (p: string) => p.split("-")[0];
    return [
        ...PROCESSORS.map((p) =>
            res(`${NIC}:Policy`, `${p}-per-ip`, {
                apiVersion: "k8s.nginx.org/v1",
                kind: "Policy",
                metadata: { name: `${p}-per-ip`, namespace: NS, labels: labels("job-api") },
                spec: { rateLimit: { rate: "30r/m", burst: 3, key: "${binary_remote_addr}", noDelay: true, rejectCode: 429 } },
            }),
        ),
        res(`${NIC}:VirtualServer`, "job-api", {
            apiVersion: "k8s.nginx.org/v1",
            kind: "VirtualServer",
            metadata: { name: "job-api", namespace: NS, labels: labels("job-api") },
            spec: {
                host: "api.pitchey.com",
                upstreams: PROCESSORS.map((p) => ({ name: p, service: p, port: 8080 })),
                routes: [
                    { path: "=/health", action: { return: { code: 200, body: "healthy" } } },
                    ...PROCESSORS.map((p) => ({
                        path: `/api/${jobType(p)}/`,
                        policies: [{ name: `${p}-per-ip` }],
                        // No credential, no trip to the processor.
                        matches: [{ conditions: [{ header: "X-Pitchey-Key-Id", value: "" }], action: { return: { code: 401, type: "application/json", body: "{}" } } }],
                        action: { pass: p },
                    })),
                ],
            },
        }),
    ];
}

export function prometheusRule(): Mutable {
    return res("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "processor-alerts", {
        metadata: { name: "processor-alerts", namespace: "monitoring", labels: labels("observability") },
        spec: {
            groups: [{
                name: "container_health",
                rules: [
                    { record: "job:queue_depth:max", expr: "max(job_queue_depth)" },
                    { alert: "QueueBacklog", expr: "job_queue_depth > 500", for: "10m", labels: { severity: "warning" }, annotations: { summary: "backlog", description: "queue over 500", runbook_url: "https://github.com/pitchey/pitchey-containers/blob/main/docs/runbooks/queue-backlog.md" } },
                    { alert: "RestoreVerificationFailed", expr: "max(cnpg_pitchey_restore_verification_last_run_success) == 0", for: "10m", labels: { severity: "critical" }, annotations: { summary: "restore failed", description: "the newest backup did not restore", runbook_url: "https://github.com/pitchey/pitchey-containers/blob/main/docs/runbooks/RestoreVerificationFailed.md" } },
                ],
            }],
        },
    });
}

/** Loki on an R2 bucket with a lifecycle, and Grafana with its admin from a Secret. */
export function logsAndDashboards(): Mutable[] {
    return [
        res("kubernetes:helm.sh/v3:Release", "monitoring-loki", {
            name: "loki",
            chart: "loki",
            version: "18.11.0",
            namespace: "monitoring",
            values: { loki: { storage: { type: "s3", bucketNames: { chunks: "pitchey-logs", ruler: "pitchey-logs", admin: "pitchey-logs" } }, podLabels: podCostLabels() } },
        }),
        res("cloudflare:index/r2Bucket:R2Bucket", "logs-bucket", { accountId: "acc", name: "pitchey-logs", location: "wnam" }),
        // Loki's own minted token: write on the logs bucket only.
        res("kubernetes:core/v1:Secret", "loki-object-store-secret", {
            metadata: { name: "loki-object-store", namespace: "monitoring", labels: labels("monitoring"), annotations: { "pitchey.io/object-store-grants": "write:pitchey-logs" } },
            type: "Opaque",
            stringData: { AWS_ACCESS_KEY_ID: "[secret]", AWS_SECRET_ACCESS_KEY: "[secret]" },
        }),
        res("cloudflare:index/r2BucketLifecycle:R2BucketLifecycle", "logs-lifecycle", {
            accountId: "acc",
            bucketName: "pitchey-logs",
            rules: [{ id: "expire", enabled: true, conditions: { prefix: "" }, deleteObjectsTransition: { condition: { type: "Age", maxAge: 37 * 86400 } } }],
        }),
        res("kubernetes:helm.sh/v3:Release", "monitoring-grafana", {
            name: "grafana",
            chart: "grafana",
            version: "12.11.1",
            namespace: "monitoring",
            values: { admin: { existingSecret: "grafana-admin" }, "grafana.ini": { "auth.anonymous": { enabled: false } }, podLabels: podCostLabels() },
        }),
    ];
}

/* Clusters and pools */

/** A workload that may run on the spot or the general pool and prefers spot (by node affinity only). */
export function preferSpot(d: Mutable): Mutable {
    const spec = d.props.spec.template.spec;
    const term = (pool: string) => ({ matchExpressions: [{ key: "pitchey.io/pool", operator: "In", values: [pool] }] });
    delete spec.nodeSelector;
    spec.tolerations = [{ key: "pitchey.io/pool", operator: "Equal", value: "spot", effect: "NoSchedule" }];
    spec.affinity = {
        nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term("spot"), term("general")] },
            preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: term("spot") }],
        },
    };
    return d;
}

/** The EKS cluster autoscaler's Helm release: priority expander with spot first, drain as long as `maxGrace`. */
export function clusterAutoscaler(opts: { expander?: string; maxGrace?: number; priorities?: Record<string, string[]> } = {}): Mutable {
    return res("kubernetes:helm.sh/v3:Release", "cluster-autoscaler", {
        name: "cluster-autoscaler",
        chart: "cluster-autoscaler",
        namespace: "kube-system",
        values: {
            extraArgs: { expander: opts.expander ?? "priority,least-waste", "max-graceful-termination-sec": String(opts.maxGrace ?? 930) },
            expanderPriorities: opts.priorities ?? { 50: ["^eks-spot-[0-9a-f-]+$"], 10: [".*"] },
            additionalLabels: podCostLabels("dr"),
        },
    });
}

/** GKE's spot-first ComputeClass over the spot pool, then `fallback`. */
export function computeClass(first: string[] = ["spot"], fallback: string[] = ["general"]): Mutable {
    return res("kubernetes:cloud.google.com/v1:ComputeClass", "spot-first", {
        apiVersion: "cloud.google.com/v1",
        kind: "ComputeClass",
        metadata: { name: "spot-first" },
        spec: { priorities: [{ nodepools: first }, { nodepools: fallback }], whenUnsatisfiable: "DoNotScaleUp" },
    });
}

export function gkeCluster(): Mutable {
    return res("gcp:container/cluster:Cluster", "gke", {
        name: "pitchey-prod",
        location: "us-west1",
        removeDefaultNodePool: true,
        initialNodeCount: 1,
        privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: false, masterIpv4CidrBlock: "172.16.0.0/28" },
        workloadIdentityConfig: { workloadPool: "pitchey.svc.id.goog" },
        enableShieldedNodes: true,
        releaseChannel: { channel: "REGULAR" },
        masterAuthorizedNetworksConfig: { cidrBlocks: [{ cidrBlock: "203.0.113.0/24", displayName: "vpn" }], gcpPublicCidrsAccessEnabled: false },
        datapathProvider: "ADVANCED_DATAPATH",
        databaseEncryption: { state: "ENCRYPTED", keyName: "projects/pitchey/locations/us-west1/keyRings/gke/cryptoKeys/secrets" },
        masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
        resourceLabels: gcpLabels,
    });
}

export function gkePool(kind: Pool): Mutable {
    const taints = kind === "general" ? [] : [{ key: "pitchey.io/pool", value: kind, effect: "NO_SCHEDULE" }];
    return res("gcp:container/nodePool:NodePool", `gke-${kind}`, {
        name: kind,
        cluster: "gcp:container/cluster:Cluster::gke-id",
        management: { autoRepair: true, autoUpgrade: true },
        nodeConfig: {
            machineType: kind === "gpu" ? "g2-standard-8" : "n2-standard-4",
            serviceAccount: "gke-nodes@pitchey.iam.gserviceaccount.com",
            shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
            workloadMetadataConfig: { mode: "GKE_METADATA" },
            labels: { "pitchey.io/pool": kind },
            resourceLabels: gcpLabels,
            taints,
            ...(kind === "spot" ? { spot: true } : {}),
            ...(kind === "gpu" ? { guestAccelerators: [{ type: "nvidia-l4", count: 1 }] } : {}),
            ...(kind === "sandbox" ? { sandboxConfig: { sandboxType: "gvisor" } } : {}),
        },
    });
}

/** The project-wide names a GKE stack derives from its cluster's name: a Workload Identity account and the key ring. */
export function gcpClusterNames(): Mutable[] {
    return [
        res("gcp:serviceaccount/account:Account", "wi-video-processor", { accountId: "pitchey-prod-video-processor", project: "pitchey", displayName: "video-processor" }),
        res("gcp:kms/keyRing:KeyRing", "gke-keyring", { name: "pitchey-prod-3fa2c1", project: "pitchey", location: "us-west1" }),
    ];
}

export function eksCluster(): Mutable {
    return res("aws:eks/cluster:Cluster", "eks", {
        name: "pitchey-dr",
        roleArn: "arn:aws:iam::123456789012:role/eks",
        encryptionConfig: { resources: ["secrets"], provider: { keyArn: "aws:kms/key:Key::platform-key-id" } },
        enabledClusterLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
        vpcConfig: { subnetIds: ["subnet-1"], endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] },
        // The project's own minor: the day it leaves standard support, the compliant stack stops being compliant.
        version: KUBERNETES_VERSION,
        upgradePolicy: { supportType: "STANDARD" },
        tags,
    });
}

export function eksNodeGroup(kind: Pool): Mutable {
    return res("aws:eks/nodeGroup:NodeGroup", `eks-${kind}`, {
        clusterName: "aws:eks/cluster:Cluster::eks-id",
        nodeGroupName: kind,
        capacityType: kind === "spot" ? "SPOT" : "ON_DEMAND",
        amiType: kind === "gpu" ? "AL2023_x86_64_NVIDIA" : "AL2023_x86_64_STANDARD",
        instanceTypes: [kind === "gpu" ? "g5.xlarge" : "m6i.xlarge"],
        labels: { "pitchey.io/pool": kind },
        taints: kind === "general" ? [] : [{ key: "pitchey.io/pool", value: kind, effect: "NO_SCHEDULE" }],
        scalingConfig: { minSize: 0, maxSize: 10, desiredSize: 1 },
        launchTemplate: { id: "aws:ec2/launchTemplate:LaunchTemplate::eks-nodes-lt-id", version: "1" },
        tags,
    });
}

export function eksNodeSupport(): Mutable[] {
    return [
        res("aws:ec2/launchTemplate:LaunchTemplate", "eks-nodes-lt", {
            metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
            blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true", volumeSize: 100, volumeType: "gp3" } }],
            tags,
        }),
        res("aws:eks/addon:Addon", "vpc-cni", { addonName: "vpc-cni", clusterName: "pitchey-dr", configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }), tags }),
        ...["deploy", "break-glass"].flatMap((role) => [
            res("aws:eks/accessEntry:AccessEntry", `eks-access-${role}`, { clusterName: "pitchey-dr", principalArn: `arn:aws:iam::123456789012:role/pitchey-${role}`, type: "STANDARD", tags }),
            res("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", `eks-access-${role}-admin`, {
                clusterName: "pitchey-dr",
                principalArn: `arn:aws:iam::123456789012:role/pitchey-${role}`,
                policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                accessScope: { type: "cluster" },
            }),
        ]),
        res("aws:eks/addon:Addon", "ebs-csi-driver", { addonName: "aws-ebs-csi-driver", addonVersion: "v1.44.0-eksbuild.1", clusterName: "pitchey-dr", serviceAccountRoleArn: "arn:aws:iam::123456789012:role/ebs-csi", tags }),
        res("kubernetes:storage.k8s.io/v1:StorageClass", "jobs-db-storage", {
            metadata: { name: "jobs-db-ssd", labels: labels("jobs-db") },
            provisioner: "ebs.csi.aws.com",
            parameters: { type: "gp3", encrypted: "true" },
            reclaimPolicy: "Retain",
            volumeBindingMode: "WaitForFirstConsumer",
        }),
        res("aws:eks/addon:Addon", "metrics-server", { addonName: "metrics-server", addonVersion: "v0.7.2-eksbuild.3", clusterName: "pitchey-dr", tags }),
        res("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default-sg", { vpcId: "aws:ec2/vpc:Vpc::vpc-id", ingress: [], egress: [], tags }),
    ];
}

/* Network edges */

export function firewall(): Mutable {
    return res("gcp:compute/firewall:Firewall", "allow-lb-https", {
        name: "allow-lb-https",
        network: "default",
        direction: "INGRESS",
        sourceRanges: ["0.0.0.0/0"],
        allows: [{ protocol: "tcp", ports: ["443"] }],
    });
}

export function securityGroup(): Mutable {
    return res("aws:ec2/securityGroup:SecurityGroup", "lb-sg", {
        name: "lb",
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
        egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["10.0.0.0/8"] }],
        tags,
    });
}

export function sgIngressRule(): Mutable {
    return res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "lb-https", {
        securityGroupId: "aws:ec2/securityGroup:SecurityGroup::lb-sg-id",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
        tags,
    });
}

/* Storage and keys */

export function kmsKey(): Mutable {
    return res("aws:kms/key:Key", "platform-key", {
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Sid: "Root", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "kms:*", Resource: "*" }],
        }),
        tags,
    });
}

export function gcpKmsKey(): Mutable {
    return res("gcp:kms/cryptoKey:CryptoKey", "gke-secrets-key", { name: "secrets", keyRing: "projects/pitchey/locations/us-west1/keyRings/gke", rotationPeriod: "7776000s", labels: gcpLabels });
}

const S3T = "aws:s3/";

/**
 * A bucket and the v7 settings resources that make it compliant. `refBy` picks how the settings refer to
 * the bucket: by the mocks' computed id or by its physical name, as both occur in plans.
 */
export function s3Bucket(name: string, opts: { backup?: boolean; refBy?: "id" | "name" } = {}): Mutable[] {
    const physical = `pitchey-prod-${name}`;
    const bucket = res(`${S3T}bucket:Bucket`, name, { bucket: physical, forceDestroy: false, tags: { ...tags, Service: name }, ...(opts.backup ? { objectLockEnabled: true } : {}) });
    const ref = opts.refBy === "name" ? physical : mockId(bucket);
    const settings: Mutable[] = [
        res(`${S3T}bucketPublicAccessBlock:BucketPublicAccessBlock`, `${name}-pab`, { bucket: ref, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }),
        res(`${S3T}bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration`, `${name}-sse`, {
            bucket: ref,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "aws:kms/key:Key::platform-key-id" }, bucketKeyEnabled: true }],
        }),
        res(`${S3T}bucketVersioning:BucketVersioning`, `${name}-versioning`, { bucket: ref, versioningConfiguration: { status: "Enabled" } }),
        res(`${S3T}bucketLogging:BucketLogging`, `${name}-logging`, { bucket: ref, targetBucket: "aws:s3/bucket:Bucket::access-logs-id", targetPrefix: `${name}/` }),
        res(`${S3T}bucketLifecycleConfiguration:BucketLifecycleConfiguration`, `${name}-lifecycle`, {
            bucket: ref,
            rules: [
                { id: "abort-incomplete", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
                ...(opts.backup
                    ? [
                          { id: "hourly", status: "Enabled", filter: { prefix: "postgres/hourly/" }, expiration: { days: 2 } },
                          { id: "daily", status: "Enabled", filter: { prefix: "postgres/daily/" }, expiration: { days: 8 } },
                          { id: "weekly", status: "Enabled", filter: { prefix: "postgres/weekly/" }, expiration: { days: 35 } },
                          { id: "monthly", status: "Enabled", filter: { prefix: "postgres/monthly/" }, expiration: { days: 400 } },
                      ]
                    : []),
            ],
        }),
        res(`${S3T}bucketPolicy:BucketPolicy`, `${name}-policy`, {
            bucket: ref,
            policy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [`arn:aws:s3:::${physical}`, `arn:aws:s3:::${physical}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
            }),
        }),
        res(`${S3T}bucketOwnershipControls:BucketOwnershipControls`, `${name}-ownership`, { bucket: ref, rule: { objectOwnership: "BucketOwnerEnforced" } }),
    ];
    if (opts.backup) {
        settings.push(res(`${S3T}bucketObjectLockConfiguration:BucketObjectLockConfiguration`, `${name}-lock`, { bucket: ref, rule: { defaultRetention: { mode: "GOVERNANCE", days: 1 } } }));
        settings.push(res(`${S3T}bucketReplicationConfig:BucketReplicationConfig`, `${name}-replication`, {
            bucket: ref,
            role: "arn:aws:iam::123456789012:role/replication",
            rules: [{ id: "to-dr", status: "Enabled", destination: { bucket: "arn:aws:s3:::pitchey-dr-backups", storageClass: "STANDARD_IA" } }],
        }));
    }
    return [bucket, ...settings];
}

/** The S3 backup copy: Object Lock with per-object retention (no default), the copy of R2 (so not replicated itself). */
export function s3BackupCopy(): Mutable[] {
    const all = s3Bucket("backup-copy", { backup: true }).filter((r) => r.name !== "backup-copy-replication");
    const bucket = all.find((r) => r.name === "backup-copy")!;
    bucket.props.tags = { ...bucket.props.tags, ReplicaOf: "r2", ObjectRetention: "per-object" };
    all.find((r) => r.name === "backup-copy-lock")!.props = { bucket: bucket.props.bucket, objectLockEnabled: "Enabled" };
    all.find((r) => r.name === "backup-copy-lifecycle")!.props.rules.push({ id: "expire-hourly-tier", status: "Enabled", filter: { prefix: "postgres/2" }, expiration: { days: 2 } });
    return all;
}

export function gcsBucket(): Mutable {
    return res("gcp:storage/bucket:Bucket", "gcs-backups", {
        name: "pitchey-prod-backups",
        project: "pitchey",
        location: "US",
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        versioning: { enabled: true },
        encryption: { defaultKmsKeyName: "projects/pitchey/locations/us/keyRings/backups/cryptoKeys/backups" },
        retentionPolicy: { retentionPeriod: 82800, isLocked: false },
        logging: { logBucket: "pitchey-prod-access-logs", logObjectPrefix: "backups/" },
        labels: gcpLabels,
        lifecycleRules: [
            { action: { type: "Delete" }, condition: { age: 2, matchesPrefixes: ["postgres/hourly/"] } },
            { action: { type: "Delete" }, condition: { age: 400, matchesPrefixes: ["postgres/monthly/"] } },
        ],
    });
}

/** The backup copy in the stack's own cloud, as the program declares it: versioned, per-object retention, the copy of R2. */
export function gcsBackupCopy(): Mutable {
    return res("gcp:storage/bucket:Bucket", "gcs-backup-copy", {
        name: "pitchey-containers-backups-0a1b2c3d",
        project: "pitchey",
        location: "US-WEST1",
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        versioning: { enabled: true },
        encryption: { defaultKmsKeyName: "projects/pitchey/locations/us-west1/keyRings/backups/cryptoKeys/backups" },
        enableObjectRetention: true,
        logging: { logBucket: "pitchey-containers-access-logs-0a1b2c3d", logObjectPrefix: "backups/" },
        labels: { ...gcpLabels, role: "backup-copy", replica_of: "r2" },
        lifecycleRules: [
            { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 1 } },
            { action: { type: "Delete" }, condition: { age: 2, matchesPrefixes: ["postgres/2"], withState: "LIVE" } },
            { action: { type: "Delete" }, condition: { age: 403, matchesPrefixes: ["postgres/monthly/"], withState: "LIVE" } },
            { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 30, withState: "ARCHIVED" } },
        ],
    });
}

export function r2Backups(): Mutable[] {
    return [
        res("cloudflare:index/r2Bucket:R2Bucket", "r2-backups", { accountId: "acc", name: "pitchey-backups", location: "wnam" }),
        res("cloudflare:index/r2BucketLifecycle:R2BucketLifecycle", "r2-backups-lifecycle", {
            accountId: "acc",
            bucketName: "pitchey-backups",
            rules: [
                { id: "abort", enabled: true, conditions: { prefix: "" }, abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: 86400 } } },
                { id: "hourly", enabled: true, conditions: { prefix: "postgres/hourly/" }, deleteObjectsTransition: { condition: { type: "Age", maxAge: 2 * 86400 } } },
                { id: "monthly", enabled: true, conditions: { prefix: "postgres/monthly/" }, deleteObjectsTransition: { condition: { type: "Age", maxAge: 400 * 86400 } } },
            ],
        }),
        res("cloudflare:index/r2BucketLock:R2BucketLock", "r2-backups-lock", {
            accountId: "acc",
            bucketName: "pitchey-backups",
            rules: [{ id: "hourly", enabled: true, prefix: "postgres/2", condition: { type: "Age", maxAgeSeconds: 82800 } }],
        }),
        res("cloudflare:index/r2ManagedDomain:R2ManagedDomain", "r2-backups-dev-domain", { accountId: "acc", bucketName: "pitchey-backups", enabled: false }),
    ];
}

/* Registry and supply chain */

export function ecrRepo(name = "video-processor"): Mutable[] {
    const repo = res("aws:ecr/repository:Repository", `${name}-repo`, {
        name: `pitchey/${name}`,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS" }],
        tags,
    });
    const lifecycle = res("aws:ecr/lifecyclePolicy:LifecyclePolicy", `${name}-repo-lifecycle`, {
        repository: `pitchey/${name}`,
        policy: JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 }, action: { type: "expire" } }] }),
    });
    return [repo, lifecycle];
}

export function arRepo(): Mutable {
    return res("gcp:artifactregistry/repository:Repository", "processors-ar", {
        repositoryId: "processors",
        location: "us-west1",
        format: "DOCKER",
        dockerConfig: { immutableTags: true },
        vulnerabilityScanningConfig: { enablementConfig: "INHERITED" },
        cleanupPolicies: [{ id: "untagged", action: "DELETE", condition: { tagState: "UNTAGGED", olderThan: "604800s" } }],
        labels: gcpLabels,
    });
}

export function imageBuild(name = "video-processor"): Mutable {
    return res("docker-build:index:Image", `${name}-image`, {
        context: { location: "images" },
        dockerfile: { location: "images/Dockerfile" },
        platforms: ["linux/amd64"],
        push: true,
        target: name,
        tags: [`us-west1-docker.pkg.dev/pitchey/processors/${name}:src-0123abcd`],
        buildOnPreview: false,
        // The project's own pin: the day it reaches end of life, the compliant stack stops being compliant.
        buildArgs: { PROCESSOR: name, NODE_IMAGE: IMAGES.node },
    });
}

/* Edge */

export const ZONE = "cloudflare:index/zone:Zone::pitchey-zone-id";

export function cloudflare(): Mutable[] {
    const setting = (settingId: string, value: unknown) => res("cloudflare:index/zoneSetting:ZoneSetting", `zone-${settingId}`, { zoneId: ZONE, settingId, value });
    return [
        res("cloudflare:index/zone:Zone", "pitchey-zone", { name: "pitchey.com", account: { id: "acc" } }),
        setting("ssl", "strict"),
        setting("min_tls_version", "1.2"),
        setting("always_use_https", "on"),
        res("cloudflare:index/dnsRecord:DnsRecord", "api-record", { zoneId: ZONE, name: "api.pitchey.com", type: "CNAME", content: "lb.pitchey.com", proxied: true, ttl: 1 }),
        res("cloudflare:index/dnsRecord:DnsRecord", "mail-record", { zoneId: ZONE, name: "pitchey.com", type: "MX", content: "mx.pitchey.com", priority: 10, ttl: 300 }),
        res("cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor", "edge-monitor", { accountId: "acc", type: "https", method: "GET", path: "/health", expectedCodes: "200" }),
        ...["primary", "standby"].map((role) =>
            res("cloudflare:index/loadBalancerPool:LoadBalancerPool", `edge-${role}-pool`, {
                accountId: "acc",
                name: `api-${role}`,
                monitor: "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor::edge-monitor-id",
                origins: [{ name: role, address: `origin-${role}.pitchey.com` }],
            }),
        ),
        res("cloudflare:index/loadBalancer:LoadBalancer", "edge-load-balancer", {
            zoneId: ZONE,
            name: "api.pitchey.com",
            defaultPools: ["cloudflare:index/loadBalancerPool:LoadBalancerPool::edge-primary-pool-id", "cloudflare:index/loadBalancerPool:LoadBalancerPool::edge-standby-pool-id"],
            fallbackPool: "cloudflare:index/loadBalancerPool:LoadBalancerPool::edge-standby-pool-id",
            steeringPolicy: "random",
        }),
    ];
}

export function database(): Mutable {
    return res("gcp:sql/databaseInstance:DatabaseInstance", "jobs-db", {
        name: "pitchey-jobs",
        databaseVersion: "POSTGRES_16",
        settings: { tier: "db-custom-4-16384", backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true }, userLabels: gcpLabels },
    });
}

/** An object-store credential as the program mints it: S3 key pair, with what its token may do stated on it. */
export function storeCredential(name: string, grants: string): Mutable {
    return res("kubernetes:core/v1:Secret", `${name}-secret`, {
        metadata: { name, namespace: NS, labels: labels(name), annotations: { "pitchey.io/object-store-grants": grants } },
        type: "Opaque",
        stringData: { AWS_ACCESS_KEY_ID: "[secret]", AWS_SECRET_ACCESS_KEY: "[secret]" },
    });
}

/** Mounts Secret `secret` into a pod template's first container and points `<KEY>_FILE` at it. */
export function mountSecret(podSpec: Record<string, any>, secret: string, key = "AWS_SECRET_ACCESS_KEY"): void {
    const dir = `/var/run/secrets/pitchey/${secret}`;
    podSpec.volumes.push({ name: `secret-${secret}`, secret: { secretName: secret, items: [{ key, path: key }], defaultMode: 0o440 } });
    podSpec.containers[0].volumeMounts.push({ name: `secret-${secret}`, mountPath: dir, readOnly: true });
    podSpec.containers[0].env.push({ name: `${key}_FILE`, value: `${dir}/${key}` });
}

/**
 * A backup CronJob made from a processor's pod: one container reading only the database's URL and one object-store
 * Secret, no ports or probes, not restarted, a minute to stop (a run is cheap to redo; it needs no worker's drain).
 */
function backupLikeCronJob(a: {
    name: string;
    container: string;
    command?: string[];
    secret: string;
    schedule: string;
    backoffLimit: number;
}): Mutable {
    const l = { ...labels(a.name), "app.kubernetes.io/component": "backup" };
    const spec = structuredClone(pod(processorDeployment(a.name)));
    const c = spec.containers[0];
    delete c.ports;
    delete c.livenessProbe;
    delete c.readinessProbe;
    c.name = a.container;
    if (a.command) c.command = a.command;
    c.env = c.env.filter((e: { name: string }) => e.name === "DATABASE_URL_FILE");
    spec.restartPolicy = "Never";
    spec.terminationGracePeriodSeconds = 60;
    mountSecret(spec, a.secret);
    return res("kubernetes:batch/v1:CronJob", a.name, {
        metadata: { name: a.name, namespace: NS, labels: l },
        spec: { schedule: a.schedule, concurrencyPolicy: "Forbid", jobTemplate: { spec: { backoffLimit: a.backoffLimit, template: { metadata: { labels: l }, spec } } } },
    });
}

/** The hourly database backup: the only workload holding the backup bucket's writer. */
export function backupCronJob(): Mutable {
    return backupLikeCronJob({ name: "db-backup", container: "backup", secret: "backup-writer", schedule: "0 * * * *", backoffLimit: 2 });
}

/** The daily restore verification: the newest backup restored into a scratch database, read with the bucket's reader. */
export function restoreCronJob(): Mutable {
    return backupLikeCronJob({
        name: "restore-verification",
        container: "verify",
        command: ["node", "dist/cli/verify-restore.js"],
        secret: "backup-reader",
        schedule: "30 4 * * *",
        backoffLimit: 0,
    });
}

/** Velero from its chart, its location on the GCS backup bucket under the bucket's key, and a daily schedule. */
export function veleroBackup(): Mutable[] {
    const l = labels("velero");
    return [
        res("kubernetes:helm.sh/v3:Release", "velero-release", {
            name: "velero",
            chart: "velero",
            version: "12.1.0",
            repositoryOpts: { repo: "https://vmware-tanzu.github.io/helm-charts" },
            namespace: "velero",
            values: {
                credentials: { useSecret: false },
                serviceAccount: { server: { create: true, name: "velero", annotations: { "iam.gke.io/gcp-service-account": "pitchey-prod-velero@pitchey.iam.gserviceaccount.com" } } },
                deployNodeAgent: false,
                snapshotsEnabled: false,
                podLabels: podCostLabels(),
                kubectl: { labels: podCostLabels() },
            },
        }),
        res("kubernetes:velero.io/v1:BackupStorageLocation", "velero-location", {
            apiVersion: "velero.io/v1",
            kind: "BackupStorageLocation",
            metadata: { name: "default", namespace: "velero", labels: l },
            spec: {
                provider: "velero.io/gcp",
                default: true,
                objectStorage: { bucket: "pitchey-prod-backups", prefix: "configs" },
                config: { kmsKeyName: "projects/pitchey/locations/us/keyRings/backups/cryptoKeys/backups", serviceAccount: "pitchey-prod-velero@pitchey.iam.gserviceaccount.com" },
            },
        }),
        res("kubernetes:velero.io/v1:Schedule", "velero-schedule", {
            apiVersion: "velero.io/v1",
            kind: "Schedule",
            metadata: { name: "cluster-state", namespace: "velero", labels: l },
            spec: {
                schedule: "15 3 * * *",
                useOwnerReferencesInBackup: false,
                template: { ttl: "8760h", storageLocation: "default", includedNamespaces: ["*"], includeClusterResources: true, excludedResources: ["events", "events.events.k8s.io"], snapshotVolumes: false },
            },
        }),
    ];
}

export const PROCESSORS = ["video-processor", "document-processor", "ai-inference", "media-transcoder", "code-executor"];

/** A stack that every policy in the pack accepts: both clouds, all five processors and their surroundings. */
export function compliantStack(): Mutable[] {
    return [
        res("pulumi:pulumi:Stack", `pitchey-containers-${STACK}`, {}),
        namespace(),
        resourceQuota(),
        ...networkPolicies(),
        runtimeClass(),
        ...PROCESSORS.flatMap((p) => [p === "ai-inference" ? withGpu(processorDeployment(p)) : processorDeployment(p), pdb(p), scaledObject(p), service(p), serviceAccount(p)]),
        ...ingressController(),
        networkPolicies("ingress-nginx")[0],
        ...virtualServer(),
        prometheusRule(),
        ...logsAndDashboards(),
        networkPolicies("monitoring")[0],
        gkeCluster(),
        ...(["general", "spot", "gpu", "sandbox"] as Pool[]).map(gkePool),
        ...gcpClusterNames(),
        eksCluster(),
        ...(["general", "spot", "gpu", "sandbox"] as Pool[]).map(eksNodeGroup),
        ...eksNodeSupport(),
        firewall(),
        securityGroup(),
        sgIngressRule(),
        kmsKey(),
        gcpKmsKey(),
        ...s3Bucket("backups", { backup: true }),
        ...s3BackupCopy(),
        ...s3Bucket("media", { refBy: "name" }),
        // S3 delivers server access logs only into SSE-S3 buckets: the log target is the one bucket without a KMS key.
        ...s3Bucket("access-logs").map((r) => (r.name === "access-logs-sse" ? { ...r, props: { ...r.props, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] } } : r)),
        gcsBucket(),
        gcsBackupCopy(),
        ...veleroBackup(),
        networkPolicies("velero")[0],
        ...r2Backups(),
        storeCredential("backup-writer", "write:pitchey-backups"),
        storeCredential("results-store", "write:pitchey-results"),
        storeCredential("backup-reader", "read:pitchey-backups"),
        backupCronJob(),
        restoreCronJob(),
        ...ecrRepo(),
        arRepo(),
        imageBuild(),
        ...cloudflare(),
        database(),
    ];
}

/* Running policies */

export function run(policy: PackPolicy, resources: readonly PlanResource[], config?: PackConfig): Violation[] {
    return evaluatePlan(resources, { policies: [policy], config }).violations;
}

export function clone<T>(v: T): T {
    return structuredClone(v);
}

/** The resource with this logical name; throws so a mutation can never silently miss its target. */
export function find(stack: Mutable[], name: string): Mutable {
    const r = stack.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name} in the stack`);
    return r;
}

export function remove(stack: Mutable[], name: string): void {
    const i = stack.findIndex((x) => x.name === name);
    if (i < 0) throw new Error(`no resource named ${name} in the stack`);
    stack.splice(i, 1);
}

export function pod(d: Mutable): Record<string, any> {
    return d.props.spec.template.spec;
}

export function container(d: Mutable): Record<string, any> {
    return pod(d).containers[0];
}

/** A violating case: a description, the mutation of the compliant stack, and the resource the violation must name. */
export interface Case {
    readonly name: string;
    readonly mutate: (stack: Mutable[]) => void;
    /** Logical name of the resource the violation must be reported against. */
    readonly culprit: string;
    readonly config?: PackConfig;
}
