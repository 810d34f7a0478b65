import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parsePlatformConfig, PROCESSOR_NAMES, PROJECT, SECRET_KEYS, type PlatformConfig } from "../../stacks/config";
import type { ClusterArgs } from "./args";
import type { RecordedResource } from "../testing/mocks";
import { readStackConfig } from "../../stacks/plan/stackConfig";
import type { Taint } from "./types";

export const ROOT = join(__dirname, "..", "..");

/** A stack file's keys (without the project prefix and without secrets), as the program reads them. */
export function stackRaw(stack: "prod" | "dr"): Record<string, any> {
  const secrets: readonly string[] = SECRET_KEYS;
  const file = readStackConfig(join(ROOT, `Pulumi.${stack}.yaml`), PROJECT, secrets);
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file.values)) {
    if (!key.startsWith(`${PROJECT}:`) || secrets.includes(key.slice(PROJECT.length + 1))) continue;
    try {
      raw[key.slice(PROJECT.length + 1)] = JSON.parse(value);
    } catch {
      raw[key.slice(PROJECT.length + 1)] = value;
    }
  }
  return raw;
}

/** A stack file parsed exactly as the program parses it. */
export function stackConfig(stack: "prod" | "dr"): PlatformConfig {
  return parsePlatformConfig(stackRaw(stack));
}

export const resolve = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((done) => o.apply((v) => done(v)));

export async function settle(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

export const ofType = (rs: readonly RecordedResource[], type: string) => rs.filter((r) => r.type === type);

export function one(rs: readonly RecordedResource[], type: string, name: string): RecordedResource {
  const found = rs.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return found[0];
}

/** A node as the scheduler would see it, derived from a recorded pool resource's own inputs. */
export interface NodeView {
  readonly labels: Record<string, string>;
  readonly taints: Taint[];
}

const EFFECT: Record<string, Taint["effect"]> = { NO_SCHEDULE: "NoSchedule", PREFER_NO_SCHEDULE: "PreferNoSchedule", NO_EXECUTE: "NoExecute" };

export function nodeOf(r: RecordedResource): NodeView {
  const p = r.props as Record<string, any>;
  if (r.type === "gcp:container/nodePool:NodePool") {
    const nc = p.nodeConfig ?? {};
    const labels: Record<string, string> = { ...(nc.labels ?? {}), "cloud.google.com/gke-nodepool": p.name };
    const taints: Taint[] = (nc.taints ?? []).map((t: any) => ({ key: t.key, value: t.value, effect: EFFECT[t.effect] }));
    if (nc.spot) labels["cloud.google.com/gke-spot"] = "true";
    // What GKE adds to accelerator and sandbox pools by itself.
    if ((nc.guestAccelerators ?? []).length > 0 && !taints.some((t) => t.key === "nvidia.com/gpu")) {
      taints.push({ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" });
    }
    if (nc.sandboxConfig?.sandboxType === "gvisor") {
      labels["sandbox.gke.io/runtime"] = "gvisor";
      taints.push({ key: "sandbox.gke.io/runtime", value: "gvisor", effect: "NoSchedule" });
    }
    return { labels, taints };
  }
  if (r.type === "aws:eks/nodeGroup:NodeGroup") {
    return {
      labels: {
        ...(p.labels ?? {}),
        "eks.amazonaws.com/nodegroup": p.nodeGroupName,
        "eks.amazonaws.com/capacityType": p.capacityType,
      },
      taints: (p.taints ?? []).map((t: any) => ({ key: t.key, value: t.value, effect: EFFECT[t.effect] })),
    };
  }
  throw new Error(`${r.type} is not a node pool`);
}

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export function tolerates(tols: readonly Toleration[], t: Taint): boolean {
  return tols.some(
    (tol) =>
      (tol.effect === undefined || tol.effect === t.effect) &&
      tol.key === t.key &&
      ((tol.operator ?? "Equal") === "Exists" || tol.value === t.value),
  );
}

interface Expr {
  key: string;
  operator: string;
  values?: string[];
}

/** Whether a pod spec's nodeSelector and required node affinity admit a node with these labels. */
export function admits(pod: { nodeSelector?: Record<string, string>; affinity?: any }, labels: Record<string, string>): boolean {
  const selectorOk = Object.entries(pod.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
  const terms: { matchExpressions?: Expr[] }[] =
    pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  const affinityOk =
    terms.length === 0 ||
    terms.some((t) => (t.matchExpressions ?? []).every((e) => e.operator === "In" && (e.values ?? []).includes(labels[e.key])));
  return selectorOk && affinityOk;
}

/** The arguments the cluster tests give `createCluster`: the stack's config, every processor with bucket access. */
export function testClusterArgs(stack: "prod" | "dr", cfg: PlatformConfig, extra: Partial<ClusterArgs> = {}): ClusterArgs {
  return {
    config: cfg.cluster,
    labels: { environment: cfg.environment, costCenter: cfg.costCenter, team: cfg.team },
    workloads: PROCESSOR_NAMES.map((name) => ({
      name,
      namespace: cfg.namespace,
      access: name === "document-processor" ? ["results-bucket", "backups-bucket"] : ["results-bucket"],
    })),
    imageRepositories: [...PROCESSOR_NAMES],
    resultsBucket: `pitchey-${stack}-results`,
    backupsBucket: `pitchey-${stack}-backups`,
    ...extra,
  };
}
