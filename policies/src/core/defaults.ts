/**
 * Platform facts the policies need, with the operations playbook's values as defaults.
 * Every one of them can be overridden through the pack's config (see each policy's configSchema).
 */
export const PROCESSORS = [
    "video-processor",
    "document-processor",
    "ai-inference",
    "media-transcoder",
    "code-executor",
] as const;

export const DEFAULTS = {
    processorNamespace: "processors",
    processors: [...PROCESSORS] as string[],
    /** Every processor has an SLO in the playbook, so every one must survive a single pod loss. */
    sloServices: [...PROCESSORS] as string[],
    minReplicas: 2,
    /** Lowest acceptable runAsUser / runAsGroup: ids below 1000 belong to system accounts in common base images. */
    minUserId: 1000,
    /** SLO services allowed below minReplicas as a recorded cost decision (docs/decisions.md #4); reported as advisory. */
    acceptedBelowMinimum: ["ai-inference"] as string[],
    sandboxedService: "code-executor",
    sandboxRuntimeClass: "gvisor",
    /** Namespaces owned by the cluster vendor; the platform does not deploy workloads there. */
    systemNamespaces: ["kube-system", "kube-public", "kube-node-lease", "gke-managed-system", "gmp-system", "gke-gmp-system"],
    requiredTags: ["Service", "Environment", "CostCenter"],
    /** GCP label keys must be lower case, so the same scheme is spelled in lower case there. */
    requiredGcpLabels: ["service", "environment", "cost_center"],
    requiredLabels: ["app.kubernetes.io/name", "app.kubernetes.io/part-of", "pitchey.io/environment", "pitchey.io/cost-center"],
    /** Playbook backup retention: hourly 24, daily 7, weekly 4, monthly 12. Expressed in days. */
    backupRetentionDays: { hourly: 1, daily: 7, weekly: 28, monthly: 365 } as Record<string, number>,
    backupBucketPattern: "backup",
    /**
     * `app.kubernetes.io/component` of the short-lived jobs that may hold a credential able to write backups: the backup
     * job, and the database's maintenance jobs (same image, no user input) that file the capacity report there.
     */
    backupJobComponents: ["backup", "maintenance"] as string[],
    /** Secrets (by metadata.name) of external databases whose backups another stack owns; empty unless recorded. */
    databasesBackedUpElsewhere: [] as string[],
    untaggedImageMaxDays: 7,
    databasePorts: [5432],
    dnsPorts: [53],
    /** Names, tags or descriptions that identify the load balancer's firewall rules and security groups. */
    loadBalancerPattern: "(^|[^a-z])(lb|alb|nlb|elb|load-?balancer|ingress)([^a-z]|$)",
    ingressControllerPattern: "ingress-nginx|ingress-controller|nginx-ingress",
    apiHostPattern: "^api(\\.|$)",
    eksLogTypes: ["api", "audit", "authenticator"],
} as const;

export function schemaFor(keys: readonly (keyof typeof DEFAULTS)[]) {
    const properties: Record<string, { type: "string" | "integer" | "array" | "object"; default: unknown; items?: { type: "string" | "integer" }; additionalProperties?: { type: "integer" } }> = {};
    for (const k of keys) {
        const v = DEFAULTS[k] as unknown;
        if (Array.isArray(v)) {
            properties[k] = { type: "array", items: { type: typeof v[0] === "number" ? "integer" : "string" }, default: v };
        } else if (typeof v === "number") {
            properties[k] = { type: "integer", default: v };
        } else if (typeof v === "object" && v !== null) {
            properties[k] = { type: "object", additionalProperties: { type: "integer" }, default: v };
        } else {
            properties[k] = { type: "string", default: v };
        }
    }
    return { properties } as import("@pulumi/policy").PolicyConfigSchema;
}

export type Defaults = { -readonly [K in keyof typeof DEFAULTS]: (typeof DEFAULTS)[K] extends readonly (infer E)[] ? E[] : (typeof DEFAULTS)[K] };
