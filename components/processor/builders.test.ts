import { describe, expect, it } from "vitest";
import type { PoolScheduling } from "../cluster/types";
import {
  deploymentSpec,
  GPU_RESOURCE,
  pdbSpec,
  queueDepthQuery,
  scaledObjectSpec,
  serviceSpec,
  type ProcessorSpecArgs,
} from "./builders";
import { PROCESSOR_FIXTURES } from "./test-fixtures";

const config = {
  processors: {
    ...PROCESSOR_FIXTURES,
    "video-processor": {
      ...PROCESSOR_FIXTURES["video-processor"],
      prewarm: [{ name: "mornings", timezone: "UTC", start: "0 8 * * 1-5", end: "0 11 * * 1-5", desiredReplicas: 4 }],
    },
  },
};
type ProcessorName = keyof typeof PROCESSOR_FIXTURES;

const pools: Record<string, PoolScheduling> = {
  general: { name: "general", labels: { "pitchey.io/pool": "general" }, taints: [] },
  spot: { name: "spot", labels: { "pitchey.io/pool": "spot" }, taints: [{ key: "cloud.google.com/gke-spot", value: "true", effect: "NoSchedule" }] },
  gpu: { name: "gpu", labels: { "pitchey.io/pool": "gpu" }, taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }] },
  sandbox: { name: "sandbox", labels: { "pitchey.io/pool": "sandbox" }, taints: [{ key: "sandbox.gke.io/runtime", value: "gvisor", effect: "NoSchedule" }] },
};

const DIGEST = `registry.example/p/video-processor@sha256:${"a".repeat(64)}`;

function args(name: ProcessorName, jobType: string): ProcessorSpecArgs {
  const pc = config.processors[name];
  return {
    name,
    jobType,
    config: pc,
    image: DIGEST,
    labels: { environment: "production", costCenter: "platform-processing", team: "platform" },
    pool: pools[pc.placement.pool],
    fallbackPool: pc.placement.fallbackToOnDemand ? pools.general : undefined,
    runtimeClassName: pc.placement.pool === "sandbox" ? "gvisor" : undefined,
    serviceAccountName: name,
    databaseSecretName: "jobs-database",
    resultsStoreUrl: "s3://results/jobs",
    httpsEgress: pc.placement.pool !== "sandbox",
  };
}

const dep = (name: ProcessorName, type: string) => deploymentSpec(args(name, type)) as any;
const pod = (name: ProcessorName, type: string) => dep(name, type).template.spec;
const envOf = (spec: any) => Object.fromEntries(spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe("processor Deployment", () => {
  it("runs the image by digest with the API on 8080 and metrics on 9090, and the worker's env", () => {
    const spec = pod("document-processor", "document");
    const c = spec.containers[0];
    expect(c.image).toBe(DIGEST);
    expect(c.ports).toEqual([
      { name: "http", containerPort: 8080, protocol: "TCP" },
      { name: "metrics", containerPort: 9090, protocol: "TCP" },
    ]);
    const env = envOf(spec);
    expect(env).toMatchObject({ JOB_TYPE: "document", MAX_CONCURRENT_JOBS: "4", JOB_TIMEOUT: "120", PORT: "8080", METRICS_PORT: "9090" });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.DATABASE_URL_FILE).toBe("/var/run/secrets/pitchey/jobs-database/DATABASE_URL");
    expect(env.CPU_LIMIT_MILLICORES).toEqual({ resourceFieldRef: { containerName: "document-processor", resource: "limits.cpu", divisor: "1m" } });
    expect(env.MEMORY_LIMIT_BYTES).toEqual({ resourceFieldRef: { containerName: "document-processor", resource: "limits.memory", divisor: "1" } });
    for (const e of c.env) expect(e.valueFrom?.secretKeyRef, e.name).toBeUndefined();
  });

  it("mounts each Secret read-only with only the keys the worker reads", () => {
    const spec = pod("document-processor", "document");
    expect(spec.volumes.filter((v: any) => v.secret)).toEqual([
      { name: "secret-jobs-database", secret: { secretName: "jobs-database", items: [{ key: "DATABASE_URL", path: "DATABASE_URL" }], defaultMode: 0o440 } },
    ]);
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: "secret-jobs-database", mountPath: "/var/run/secrets/pitchey/jobs-database", readOnly: true });
  });

  it("probes /health for startup and liveness and /ready for readiness", () => {
    const c = pod("video-processor", "video").containers[0];
    expect(c.startupProbe.httpGet.path).toBe("/health");
    expect(c.livenessProbe.httpGet.path).toBe("/health");
    expect(c.readinessProbe.httpGet.path).toBe("/ready");
  });

  it("runs restricted: non-root fixed UID, read-only root with a /tmp emptyDir, no capabilities, RuntimeDefault seccomp", () => {
    const spec = pod("media-transcoder", "media");
    const sc = spec.containers[0].securityContext;
    expect(sc).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false });
    expect(sc.capabilities).toEqual({ drop: ["ALL"] });
    expect(spec.securityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.containers[0].volumeMounts[0]).toEqual({ name: "tmp", mountPath: "/tmp" });
    for (const m of spec.containers[0].volumeMounts.slice(1)) expect(m.readOnly, m.name).toBe(true);
    expect(spec.volumes[0]).toMatchObject({ name: "tmp", emptyDir: { sizeLimit: "10Gi" } });
  });

  it("gives in-flight jobs the whole job timeout to drain", () => {
    expect(pod("video-processor", "video").terminationGracePeriodSeconds).toBe(900 + 30);
    expect(pod("code-executor", "code").terminationGracePeriodSeconds).toBe(30 + 30);
    expect(envOf(pod("video-processor", "video")).SHUTDOWN_GRACE_SECONDS).toBe(String(900 + 30 - 10));
  });

  it("keeps the cluster autoscaler from draining a worker whose grace is longer than the autoscaler waits", () => {
    const annotations = (name: ProcessorName, type: string, cap?: number) =>
      (deploymentSpec({ ...args(name, type), autoscalerMaxGraceSeconds: cap }) as any).template.metadata.annotations;
    const SAFE = "cluster-autoscaler.kubernetes.io/safe-to-evict";
    expect(annotations("video-processor", "video", 600)[SAFE]).toBe("false");
    expect(annotations("video-processor", "video", 930)[SAFE]).toBeUndefined();
    expect(annotations("document-processor", "document", 600)[SAFE]).toBeUndefined();
    expect(annotations("video-processor", "video")[SAFE]).toBeUndefined();
    // The grace itself stays what the worker needs: rollouts and scale-in honour all of it.
    expect((deploymentSpec({ ...args("video-processor", "video"), autoscalerMaxGraceSeconds: 600 }) as any).template.spec.terminationGracePeriodSeconds).toBe(930);
  });

  it("selects the spot-first ComputeClass, and tolerates its taint, when the cluster ranks spot through one", () => {
    const taint = { key: "cloud.google.com/compute-class", value: "spot-first", effect: "NoSchedule" as const };
    const fallback: PoolScheduling = { name: "spot-fallback", labels: { "pitchey.io/pool": "spot-fallback" }, taints: [taint] };
    const spot: PoolScheduling = { ...pools.spot, taints: [...pools.spot.taints, taint] };
    const spec = (deploymentSpec({ ...args("video-processor", "video"), pool: spot, fallbackPool: fallback, computeClass: { name: "spot-first", taint } }) as any).template.spec;
    expect(spec.nodeSelector).toEqual({ "cloud.google.com/compute-class": "spot-first" });
    expect(spec.tolerations).toEqual([
      { key: "cloud.google.com/gke-spot", operator: "Equal", value: "true", effect: "NoSchedule" },
      { key: "cloud.google.com/compute-class", operator: "Equal", value: "spot-first", effect: "NoSchedule" },
    ]);
    expect(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toHaveLength(2);
    // Without a class (EKS) the pod selects no class: the autoscaler's priority expander ranks spot there.
    expect(pod("video-processor", "video").nodeSelector).toBeUndefined();
  });

  it("requests and limits CPU, memory and ephemeral storage", () => {
    const r = pod("document-processor", "document").containers[0].resources;
    expect(r.requests).toEqual({ cpu: "500m", memory: "1Gi", "ephemeral-storage": "2Gi" });
    expect(r.limits).toEqual({ cpu: "1", memory: "2Gi", "ephemeral-storage": "2Gi" });
  });

  it("spreads replicas across zones", () => {
    const spread = pod("document-processor", "document").topologySpreadConstraints;
    expect(spread.map((t: any) => t.topologyKey)).toContain("topology.kubernetes.io/zone");
    expect(spread[0].labelSelector.matchLabels).toEqual({ "app.kubernetes.io/name": "document-processor", "app.kubernetes.io/instance": "document-processor" });
  });

  it("puts ai-inference on the GPU pool with its taint tolerated and a GPU requested", () => {
    const spec = pod("ai-inference", "inference");
    expect(spec.nodeSelector).toEqual(pools.gpu.labels);
    expect(spec.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Equal", value: "present", effect: "NoSchedule" }]);
    expect(spec.containers[0].resources.limits[GPU_RESOURCE]).toBe("1");
    expect(spec.containers[0].resources.requests[GPU_RESOURCE]).toBe("1");
  });

  it("prefers spot for video and media but may fall back to on-demand", () => {
    for (const [name, type] of [["video-processor", "video"], ["media-transcoder", "media"]] as const) {
      const spec = pod(name, type);
      expect(spec.nodeSelector).toBeUndefined();
      expect(spec.tolerations).toEqual([{ key: "cloud.google.com/gke-spot", operator: "Equal", value: "true", effect: "NoSchedule" }]);
      const na = spec.affinity.nodeAffinity;
      expect(na.preferredDuringSchedulingIgnoredDuringExecution[0]).toEqual({
        weight: 100,
        preference: { matchExpressions: [{ key: "pitchey.io/pool", operator: "In", values: ["spot"] }] },
      });
      const allowed = na.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.map((t: any) => t.matchExpressions[0].values[0]);
      expect(allowed).toEqual(["spot", "general"]);
      expect(envOf(spec).FFMPEG_THREADS).toBeDefined();
    }
  });

  it("runs code-executor under the sandbox runtime on the sandbox pool, without HTTPS egress", () => {
    const d = dep("code-executor", "code");
    const spec = d.template.spec;
    expect(spec.runtimeClassName).toBe("gvisor");
    expect(spec.nodeSelector).toEqual(pools.sandbox.labels);
    expect(spec.tolerations[0].key).toBe("sandbox.gke.io/runtime");
    expect(d.template.metadata.labels["pitchey.io/egress-https"]).toBeUndefined();
    expect(dep("video-processor", "video").template.metadata.labels["pitchey.io/egress-https"]).toBe("true");
  });

  it("leaves replicas to KEDA", () => {
    expect(deploymentSpec(args("video-processor", "video")).replicas).toBeUndefined();
  });
});

describe("processor Service and PDB", () => {
  it("exposes the API (8080) and metrics (9090) by name", () => {
    expect(serviceSpec("video-processor").ports).toEqual([
      { name: "http", port: 8080, targetPort: "http", protocol: "TCP" },
      { name: "metrics", port: 9090, targetPort: "metrics", protocol: "TCP" },
    ]);
  });

  it("keeps one pod through disruptions, but never blocks drains of a single-replica floor", () => {
    expect(pdbSpec("video-processor", config.processors["video-processor"])).toMatchObject({ minAvailable: 1 });
    expect(pdbSpec("ai-inference", config.processors["ai-inference"])).toMatchObject({ maxUnavailable: 1 });
  });
});

describe("ScaledObject", () => {
  const so = (name: ProcessorName, type: string) =>
    scaledObjectSpec({ name, jobType: type, config: config.processors[name], triggerAuthenticationName: "jobs-database" }) as any;

  it.each([
    ["video-processor", "video", 2, 10, "70", "80", "50", 2, 1, 300],
    ["document-processor", "document", 3, 20, "75", "85", "100", 3, 1, 180],
    ["ai-inference", "inference", 1, 5, "60", "70", "20", 1, 1, 600],
    ["media-transcoder", "media", 2, 8, "70", "75", "40", 2, 1, 300],
    ["code-executor", "code", 5, 50, "80", "90", "200", 5, 2, 120],
  ] as const)("%s follows the playbook", (name, type, min, max, cpu, mem, depth, up, down, cooldown) => {
    const s = so(name, type);
    expect(s.minReplicaCount).toBe(min);
    expect(s.maxReplicaCount).toBe(max);
    const byType = Object.fromEntries(s.triggers.map((t: any) => [t.type, t]));
    expect(byType.cpu.metadata.value).toBe(cpu);
    expect(byType.memory.metadata.value).toBe(mem);
    expect(byType.postgresql.metadata.targetQueryValue).toBe(depth);
    expect(byType.postgresql.metricType).toBe("Value");
    expect(byType.postgresql.metadata.query).toBe(`SELECT runnable_job_count('${type}')`);
    expect(byType.postgresql.authenticationRef).toEqual({ name: "jobs-database" });
    const b = s.advanced.horizontalPodAutoscalerConfig.behavior;
    expect(b.scaleUp.policies).toEqual([{ type: "Pods", value: up, periodSeconds: cooldown }]);
    expect(b.scaleDown.policies).toEqual([{ type: "Pods", value: down, periodSeconds: cooldown }]);
    expect(b.scaleDown.stabilizationWindowSeconds).toBe(cooldown);
    expect(s.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name });
  });

  it("turns pre-warm windows into cron triggers", () => {
    const cron = so("video-processor", "video").triggers.filter((t: any) => t.type === "cron");
    expect(cron).toEqual([
      { type: "cron", name: "prewarm-mornings", metadata: { timezone: "UTC", start: "0 8 * * 1-5", end: "0 11 * * 1-5", desiredReplicas: "4" } },
    ]);
    expect(so("document-processor", "document").triggers.some((t: any) => t.type === "cron")).toBe(false);
  });

  it("queries only its own type", () => {
    expect(queueDepthQuery("code")).toBe("SELECT runnable_job_count('code')");
  });
});
