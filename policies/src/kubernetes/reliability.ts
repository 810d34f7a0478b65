import type { PolicyResource } from "@pulumi/policy";
import { arr, durationSeconds, LONG_RUNNING_TYPES, namespaceOf, objectName, podTemplate, selects, serviceName, T, WORKLOAD_TYPES, type Obj } from "../core/k8s";
import { configOf, resourcePolicy, stackPolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";
import { workloadView } from "./common";

export const resourceRequestsLimits = resourcePolicy({
    name: "k8s-cpu-memory-requests-limits",
    summary: "Every container must set CPU and memory requests and limits.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "kube-score container-resources; Checkov CKV_K8S_10/11/12/13; Polaris cpuRequestsMissing/memoryLimitsMissing",
        why: "Requests drive scheduling and KEDA/HPA utilisation targets; limits stop one runaway job from starving its neighbours; the namespace ResourceQuota rejects pods without them.",
    },
    fix: "Set resources.requests and resources.limits for cpu and memory on every container.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            const missing: string[] = [];
            for (const kind of ["requests", "limits"] as const) {
                for (const res of ["cpu", "memory"]) {
                    const v = c.resources?.[kind]?.[res];
                    if (v === undefined || v === null || v === "") missing.push(`${kind}.${res}`);
                }
            }
            if (missing.length > 0) report(`${w.what}: ${label} has no ${missing.join(", ")}.`);
        }
    },
});

export const ephemeralStorage = resourcePolicy({
    name: "k8s-ephemeral-storage-limits",
    summary: "Every container should request and limit ephemeral-storage.",
    enforcement: "advisory",
    meta: {
        area: "kubernetes-workloads",
        source: "kube-score container-ephemeral-storage-request-and-limit",
        why: "Media jobs write large scratch files; without a limit one job can fill the node disk and get every pod on it evicted. Advisory because some node images do not account ephemeral storage.",
    },
    fix: "Set resources.requests and resources.limits for ephemeral-storage.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            for (const kind of ["requests", "limits"] as const) {
                if (c.resources?.[kind]?.["ephemeral-storage"] === undefined) report(`${w.what}: ${label} has no ${kind}.ephemeral-storage.`);
            }
        }
    },
});

export const probesPresent = resourcePolicy({
    name: "k8s-probes-present",
    summary: "Every long-running container must define liveness and readiness probes.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "kube-score pod-probes; Polaris livenessProbeMissing/readinessProbeMissing; Checkov CKV_K8S_8/9",
        why: "Without readiness a pod receives work before it can take it; without liveness a wedged worker holds its jobs forever.",
    },
    fix: "Add livenessProbe and readinessProbe to every container (e.g. /healthz and /readyz on the metrics port).",
    types: LONG_RUNNING_TYPES,
    validate: (args, report) => {
        const w = workloadView(args, false);
        for (const { c, label } of w.containers) {
            if (!c.livenessProbe) report(`${w.what}: ${label} has no livenessProbe.`);
            if (!c.readinessProbe) report(`${w.what}: ${label} has no readinessProbe.`);
        }
    },
});

/** Timing fields differ legitimately between the two probes; what must differ is what they check. */
const PROBE_TIMING = new Set(["initialDelaySeconds", "periodSeconds", "timeoutSeconds", "successThreshold", "failureThreshold", "terminationGracePeriodSeconds"]);

function canonical(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(canonical);
    if (v === null || typeof v !== "object") return v;
    return Object.fromEntries(Object.keys(v as Obj).sort().map((k) => [k, canonical((v as Obj)[k])]));
}

function probeTarget(p: Obj): string {
    return JSON.stringify(canonical(Object.fromEntries(Object.entries(p).filter(([k]) => !PROBE_TIMING.has(k)))));
}

export const probesDistinct = resourcePolicy({
    name: "k8s-probes-not-identical",
    summary: "A container's liveness probe must not check the same endpoint as its readiness probe.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "kube-score pod-probes (identical probes)",
        why: "When both probes hit the same check, a dependency outage (the database) fails liveness too and Kubernetes restarts every replica at once.",
    },
    fix: "Point livenessProbe at a process-only check (/healthz) and readinessProbe at the dependency-aware one (/readyz).",
    types: LONG_RUNNING_TYPES,
    validate: (args, report) => {
        const w = workloadView(args, false);
        for (const { c, label } of w.containers) {
            if (c.livenessProbe && c.readinessProbe && probeTarget(c.livenessProbe) === probeTarget(c.readinessProbe)) {
                report(`${w.what}: ${label} has identical liveness and readiness probes.`);
            }
        }
    },
});

const DIGEST = /@sha256:[a-f0-9]{64}$/;

export const imageDigest = resourcePolicy({
    name: "k8s-image-pinned-by-digest",
    summary: "Every container image must be referenced by digest (repo@sha256:...).",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "Checkov CKV_K8S_43; SLSA / Sigstore guidance on immutable references",
        why: "A tag can be moved after review; a digest is the exact image that was built, scanned and approved.",
    },
    fix: "Deploy the image the build produced by its digest (repo@sha256:...), e.g. the docker-build Image's ref output.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            if (typeof c.image !== "string" || !DIGEST.test(c.image)) report(`${w.what}: ${label} image "${c.image ?? ""}" is not pinned by digest.`);
        }
    },
});

export const noLatestTag = resourcePolicy({
    name: "k8s-no-latest-tag",
    summary: "No container image may use the latest tag or no tag at all.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "Checkov CKV_K8S_14; kube-score container-image-tag; Polaris tagNotSpecified",
        why: "latest changes under a running Deployment; nodes then run different code for the same spec and rollbacks restore nothing.",
    },
    fix: "Replace :latest with the build's digest.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            const image = typeof c.image === "string" ? c.image : "";
            const withoutDigest = image.split("@")[0];
            const lastSegment = withoutDigest.split("/").pop() ?? "";
            const tag = lastSegment.includes(":") ? lastSegment.split(":").pop() : undefined;
            if (tag === "latest" || (tag === undefined && !image.includes("@"))) report(`${w.what}: ${label} image "${image}" uses the latest tag.`);
        }
    },
});

/** Lowest replica count a workload can run at: the ScaledObject's minReplicaCount when KEDA scales it. */
export function minimumReplicas(d: PolicyResource, resources: readonly PolicyResource[]): { n: number; from: string } {
    const so = scaledObjectFor(d, resources);
    if (so) return { n: typeof so.props.spec?.minReplicaCount === "number" ? so.props.spec.minReplicaCount : 0, from: `ScaledObject ${objectName(so.props, so.name)} minReplicaCount` };
    const r = d.props.spec?.replicas;
    return { n: typeof r === "number" ? r : 1, from: "spec.replicas" };
}

export function scaledObjectFor(d: PolicyResource, resources: readonly PolicyResource[]): PolicyResource | undefined {
    const name = objectName(d.props, d.name);
    const ns = namespaceOf(d.props);
    return resources.find((r) => {
        if (r.type !== T.ScaledObject || namespaceOf(r.props) !== ns) return false;
        const ref = r.props.spec?.scaleTargetRef ?? {};
        return ref.name === name && (ref.kind === undefined || ref.kind === "Deployment");
    });
}

interface Shortfall {
    readonly service: string;
    readonly urn: string;
    readonly message: string;
}

/** SLO-backed workloads that can run below the minimum, by either their ScaledObject floor or spec.replicas. */
function sloShortfalls(resources: readonly PolicyResource[], sloServices: readonly string[], minReplicas: number): Shortfall[] {
    const out: Shortfall[] = [];
    for (const d of resources.filter((r) => r.type === T.Deployment || r.type === T.StatefulSet)) {
        const svc = serviceName(d.props, d.name);
        if (!sloServices.includes(svc) && !sloServices.includes(objectName(d.props, d.name))) continue;
        const { n, from } = minimumReplicas(d, resources);
        if (n < minReplicas) out.push({ service: svc, urn: d.urn, message: `${svc} has an SLO but can run at ${n} replica(s) (${from}); minimum is ${minReplicas}.` });
        const r = d.props.spec?.replicas;
        if (typeof r === "number" && r < minReplicas && !from.startsWith("spec")) {
            out.push({ service: svc, urn: d.urn, message: `${svc} has an SLO but spec.replicas is ${r}; minimum is ${minReplicas}.` });
        }
    }
    return out;
}

const SLO_KEYS = ["sloServices", "minReplicas", "acceptedBelowMinimum"] as const;
const sloDefaults = () => ({
    sloServices: DEFAULTS.sloServices as readonly string[],
    minReplicas: DEFAULTS.minReplicas as number,
    acceptedBelowMinimum: DEFAULTS.acceptedBelowMinimum as readonly string[],
});

export const sloMinReplicas = stackPolicy({
    name: "k8s-slo-min-replicas",
    summary: "Services with an SLO must never run fewer than the minimum replicas (default 2), counting KEDA's minReplicaCount; services whose shortfall is an accepted, recorded risk are reported by k8s-slo-accepted-below-minimum instead.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "kube-score deployment-replicas; Google SRE workbook (no single points of failure for SLO-backed services)",
        why: "With one replica every node drain, eviction or crash is an outage that burns the SLO's error budget.",
    },
    fix: "Set spec.replicas and the ScaledObject's minReplicaCount to at least the minimum.",
    configSchema: schemaFor(SLO_KEYS),
    validate: (args, report) => {
        const cfg = configOf(args, sloDefaults());
        for (const s of sloShortfalls(args.resources, cfg.sloServices, cfg.minReplicas)) {
            if (!cfg.acceptedBelowMinimum.includes(s.service)) report(s.message, s.urn);
        }
    },
});

export const sloAcceptedBelowMinimum = stackPolicy({
    name: "k8s-slo-accepted-below-minimum",
    summary: "SLO-backed services with a recorded exception (default: ai-inference, docs/decisions.md #4) are still reported when they can run below the minimum replicas.",
    enforcement: "advisory",
    meta: {
        area: "kubernetes-workloads",
        source: "kube-score deployment-replicas; docs/decisions.md #4 (single GPU replica accepted against the 99.5 % SLO's 216 min/month budget)",
        why: "The exception is a cost decision, not a fix: keeping it visible in every report stops it from being forgotten when the SLO or the budget changes. Advisory because the risk is accepted.",
    },
    fix: "Raise the ScaledObject's minReplicaCount to the minimum, or keep the exception recorded in docs/decisions.md.",
    configSchema: schemaFor(SLO_KEYS),
    validate: (args, report) => {
        const cfg = configOf(args, sloDefaults());
        for (const s of sloShortfalls(args.resources, cfg.sloServices, cfg.minReplicas)) {
            if (cfg.acceptedBelowMinimum.includes(s.service)) report(`${s.message} Accepted exception; see docs/decisions.md.`, s.urn);
        }
    },
});

function pdbsFor(d: PolicyResource, resources: readonly PolicyResource[]): PolicyResource[] {
    const labels = podTemplate(d.type, d.props)?.metadata.labels;
    const ns = namespaceOf(d.props);
    return resources.filter((r) => r.type === T.PDB && namespaceOf(r.props) === ns && selects(r.props.spec?.selector, labels));
}

export const pdbRequired = stackPolicy({
    name: "k8s-pdb-required",
    summary: "Every Deployment and StatefulSet must be covered by a PodDisruptionBudget selecting its pods.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "kube-score deployment-has-poddisruptionbudget / statefulset-has-poddisruptionbudget; Polaris missingPodDisruptionBudget",
        why: "Node upgrades (GKE auto-upgrade, EKS AMI rolls) drain nodes; without a PDB every replica can be evicted at once.",
    },
    fix: "Create a PodDisruptionBudget in the same namespace whose selector matches the pod template labels.",
    validate: (args, report) => {
        for (const d of args.resources.filter((r) => r.type === T.Deployment || r.type === T.StatefulSet)) {
            if (pdbsFor(d, args.resources).length === 0) report(`${d.type.split(":").pop()} ${namespaceOf(d.props)}/${objectName(d.props, d.name)} has no PodDisruptionBudget.`, d.urn);
        }
    },
});

function percent(v: unknown): number | undefined {
    if (typeof v !== "string" || !v.endsWith("%")) return undefined;
    return Number(v.slice(0, -1));
}

export const pdbAllowsDisruption = stackPolicy({
    name: "k8s-pdb-allows-disruption",
    summary: "A PodDisruptionBudget must allow at least one pod to be evicted at the workload's minimum replica count.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "kube-score poddisruptionbudget-has-policy; GKE / EKS node upgrade guidance (PDBs that allow no disruption block upgrades)",
        why: "A budget of zero blocks node drains forever: security patches and auto-upgrades stall until someone deletes the PDB by hand.",
    },
    fix: "Use maxUnavailable: 1 (or a minAvailable below the minimum replica count).",
    validate: (args, report) => {
        const workloads = args.resources.filter((r) => r.type === T.Deployment || r.type === T.StatefulSet);
        for (const pdb of args.resources.filter((r) => r.type === T.PDB)) {
            const spec = pdb.props.spec ?? {};
            const label = `PodDisruptionBudget ${namespaceOf(pdb.props)}/${objectName(pdb.props, pdb.name)}`;
            if (spec.maxUnavailable === 0 || spec.maxUnavailable === "0" || percent(spec.maxUnavailable) === 0) {
                report(`${label} has maxUnavailable 0, so no pod can ever be evicted.`, pdb.urn);
                continue;
            }
            if (percent(spec.minAvailable) === 100) {
                report(`${label} has minAvailable 100%, so no pod can ever be evicted.`, pdb.urn);
                continue;
            }
            if (typeof spec.minAvailable === "number") {
                for (const d of workloads.filter((w) => pdbsFor(w, args.resources).includes(pdb))) {
                    const { n, from } = minimumReplicas(d, args.resources);
                    if (spec.minAvailable >= n) {
                        report(`${label} requires minAvailable ${spec.minAvailable} but ${objectName(d.props, d.name)} can run at ${n} replica(s) (${from}); no eviction would be allowed.`, pdb.urn);
                    }
                }
            }
        }
    },
});

function envValue(c: Obj, name: string): unknown {
    return arr(c.env).find((e) => e?.name === name)?.value;
}

export const terminationGrace = resourcePolicy({
    name: "k8s-termination-grace-covers-job-timeout",
    summary: "terminationGracePeriodSeconds must be at least the longest JOB_TIMEOUT of the pod's containers.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "Kubernetes pod lifecycle (graceful termination); KEDA guidance for long-running executions",
        why: "On scale-in or drain the kubelet kills the worker after the grace period; a shorter grace than the job timeout kills jobs mid-run and they are retried from scratch.",
    },
    fix: "Set spec.template.spec.terminationGracePeriodSeconds to at least JOB_TIMEOUT (plus the shutdown margin).",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args, false);
        const timeouts = w.containers
            .map(({ c }) => durationSeconds(envValue(c, "JOB_TIMEOUT")))
            .filter((t): t is number => t !== undefined);
        if (timeouts.length === 0) args.notApplicable("no container sets JOB_TIMEOUT");
        const longest = Math.max(...timeouts);
        const grace = typeof w.pod.terminationGracePeriodSeconds === "number" ? w.pod.terminationGracePeriodSeconds : 30;
        if (grace < longest) report(`${w.what}: terminationGracePeriodSeconds ${grace} is shorter than JOB_TIMEOUT ${longest}s.`);
    },
});
