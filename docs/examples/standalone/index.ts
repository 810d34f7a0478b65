/**
 * A Pulumi program of its own that uses two of the platform's components with arguments written here: a guarded
 * namespace and one document processor in it. It reads no stack config and imports nothing from `stacks/`; it
 * deploys into whatever cluster the ambient kubeconfig names, which already runs KEDA and holds the two Secrets
 * and the TriggerAuthentication named below.
 */
import { WorkloadNamespace } from "../../../components/namespace";
import { HTTP_PORT, HTTPS_EGRESS_LABEL, METRICS_PORT, ProcessorService, type ProcessorSettings } from "../../../components/processor";
import type { PoolScheduling } from "../../../components/cluster";

const labels = { environment: "staging", costCenter: "documents", team: "documents" };

/** Any node of the cluster: no dedicated pool, no taint to tolerate. */
const anyNode: PoolScheduling = { name: "general", labels: { "kubernetes.io/os": "linux" }, taints: [] };

const settings: ProcessorSettings = {
  scaling: {
    minReplicas: 1,
    maxReplicas: 4,
    targetCPU: 75,
    targetMemory: 85,
    targetQueueDepth: 50,
    scaleUpRate: 1,
    scaleDownRate: 1,
    cooldownPeriod: 120,
  },
  resources: {
    requests: { cpu: "250m", memory: "512Mi", ephemeralStorage: "1Gi" },
    limits: { cpu: "1", memory: "1Gi", ephemeralStorage: "1Gi" },
    gpu: 0,
  },
  maxConcurrentJobs: 2,
  jobTimeoutSeconds: 120,
  jobLeaseSeconds: 30,
  rolloutTimeoutMinutes: 10,
  costPerSecondUsd: 0.00001,
  placement: { pool: "general", fallbackToOnDemand: false },
  prewarm: [],
};

const namespace = new WorkloadNamespace("documents", {
  name: "documents",
  labels,
  quota: { "requests.cpu": "4", "requests.memory": "4Gi" },
  ingressNamespace: "ingress-nginx",
  ingressControllerPodLabels: { "app.kubernetes.io/name": "nginx-ingress" },
  monitoringNamespace: "monitoring",
  httpPort: HTTP_PORT,
  metricsPort: METRICS_PORT,
  databaseCidrs: ["10.0.0.0/24"],
  databasePort: 5432,
  httpsEgressLabel: HTTPS_EGRESS_LABEL,
});

const processor = new ProcessorService(
  "document-processor",
  {
    name: "document-processor",
    jobType: "document",
    config: settings,
    image: "ghcr.io/example/document-processor@sha256:4a5f0c9e8b7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b",
    labels,
    namespace: namespace.name,
    pool: anyNode,
    databaseSecretName: "jobs-database",
    resultsStoreUrl: "file:///tmp/results",
    httpsEgress: true,
    triggerAuthenticationName: "jobs-database",
  },
  { dependsOn: [namespace] },
);

export const namespaceName = namespace.name;
export const deployment = processor.deployment.metadata.name;
