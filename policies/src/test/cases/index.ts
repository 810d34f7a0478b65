import type { Case, Mutable } from "../util";
import { compliantStack } from "../util";
import { workloadCases } from "./workloads";
import { networkCases } from "./network";
import { storageCases } from "./storage";
import { clusterCases } from "./clusters";
import { platformCases } from "./platform";
import { costCases } from "./cost";
import { observabilityCases } from "./observability";
import { edgeCases } from "./edge";
import { clusterStateCases } from "./cluster-state";

export const allCases: Record<string, Case[]> = { ...workloadCases, ...networkCases, ...storageCases, ...clusterCases, ...platformCases, ...costCases, ...observabilityCases, ...edgeCases, ...clusterStateCases };

/**
 * Defects chosen so that they do not undo one another when applied to one stack
 * (e.g. the PDB is made too strict rather than removed, since another defect needs it).
 */
const CHOSEN: Record<string, string> = {
    "k8s-pdb-required": "the PDB selects other pods",
    "k8s-namespace-default-deny": "a workload runs in a namespace without policies",
    "k8s-sandboxed-service-egress": "an allow-all egress rule selects code-executor",
    "k8s-workload-store-reachable": "the HTTPS egress policy is gone while processors still write to the store",
    "s3-public-access-block": "restrictPublicBuckets is off",
    "s3-sse-kms-customer-key": "SSE-S3 (AES256) is used",
    "s3-versioning": "versioning is suspended",
    "backup-bucket-replicated": "the replication rule is disabled",
    "k8s-slo-min-replicas": "the ScaledObject can scale to one replica",
    "cloudflare-ssl-strict": "SSL is flexible",
    "cloudflare-always-use-https": "always_use_https is off",
    "processor-has-scaledobject": "it has no triggers",
    "k8s-namespace-resource-quota": "the quota does not bound memory",
    "registry-untagged-image-expiry": "Artifact Registry has no cleanup policy",
    "eks-public-endpoint-restricted": "the endpoint is open to 0.0.0.0/0",
    "resource-metrics-api-served": "the EKS cluster has no metrics-server add-on",
    "runtime-class-available": "a workload names an unknown runtime",
    "k8s-loadbalancer-only-ingress-controller": "the controller Service has no source ranges",
};

/** The compliant stack with one deliberate defect per policy: every policy in the pack must fire on it. */
export function defectiveStack(): Mutable[] {
    const stack = compliantStack();
    for (const [policy, cases] of Object.entries(allCases)) {
        const chosen = cases.find((c) => c.name === CHOSEN[policy]) ?? cases.find((c) => !c.config);
        if (!chosen) throw new Error(`no config-free case for ${policy}`);
        chosen.mutate(stack);
    }
    return stack;
}
