import type {
    EnforcementLevel,
    PolicyResource,
    PolicyProviderResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
} from "@pulumi/policy";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { allPolicies } from "./policies";
import { isStackPolicy, type PackPolicy } from "./core/policy";

/** One record of the offline plan's resources.json. */
export interface PlanResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly parent: string | null;
    readonly props: Record<string, any>;
    /** The `customTimeouts` option as the plan records it (`"30m"`, `"90s"`, `"1h"`). */
    readonly customTimeouts?: { readonly create?: string; readonly update?: string; readonly delete?: string };
}

export interface Violation {
    readonly policy: string;
    readonly urn: string;
    readonly enforcement: "mandatory" | "advisory";
    readonly message: string;
}

export interface PolicyReport {
    readonly policies: number;
    readonly violations: Violation[];
}

/**
 * Pack configuration in the format `pulumi preview --policy-pack-config` takes:
 * `{ "all"?: level, "<policy>"?: level | { enforcementLevel?, ...settings } }`.
 */
export type PackConfig = Record<string, unknown>;

class NotApplicable extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "not applicable");
    }
}

const OPTS: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

/** A Go duration as Pulumi's customTimeouts take them (`30m`, `1h30m`, `90s`) → seconds; 0 when unset. */
function goDurationSeconds(v: string | undefined): number {
    if (!v) return 0;
    let total = 0;
    for (const m of v.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)) total += Number(m[1]) * (m[2] === "h" ? 3600 : m[2] === "m" ? 60 : 1);
    return total;
}

/** The options the engine passes a policy, from a plan record. */
function optsOf(r: PlanResource): PolicyResourceOptions {
    const t = r.customTimeouts;
    return {
        ...OPTS,
        ...(r.parent ? { parent: r.parent } : {}),
        ...(t ? { customTimeouts: { createSeconds: goDurationSeconds(t.create), updateSeconds: goDurationSeconds(t.update), deleteSeconds: goDurationSeconds(t.delete) } } : {}),
    };
}

function isTypeOf(type: string, resourceClass: unknown): boolean {
    const cls = resourceClass as { __pulumiType?: unknown; isInstance?: (o: unknown) => boolean };
    if (typeof cls?.__pulumiType === "string" && cls.__pulumiType !== "") return cls.__pulumiType === type;
    return typeof cls?.isInstance === "function" && cls.isInstance({ __pulumiType: type }) === true;
}

function policySettings(config: PackConfig, name: string): { level?: EnforcementLevel; settings: Record<string, unknown> } {
    const all = config["all"];
    const own = config[name];
    let level: EnforcementLevel | undefined = typeof all === "string" ? (all as EnforcementLevel) : (all as { enforcementLevel?: EnforcementLevel } | undefined)?.enforcementLevel;
    let settings: Record<string, unknown> = {};
    if (typeof own === "string") level = own as EnforcementLevel;
    else if (own && typeof own === "object") {
        const { enforcementLevel, ...rest } = own as Record<string, unknown>;
        if (typeof enforcementLevel === "string") level = enforcementLevel as EnforcementLevel;
        settings = rest;
    }
    return { level, settings };
}

function throwNotApplicable(reason?: string): never {
    throw new NotApplicable(reason);
}

/**
 * Provider inputs reach the engine as strings for nested values (e.g. `defaultTags`); the policy server hands
 * them to policies the same way, so only top-level JSON strings are decoded here, as policies expect objects.
 */
function providerProps(props: Record<string, any>): Record<string, any> {
    const out: Record<string, any> = {};
    for (const [k, v] of Object.entries(props ?? {})) {
        if (typeof v === "string" && /^[[{]/.test(v)) {
            try {
                out[k] = JSON.parse(v);
                continue;
            } catch {
                // not JSON after all; keep the string
            }
        }
        out[k] = v;
    }
    return out;
}

/**
 * The plan does not record which provider each resource uses; when a package has exactly one explicit
 * provider in the stack, that is the one its resources use (the program's convention), as the engine would report.
 */
function providersByPackage(records: readonly PlanResource[]): Map<string, PolicyProviderResource> {
    const byPkg = new Map<string, PlanResource[]>();
    for (const r of records) {
        const m = /^pulumi:providers:(.+)$/.exec(r.type);
        if (m) byPkg.set(m[1], [...(byPkg.get(m[1]) ?? []), r]);
    }
    const out = new Map<string, PolicyProviderResource>();
    for (const [pkg, list] of byPkg) {
        if (list.length === 1) out.set(pkg, { type: list[0].type, name: list[0].name, urn: list[0].urn, props: providerProps(plainProps(list[0].props)) });
    }
    return out;
}

/**
 * Secrets reach policies as their plain values: the policy server unwraps the engine's secret envelopes
 * (`{ [specialSigKey]: specialSecretSig, value }`) before calling validators, and so does this.
 */
export function plainProps(v: any): any {
    if (Array.isArray(v)) return v.map(plainProps);
    if (v === null || typeof v !== "object") return v;
    if (v[specialSigKey] === specialSecretSig) return plainProps(v.value);
    const out: Record<string, any> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plainProps(x);
    return out;
}

export function resourceArgs(r: PlanResource, settings: Record<string, unknown>, provider?: PolicyProviderResource): ResourceValidationArgs {
    const props = plainProps(r.props ?? {});
    return {
        ...(provider ? { provider } : {}),
        type: r.type,
        props,
        urn: r.urn,
        name: r.name,
        opts: optsOf(r),
        stackTags: new Map(),
        isType: (cls) => isTypeOf(r.type, cls),
        asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => ({ ...settings }) as T,
        notApplicable: throwNotApplicable,
    };
}

export function stackResources(records: readonly PlanResource[]): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    const out = records.map((r) => {
        const props = plainProps(r.props ?? {});
        const res: PolicyResource = {
            type: r.type,
            props,
            urn: r.urn,
            name: r.name,
            opts: optsOf(r),
            dependencies: [],
            propertyDependencies: {},
            isType: (cls) => isTypeOf(r.type, cls),
            asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource["asType"],
        };
        byUrn.set(r.urn, res);
        return res;
    });
    records.forEach((r, i) => {
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (parent) (out[i] as { parent?: PolicyResource }).parent = parent;
    });
    return out;
}

export function stackArgs(resources: PolicyResource[], settings: Record<string, unknown>): StackValidationArgs {
    return {
        resources,
        stackTags: new Map(),
        getConfig: <T extends object>() => ({ ...settings }) as T,
        notApplicable: throwNotApplicable,
    };
}

/**
 * Runs the pack's own validators over a plan's records, building the same argument objects the
 * policy server builds from the engine's requests.
 */
export function evaluatePlan(
    resources: readonly PlanResource[],
    options: { config?: PackConfig; policies?: readonly PackPolicy[] } = {},
): PolicyReport {
    const config = options.config ?? {};
    const policies = options.policies ?? allPolicies;
    const violations: Violation[] = [];
    let stack: PolicyResource[] | undefined;
    const stackUrn = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? "(stack)";
    const providers = providersByPackage(resources);
    const providerOf = (r: PlanResource) => providers.get(r.type.split(":")[0]);
    for (const p of policies) {
        const { level, settings } = policySettings(config, p.name);
        const effective = level ?? p.enforcementLevel;
        if (effective === "disabled") continue;
        const enforcement = effective === "advisory" ? "advisory" : "mandatory";
        // A resource policy's violation always belongs to the resource under validation, as in the engine.
        const run = (urn: string, fn: (report: ReportViolation) => void, urnFromReport: boolean) => {
            try {
                fn((message, violationUrn) =>
                    violations.push({ policy: p.name, urn: (urnFromReport && violationUrn) || urn, enforcement, message }),
                );
            } catch (e) {
                if (e instanceof NotApplicable) return;
                throw new Error(`policy ${p.name} failed on ${urn || "the stack"}: ${(e as Error).message}`);
            }
        };
        if (isStackPolicy(p)) {
            stack ??= stackResources(resources);
            const args = stackArgs(stack, settings);
            run(stackUrn, (report) => p.validateStack(args, report), true);
        } else {
            for (const r of resources) {
                run(r.urn, (report) => p.validateResource(resourceArgs(r, settings, providerOf(r)), report), false);
            }
        }
    }
    return { policies: policies.length, violations };
}
