import type * as pulumi from "@pulumi/pulumi";
import type { ClusterArgs } from "./args";
import { EksCluster } from "./eks";
import { GkeCluster } from "./gke";
import type { ClusterFacts } from "./types";

export type { ClusterArgs } from "./args";
export { CLUSTER_ARG_DEFAULTS } from "./args";
export type { ClusterFacts, PoolScheduling, Taint, WorkloadIdentityRequest } from "./types";
export { EksCluster } from "./eks";
export { GkeCluster } from "./gke";
export { POOL_LABEL, POOL_TAINTS, poolScheduling, toleration } from "./scheduling";

/** The cluster for a stack: GKE or EKS as `config.cloud` says, behind the same facts. */
export function createCluster(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions): ClusterFacts {
  switch (args.config.cloud) {
    case "gcp":
      return new GkeCluster(name, args, opts);
    case "aws":
      return new EksCluster(name, args, opts);
  }
}
