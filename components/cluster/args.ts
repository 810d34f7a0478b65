import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig } from "../../stacks/config/cluster";
import type { LabelContext } from "../labels";
import type { WorkloadIdentityRequest } from "./types";

export interface ClusterArgs {
  /** The parsed `cluster` stack config; `cloud` picks the implementation. Required. */
  readonly config: ClusterConfig;
  /** Environment, cost center and team carried on every tag and label. Required. */
  readonly labels: LabelContext;
  /** Workloads that get a cloud identity (ServiceAccount name and namespace). Default: none. */
  readonly workloads?: readonly WorkloadIdentityRequest[];
  /** One image repository per name (the five processors). Default: none. */
  readonly imageRepositories?: readonly string[];
  /** Days an untagged image is kept before the registry deletes it. Default: 7 (playbook). */
  readonly untaggedImageRetentionDays?: number;
  /** Bucket the `results-bucket` access grants objects in (name, not URL). Without it that access grants nothing (warned). */
  readonly resultsBucket?: string;
  /** Bucket the `backups-bucket` access writes to. Without it that access grants nothing (warned). */
  readonly backupsBucket?: string;
  /** Where falcosidekick posts alerts. Default: the Prometheus Operator's Alertmanager in `monitoring`. */
  readonly alertmanagerUrl?: string;
  /**
   * Namespaces of node agents (log shippers, node exporters) that may tolerate the EKS sandbox taint by key and
   * still run under runc. kube-system and the Falco namespace are always exempt. Default: none.
   */
  readonly nodeAgentNamespaces?: readonly string[];
}

export const CLUSTER_ARG_DEFAULTS = {
  workloads: [] as readonly WorkloadIdentityRequest[],
  imageRepositories: [] as readonly string[],
  untaggedImageRetentionDays: 7,
  alertmanagerUrl: "http://alertmanager-operated.monitoring.svc:9093",
  nodeAgentNamespaces: [] as readonly string[],
};

export type ResolvedClusterArgs = Required<Omit<ClusterArgs, "resultsBucket" | "backupsBucket">> &
  Pick<ClusterArgs, "resultsBucket" | "backupsBucket">;

const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Applies defaults and checks what the schema cannot see; every problem is reported at once. */
export function resolveClusterArgs(args: ClusterArgs): ResolvedClusterArgs {
  const r: ResolvedClusterArgs = { ...CLUSTER_ARG_DEFAULTS, ...args };
  const problems: { propertyPath: string; reason: string }[] = [];
  const seen = new Set<string>();
  r.workloads.forEach((w, i) => {
    if (!DNS_LABEL.test(w.name)) problems.push({ propertyPath: `workloads[${i}].name`, reason: `"${w.name}" is not a valid ServiceAccount name` });
    if (!DNS_LABEL.test(w.namespace)) problems.push({ propertyPath: `workloads[${i}].namespace`, reason: `"${w.namespace}" is not a valid namespace` });
    if (seen.has(w.name)) problems.push({ propertyPath: `workloads[${i}].name`, reason: `"${w.name}" is requested twice` });
    seen.add(w.name);
  });
  r.nodeAgentNamespaces.forEach((ns, i) => {
    if (!DNS_LABEL.test(ns)) problems.push({ propertyPath: `nodeAgentNamespaces[${i}]`, reason: `"${ns}" is not a valid namespace` });
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
  if (problems.length > 0) {
    const detail = problems.map((p) => `${p.propertyPath}: ${p.reason}`).join("; ");
    throw new pulumi.InputPropertiesError({ message: `invalid cluster arguments: ${detail}`, errors: problems });
  }
  return r;
}

/**
 * Bucket grants that cannot be made because the bucket was not named. The identity is still created (so the
 * ServiceAccount annotation works) but holds no bucket rights; callers log these rather than grant broadly.
 */
export function missingBucketGrants(r: ResolvedClusterArgs): string[] {
  return r.workloads.flatMap((w) =>
    w.access
      .filter((acc) => (acc === "results-bucket" ? !r.resultsBucket : !r.backupsBucket))
      .map((acc) => `${w.name} asks for ${acc} access but ClusterArgs.${acc === "results-bucket" ? "resultsBucket" : "backupsBucket"} is not set; no grant made`),
  );
}

/** The bucket a workload access refers to, when it was named. */
export function bucketFor(r: ResolvedClusterArgs, access: "results-bucket" | "backups-bucket"): string | undefined {
  return access === "results-bucket" ? r.resultsBucket : r.backupsBucket;
}

/** Looks a workload's identity up, failing loudly for a name that was never requested. */
export function identityLookup<T>(kind: string, byName: ReadonlyMap<string, T>) {
  return (name: string): T => {
    const found = byName.get(name);
    if (found === undefined) {
      throw new Error(`${kind}: no identity for "${name}"; request it in ClusterArgs.workloads (known: ${[...byName.keys()].join(", ") || "none"})`);
    }
    return found;
  };
}
