import { arr, isWorkload, namespaceOf, objectName, podTemplate, T, type Obj } from "../core/k8s";
import { stackPolicy } from "../core/policy";
import { EKS_CLUSTER } from "./eks";
import { GKE_CLUSTER } from "./gke";
import { poolOf, targetedPools, type Pool } from "./pools";

/** The cluster autoscaler's pod annotation: `"false"` keeps it from draining the pod's node to remove it. */
export const SAFE_TO_EVICT = "cluster-autoscaler.kubernetes.io/safe-to-evict";
/** GKE's autoscaler gives a pod at most 10 minutes on scale-down, and the figure cannot be changed. */
export const GKE_AUTOSCALER_MAX_GRACE_SECONDS = 600;
/** Upstream cluster-autoscaler's `--max-graceful-termination-sec` default. */
export const AUTOSCALER_DEFAULT_MAX_GRACE_SECONDS = 600;
export const COMPUTE_CLASS = "kubernetes:cloud.google.com/v1:ComputeClass";
const COMPUTE_CLASS_LABEL = "cloud.google.com/compute-class";

type Rec = { type: string; name: string; urn: string; props: Obj };

/** The cluster-autoscaler Helm release(s) of the stack (the upstream chart, by chart or release name). */
function autoscalerReleases(resources: readonly Rec[]): Rec[] {
    return resources.filter((r) => r.type === T.HelmRelease && /cluster-autoscaler/.test(String(r.props.chart ?? r.props.name ?? r.name)));
}

function expanders(release: Rec): string[] {
    return String(release.props.values?.extraArgs?.expander ?? "random").split(",").map((e) => e.trim());
}

/**
 * The longest grace the stack's cluster autoscaler honours on scale-down: GKE's fixed 600 s, or the EKS release's
 * `max-graceful-termination-sec`. With both clouds in one stack, the shorter wins.
 */
export function autoscalerGraceCap(resources: readonly Rec[]): number | undefined {
    const caps: number[] = [];
    if (resources.some((r) => r.type === GKE_CLUSTER)) caps.push(GKE_AUTOSCALER_MAX_GRACE_SECONDS);
    for (const r of autoscalerReleases(resources)) {
        const v = r.props.values?.extraArgs?.["max-graceful-termination-sec"];
        caps.push(v === undefined ? AUTOSCALER_DEFAULT_MAX_GRACE_SECONDS : Number(v));
    }
    return caps.length > 0 ? Math.min(...caps) : undefined;
}

function what(w: Rec): string {
    return `${w.type.split(":").pop()} ${namespaceOf(w.props)}/${objectName(w.props, w.name)}`;
}

export const graceWithinAutoscalerDrain = stackPolicy({
    name: "workload-grace-within-autoscaler-drain",
    summary: "A workload's terminationGracePeriodSeconds must not exceed what the cluster autoscaler honours when it drains a node, unless the pod opts out of its evictions.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: "cluster-autoscaler FAQ (graceful termination in scale-down, --max-graceful-termination-sec, safe-to-evict); GKE cluster autoscaler (10-minute limit)",
        why: "When the autoscaler removes a node it waits at most its own limit (600 s by default, fixed on GKE) and then deletes the node: a worker with a longer grace is killed with its job in flight, which is then retried from scratch after its lease expires.",
    },
    fix: "Raise the autoscaler's max-graceful-termination-sec to the longest grace (EKS), or annotate the pod template with cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\" (GKE, where the limit is fixed), or shorten the grace.",
    validate: (args, report) => {
        const resources = args.resources as unknown as Rec[];
        const cap = autoscalerGraceCap(resources);
        if (cap === undefined) args.notApplicable("no cluster autoscaler in the stack");
        for (const w of resources.filter((r) => isWorkload(r.type) && r.type !== T.DaemonSet && r.type !== T.Pod)) {
            const tpl = podTemplate(w.type, w.props);
            if (!tpl) continue;
            const grace = typeof tpl.spec.terminationGracePeriodSeconds === "number" ? tpl.spec.terminationGracePeriodSeconds : 30;
            if (grace <= cap! || tpl.metadata?.annotations?.[SAFE_TO_EVICT] === "false") continue;
            report(`${what(w)}: terminationGracePeriodSeconds ${grace} exceeds the ${cap} s the cluster autoscaler waits before deleting a node it drains.`, w.urn);
        }
    },
});

/** Pods whose required placement allows a spot and an on-demand pool, i.e. that only prefer spot. */
function spotPreferring(resources: readonly Rec[], pools: Pool[]): { w: Rec; pod: Obj; targeted: Pool[] }[] {
    const out: { w: Rec; pod: Obj; targeted: Pool[] }[] = [];
    for (const w of resources.filter((r) => isWorkload(r.type) && r.type !== T.DaemonSet)) {
        const pod = podTemplate(w.type, w.props)?.spec;
        if (!pod) continue;
        const withoutClass = { ...pod, nodeSelector: Object.fromEntries(Object.entries(pod.nodeSelector ?? {}).filter(([k]) => k !== COMPUTE_CLASS_LABEL)) };
        const targeted = targetedPools(withoutClass, pools) ?? [];
        if (targeted.some((p) => p.spot) && targeted.some((p) => !p.spot)) out.push({ w, pod, targeted });
    }
    return out;
}

/** A regular expression from the priority expander's ConfigMap, or one that matches nothing when it is not valid. */
function regex(source: unknown): RegExp {
    try {
        return new RegExp(String(source));
    } catch {
        return /$^/;
    }
}

export const spotPreferenceVisibleToAutoscaler = stackPolicy({
    name: "spot-preference-visible-to-autoscaler",
    summary: "A workload that may run on spot or on-demand nodes must have the cluster autoscaler add spot nodes first: a GKE ComputeClass ranking the spot pool first, or the EKS autoscaler's priority expander ranking the spot node group first.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: "cluster-autoscaler expanders (priority expander, cluster-autoscaler-priority-expander ConfigMap); GKE custom ComputeClasses (priorities, manually created node pools)",
        why: "A preferred node affinity only steers the scheduler among existing nodes. When pods are pending the autoscaler picks the node group itself; least-waste between equal spot and on-demand shapes adds on-demand nodes about half the time.",
    },
    fix: "GKE: select a ComputeClass (nodeSelector cloud.google.com/compute-class) whose first priority is the spot pool. EKS: run cluster-autoscaler with expander priority (e.g. priority,least-waste) and expanderPriorities ranking the spot node group's ASG (eks-<nodegroup>-<uuid>) highest.",
    validate: (args, report) => {
        const resources = args.resources as unknown as Rec[];
        const pools = resources.map((r) => poolOf(r)).filter((p): p is Pool => p !== undefined);
        const workloads = spotPreferring(resources, pools);
        if (workloads.length === 0) args.notApplicable("no workload may run on both spot and on-demand nodes");
        const gke = resources.some((r) => r.type === GKE_CLUSTER);
        const eks = resources.some((r) => r.type === EKS_CLUSTER);
        const classes = resources.filter((r) => r.type === COMPUTE_CLASS);
        const releases = autoscalerReleases(resources);
        for (const { w, pod, targeted } of workloads) {
            if (gke) {
                const className = pod.nodeSelector?.[COMPUTE_CLASS_LABEL];
                const cls = classes.find((c) => objectName(c.props, c.name) === className);
                const first = arr<string>(arr<Obj>(cls?.props.spec?.priorities)[0]?.nodepools);
                const spotPools = pools.filter((p) => p.spot).map((p) => p.name);
                if (!className) report(`${what(w)} prefers spot only by node affinity; GKE's autoscaler does not see it (select a spot-first ComputeClass).`, w.urn);
                else if (!cls) report(`${what(w)} selects ComputeClass ${className}, which the stack does not declare.`, w.urn);
                else if (first.length === 0 || !first.every((n) => spotPools.includes(n))) {
                    report(`${what(w)}: ComputeClass ${className} does not rank spot pools first (first priority: ${first.join(", ") || "none"}).`, w.urn);
                }
            }
            if (eks) {
                const ca = releases.find((r) => expanders(r)[0] === "priority");
                const priorities: Record<string, unknown> = ca?.props.values?.expanderPriorities ?? {};
                const ranks = Object.keys(priorities).map(Number).filter(Number.isFinite).sort((a, b) => b - a);
                const top = ranks.length > 0 ? arr(priorities[String(ranks[0])]).map(regex) : [];
                const asg = (p: Pool) => `eks-${p.name}-0a1b2c3d-4e5f-6789-abcd-ef0123456789`;
                const ranksSpot = targeted.filter((p) => p.spot).some((p) => top.some((r) => r.test(asg(p))));
                const ranksOnDemand = targeted.filter((p) => !p.spot).some((p) => top.some((r) => r.test(asg(p))));
                if (!ca) report(`${what(w)} prefers spot only by node affinity; the EKS cluster autoscaler's expander is not priority-first.`, w.urn);
                else if (!ranksSpot || ranksOnDemand) report(`${what(w)}: the priority expander does not rank the spot node group above the on-demand one it may fall back to.`, w.urn);
            }
        }
    },
});
