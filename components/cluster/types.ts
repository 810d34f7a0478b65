import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

export type Cloud = "gcp" | "aws";

/**
 * The four pools every cluster offers: on-demand general nodes, spot nodes, GPU nodes and the gVisor sandbox.
 * Workloads name one; both clouds implement all four.
 */
export const POOL_NAMES = ["general", "spot", "gpu", "sandbox"] as const;
export type PoolName = (typeof POOL_NAMES)[number];

/**
 * GKE only: the on-demand pool behind the spot pool in the spot-first ComputeClass. It takes only the pods that
 * select that class, so the general pool keeps its capacity and the class's ranking decides where nodes are added.
 */
export const SPOT_FALLBACK_POOL = "spot-fallback" as const;

export interface Taint {
  readonly key: string;
  readonly value: string;
  readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** What a workload needs to know to land on a pool: known at plan time, never an Output. */
export interface PoolScheduling {
  readonly name: PoolName | typeof SPOT_FALLBACK_POOL;
  /** Labels every node of the pool carries; workloads select on these. */
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  /**
   * Spot pool only: seconds a pod gets between the reclaim notice and the node's end. A processor's
   * `terminationGracePeriodSeconds` above this is cut short; its leased jobs then return via lease expiry.
   */
  readonly drainSeconds?: number;
}

/** A workload that needs a cloud identity (GKE Workload Identity / EKS IRSA). */
export interface WorkloadIdentityRequest {
  /** Processor or add-on name; also the Kubernetes ServiceAccount name. */
  readonly name: string;
  readonly namespace: string;
  /** What the identity may do beyond pulling images. */
  readonly access: readonly ("results-bucket" | "backups-bucket")[];
}

/**
 * Where a workload that prefers spot but may run on-demand goes, so that the cluster autoscaler prefers spot too
 * when it adds nodes (a preferred node affinity is invisible to it).
 */
export interface SpotFirstPlacement {
  /** The on-demand pool the workload may fall back to. */
  readonly fallback: PoolScheduling;
  /**
   * GKE: the ComputeClass whose priorities rank the spot pool above the fallback; the workload selects it with the
   * `cloud.google.com/compute-class` node selector and tolerates its taint. Unset on EKS, where the autoscaler's
   * priority expander ranks the spot node group first.
   */
  readonly computeClass?: { readonly name: string; readonly taint: Taint };
}

/** The one interface both cloud implementations satisfy. */
export interface ClusterFacts {
  readonly cloud: Cloud;
  /** Kubernetes provider built from the cluster's kubeconfig; every in-cluster resource uses it. */
  readonly provider: k8s.Provider;
  readonly oidcIssuer: pulumi.Output<string>;
  readonly pools: Readonly<Record<PoolName, PoolScheduling>>;
  /** RuntimeClass the sandbox pool runs (gVisor). */
  readonly sandboxRuntimeClassName: string;
  /** Placement for workloads that prefer spot and fall back to on-demand. */
  readonly spotFirst: SpotFirstPlacement;
  /**
   * Longest termination grace the cluster autoscaler gives a pod when it drains a node to remove it; a longer
   * `terminationGracePeriodSeconds` is cut short there (so such a pod must opt out of its evictions). GKE fixes it
   * at 600 s; on EKS it is the autoscaler's `max-graceful-termination-sec`.
   */
  readonly autoscalerMaxGraceSeconds: number;
  /** Image repository (without tag or digest) for a processor, e.g. `…-docker.pkg.dev/p/r/video-processor`. */
  imageRepository(service: string): pulumi.Output<string>;
  /** Credentials docker-build pushes with; short-lived tokens, never stored keys. */
  readonly registryAuth: pulumi.Output<{ address: string; username: string; password: string }>;
  /** ServiceAccount annotations binding each requested workload to its cloud identity. */
  serviceAccountAnnotations(name: string): pulumi.Output<Record<string, string>>;
  /** The cluster's name in its cloud (what `aws eks` / `gcloud container clusters` take). */
  readonly clusterName: pulumi.Output<string>;
  /**
   * A kubeconfig for the cluster, as a Pulumi secret. It holds no credential (each use fetches a short-lived token
   * through the cloud CLI), but it names the endpoint, so it is kept out of plain outputs.
   */
  readonly kubeconfig: pulumi.Output<string>;
  /** Resources in-cluster workloads must wait for (node pools, add-ons). */
  readonly readyResources: readonly pulumi.Resource[];
  /**
   * What serves the resource metrics API (metrics.k8s.io) that HPA cpu and memory targets read; whatever creates
   * ScaledObjects waits for it. Absent where the cloud serves the API itself (GKE runs metrics-server as part of
   * the cluster).
   */
  readonly metricsApi?: readonly pulumi.Resource[];
  /**
   * What provisions PersistentVolumes for the StorageClasses the program declares; a database waits for it.
   * Absent where the cloud ships the driver with the cluster (GKE's Persistent Disk CSI driver).
   */
  readonly volumeProvisioner?: readonly pulumi.Resource[];
}
