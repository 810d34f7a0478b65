import { expect, it } from "vitest";
import { CHARTS } from "../components/versions";
import { evaluatePlan } from "../policies/src/evaluate";
import { allPolicies } from "../policies/src/policies";
import { PROCESSOR_NAMES } from "./config";
import type { planStack } from "./plan/wholeStack";
import { isKubernetesObject, manifestOf, renderGraph, renderHelmValues, renderKubernetes } from "./plan/render";
import { validateManifest } from "./plan/validate";

type Plan = Awaited<ReturnType<typeof planStack>>;

/** Checks every stack must pass, whatever its cloud. */
export function commonStackChecks(get: () => Plan, registryPattern: RegExp): void {
  it("deploys the five processors by digest from the stack's registry", () => {
    const deployments = get().k8s("Deployment");
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...PROCESSOR_NAMES].sort());
    for (const d of deployments) {
      const image: string = d.spec.template.spec.containers[0].image;
      expect(image, d.metadata.name).toMatch(/@sha256:[0-9a-f]{64}$/);
      expect(image, d.metadata.name).toMatch(registryPattern);
      expect(image).toContain(`/${d.metadata.name}@`);
    }
  });

  it("builds one image per processor with its own Dockerfile target", () => {
    const builds = get().ofType("docker-build:index:Image");
    expect(builds.map((b) => (b.props as any).target).sort()).toEqual([...PROCESSOR_NAMES, "db-backup"].sort());
    for (const b of builds) expect((b.props as any).push).toBe(true);
  });

  it("tags each image with a hash of its own build inputs and never builds on preview", () => {
    const builds = get().ofType("docker-build:index:Image").map((b) => b.props as any);
    const tags = builds.map((b) => String(b.tags[0]).split(":").pop());
    for (const t of tags) expect(t).toMatch(/^b-[0-9a-f]{20}$/);
    // Different targets are different builds: one shared tag would hide a change to a target's inputs.
    expect(new Set(tags).size).toBe(builds.length);
    for (const b of builds) expect(b.buildOnPreview, b.target).toBe(false);
  });

  it("waits for a GPU rollout as long as a GPU node from zero takes, and the usual 10 minutes elsewhere", () => {
    const deployments = get().resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment");
    const timeouts = Object.fromEntries(deployments.map((d) => [(d.props as any).metadata.name, d.customTimeouts]));
    expect(timeouts["ai-inference"]).toEqual({ create: "30m", update: "30m" });
    for (const p of PROCESSOR_NAMES.filter((n) => n !== "ai-inference")) expect(timeouts[p], p).toEqual({ create: "10m", update: "10m" });
  });

  it("passes secrets as read-only files, and the store token only to the workloads that write to the store", () => {
    const plan = get();
    const workloads = [...plan.k8s("Deployment"), ...plan.k8s("CronJob"), ...plan.k8s("Job")];
    const podOf = (w: any) => (w.kind === "CronJob" ? w.spec.jobTemplate.spec.template.spec : w.spec.template.spec);
    const holders: Record<string, string[]> = {};
    for (const w of workloads) {
      const pod = podOf(w);
      for (const c of pod.containers) {
        for (const e of c.env ?? []) expect(e.valueFrom?.secretKeyRef, `${w.metadata.name} ${e.name}`).toBeUndefined();
      }
      for (const v of pod.volumes ?? []) if (v.secret?.secretName) (holders[v.secret.secretName] ??= []).push(w.metadata.name);
    }
    // One credential per use: the results token in the four processors that store results, never code-executor...
    expect([...holders["results-store"]!].sort()).toEqual(["ai-inference", "document-processor", "media-transcoder", "video-processor"]);
    // ...and the backup bucket's writer in the backup job alone; no processor holds anything that can touch backups.
    expect(holders["backup-writer"]).toEqual(["db-backup"]);
    // The results store's daily mirror holds its own token: read on results, write on backups.
    expect(holders["results-mirror"]).toEqual(["results-mirror"]);
    for (const secret of ["backup-writer", "backup-reader", "capacity-reports", "results-mirror"]) {
      for (const p of PROCESSOR_NAMES) expect(holders[secret] ?? [], secret).not.toContain(p);
    }
    expect(holders["object-store"]).toBeUndefined();
    // Each is minted by the program from a token limited to one bucket.
    const tokens = plan.resources.filter((r) => r.type === "cloudflare:index/accountToken:AccountToken").map((r) => r.props as any);
    for (const t of tokens) {
      const buckets = t.policies.flatMap((p: any) => Object.keys(JSON.parse(p.resources)));
      for (const b of buckets) expect(b, t.name).toMatch(/^com\.cloudflare\.edge\.r2\.bucket\.[0-9a-f]{32}_default_[a-z0-9-]+$/);
    }
    const secretsOf = (name: string) => plan.k8s("Secret").find((s: any) => s.metadata.name === name);
    expect(secretsOf("backup-reader")?.metadata.annotations["pitchey.io/object-store-grants"]).toMatch(/^read:pitchey-backups/);
    expect(secretsOf("backup-writer")?.metadata.annotations["pitchey.io/object-store-grants"]).toMatch(/^write:pitchey-backups/);
    // ...and the backup bucket's reader in the restore verification alone.
    expect(holders["backup-reader"]).toEqual(["restore-verification"]);
    const code = plan.k8s("Deployment").find((d) => d.metadata.name === "code-executor");
    const names = code.spec.template.spec.containers[0].env.map((e: any) => e.name);
    expect(names).not.toContain("RESULTS_STORE_URL");
    expect(names.filter((n: string) => n.startsWith("AWS_"))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(["DATABASE_URL_FILE", "CPU_LIMIT_MILLICORES", "MEMORY_LIMIT_BYTES"]));
  });

  it("gives every processor a Service, a PDB and a ScaledObject", () => {
    for (const kind of ["Service", "PodDisruptionBudget", "ScaledObject", "ServiceAccount"]) {
      const names = get().k8s(kind).map((o) => o.metadata.name.replace(/-pdb$/, ""));
      for (const p of PROCESSOR_NAMES) expect(names, `${kind} for ${p}`).toContain(p);
    }
  });

  it("renders only schema-valid Kubernetes objects", async () => {
    const objects = get().resources.filter(isKubernetesObject);
    expect(objects.length).toBeGreaterThan(30);
    const failures: string[] = [];
    for (const r of objects) {
      const check = await validateManifest(manifestOf(r));
      if (check.errors === undefined) failures.push(`${r.name}: no schema for ${(r.props as any).kind}`);
      else failures.push(...check.errors.map((e) => `${r.name}: ${e}`));
    }
    expect(failures).toEqual([]);
  });

  it("backs the jobs database up hourly into a protected R2 bucket", () => {
    const plan = get();
    const bucket = plan.ofType("cloudflare:index/r2Bucket:R2Bucket").filter((b) => b.urn.includes("pitchey:backup:DatabaseBackup"));
    expect(bucket).toHaveLength(1);
    const cron = plan.k8s("CronJob").find((c) => c.metadata.name === "db-backup");
    expect(cron.spec.schedule).toBe("0 * * * *");
    const env = cron.spec.jobTemplate.spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: "BACKUP_STORE_URL", value: `s3://${(bucket[0].props as any).name}` });
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0].image).toMatch(/\/db-backup@sha256:/);
  });

  it("locks each backup tier against delete and overwrite for its retention less an hour", () => {
    const locks = get().ofType("cloudflare:index/r2BucketLock:R2BucketLock");
    expect(locks).toHaveLength(1);
    const rules = (locks[0].props as any).rules.map((r: any) => [r.prefix, r.condition.maxAgeSeconds / 3600]);
    expect(rules).toEqual([
      ["postgres/2", 23],
      ["postgres/daily/", 7 * 24 - 1],
      ["postgres/weekly/", 4 * 7 * 24 - 1],
      ["postgres/monthly/", 12 * 28 * 24 - 1],
    ]);
  });

  it("runs the schema migration before any processor", () => {
    const plan = get();
    const job = plan.resources.find((r) => r.type === "kubernetes:batch/v1:Job" && r.name === "jobs-migrate");
    expect(job).toBeDefined();
    expect((job!.props as any).spec.template.spec.containers[0].command).toEqual(["node", "dist/cli/migrate.js"]);
    const components = plan.resources.filter((r) => r.type === "pitchey:processor:ProcessorService");
    expect(components).toHaveLength(5);
    for (const c of components) expect(plan.dependencies.get(c.urn), c.name).toContain(job!.urn);
  });

  it("installs KEDA from its pinned chart", () => {
    const release = get().ofType("kubernetes:helm.sh/v3:Release").find((r) => (r.props as any).chart === "keda");
    expect(release?.props).toMatchObject({ version: CHARTS.keda.version, repositoryOpts: { repo: CHARTS.keda.repo } });
  });

  it("guards the processors' namespace: restricted PSA, the playbook quota, default-deny network", () => {
    const plan = get();
    const ns = plan.k8s("Namespace").find((n) => n.metadata.name === "processors");
    expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    const quota = plan.k8s("ResourceQuota").find((q) => q.metadata.namespace === "processors");
    expect(quota.spec.hard).toEqual({ "requests.cpu": "100", "requests.memory": "200Gi", persistentvolumeclaims: "10", "services.loadbalancers": "2" });
    const policies = plan.k8s("NetworkPolicy").filter((p) => p.metadata.namespace === "processors");
    expect(policies.find((p) => p.metadata.name === "default-deny").spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("fences every Helm release's namespace with a default deny, KEDA's and CloudNativePG's included, before the release installs", () => {
    const plan = get();
    const policies = allPolicies.filter((p) => p.name === "k8s-helm-namespace-default-deny");
    const resources = plan.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent, props: r.props }));
    expect(evaluatePlan(resources, { policies }).violations).toEqual([]);
    for (const [release, namespace] of [
      ["keda-release", "keda"],
      ["cnpg-operator", "cnpg-system"],
    ]) {
      const deny = plan.resources.find((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && (r.props as any).metadata.namespace === namespace && (r.props as any).metadata.name === "default-deny");
      expect((deny?.props as any)?.spec, namespace).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
      const rel = plan.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === release)!;
      expect(plan.dependencies.get(rel.urn), release).toContain(deny!.urn);
    }
  });

  it("labels every Kubernetes object with its environment and cost centre", () => {
    const unlabelled = get()
      .resources.filter(isKubernetesObject)
      .map((r) => r.props as any)
      .filter((o) => !o.metadata?.labels?.["pitchey.io/cost-center"] || !o.metadata?.labels?.["pitchey.io/environment"])
      .map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(unlabelled).toEqual([]);
  });

  it("never writes secret values into the rendered manifests", () => {
    const yaml = [...renderKubernetes(get().resources).values()].join("\n");
    expect(yaml).not.toContain("postgres://");
    expect(yaml).toContain('DATABASE_URL: "[secret]"');
    expect(JSON.stringify(get().resources)).not.toContain("postgres://");
  });
}

const EFFECT: Record<string, string> = { NO_SCHEDULE: "NoSchedule", PREFER_NO_SCHEDULE: "PreferNoSchedule", NO_EXECUTE: "NoExecute" };

/** The pool a processor's pods are steered to, read from the rendered pod spec. */
function targetPool(podSpec: any): string {
  return (
    podSpec.nodeSelector?.["pitchey.io/pool"] ??
    podSpec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions.find(
      (e: any) => e.key === "pitchey.io/pool",
    ).values[0]
  );
}

/**
 * Cross-checks placement against the node pool resources the cluster actually declares: each processor lands on
 * a pool that exists, carries the label it selects, and tolerates every taint declared on it.
 */
export function placementMatchesPools(
  get: () => Plan,
  poolType: string,
  readPool: (props: any) => { labels: Record<string, string>; taints: { key: string; value: string; effect: string }[] },
): void {
  it("places each processor on a declared pool whose taints it tolerates", () => {
    const pools = new Map(
      get()
        .ofType(poolType)
        .map((r) => readPool(r.props))
        .map((p) => [p.labels["pitchey.io/pool"], p]),
    );
    // GKE adds the spot pool's on-demand fallback of the spot-first ComputeClass; EKS falls back to the general group.
    expect([...pools.keys()].filter((k) => k !== "spot-fallback").sort()).toEqual(["general", "gpu", "sandbox", "spot"]);
    const expected: Record<string, string> = {
      "video-processor": "spot",
      "media-transcoder": "spot",
      "document-processor": "general",
      "ai-inference": "gpu",
      "code-executor": "sandbox",
    };
    for (const d of get().k8s("Deployment")) {
      const spec = d.spec.template.spec;
      const pool = targetPool(spec);
      expect(pool, d.metadata.name).toBe(expected[d.metadata.name]);
      for (const t of pools.get(pool)!.taints) {
        expect(spec.tolerations, `${d.metadata.name} tolerates ${t.key}`).toContainEqual({
          key: t.key,
          operator: "Equal",
          value: t.value,
          effect: EFFECT[t.effect] ?? t.effect,
        });
      }
    }
  });
}

export function renderingChecks(get: () => Plan): void {
  it("draws each processor depending on its image, the namespace, KEDA and the cluster", () => {
    const graph = renderGraph(get().resources, get().dependencies);
    const id = (label: string) => new RegExp(`^\\s+(c\\d+)\\["${label}`, "m").exec(graph)?.[1];
    const service = id("video-processor<br/><small>processor:ProcessorService");
    const targets = graph
      .split("\n")
      .filter((l) => l.trim().startsWith(`${service} -.->`))
      .map((l) => l.trim().split(" ").pop());
    expect(service).toBeDefined();
    for (const label of ["video-processor<br/><small>images:WorkerImage", "processors<br/>", "keda<br/>"]) {
      expect(targets, label).toContain(id(label));
    }
  });

  it("writes each Helm release's values with its pinned chart version", () => {
    const files = renderHelmValues(get().resources);
    expect(files.get("keda.values.yaml")).toContain(`# version: ${CHARTS.keda.version}`);
    for (const [name, text] of files) expect(text, name).not.toContain("UNPINNED");
  });
}
