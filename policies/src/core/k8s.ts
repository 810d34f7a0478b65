/* Shapes of Kubernetes objects as programs pass them to @pulumi/kubernetes. */
export type Obj = Record<string, any>;

export const T = {
    Deployment: "kubernetes:apps/v1:Deployment",
    StatefulSet: "kubernetes:apps/v1:StatefulSet",
    DaemonSet: "kubernetes:apps/v1:DaemonSet",
    ReplicaSet: "kubernetes:apps/v1:ReplicaSet",
    Job: "kubernetes:batch/v1:Job",
    CronJob: "kubernetes:batch/v1:CronJob",
    Pod: "kubernetes:core/v1:Pod",
    Namespace: "kubernetes:core/v1:Namespace",
    Service: "kubernetes:core/v1:Service",
    ServiceAccount: "kubernetes:core/v1:ServiceAccount",
    ResourceQuota: "kubernetes:core/v1:ResourceQuota",
    PDB: "kubernetes:policy/v1:PodDisruptionBudget",
    NetworkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    HelmRelease: "kubernetes:helm.sh/v3:Release",
    HelmChart: "kubernetes:helm.sh/v4:Chart",
    ScaledObject: "kubernetes:keda.sh/v1alpha1:ScaledObject",
    PrometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
} as const;

export const WORKLOAD_TYPES: readonly string[] = [T.Deployment, T.StatefulSet, T.DaemonSet, T.ReplicaSet, T.Job, T.CronJob, T.Pod];
/** Workloads that run continuously and therefore need probes, replicas and disruption budgets. */
export const LONG_RUNNING_TYPES: readonly string[] = [T.Deployment, T.StatefulSet, T.DaemonSet, T.ReplicaSet, T.Pod];

export function isWorkload(type: string): boolean {
    return WORKLOAD_TYPES.includes(type);
}

export function podTemplate(type: string, props: Obj): { metadata: Obj; spec: Obj } | undefined {
    if (type === T.Pod) return { metadata: props.metadata ?? {}, spec: props.spec ?? {} };
    const tpl = type === T.CronJob ? props.spec?.jobTemplate?.spec?.template : props.spec?.template;
    if (!tpl) return undefined;
    return { metadata: tpl.metadata ?? {}, spec: tpl.spec ?? {} };
}

export function podSpec(type: string, props: Obj): Obj | undefined {
    return podTemplate(type, props)?.spec;
}

export interface ContainerRef {
    readonly kind: "container" | "initContainer" | "ephemeralContainer";
    readonly c: Obj;
    readonly label: string;
}

export function containersOf(spec: Obj | undefined, includeInit = true): ContainerRef[] {
    if (!spec) return [];
    const out: ContainerRef[] = [];
    for (const c of arr(spec.containers)) out.push({ kind: "container", c, label: `container "${c?.name ?? "?"}"` });
    if (includeInit) {
        for (const c of arr(spec.initContainers)) out.push({ kind: "initContainer", c, label: `init container "${c?.name ?? "?"}"` });
        for (const c of arr(spec.ephemeralContainers)) out.push({ kind: "ephemeralContainer", c, label: `ephemeral container "${c?.name ?? "?"}"` });
    }
    return out;
}

export function arr<E = any>(v: unknown): E[] {
    return Array.isArray(v) ? (v as E[]) : [];
}

export function objectName(props: Obj, resourceName: string): string {
    const n = props?.metadata?.name;
    return typeof n === "string" && n.length > 0 ? n : resourceName;
}

/** A Helm release's chart as the pins name it: an OCI chart is referenced by its full address, so its last segment. */
export function chartName(props: Obj): string {
    return String(props.chart ?? "").split("/").pop() ?? "";
}

export function namespaceOf(props: Obj): string {
    const ns = props?.metadata?.namespace;
    return typeof ns === "string" && ns.length > 0 ? ns : "default";
}

/** The name a workload is known by: its app.kubernetes.io/name label if set, else metadata.name, else the resource name. */
export function serviceName(props: Obj, resourceName: string): string {
    const label = props?.metadata?.labels?.["app.kubernetes.io/name"];
    return typeof label === "string" && label.length > 0 ? label : objectName(props, resourceName);
}

/** Does a label selector (matchLabels / matchExpressions, or a plain map as Services use) select these labels? */
export function selects(selector: Obj | undefined, labels: Obj | undefined): boolean {
    if (!selector) return false;
    const l = labels ?? {};
    const hasStructured = "matchLabels" in selector || "matchExpressions" in selector;
    const matchLabels: Obj = hasStructured ? selector.matchLabels ?? {} : selector;
    for (const [k, v] of Object.entries(matchLabels)) if (l[k] !== v) return false;
    for (const e of arr(selector.matchExpressions)) {
        const has = Object.prototype.hasOwnProperty.call(l, e.key);
        const vals = arr<string>(e.values);
        switch (e.operator) {
            case "In": if (!has || !vals.includes(l[e.key])) return false; break;
            case "NotIn": if (has && vals.includes(l[e.key])) return false; break;
            case "Exists": if (!has) return false; break;
            case "DoesNotExist": if (has) return false; break;
            default: return false;
        }
    }
    return true;
}

export function isEmptySelector(selector: Obj | undefined): boolean {
    if (!selector) return true;
    return Object.keys(selector.matchLabels ?? {}).length === 0 && arr(selector.matchExpressions).length === 0;
}

/** Effective security context value: the container's setting wins over the pod's. */
export function effective<K extends string>(pod: Obj, c: Obj, key: K): unknown {
    const cv = c?.securityContext?.[key];
    return cv !== undefined ? cv : pod?.securityContext?.[key];
}

/** Seconds from a Kubernetes-ish duration: 600, "600", "600s", "10m", "1h30m". */
export function durationSeconds(v: unknown): number | undefined {
    if (typeof v === "number" && Number.isFinite(v)) return v;
    if (typeof v !== "string") return undefined;
    const s = v.trim();
    if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
    const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
    let total = 0;
    let consumed = 0;
    for (let m = re.exec(s); m; m = re.exec(s)) {
        const n = Number(m[1]);
        total += m[2] === "h" ? n * 3600 : m[2] === "m" ? n * 60 : m[2] === "s" ? n : n / 1000;
        consumed += m[0].length;
    }
    return consumed === s.length && consumed > 0 ? total : undefined;
}

const SUFFIX: Record<string, number> = {
    n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes resource quantity ("500m", "2", "1.5Gi", "200G") as a plain number, or undefined if malformed. */
export function quantity(v: unknown): number | undefined {
    if (typeof v === "number" && Number.isFinite(v)) return v;
    if (typeof v !== "string") return undefined;
    const m = /^([+-]?\d+(?:\.\d+)?)(?:e([+-]?\d+))?(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(v.trim());
    if (!m) return undefined;
    return Number(m[1]) * (m[2] ? 10 ** Number(m[2]) : 1) * SUFFIX[m[3] ?? ""];
}
