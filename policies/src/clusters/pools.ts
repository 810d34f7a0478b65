import { arr, isWorkload, namespaceOf, objectName, podSpec, T, type Obj } from "../core/k8s";
import { resourcePolicy, stackPolicy } from "../core/policy";
import { GKE_POOL } from "./gke";
import { EKS_NODEGROUP } from "./eks";

export interface Taint {
    readonly key: string;
    readonly value?: string;
    readonly effect: string;
}

export interface Pool {
    readonly name: string;
    readonly labels: Record<string, string>;
    readonly taints: Taint[];
    readonly gpu: boolean;
    readonly spot: boolean;
    readonly sandbox: boolean;
}

const EFFECTS: Record<string, string> = { NO_SCHEDULE: "NoSchedule", PREFER_NO_SCHEDULE: "PreferNoSchedule", NO_EXECUTE: "NoExecute" };

function taint(t: Obj): Taint {
    return { key: String(t.key), value: t.value === undefined ? undefined : String(t.value), effect: EFFECTS[t.effect] ?? String(t.effect) };
}

/** A node pool as the scheduler sees it: the labels its nodes carry and the taints they repel with, including those the cloud adds itself. */
export function poolOf(r: { type: string; name: string; props: Obj }): Pool | undefined {
    const p = r.props;
    if (r.type === GKE_POOL) {
        const nc = p.nodeConfig ?? {};
        const name = String(p.name ?? r.name);
        const gpu = arr(nc.guestAccelerators).length > 0;
        const spot = nc.spot === true || nc.preemptible === true;
        const sandbox = nc.sandboxConfig?.sandboxType === "gvisor" || nc.sandboxConfig?.type === "GVISOR";
        const labels: Record<string, string> = { ...(nc.labels ?? {}), "cloud.google.com/gke-nodepool": name };
        if (spot) labels["cloud.google.com/gke-spot"] = "true";
        const taints = arr<Obj>(nc.taints).map(taint);
        // GKE taints GPU and sandbox nodes on its own.
        if (gpu && !taints.some((t) => t.key === "nvidia.com/gpu")) taints.push({ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" });
        if (sandbox) {
            labels["sandbox.gke.io/runtime"] = "gvisor";
            if (!taints.some((t) => t.key === "sandbox.gke.io/runtime")) taints.push({ key: "sandbox.gke.io/runtime", value: "gvisor", effect: "NoSchedule" });
        }
        return { name, labels, taints, gpu, spot, sandbox };
    }
    if (r.type === EKS_NODEGROUP) {
        const name = String(p.nodeGroupName ?? r.name);
        const ami = String(p.amiType ?? "");
        const gpu = /GPU|NVIDIA/i.test(ami) || arr<string>(p.instanceTypes).some((i) => /^(g\d|p\d)/.test(i));
        const spot = p.capacityType === "SPOT";
        const labels: Record<string, string> = { ...(p.labels ?? {}), "eks.amazonaws.com/nodegroup": name, "eks.amazonaws.com/capacityType": spot ? "SPOT" : "ON_DEMAND" };
        const sandbox = /sandbox/i.test(name) || Object.values(labels).some((v) => /sandbox/i.test(v));
        return { name, labels, taints: arr<Obj>(p.taints).map(taint), gpu, spot, sandbox };
    }
    return undefined;
}

export function repels(t: Taint): boolean {
    return t.effect === "NoSchedule" || t.effect === "NoExecute";
}

export const specialPoolsTainted = resourcePolicy({
    name: "node-pool-special-pools-tainted",
    summary: "GPU, spot and sandbox node pools must carry a NoSchedule (or NoExecute) taint.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: "GKE docs (GPU and Spot VM node taints, GKE Sandbox); EKS Best Practices (cost optimisation, GPU nodes); Kubernetes taints and tolerations",
        why: "Without a taint any pod lands on a GPU node (blocking GPU jobs, wasting money), on spot nodes (evicted mid-job) or beside untrusted code on the sandbox pool.",
    },
    fix: "Add nodeConfig.taints (GKE) / taints (EKS) with effect NO_SCHEDULE, e.g. pitchey.io/pool=gpu.",
    types: [GKE_POOL, EKS_NODEGROUP],
    validate: (args, report) => {
        const pool = poolOf(args);
        if (!pool || (!pool.gpu && !pool.spot && !pool.sandbox)) return args.notApplicable("general-purpose pool");
        const kinds = [pool.gpu && "GPU", pool.spot && "spot", pool.sandbox && "sandbox"].filter(Boolean).join("/");
        if (!pool.taints.some(repels)) report(`${kinds} node pool ${pool.name} has no NoSchedule taint.`);
    },
});

function tolerates(tol: Obj, t: Taint): boolean {
    const op = tol.operator ?? "Equal";
    if (tol.effect && tol.effect !== t.effect) return false;
    if (!tol.key) return op === "Exists";
    if (tol.key !== t.key) return false;
    return op === "Exists" || String(tol.value ?? "") === String(t.value ?? "");
}

function matchesExpr(labels: Record<string, string>, e: Obj): boolean {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const vals = arr<string>(e.values);
    switch (e.operator) {
        case "In": return has && vals.includes(labels[e.key]);
        case "NotIn": return !has || !vals.includes(labels[e.key]);
        case "Exists": return has;
        case "DoesNotExist": return !has;
        default: return false;
    }
}

/** The pools a pod's nodeSelector and required node affinity allow, or undefined when it constrains nothing pool-specific. */
export function targetedPools(pod: Obj, pools: Pool[]): Pool[] | undefined {
    const sel: Record<string, string> = pod.nodeSelector ?? {};
    const terms = arr<Obj>(pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms);
    if (Object.keys(sel).length === 0 && terms.length === 0) return undefined;
    const poolKeys = new Set(pools.flatMap((p) => Object.keys(p.labels)));
    const constrainsPools = Object.keys(sel).some((k) => poolKeys.has(k)) || terms.some((t) => arr<Obj>(t.matchExpressions).some((e) => poolKeys.has(e.key)));
    if (!constrainsPools) return undefined;
    return pools.filter((p) =>
        Object.entries(sel).every(([k, v]) => p.labels[k] === v) &&
        (terms.length === 0 || terms.some((t) => arr<Obj>(t.matchExpressions).every((e) => matchesExpr(p.labels, e)))),
    );
}

export const RUNTIME_CLASS = "kubernetes:node.k8s.io/v1:RuntimeClass";

/** The RuntimeClass admission controller merges the class's scheduling nodeSelector and tolerations into the pod. */
function withRuntimeClassScheduling(pod: Obj, classes: readonly { props: Obj; name: string }[]): Obj {
    if (!pod.runtimeClassName) return pod;
    const rc = classes.find((c) => objectName(c.props, c.name) === pod.runtimeClassName);
    const sched = rc?.props.scheduling;
    if (!sched) return pod;
    return {
        ...pod,
        nodeSelector: { ...(sched.nodeSelector ?? {}), ...(pod.nodeSelector ?? {}) },
        tolerations: [...arr(pod.tolerations), ...arr(sched.tolerations)],
    };
}

export const workloadToleratesPool = stackPolicy({
    name: "workload-tolerates-exactly-its-pool-taints",
    summary: "A workload scheduled onto a tainted pool must tolerate that pool's taints, and tolerate no taint of a pool it is not scheduled onto.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: "Kubernetes taints and tolerations; GKE workload separation guide; EKS Best Practices (dedicated node groups)",
        why: "A missing toleration leaves the pods Pending; an extra one (or a blanket `operator: Exists`) lets ordinary pods spill onto GPU, spot or sandbox nodes.",
    },
    fix: "Give the pod spec exactly the tolerations of the pools its nodeSelector targets (key, value and effect), and nothing broader.",
    validate: (args, report) => {
        const pools = args.resources.map(poolOf).filter((p): p is Pool => p !== undefined);
        if (pools.length === 0) args.notApplicable("no node pools in the stack");
        const taintOwners = pools.flatMap((p) => p.taints.filter(repels).map((t) => ({ pool: p, t })));
        const runtimeClasses = args.resources.filter((r) => r.type === RUNTIME_CLASS);
        for (const w of args.resources.filter((r) => isWorkload(r.type) && r.type !== T.DaemonSet)) {
            const declared = podSpec(w.type, w.props);
            if (!declared) continue;
            const pod = withRuntimeClassScheduling(declared, runtimeClasses);
            const what = `${w.type.split(":").pop()} ${namespaceOf(w.props)}/${objectName(w.props, w.name)}`;
            const tols = arr<Obj>(pod.tolerations);
            const targeted = targetedPools(pod, pools) ?? pools.filter((p) => !p.taints.some(repels));
            for (const tol of tols) {
                if (!tol.key && (tol.operator ?? "Equal") === "Exists") {
                    report(`${what} tolerates every taint (operator Exists without a key).`, w.urn);
                    continue;
                }
                const foreign = taintOwners.filter(({ pool, t }) => tolerates(tol, t) && !targeted.includes(pool));
                if (foreign.length > 0 && !foreign.every(({ t }) => targeted.some((p) => p.taints.some((x) => x.key === t.key && x.value === t.value && x.effect === t.effect)))) {
                    report(`${what} tolerates ${tol.key}${tol.value ? `=${tol.value}` : ""} of pool ${foreign[0].pool.name}, which it is not scheduled onto.`, w.urn);
                }
            }
            for (const p of targeted) {
                const untolerated = p.taints.filter(repels).filter((t) => !tols.some((tol) => tolerates(tol, t)));
                if (untolerated.length > 0) report(`${what} is scheduled onto pool ${p.name} but does not tolerate ${untolerated.map((t) => `${t.key}=${t.value ?? ""}:${t.effect}`).join(", ")}.`, w.urn);
            }
        }
    },
});
