import * as pulumi from "@pulumi/pulumi";
import type { LabelContext } from "../labels";
import { KUBERNETES_VERSION } from "../versions";
import { POOL_NAMES, type PoolName, type WorkloadIdentityRequest } from "./types";

/** What both cluster components take besides their cloud's own settings. */
export interface ClusterCommonArgs {
  /** Environment, cost center and team carried on every tag and label. Required. */
  readonly labels: LabelContext;
  /** Workloads that get a cloud identity (ServiceAccount name and namespace). Default: none. */
  readonly workloads?: readonly WorkloadIdentityRequest[];
  /** One image repository per name (the five processors). Default: none. */
  readonly imageRepositories?: readonly string[];
  /** Days an untagged image is kept before the registry deletes it. Default: 7. */
  readonly untaggedImageRetentionDays?: number;
  /** Bucket the `results-bucket` access grants objects in (name, not URL). Without it that access grants nothing (warned). */
  readonly resultsBucket?: string;
  /** Bucket the `backups-bucket` access writes to. Without it that access grants nothing (warned). */
  readonly backupsBucket?: string;
  /** Where falcosidekick posts alerts. Default: the Prometheus Operator's Alertmanager in `monitoring`. */
  readonly alertmanagerUrl?: string;
  /** Lowest Falco priority forwarded to Alertmanager. Default: `warning`. */
  readonly falcoMinimumPriority?: FalcoPriority;
  /** Protects the cluster (and its secrets key) from `pulumi destroy`. Default: true. */
  readonly deletionProtection?: boolean;
}

export type FalcoPriority = "emergency" | "alert" | "critical" | "error" | "warning" | "notice" | "informational" | "debug";

/** A CIDR allowed to reach the Kubernetes API, with a name for the console. */
export interface AuthorizedNetwork {
  readonly name: string;
  readonly cidr: string;
}

/** One node pool's shape and bounds; the cloud-specific pool args add to it. */
export interface NodePoolArgs {
  /** GCE machine type or EC2 instance type. Required. */
  readonly machineType: string;
  /** Fewest nodes, across the region. Required. */
  readonly minNodes: number;
  /** Most nodes, across the region; 0 leaves the pool out. Required. */
  readonly maxNodes: number;
  /** Boot disk size. Default: 100 GB. */
  readonly diskSizeGb?: number;
  /** GPUs per node; only the `gpu` pool may have any. Default: 0. */
  readonly gpuCount?: number;
  /** Pods sharing one GPU through the device plugin's time-slicing; 1 disables sharing. Default: 1. */
  readonly gpuTimeSlicingReplicas?: number;
}

export const NODE_POOL_DEFAULTS = { diskSizeGb: 100, gpuCount: 0, gpuTimeSlicingReplicas: 1 } as const;

export const CLUSTER_ARG_DEFAULTS = {
  workloads: [] as readonly WorkloadIdentityRequest[],
  imageRepositories: [] as readonly string[],
  untaggedImageRetentionDays: 7,
  alertmanagerUrl: "http://alertmanager-operated.monitoring.svc:9093",
  falcoMinimumPriority: "warning" as FalcoPriority,
  deletionProtection: true,
  /** The Kubernetes minor version of the control plane (`KUBERNETES_VERSION` in the versions module). */
  kubernetesVersion: KUBERNETES_VERSION,
};

export type ResolvedCommonArgs = Required<Omit<ClusterCommonArgs, "resultsBucket" | "backupsBucket">> &
  Pick<ClusterCommonArgs, "resultsBucket" | "backupsBucket">;

export type Problem = { propertyPath: string; reason: string };

const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

/** Checks the arguments both clouds share; problems are collected, not thrown. */
export function commonProblems(r: ResolvedCommonArgs & { readonly name: string; readonly authorizedNetworks: readonly AuthorizedNetwork[] }): Problem[] {
  const problems: Problem[] = [];
  if (!/^[a-z][a-z0-9-]{1,38}[a-z0-9]$/.test(r.name)) {
    problems.push({ propertyPath: "name", reason: `"${r.name}" is not a lowercase DNS-style name of 3–40 characters` });
  }
  if (r.authorizedNetworks.length === 0) problems.push({ propertyPath: "authorizedNetworks", reason: "expected at least one network" });
  r.authorizedNetworks.forEach((n, i) => {
    if (!CIDR.test(n.cidr)) problems.push({ propertyPath: `authorizedNetworks[${i}].cidr`, reason: `"${n.cidr}" is not an IPv4 CIDR` });
  });
  const seen = new Set<string>();
  r.workloads.forEach((w, i) => {
    if (!DNS_LABEL.test(w.name)) problems.push({ propertyPath: `workloads[${i}].name`, reason: `"${w.name}" is not a valid ServiceAccount name` });
    if (!DNS_LABEL.test(w.namespace)) problems.push({ propertyPath: `workloads[${i}].namespace`, reason: `"${w.namespace}" is not a valid namespace` });
    if (seen.has(w.name)) problems.push({ propertyPath: `workloads[${i}].name`, reason: `"${w.name}" is requested twice` });
    seen.add(w.name);
  });
  r.imageRepositories.forEach((name, i) => {
    if (!DNS_LABEL.test(name)) problems.push({ propertyPath: `imageRepositories[${i}]`, reason: `"${name}" is not a valid repository name` });
  });
  if (!Number.isInteger(r.untaggedImageRetentionDays) || r.untaggedImageRetentionDays < 1) {
    problems.push({ propertyPath: "untaggedImageRetentionDays", reason: `expected a positive whole number of days, got ${r.untaggedImageRetentionDays}` });
  }
  if (!/^https?:\/\/[^\s]+$/.test(r.alertmanagerUrl)) {
    problems.push({ propertyPath: "alertmanagerUrl", reason: `expected an http(s) URL, got "${r.alertmanagerUrl}"` });
  }
  return problems;
}

/** Checks every pool's bounds and GPUs; `gpu` is the only pool that may carry GPUs. */
export function poolProblems(pools: Readonly<Record<PoolName, Required<NodePoolArgs>>>): Problem[] {
  const problems: Problem[] = [];
  for (const name of POOL_NAMES) {
    const p = pools[name];
    if (!p) {
      problems.push({ propertyPath: `nodePools.${name}`, reason: "required: every cluster offers the four pools (maxNodes 0 leaves one out)" });
      continue;
    }
    if (!Number.isInteger(p.minNodes) || p.minNodes < 0 || p.minNodes > p.maxNodes) {
      problems.push({ propertyPath: `nodePools.${name}.minNodes`, reason: `expected 0 ≤ minNodes ≤ maxNodes (${p.maxNodes}), got ${p.minNodes}` });
    }
    if (name !== "gpu" && p.gpuCount > 0) {
      problems.push({ propertyPath: `nodePools.${name}.gpuCount`, reason: "GPUs belong to the gpu pool only; other pools carry no GPU taint" });
    }
  }
  const gpu = pools.gpu;
  if (gpu && gpu.maxNodes > 0 && gpu.gpuCount === 0) problems.push({ propertyPath: "nodePools.gpu.gpuCount", reason: "must be > 0 when maxNodes > 0" });
  return problems;
}

/** Throws one `InputPropertiesError` naming every problem, or returns. */
export function throwIfProblems(component: string, problems: readonly Problem[]): void {
  if (problems.length === 0) return;
  const detail = problems.map((p) => `${p.propertyPath}: ${p.reason}`).join("; ");
  throw new pulumi.InputPropertiesError({ message: `invalid ${component} arguments: ${detail}`, errors: [...problems] });
}

/** Applies the pool defaults to each pool. */
export function resolvePools<P extends NodePoolArgs, D extends object>(
  pools: Readonly<Record<PoolName, P>>,
  extraDefaults: D,
): Record<PoolName, Required<NodePoolArgs> & D & P> {
  return Object.fromEntries(
    POOL_NAMES.map((name) => [name, { ...NODE_POOL_DEFAULTS, ...extraDefaults, ...pools[name] }]),
  ) as Record<PoolName, Required<NodePoolArgs> & D & P>;
}

/**
 * Bucket grants that cannot be made because the bucket was not named. The identity is still created (so the
 * ServiceAccount annotation works) but holds no bucket rights; callers log these rather than grant broadly.
 */
export function missingBucketGrants(r: ResolvedCommonArgs): string[] {
  return r.workloads.flatMap((w) =>
    w.access
      .filter((acc) => (acc === "results-bucket" ? !r.resultsBucket : !r.backupsBucket))
      .map((acc) => `${w.name} asks for ${acc} access but ${acc === "results-bucket" ? "resultsBucket" : "backupsBucket"} is not set; no grant made`),
  );
}

/** The bucket a workload access refers to, when it was named. */
export function bucketFor(r: ResolvedCommonArgs, access: "results-bucket" | "backups-bucket"): string | undefined {
  return access === "results-bucket" ? r.resultsBucket : r.backupsBucket;
}

/** Looks a workload's identity up, failing loudly for a name that was never requested. */
export function identityLookup<T>(kind: string, byName: ReadonlyMap<string, T>) {
  return (name: string): T => {
    const found = byName.get(name);
    if (found === undefined) {
      throw new Error(`${kind}: no identity for "${name}"; request it in the cluster's workloads (known: ${[...byName.keys()].join(", ") || "none"})`);
    }
    return found;
  };
}
