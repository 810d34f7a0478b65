import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../evaluate";
import { quantity } from "../core/k8s";
import { allPolicies } from "../policies";
import { notPrivileged } from "../kubernetes/security";
import { awsRequiredTags } from "../cost/tags";
import { clone, compliantStack, container, find, res, run } from "./util";

function privilegedStack() {
    const s = compliantStack();
    container(find(s, "video-processor")).securityContext.privileged = true;
    return s;
}

describe("evaluatePlan", () => {
    it("reports a violation with policy, urn, enforcement and message", () => {
        const s = privilegedStack();
        const v = evaluatePlan(s).violations;
        expect(v).toEqual([
            { policy: "k8s-not-privileged", urn: find(s, "video-processor").urn, enforcement: "mandatory", message: expect.stringContaining("privileged") },
        ]);
    });

    it("counts every registered policy", () => {
        expect(evaluatePlan([]).policies).toBe(allPolicies.length);
    });

    it("honours per-policy enforcement overrides in pack-config format", () => {
        const s = privilegedStack();
        expect(evaluatePlan(s, { config: { "k8s-not-privileged": "advisory" } }).violations[0].enforcement).toBe("advisory");
        expect(evaluatePlan(s, { config: { "k8s-not-privileged": { enforcementLevel: "disabled" } } }).violations).toEqual([]);
        expect(evaluatePlan(s, { config: { all: "advisory" } }).violations[0].enforcement).toBe("advisory");
    });

    it("passes policy settings through getConfig, over the schema defaults", () => {
        const s = compliantStack();
        expect(run(awsRequiredTags, s, { "aws-required-tags": { requiredTags: ["Service", "Owner"] } }).length).toBeGreaterThan(0);
        expect(run(awsRequiredTags, s, { "aws-required-tags": { requiredTags: ["Service"] } })).toEqual([]);
    });

    it("gives resource validators isType/asType that match the Pulumi type token", () => {
        const seen: unknown[] = [];
        const probe = { ...notPrivileged, validateResource: (args: Parameters<typeof notPrivileged.validateResource>[0]) => {
            const cls = { __pulumiType: "kubernetes:apps/v1:Deployment" } as never;
            if (args.isType(cls)) seen.push(args.asType(cls));
            else expect(args.asType(cls)).toBeUndefined();
        } };
        const d = find(compliantStack(), "video-processor");
        evaluatePlan([d, res("aws:kms/key:Key", "k", {})], { policies: [probe] });
        expect(seen).toEqual([d.props]);
    });

    it("treats notApplicable as no violation and surfaces policy crashes with the resource", () => {
        const crash = { ...notPrivileged, validateResource: () => { throw new Error("boom"); } };
        const d = find(compliantStack(), "video-processor");
        expect(() => evaluatePlan([d], { policies: [crash] })).toThrow(/k8s-not-privileged failed on .*video-processor: boom/);
        expect(evaluatePlan([res("aws:kms/key:Key", "k", {})], { policies: [notPrivileged] }).violations).toEqual([]);
    });

    it("does not modify the records it evaluates", () => {
        const s = compliantStack();
        const before = clone(s);
        evaluatePlan(s);
        expect(s).toEqual(before);
    });
});

describe("accepted SLO exceptions", () => {
    it("reports ai-inference at one replica as advisory only, per the recorded decision", () => {
        const s = compliantStack();
        find(s, "ai-inference-scaler").props.spec.minReplicaCount = 1;
        const v = evaluatePlan(s).violations;
        expect(v.map((x) => [x.policy, x.enforcement])).toEqual([["k8s-slo-accepted-below-minimum", "advisory"]]);
    });
});

describe("secret values", () => {
    it("are unwrapped from the engine's secret envelope before validators see them, as the policy server does", () => {
        const s = compliantStack();
        container(find(s, "video-processor")).env.push({ name: "API_TOKEN", value: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "tok-123" } });
        const v = evaluatePlan(s).violations;
        expect(v.map((x) => x.policy)).toEqual(["k8s-no-literal-secret-env"]);
    });
});

describe("k8s-no-literal-secret-env", () => {
    it("does not mistake tuning knobs for credentials", () => {
        const s = compliantStack();
        container(find(s, "ai-inference")).env.push({ name: "MAX_TOKENS", value: "4096" }, { name: "TOKEN_BUCKET_RATE", value: "10" }, { name: "RESULTS_STORE_URL", value: "s3://pitchey-results/jobs" });
        expect(evaluatePlan(s).violations).toEqual([]);
    });
});

describe("quantity", () => {
    it("parses Kubernetes quantities", () => {
        expect([quantity("500m"), quantity("2"), quantity("1Gi"), quantity("200Gi"), quantity("1.5G"), quantity(3), quantity("12x")]).toEqual([0.5, 2, 2 ** 30, 200 * 2 ** 30, 1.5e9, 3, undefined]);
    });
});
