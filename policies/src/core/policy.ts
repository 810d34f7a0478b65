import type {
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

export type Enforcement = "mandatory" | "advisory";

export type Area =
    | "kubernetes-workloads"
    | "network"
    | "storage-and-keys"
    | "clusters-and-pools"
    | "supply-chain"
    | "edge"
    | "cost"
    | "observability"
    | "completeness";

/** What the docs and the CLI need to explain a policy to the person who tripped it. */
export interface PolicyMeta {
    readonly area: Area;
    /** The published rule(s) this policy follows: PSS control, kube-score / Polaris check, Checkov / tfsec id, vendor guidance. */
    readonly source: string;
    /** Why the enforcement level is what it is. */
    readonly why: string;
}

interface Common {
    readonly name: string;
    readonly summary: string;
    readonly enforcement: Enforcement;
    readonly meta: PolicyMeta;
    /** One line telling the owner of the resource what to change. */
    readonly fix: string;
    readonly configSchema?: PolicyConfigSchema;
}

export type PackResourcePolicy = ResourceValidationPolicy & {
    readonly enforcementLevel: Enforcement;
    readonly meta: PolicyMeta;
    readonly validateResource: (args: ResourceValidationArgs, report: ReportViolation) => void;
};
export type PackStackPolicy = StackValidationPolicy & {
    readonly enforcementLevel: Enforcement;
    readonly meta: PolicyMeta;
    readonly validateStack: (args: StackValidationArgs, report: ReportViolation) => void;
};
export type PackPolicy = PackResourcePolicy | PackStackPolicy;

function base(c: Common) {
    return {
        name: c.name,
        description: `${c.summary} ${c.meta.why} (Source: ${c.meta.source}.)`,
        enforcementLevel: c.enforcement,
        remediationSteps: c.fix,
        tags: [c.meta.area],
        meta: c.meta,
        ...(c.configSchema ? { configSchema: c.configSchema } : {}),
    };
}

/**
 * A policy over single resources. `types` lists the Pulumi type tokens it applies to; other
 * resources are reported as not applicable, exactly as the policy server would for a typed validator.
 */
export function resourcePolicy(
    c: Common & {
        readonly types: readonly string[] | ((type: string) => boolean);
        readonly validate: (args: ResourceValidationArgs, report: ReportViolation) => void;
    },
): PackResourcePolicy {
    const applies = typeof c.types === "function" ? c.types : (t: string) => (c.types as readonly string[]).includes(t);
    return {
        ...base(c),
        validateResource: (args, report) => {
            if (!applies(args.type)) {
                args.notApplicable(`applies only to ${typeof c.types === "function" ? "selected types" : c.types.join(", ")}`);
            }
            c.validate(args, report);
        },
    };
}

export function stackPolicy(
    c: Common & { readonly validate: (args: StackValidationArgs, report: ReportViolation) => void },
): PackStackPolicy {
    return { ...base(c), validateStack: c.validate };
}

export function isStackPolicy(p: PackPolicy): p is PackStackPolicy {
    return "validateStack" in p && typeof p.validateStack === "function";
}

/** The policy's config with its schema defaults filled in; the engine does not always apply them. */
export function configOf<T extends object>(args: { getConfig<U extends object>(): U }, defaults: T): T {
    const given = (args.getConfig<Partial<T>>() ?? {}) as Partial<T>;
    const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
    for (const [k, v] of Object.entries(given)) if (v !== undefined) merged[k] = v;
    return merged as T;
}
