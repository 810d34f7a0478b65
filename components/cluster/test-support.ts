import { join } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { RecordedResource } from "../testing/mocks";
import type { EksClusterArgs } from "./eks-args";
import type { GkeClusterArgs } from "./gke-args";
import type { PoolName, Taint } from "./types";

export const ROOT = join(__dirname, "..", "..");

/** The five processors and where each runs, as the tests' hand-written workloads. */
export const PROCESSORS: Record<string, { pool: PoolName; fallbackToOnDemand: boolean }> = {
  "video-processor": { pool: "spot", fallbackToOnDemand: true },
  "document-processor": { pool: "general", fallbackToOnDemand: false },
  "ai-inference": { pool: "gpu", fallbackToOnDemand: false },
  "media-transcoder": { pool: "spot", fallbackToOnDemand: true },
  "code-executor": { pool: "sandbox", fallbackToOnDemand: false },
};
export const PROCESSOR_NAMES = Object.keys(PROCESSORS);

const labels = (environment: string) => ({ environment, costCenter: "platform-processing", team: "platform" });
const authorizedNetworks = [
  { name: "office-vpn", cidr: "203.0.113.0/24" },
  { name: "ci-runners", cidr: "198.51.100.0/26" },
];
const workloads = (namespace: string) =>
  PROCESSOR_NAMES.map((name) => ({
    name,
    namespace,
    access: name === "document-processor" ? (["results-bucket", "backups-bucket"] as const) : (["results-bucket"] as const),
  }));

/** A GKE cluster as the prod stack declares it, written out by hand: the component needs no stack config. */
export function gkeTestArgs(extra: Partial<GkeClusterArgs> = {}): GkeClusterArgs {
  return {
    name: "pitchey-containers",
    project: "pitchey-prod",
    region: "us-west1",
    authorizedNetworks,
    labels: labels("production"),
    nodePools: {
      general: { machineType: "n2-standard-4", minNodes: 3, maxNodes: 20 },
      spot: { machineType: "n2-standard-4", minNodes: 0, maxNodes: 10 },
      gpu: { machineType: "g2-standard-8", minNodes: 0, maxNodes: 5, gpuType: "nvidia-l4", gpuCount: 1 },
      sandbox: { machineType: "n2-standard-4", minNodes: 1, maxNodes: 10 },
    },
    workloads: workloads("processors"),
    imageRepositories: PROCESSOR_NAMES,
    resultsBucket: "pitchey-prod-results",
    backupsBucket: "pitchey-prod-backups",
    ...extra,
  };
}

/** An EKS cluster as the dr stack declares it, written out by hand. */
export function eksTestArgs(extra: Partial<EksClusterArgs> = {}): EksClusterArgs {
  return {
    name: "pitchey-containers-dr",
    region: "eu-west-1",
    authorizedNetworks,
    labels: labels("dr"),
    network: { vpcCidr: "10.60.0.0/16" },
    nodePools: {
      general: { machineType: "m6i.xlarge", minNodes: 3, maxNodes: 20 },
      spot: { machineType: "m6i.xlarge", instanceTypes: ["m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m5a.xlarge"], minNodes: 0, maxNodes: 10 },
      gpu: { machineType: "g6.2xlarge", minNodes: 0, maxNodes: 5, gpuCount: 1 },
      sandbox: { machineType: "m6i.xlarge", minNodes: 1, maxNodes: 10 },
    },
    workloads: workloads("processors"),
    imageRepositories: PROCESSOR_NAMES,
    clusterAdmins: [
      { name: "deploy", roleArn: "arn:aws:iam::123456789012:role/pitchey-deploy" },
      { name: "break-glass", roleArn: "arn:aws:iam::123456789012:role/pitchey-break-glass" },
    ],
    resultsBucket: "pitchey-dr-results",
    backupsBucket: "pitchey-dr-backups",
    ...extra,
  };
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
