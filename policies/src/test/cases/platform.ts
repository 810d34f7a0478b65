import { container, find, remove, res, type Case } from "../util";

export const platformCases: Record<string, Case[]> = {
    "registry-scan-on-push": [
        { name: "ECR scan on push is off", culprit: "video-processor-repo", mutate: (s) => void (find(s, "video-processor-repo").props.imageScanningConfiguration.scanOnPush = false) },
        { name: "Artifact Registry scanning is disabled", culprit: "processors-ar", mutate: (s) => void (find(s, "processors-ar").props.vulnerabilityScanningConfig.enablementConfig = "DISABLED") },
    ],
    "registry-immutable-tags": [
        { name: "ECR tags are mutable", culprit: "video-processor-repo", mutate: (s) => void delete find(s, "video-processor-repo").props.imageTagMutability },
        { name: "Artifact Registry tags are mutable", culprit: "processors-ar", mutate: (s) => void delete find(s, "processors-ar").props.dockerConfig },
    ],
    "registry-untagged-image-expiry": [
        { name: "the ECR lifecycle policy is missing", culprit: "video-processor-repo", mutate: (s) => remove(s, "video-processor-repo-lifecycle") },
        { name: "ECR keeps untagged images 30 days", culprit: "video-processor-repo", mutate: (s) => void (find(s, "video-processor-repo-lifecycle").props.policy = JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 30 }, action: { type: "expire" } }] })) },
        { name: "Artifact Registry has no cleanup policy", culprit: "processors-ar", mutate: (s) => void delete find(s, "processors-ar").props.cleanupPolicies },
    ],
    "helm-chart-version-pinned": [
        { name: "no chart version", culprit: "ingress-nginx", mutate: (s) => void delete find(s, "ingress-nginx").props.version },
        { name: "a version range", culprit: "ingress-nginx", mutate: (s) => void (find(s, "ingress-nginx").props.version = "^4.11.0") },
    ],
    "image-build-content-tags": [
        { name: "the image is pushed as latest", culprit: "video-processor-image", mutate: (s) => void (find(s, "video-processor-image").props.tags = ["us-west1-docker.pkg.dev/pitchey/processors/video-processor:latest"]) },
        { name: "the image is pushed without tags", culprit: "video-processor-image", mutate: (s) => void delete find(s, "video-processor-image").props.tags },
    ],
    "image-build-not-on-preview": [
        { name: "buildOnPreview is unset (docker-build's default builds)", culprit: "video-processor-image", mutate: (s) => void delete find(s, "video-processor-image").props.buildOnPreview },
        { name: "buildOnPreview is true", culprit: "video-processor-image", mutate: (s) => void (find(s, "video-processor-image").props.buildOnPreview = true) },
    ],
    "image-runtime-supported": [
        { name: "the image is built on Node.js 20, past its end of life", culprit: "video-processor-image", mutate: (s) => void (find(s, "video-processor-image").props.buildArgs.NODE_IMAGE = "node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0") },
        { name: "the image names no Node.js base", culprit: "video-processor-image", mutate: (s) => void delete find(s, "video-processor-image").props.buildArgs.NODE_IMAGE },
        { name: "the base is a line the table does not know", culprit: "video-processor-image", mutate: (s) => void (find(s, "video-processor-image").props.buildArgs.NODE_IMAGE = "node:17-bullseye-slim") },
        {
            name: "the project's own base, judged on a day after its end of life",
            culprit: "video-processor-image",
            mutate: () => undefined,
            config: { "image-runtime-supported": { asOf: "2099-01-01" } },
        },
    ],
    "cloudflare-ssl-strict": [
        { name: "SSL is flexible", culprit: "zone-ssl", mutate: (s) => void (find(s, "zone-ssl").props.value = "flexible") },
        { name: "the ssl setting is missing", culprit: "pitchey-zone", mutate: (s) => remove(s, "zone-ssl") },
    ],
    "cloudflare-min-tls-1-2": [{ name: "minimum TLS is 1.0", culprit: "zone-min_tls_version", mutate: (s) => void (find(s, "zone-min_tls_version").props.value = "1.0") }],
    "cloudflare-always-use-https": [
        { name: "always_use_https is off", culprit: "zone-always_use_https", mutate: (s) => void (find(s, "zone-always_use_https").props.value = "off") },
        { name: "the setting is missing", culprit: "pitchey-zone", mutate: (s) => remove(s, "zone-always_use_https") },
    ],
    "cloudflare-api-record-proxied": [{ name: "the API record is DNS-only", culprit: "api-record", mutate: (s) => void (find(s, "api-record").props.proxied = false) }],
    "aws-required-tags": [
        { name: "the bucket has no CostCenter", culprit: "backups", mutate: (s) => void delete find(s, "backups").props.tags.CostCenter },
        { name: "the node group has no tags", culprit: "eks-gpu", mutate: (s) => void delete find(s, "eks-gpu").props.tags },
        {
            name: "the provider's defaultTags lack CostCenter",
            culprit: "eks-gpu",
            mutate: (s) => {
                delete find(s, "eks-gpu").props.tags;
                s.push(res("pulumi:providers:aws", "aws", { region: "eu-west-1", defaultTags: JSON.stringify({ tags: { Service: "x", Environment: "dr" } }) }));
            },
        },
    ],
    "gcp-required-labels": [
        { name: "the cluster has no labels", culprit: "gke", mutate: (s) => void delete find(s, "gke").props.resourceLabels },
        { name: "a pool's VMs have no cost-center", culprit: "gke-gpu", mutate: (s) => void (find(s, "gke-gpu").props.nodeConfig.resourceLabels = { service: "ai-inference", environment: "prod" }) },
    ],
    "k8s-required-labels": [
        { name: "the Service has no cost-center label", culprit: "video-processor-svc", mutate: (s) => void delete find(s, "video-processor-svc").props.metadata.labels["pitchey.io/cost-center"] },
        { name: "the pod template lacks part-of", culprit: "ai-inference", mutate: (s) => { const d = find(s, "ai-inference"); d.props.spec.template.metadata.labels = { "app.kubernetes.io/name": "ai-inference" }; } },
    ],
    "helm-values-no-selector-labels": [
        {
            name: "a release's additionalLabels carry the program's name",
            culprit: "velero-release",
            mutate: (s) => void (find(s, "velero-release").props.values.additionalLabels = { "app.kubernetes.io/name": "velero", "pitchey.io/team": "platform" }),
        },
        {
            name: "the controller pods' extraLabels carry the instance",
            culprit: "ingress-nginx",
            mutate: (s) => void (find(s, "ingress-nginx").props.values.controller.pod = { extraLabels: { "app.kubernetes.io/instance": "ingress" } }),
        },
    ],
    "helm-pod-cost-labels": [
        { name: "Grafana's pods get no cost labels", culprit: "monitoring-grafana", mutate: (s) => void delete find(s, "monitoring-grafana").props.values.podLabels },
        {
            name: "Velero's CRD upgrade Job lacks the cost center",
            culprit: "velero-release",
            mutate: (s) => void delete find(s, "velero-release").props.values.kubectl.labels["pitchey.io/cost-center"],
        },
        {
            name: "a release of a chart whose pod labels were never looked up",
            culprit: "monitoring-tempo",
            mutate: (s) => void s.push(res("kubernetes:helm.sh/v3:Release", "monitoring-tempo", { name: "tempo", chart: "tempo", version: "1.0.0", namespace: "monitoring", values: {} })),
        },
    ],
    "k8s-namespace-resource-quota": [
        { name: "the quota is missing", culprit: "processors-ns", mutate: (s) => remove(s, "processors-quota") },
        { name: "the quota does not bound memory", culprit: "processors-ns", mutate: (s) => void delete find(s, "processors-quota").props.spec.hard["requests.memory"] },
    ],
    "k8s-quota-fits-max-scale": [
        { name: "code-executor's ceiling exceeds the CPU quota", culprit: "processors-quota", mutate: (s) => void (find(s, "code-executor-scaler").props.spec.maxReplicaCount = 500) },
        { name: "the memory quota is below one full scale-out", culprit: "processors-quota", mutate: (s) => void (find(s, "processors-quota").props.spec.hard["requests.memory"] = "8Gi") },
    ],
    "processor-has-scaledobject": [
        { name: "the ScaledObject is missing", culprit: "media-transcoder", mutate: (s) => remove(s, "media-transcoder-scaler") },
        { name: "the ScaledObject targets another name", culprit: "media-transcoder", mutate: (s) => void (find(s, "media-transcoder-scaler").props.spec.scaleTargetRef.name = "media-transcoder-v1") },
        { name: "it has no triggers", culprit: "media-transcoder-scaler", mutate: (s) => void (find(s, "media-transcoder-scaler").props.spec.triggers = []) },
        { name: "it scales on CPU and a schedule only", culprit: "media-transcoder-scaler", mutate: (s) => void (find(s, "media-transcoder-scaler").props.spec.triggers = [{ type: "cpu", metadata: { value: "70" } }, { type: "memory", metadata: { value: "80" } }, { type: "cron", metadata: {} }]) },
        { name: "maxReplicaCount does not exceed the minimum", culprit: "media-transcoder-scaler", mutate: (s) => void (find(s, "media-transcoder-scaler").props.spec.maxReplicaCount = 2) },
    ],
    "runtime-class-available": [
        { name: "the RuntimeClass is not declared and no GKE sandbox pool exists", culprit: "code-executor", mutate: (s) => { remove(s, "gvisor"); remove(s, "gke-sandbox"); } },
        { name: "a workload names an unknown runtime", culprit: "video-processor", mutate: (s) => void (find(s, "video-processor").props.spec.template.spec.runtimeClassName = "kata") },
    ],
    "k8s-service-selects-pods": [
        { name: "a selector typo", culprit: "video-processor-svc", mutate: (s) => void (find(s, "video-processor-svc").props.spec.selector = { "app.kubernetes.io/name": "video-procesor" }) },
    ],
    "alert-has-runbook": [
        { name: "an alert has no runbook_url", culprit: "processor-alerts", mutate: (s) => void delete find(s, "processor-alerts").props.spec.groups[0].rules[1].annotations.runbook_url },
        {
            name: "a chart-defined alert has no runbook_url",
            culprit: "kube-prometheus-stack",
            mutate: (s) =>
                void s.push(res("kubernetes:helm.sh/v3:Release", "kube-prometheus-stack", {
                    chart: "kube-prometheus-stack",
                    version: "65.1.0",
                    namespace: "monitoring",
                    values: { additionalPrometheusRulesMap: { slo: { groups: [{ name: "slo", rules: [{ alert: "ErrorBudgetBurn", expr: "1" }] }] } } },
                })),
        },
        { name: "the runbook_url is not a link", culprit: "processor-alerts", mutate: (s) => void (find(s, "processor-alerts").props.spec.groups[0].rules[1].annotations.runbook_url = "ask on slack") },
    ],
    "database-storage-protected": [
        {
            name: "the database's volumes are deleted with their claims",
            culprit: "jobs-db-cluster",
            mutate: (s) => {
                s.push(res("kubernetes:storage.k8s.io/v1:StorageClass", "jobs-db-storage", { metadata: { name: "jobs-db-ssd" }, provisioner: "ebs.csi.aws.com", parameters: { type: "gp3", encrypted: "true" }, reclaimPolicy: "Delete" }));
                s.push(res("kubernetes:postgresql.cnpg.io/v1:Cluster", "jobs-db-cluster", { metadata: { name: "jobs-db", namespace: "jobs-db" }, spec: { instances: 3, storage: { size: "50Gi", storageClass: "jobs-db-ssd" } } }));
            },
        },
        {
            name: "the database's EBS volumes are not encrypted",
            culprit: "jobs-db-cluster",
            mutate: (s) => {
                s.push(res("kubernetes:storage.k8s.io/v1:StorageClass", "jobs-db-storage", { metadata: { name: "jobs-db-ssd" }, provisioner: "ebs.csi.aws.com", parameters: { type: "gp3" }, reclaimPolicy: "Retain" }));
                s.push(res("kubernetes:postgresql.cnpg.io/v1:Cluster", "jobs-db-cluster", { metadata: { name: "jobs-db", namespace: "jobs-db" }, spec: { instances: 3, storage: { size: "50Gi", storageClass: "jobs-db-ssd" } } }));
            },
        },
        {
            name: "the database uses the cluster's default StorageClass",
            culprit: "jobs-db-cluster",
            mutate: (s) => void s.push(res("kubernetes:postgresql.cnpg.io/v1:Cluster", "jobs-db-cluster", { metadata: { name: "jobs-db", namespace: "jobs-db" }, spec: { instances: 3, storage: { size: "50Gi" } } })),
        },
    ],
    "backup-restore-verified": [
        { name: "no CronJob restores the backups", culprit: "jobs-db", mutate: (s) => remove(s, "restore-verification") },
        {
            name: "no alert watches the restore verification",
            culprit: "jobs-db",
            mutate: (s) => {
                const groups = find(s, "processor-alerts").props.spec.groups;
                groups[0].rules = groups[0].rules.filter((r: { alert?: string }) => r.alert !== "RestoreVerificationFailed");
            },
        },
        {
            name: "the verification CronJob runs no restore",
            culprit: "jobs-db",
            mutate: (s) => void (find(s, "restore-verification").props.spec.jobTemplate.spec.template.spec.containers[0].command = ["node", "dist/cli/backup.js"]),
        },
    ],
    "database-has-backups": [
        { name: "Cloud SQL backups are off", culprit: "jobs-db", mutate: (s) => void (find(s, "jobs-db").props.settings.backupConfiguration.enabled = false) },
        {
            name: "an external PostgreSQL has no backup job",
            culprit: "jobs-database",
            mutate: (s) => {
                remove(s, "jobs-db");
                s.push(res("kubernetes:core/v1:Secret", "jobs-database", { metadata: { name: "jobs-database", namespace: "processors" }, stringData: { DATABASE_URL: "postgres://app:pw@10.40.0.5:5432/jobs" } }));
            },
        },
        { name: "RDS keeps backups 1 day", culprit: "jobs-rds", mutate: (s) => void s.push(res("aws:rds/instance:Instance", "jobs-rds", { identifier: "jobs", engine: "postgres", backupRetentionPeriod: 1 })) },
        {
            name: "an in-cluster postgres has no backup job",
            culprit: "postgres",
            mutate: (s) => {
                const db = structuredClone(find(s, "video-processor"));
                container(db).image = `postgres:16@sha256:${"b".repeat(64)}`;
                s.push(res("kubernetes:apps/v1:StatefulSet", "postgres", { metadata: { name: "postgres", namespace: "data" }, spec: db.props.spec }));
            },
        },
    ],
};
