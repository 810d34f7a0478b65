import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { PoolScheduling, Taint } from "../cluster/types";
import { k8sLabels, selectorLabels, type LabelContext } from "../labels";
import type { ProcessorSettings } from "./settings";
import { secretFileMounts, type SecretFiles } from "./secrets";

type Container = k8s.types.input.core.v1.Container;
type PodSpec = k8s.types.input.core.v1.PodSpec;

/** The worker listens here; the Service, probes and NetworkPolicies all refer to it by name. */
export const HTTP_PORT = 8080;
export const HTTP_PORT_NAME = "http";
/** Prometheus scrapes `/metrics` here, apart from the API so that only Prometheus's pods may reach it. */
export const METRICS_PORT = 9090;
export const METRICS_PORT_NAME = "metrics";
/** Fixed non-root identity the image's user is created with. */
export const RUN_AS_UID = 10001;
/** Extra seconds after the job timeout so an in-flight job can finish and the worker release the rest. */
export const DRAIN_MARGIN_SECONDS = 30;
/** Of the drain margin, what the worker keeps for handing unfinished jobs back to the queue. */
export const RELEASE_SECONDS = 10;
export const GPU_RESOURCE = "nvidia.com/gpu";
/** Pods with this label may reach HTTPS endpoints (inputs by URL, the results store). */
export const HTTPS_EGRESS_LABEL = "pitchey.io/egress-https";

export interface ProcessorSpecArgs {
  /** Processor name, e.g. `video-processor`. */
  readonly name: string;
  /** Job type the worker claims (`JOB_TYPE`). */
  readonly jobType: string;
  /** How the processor runs and scales (the stack config supplies the playbook's figures). */
  readonly config: ProcessorSettings;
  /** Image by digest (`repo@sha256:…`). */
  readonly image: pulumi.Input<string>;
  readonly labels: LabelContext;
  /** Where the pod runs; the pool's own labels and taints, never literals. */
  readonly pool: PoolScheduling;
  /** On-demand pool to fall back to when `config.placement.fallbackToOnDemand`. */
  readonly fallbackPool?: PoolScheduling;
  /**
   * GKE: the ComputeClass ranking the pool above its fallback for the autoscaler; with a fallback the pod selects
   * it and tolerates its taint. Default: none (EKS ranks node groups in the autoscaler itself).
   */
  readonly computeClass?: { readonly name: string; readonly taint: Taint };
  /**
   * Longest grace the cluster's autoscaler gives a pod when it drains a node to remove it. A pod that needs longer
   * is marked not safe to evict, so the autoscaler never cuts a job short; it leaves through scale-in and rollouts,
   * which honour its whole grace. Default: none (no autoscaler cap known).
   */
  readonly autoscalerMaxGraceSeconds?: number;
  /** RuntimeClass for sandboxed processors (`undefined` for the default runtime). */
  readonly runtimeClassName?: string;
  readonly serviceAccountName: pulumi.Input<string>;
  /** Secret holding `DATABASE_URL`, mounted as a file (`DATABASE_URL_FILE`). */
  readonly databaseSecretName: string;
  /**
   * Where handlers write results (`RESULTS_STORE_URL`); unset for a processor whose results stay in the jobs
   * table (code-executor), which then gets no store credential either.
   */
  readonly resultsStoreUrl?: string;
  /** S3-compatible endpoint of the results store (R2); unset for AWS S3 and local stores. */
  readonly resultsS3Endpoint?: string;
  /**
   * Secret with the results store's `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (an R2 token that can write results
   * only), mounted as files; unset with cloud identity.
   */
  readonly resultsStoreSecretName?: string;
  /** Whether the processor may open HTTPS connections (inputs by URL, results store). */
  readonly httpsEgress: boolean;
}

/** The node label a GKE pod selects its ComputeClass by. */
export const COMPUTE_CLASS_LABEL = "cloud.google.com/compute-class";

export const tolerationsFor = (taints: readonly Taint[]): k8s.types.input.core.v1.Toleration[] =>
  taints.map((t) => ({ key: t.key, operator: "Equal", value: t.value, effect: t.effect }));

const nodeTerm = (pool: PoolScheduling): k8s.types.input.core.v1.NodeSelectorTerm => ({
  matchExpressions: Object.entries(pool.labels).map(([key, value]) => ({ key, operator: "In", values: [value] })),
});

/** Node placement: a hard selector for one pool, or spot preferred with on-demand allowed. */
export function placement(
  args: Pick<ProcessorSpecArgs, "pool" | "fallbackPool" | "runtimeClassName" | "computeClass"> & { readonly config: Pick<ProcessorSettings, "placement"> },
): Partial<PodSpec> {
  const { pool, fallbackPool, config, computeClass } = args;
  const base: Partial<PodSpec> = args.runtimeClassName ? { runtimeClassName: args.runtimeClassName } : {};
  if (config.placement.fallbackToOnDemand) {
    if (!fallbackPool) throw new Error(`placement for ${pool.name}: fallbackToOnDemand needs a fallback pool`);
    // The preference below steers the scheduler among existing nodes only; which pool grows is the autoscaler's
    // choice, which the ComputeClass (GKE) or the priority expander (EKS) makes spot-first.
    const taints = [...pool.taints, ...fallbackPool.taints.filter((t) => !pool.taints.some((p) => p.key === t.key && p.value === t.value))];
    return {
      ...base,
      ...(computeClass ? { nodeSelector: { [COMPUTE_CLASS_LABEL]: computeClass.name } } : {}),
      tolerations: tolerationsFor(taints),
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [nodeTerm(pool), nodeTerm(fallbackPool)] },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: nodeTerm(pool) }],
        },
      },
    };
  }
  return { ...base, nodeSelector: { ...pool.labels }, tolerations: tolerationsFor(pool.taints) };
}

/** What a worker needs to finish its longest job and hand the rest back. */
export function desiredTerminationGraceSeconds(config: Pick<ProcessorSettings, "jobTimeoutSeconds">): number {
  return config.jobTimeoutSeconds + DRAIN_MARGIN_SECONDS;
}

/** The cluster autoscaler's pod annotation: `"false"` keeps it from draining the pod's node to remove it. */
export const SAFE_TO_EVICT_ANNOTATION = "cluster-autoscaler.kubernetes.io/safe-to-evict";

/**
 * Pod annotations for the autoscaler: a worker whose grace exceeds what the autoscaler honours is not evicted by
 * it (its node stays until the pod leaves by scale-in or rollout), rather than killed with a job in flight.
 */
export function autoscalerAnnotations(args: Pick<ProcessorSpecArgs, "config" | "autoscalerMaxGraceSeconds">): Record<string, string> {
  const cap = args.autoscalerMaxGraceSeconds;
  return cap !== undefined && desiredTerminationGraceSeconds(args.config) > cap ? { [SAFE_TO_EVICT_ANNOTATION]: "false" } : {};
}

export function resources(config: ProcessorSettings): k8s.types.input.core.v1.ResourceRequirements {
  const { requests, limits, gpu } = config.resources;
  const gpuPart: Record<string, string> = gpu > 0 ? { [GPU_RESOURCE]: String(gpu) } : {};
  return {
    requests: { cpu: requests.cpu, memory: requests.memory, "ephemeral-storage": requests.ephemeralStorage, ...gpuPart },
    limits: { cpu: limits.cpu, memory: limits.memory, "ephemeral-storage": limits.ephemeralStorage, ...gpuPart },
  };
}

export function env(args: ProcessorSpecArgs): k8s.types.input.core.v1.EnvVar[] {
  const c = args.config;
  const vars: k8s.types.input.core.v1.EnvVar[] = [
    { name: "JOB_TYPE", value: args.jobType },
    { name: "PORT", value: String(HTTP_PORT) },
    { name: "METRICS_PORT", value: String(METRICS_PORT) },
    { name: "MAX_CONCURRENT_JOBS", value: String(c.maxConcurrentJobs) },
    { name: "JOB_TIMEOUT", value: String(c.jobTimeoutSeconds) },
    { name: "JOB_LEASE_SECONDS", value: String(c.jobLeaseSeconds) },
    // Leave the worker time to release unfinished jobs before the kubelet's SIGKILL.
    { name: "SHUTDOWN_GRACE_SECONDS", value: String(desiredTerminationGraceSeconds(c) - RELEASE_SECONDS) },
    { name: "JOB_COST_PER_SECOND_USD", value: String(c.costPerSecondUsd) },
    // Every job request carries an API key; the policy pack refuses a public route to a processor without this.
    { name: "API_AUTH", value: "required" },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    // The limits the worker sizes itself by (code sandboxes); the node's CPU count says nothing under gVisor.
    { name: "CPU_LIMIT_MILLICORES", valueFrom: { resourceFieldRef: { containerName: args.name, resource: "limits.cpu", divisor: "1m" } } },
    { name: "MEMORY_LIMIT_BYTES", valueFrom: { resourceFieldRef: { containerName: args.name, resource: "limits.memory", divisor: "1" } } },
    ...secretFileMounts(processorSecrets(args)).env,
  ];
  if (args.resultsStoreUrl) {
    vars.push({ name: "RESULTS_STORE_URL", value: args.resultsStoreUrl });
    if (args.resultsS3Endpoint) vars.push({ name: "RESULTS_S3_ENDPOINT", value: args.resultsS3Endpoint });
  }
  if (args.jobType === "video" || args.jobType === "media") {
    // ffmpeg otherwise sizes its thread pool from the node's cores, not the container's CPU limit.
    vars.push({ name: "FFMPEG_THREADS", value: String(Math.max(1, Math.floor(cpuCores(c.resources.limits.cpu)))) });
  }
  return vars;
}

/** The Secrets a processor reads: the database, and the results store's token only where it writes results. */
export function processorSecrets(args: Pick<ProcessorSpecArgs, "databaseSecretName" | "resultsStoreUrl" | "resultsStoreSecretName">): SecretFiles[] {
  const secrets: SecretFiles[] = [{ secretName: args.databaseSecretName, keys: ["DATABASE_URL"] }];
  if (args.resultsStoreUrl && args.resultsStoreSecretName) {
    secrets.push({ secretName: args.resultsStoreSecretName, keys: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] });
  }
  return secrets;
}

const cpuCores = (q: string) => (q.endsWith("m") ? Number(q.slice(0, -1)) / 1000 : Number(q));

/** Restricted Pod Security Standard, container level. */
export const containerSecurityContext: k8s.types.input.core.v1.SecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS_UID,
  runAsGroup: RUN_AS_UID,
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

export const podSecurityContext: k8s.types.input.core.v1.PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS_UID,
  runAsGroup: RUN_AS_UID,
  fsGroup: RUN_AS_UID,
  seccompProfile: { type: "RuntimeDefault" },
};

export interface RunToCompletionPodArgs {
  /** Container name. */
  readonly name: string;
  readonly image: pulumi.Input<string>;
  readonly command: string[];
  readonly env: k8s.types.input.core.v1.EnvVar[];
  readonly resources: k8s.types.input.core.v1.ResourceRequirements;
  readonly serviceAccountName: pulumi.Input<string>;
  readonly pool: PoolScheduling;
  /** Size of the writable `/tmp`. */
  readonly tmpSize: string;
  /** Secrets the command reads, mounted as files with their `_FILE` variables. */
  readonly secrets?: readonly SecretFiles[];
}

/** A restricted, single-container pod for Jobs and CronJobs: same security as the processors, pinned to a pool. */
export function runToCompletionPodSpec(args: RunToCompletionPodArgs): PodSpec {
  const files = secretFileMounts(args.secrets ?? []);
  return {
    restartPolicy: "Never",
    serviceAccountName: args.serviceAccountName,
    automountServiceAccountToken: false,
    securityContext: podSecurityContext,
    nodeSelector: { ...args.pool.labels },
    tolerations: tolerationsFor(args.pool.taints),
    containers: [
      {
        name: args.name,
        image: args.image,
        command: args.command,
        env: [...args.env, ...files.env],
        resources: args.resources,
        securityContext: containerSecurityContext,
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, ...files.volumeMounts],
      },
    ],
    volumes: [{ name: "tmp", emptyDir: { sizeLimit: args.tmpSize } }, ...files.volumes],
  };
}

export interface SingleRunCronJobArgs {
  /** Cron schedule, read in UTC. */
  readonly schedule: string;
  /** Labels of the Jobs and their pods (what NetworkPolicies and kube-state-metrics see). */
  readonly labels: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** A run that could not start within this many seconds of its time is skipped, not run late. */
  readonly startingDeadlineSeconds: number;
  /** A run still going after this many seconds is stopped. */
  readonly deadlineSeconds: number;
  /** Retries of a failed pod within one run. */
  readonly backoffLimit: number;
  readonly pod: PodSpec;
  readonly suspend?: boolean;
  /** Finished Jobs kept for inspection: successful, failed. */
  readonly history?: { readonly successful: number; readonly failed: number };
}

/**
 * The CronJob frame every scheduled command shares: UTC, one run at a time (a slow run never piles up behind
 * itself), a missed run skipped rather than run late twice, each run bounded, failed runs kept for inspection.
 */
export function singleRunCronJobSpec(a: SingleRunCronJobArgs): k8s.types.input.batch.v1.CronJobSpec {
  const history = a.history ?? { successful: 3, failed: 5 };
  return {
    schedule: a.schedule,
    timeZone: "Etc/UTC",
    ...(a.suspend === undefined ? {} : { suspend: a.suspend }),
    concurrencyPolicy: "Forbid",
    startingDeadlineSeconds: a.startingDeadlineSeconds,
    successfulJobsHistoryLimit: history.successful,
    failedJobsHistoryLimit: history.failed,
    jobTemplate: {
      metadata: { labels: a.labels },
      spec: {
        backoffLimit: a.backoffLimit,
        activeDeadlineSeconds: a.deadlineSeconds,
        template: { metadata: { labels: a.labels }, spec: a.pod },
      },
    },
  };
}

export function container(args: ProcessorSpecArgs): Container {
  const startupSeconds = args.config.resources.gpu > 0 ? 300 : 60; // model warm-up on GPU nodes is slow
  return {
    name: args.name,
    image: args.image,
    imagePullPolicy: "IfNotPresent",
    ports: [
      { name: HTTP_PORT_NAME, containerPort: HTTP_PORT, protocol: "TCP" },
      { name: METRICS_PORT_NAME, containerPort: METRICS_PORT, protocol: "TCP" },
    ],
    env: env(args),
    resources: resources(args.config),
    securityContext: containerSecurityContext,
    startupProbe: {
      httpGet: { path: "/health", port: HTTP_PORT_NAME },
      periodSeconds: 5,
      failureThreshold: startupSeconds / 5,
    },
    livenessProbe: {
      httpGet: { path: "/health", port: HTTP_PORT_NAME },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 3,
    },
    readinessProbe: {
      httpGet: { path: "/ready", port: HTTP_PORT_NAME },
      periodSeconds: 5,
      timeoutSeconds: 3,
      failureThreshold: 2,
    },
    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, ...secretFileMounts(processorSecrets(args)).volumeMounts],
  };
}

export function podSpec(args: ProcessorSpecArgs): PodSpec {
  const selector = { matchLabels: selectorLabels(args.name) };
  return {
    serviceAccountName: args.serviceAccountName,
    automountServiceAccountToken: false,
    securityContext: podSecurityContext,
    terminationGracePeriodSeconds: desiredTerminationGraceSeconds(args.config),
    containers: [container(args)],
    volumes: [
      { name: "tmp", emptyDir: { sizeLimit: args.config.resources.limits.ephemeralStorage } },
      ...secretFileMounts(processorSecrets(args)).volumes,
    ],
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: selector },
      { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: selector },
    ],
    ...placement(args),
  };
}

export function podLabels(args: Pick<ProcessorSpecArgs, "name" | "labels" | "httpsEgress">): Record<string, string> {
  return { ...k8sLabels(args.labels, args.name), ...(args.httpsEgress ? { [HTTPS_EGRESS_LABEL]: "true" } : {}) };
}

/**
 * No `replicas`: KEDA's HPA owns the count, and a value here would reset it on every update.
 */
export function deploymentSpec(args: ProcessorSpecArgs): k8s.types.input.apps.v1.DeploymentSpec {
  return {
    selector: { matchLabels: selectorLabels(args.name) },
    revisionHistoryLimit: 5,
    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
    template: {
      metadata: { labels: podLabels(args), annotations: { "pitchey.io/job-type": args.jobType, ...autoscalerAnnotations(args) } },
      spec: podSpec(args),
    },
  };
}

export function serviceSpec(name: string): k8s.types.input.core.v1.ServiceSpec {
  return {
    type: "ClusterIP",
    selector: selectorLabels(name),
    ports: [
      { name: HTTP_PORT_NAME, port: HTTP_PORT, targetPort: HTTP_PORT_NAME, protocol: "TCP" },
      { name: METRICS_PORT_NAME, port: METRICS_PORT, targetPort: METRICS_PORT_NAME, protocol: "TCP" },
    ],
  };
}

/**
 * `minAvailable: 1` keeps one worker through voluntary disruptions. A processor whose floor is a single replica
 * would then block every node drain, so it gets `maxUnavailable: 1` instead: its jobs survive the eviction
 * through the worker's drain and the lease.
 */
export function pdbSpec(name: string, config: ProcessorSettings): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
  const selector = { matchLabels: selectorLabels(name) };
  return config.scaling.minReplicas >= 2 ? { minAvailable: 1, selector } : { maxUnavailable: 1, selector };
}

/**
 * How long Pulumi waits for the Deployment's rollout. The default 10 minutes is too short for a first GPU rollout,
 * where the pod waits for a node from zero, its driver, a multi-GB image and its startup probe.
 */
export function rolloutTimeouts(config: Pick<ProcessorSettings, "rolloutTimeoutMinutes">): { create: string; update: string } {
  const t = `${config.rolloutTimeoutMinutes}m`;
  return { create: t, update: t };
}

/**
 * The KEDA queue query: jobs of this type a worker could claim now. `runnable_job_count` (a migration of the
 * worker's schema) uses the same definition of runnable as the workers' claim, so retries in back-off and
 * scheduled jobs do not scale a pool out.
 */
export const queueDepthQuery = (jobType: string) => `SELECT runnable_job_count('${jobType}')`;

export interface ScaledObjectArgs {
  readonly name: string;
  readonly jobType: string;
  readonly config: ProcessorSettings;
  /** TriggerAuthentication holding the database connection for the postgresql trigger. */
  readonly triggerAuthenticationName: string;
  /** How often KEDA polls the queue. */
  readonly pollingIntervalSeconds?: number;
}

/**
 * The queue trigger's semantics. The playbook scales when the whole queue of a type exceeds its target by 10 %
 * (`queue_depth > target × 1.1`), whatever the replica count. `Value` compares the query's total with the target,
 * and the HPA's default 10 % tolerance is exactly that margin; KEDA's default `AverageValue` would divide the
 * queue by the replicas first and so scale later the more replicas run.
 */
export const QUEUE_METRIC_TYPE = "Value";

/**
 * The playbook's scaling loop as HPA behavior. Each action adds `scaleUpRate` (removes `scaleDownRate`) pods and
 * then holds for `cooldownPeriod`: a `Pods` policy over a period of one cooldown allows exactly that many pods per
 * cooldown in either direction. Scale-down also waits until the lower recommendation has held for a whole cooldown
 * (stabilization window), so a scale-up is never undone within its cooldown. Scale-up is not stabilized: the
 * playbook acts on the first evaluation past the threshold. What the HPA cannot express is in docs/decisions.md.
 */
export function scalingBehavior(s: ProcessorSettings["scaling"]) {
  return {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: "Max",
      policies: [{ type: "Pods", value: s.scaleUpRate, periodSeconds: s.cooldownPeriod }],
    },
    scaleDown: {
      stabilizationWindowSeconds: s.cooldownPeriod,
      selectPolicy: "Min",
      policies: [{ type: "Pods", value: s.scaleDownRate, periodSeconds: s.cooldownPeriod }],
    },
  };
}

export function scaledObjectSpec(args: ScaledObjectArgs): Record<string, unknown> {
  const s = args.config.scaling;
  const triggers: Record<string, unknown>[] = [
    { type: "cpu", name: "cpu", metricType: "Utilization", metadata: { value: String(s.targetCPU) } },
    { type: "memory", name: "memory", metricType: "Utilization", metadata: { value: String(s.targetMemory) } },
    {
      type: "postgresql",
      name: "queue-depth",
      metricType: QUEUE_METRIC_TYPE,
      metadata: {
        query: queueDepthQuery(args.jobType),
        targetQueryValue: String(s.targetQueueDepth),
        activationTargetQueryValue: "0",
      },
      authenticationRef: { name: args.triggerAuthenticationName },
    },
    ...args.config.prewarm.map((w) => ({
      type: "cron",
      name: `prewarm-${w.name}`,
      metadata: { timezone: w.timezone, start: w.start, end: w.end, desiredReplicas: String(w.desiredReplicas) },
    })),
  ];
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: args.name },
    minReplicaCount: s.minReplicas,
    maxReplicaCount: s.maxReplicas,
    pollingInterval: args.pollingIntervalSeconds ?? 15,
    cooldownPeriod: s.cooldownPeriod,
    advanced: { horizontalPodAutoscalerConfig: { behavior: scalingBehavior(s) } },
    triggers,
  };
}

/** The SLO as Deployment annotations: on the object, not the pod template, so changing it rolls no pods. */
export function sloAnnotations(slo: { availability: number; latencyP95Seconds: number }): Record<string, string> {
  return { "pitchey.io/slo-availability": String(slo.availability), "pitchey.io/latency-p95-seconds": String(slo.latencyP95Seconds) };
}
