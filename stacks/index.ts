import { createCluster } from "./cluster";
import { loadStackInputs } from "./config";
import { createPlatform } from "./platform";

// The Pulumi program: `pulumi up -s <stack>` and `npm run plan` both run exactly this composition.
const platform = createPlatform(loadStackInputs(), createCluster);

export const cloud = platform.cloud;
/** Where on-call and CI point `aws eks update-kubeconfig` / `gcloud container clusters get-credentials`. */
export const clusterName = platform.clusterName;
/** `pulumi stack output kubeconfig --show-secrets > kubeconfig`; it asks the cloud CLI for a token on each use. */
export const kubeconfig = platform.kubeconfig;
export const namespace = platform.namespace;
export const images = platform.images;
/** Where this stack's database archives WAL; the dr stack's replica follows it. */
export const databaseArchive = platform.databaseArchive;
/** The backups' copy in this stack's own cloud: `pulumi stack output backupCopy` names the bucket a restore reads when R2 is gone. */
export const backupCopy = platform.backupCopy;
/** Standby stacks: the failover phase and the pool weights the global load balancer takes from it. */
export const failover = platform.failover;
/** Read by the other region's stack (StackReference) for the global load balancer's pools. */
export const edgeOriginHost = platform.edge.originHost;
export const edgeOriginAddress = platform.edge.originAddress;
