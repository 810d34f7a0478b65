import { chartName, containersOf, isWorkload, namespaceOf, objectName, podTemplate, quantity, T, type Obj } from "../core/k8s";
import { scaledObjectFor } from "../kubernetes/reliability";
import { configOf, resourcePolicy, stackPolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";
import { POD_LABEL_PATHS, valueAt } from "../../../components/charts/pod-labels";

/** AWS resources that accept `tags` and that this platform creates (settings resources such as BucketVersioning take none). */
export const AWS_TAGGABLE = [
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:ecr/repository:Repository",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:iam/role:Role",
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:secretsmanager/secret:Secret",
    "aws:sqs/queue:Queue",
    "aws:lb/loadBalancer:LoadBalancer",
];

/** GCP resources with cost labels, and where each keeps them. */
export const GCP_LABEL_PATHS: Record<string, (p: Obj) => Obj | undefined> = {
    "gcp:container/cluster:Cluster": (p) => p.resourceLabels,
    "gcp:container/nodePool:NodePool": (p) => p.nodeConfig?.resourceLabels,
    "gcp:storage/bucket:Bucket": (p) => p.labels,
    "gcp:artifactregistry/repository:Repository": (p) => p.labels,
    "gcp:kms/cryptoKey:CryptoKey": (p) => p.labels,
    "gcp:sql/databaseInstance:DatabaseInstance": (p) => p.settings?.userLabels,
    "gcp:compute/instance:Instance": (p) => p.labels,
};

const COST_SOURCE = "FinOps Foundation tagging guidance; AWS Tagging Best Practices; Google Cloud labels / GKE cost allocation";

/** Provider inputs may arrive JSON-encoded (the engine's encoding for nested provider config). */
function asObject(v: unknown): Obj {
    if (typeof v === "string") {
        try {
            const parsed = JSON.parse(v) as unknown;
            return typeof parsed === "object" && parsed !== null ? (parsed as Obj) : {};
        } catch {
            return {};
        }
    }
    return typeof v === "object" && v !== null ? (v as Obj) : {};
}

function missingKeys(have: Obj | undefined, required: readonly string[]): string[] {
    return required.filter((k) => typeof have?.[k] !== "string" || have[k] === "");
}

export const awsRequiredTags = resourcePolicy({
    name: "aws-required-tags",
    summary: "Taggable AWS resources must carry the Service, Environment and CostCenter tags (directly or through the provider's defaultTags).",
    enforcement: "mandatory",
    meta: {
        area: "cost",
        source: COST_SOURCE,
        why: "Cost reports and budgets are split by these tags; an untagged resource is spend nobody owns.",
    },
    fix: "Pass awsTags() from components/labels.ts as `tags` (or set defaultTags on the AWS provider).",
    configSchema: schemaFor(["requiredTags"]),
    types: AWS_TAGGABLE,
    validate: (args, report) => {
        const cfg = configOf(args, { requiredTags: DEFAULTS.requiredTags as readonly string[] });
        const tags = { ...asObject(asObject(args.provider?.props?.defaultTags).tags), ...(args.props.tags ?? {}) };
        const missing = missingKeys(tags, cfg.requiredTags);
        if (missing.length > 0) report(`${args.type.split(":").pop()} ${args.name} is missing tag(s) ${missing.join(", ")}.`);
    },
});

export const gcpRequiredLabels = resourcePolicy({
    name: "gcp-required-labels",
    summary: "Labelled GCP resources must carry the service, environment and cost_center labels (lower case, as GCP requires).",
    enforcement: "mandatory",
    meta: {
        area: "cost",
        source: COST_SOURCE,
        why: "Billing export groups spend by these labels; GKE node pools need them in resourceLabels for the VMs to be attributed.",
    },
    fix: "Pass gcpLabels() from components/labels.ts as labels / resourceLabels (or set defaultLabels on the GCP provider).",
    configSchema: schemaFor(["requiredGcpLabels"]),
    types: Object.keys(GCP_LABEL_PATHS),
    validate: (args, report) => {
        const cfg = configOf(args, { requiredGcpLabels: DEFAULTS.requiredGcpLabels as readonly string[] });
        const labels = { ...asObject(args.provider?.props?.defaultLabels), ...(GCP_LABEL_PATHS[args.type](args.props) ?? {}) };
        const missing = missingKeys(labels, cfg.requiredGcpLabels);
        if (missing.length > 0) report(`${args.type.split(":").pop()} ${args.name} is missing label(s) ${missing.join(", ")}.`);
    },
});

/** Kubernetes resources that are not objects with metadata of their own. */
function labelledKubernetesType(type: string): boolean {
    return type.startsWith("kubernetes:") && !/^kubernetes:(helm\.sh|yaml|kustomize)\b/.test(type) && !type.endsWith("Patch") && !type.endsWith("List");
}

export const k8sRequiredLabels = resourcePolicy({
    name: "k8s-required-labels",
    summary: "Kubernetes objects (and workload pod templates) must carry app.kubernetes.io/name, app.kubernetes.io/part-of, pitchey.io/environment and pitchey.io/cost-center.",
    enforcement: "mandatory",
    meta: {
        area: "cost",
        source: `Kubernetes recommended labels; ${COST_SOURCE}`,
        why: "GKE cost allocation and Kubecost split node spend by pod labels; the same labels drive dashboards and alert routing.",
    },
    fix: "Build metadata.labels (and spec.template.metadata.labels) with k8sLabels() from components/labels.ts.",
    configSchema: schemaFor(["requiredLabels"]),
    types: labelledKubernetesType,
    validate: (args, report) => {
        const cfg = configOf(args, { requiredLabels: DEFAULTS.requiredLabels as readonly string[] });
        if (typeof args.props.metadata !== "object" || args.props.metadata === null) args.notApplicable("no object metadata");
        const what = `${args.type.split(":").pop()} ${args.props.metadata.namespace ? `${args.props.metadata.namespace}/` : ""}${objectName(args.props, args.name)}`;
        const missing = missingKeys(args.props.metadata.labels, cfg.requiredLabels);
        if (missing.length > 0) report(`${what} is missing label(s) ${missing.join(", ")}.`);
        if (isWorkload(args.type) && args.type !== T.Pod) {
            const tplMissing = missingKeys(podTemplate(args.type, args.props)?.metadata.labels, cfg.requiredLabels);
            if (tplMissing.length > 0) report(`${what} pod template is missing label(s) ${tplMissing.join(", ")}.`);
        }
    },
});

/** Chart values that take a free-form map of labels the chart adds to its own. */
const CHART_LABEL_VALUES = new Set(["additionalLabels", "commonLabels", "customLabels", "extraLabels", "podLabels"]);
/** The recommended labels a chart selects its own pods by (`helm create`'s selectorLabels). */
const CHART_SELECTOR_LABELS = ["app.kubernetes.io/name", "app.kubernetes.io/instance"];

/** Each free-form label map in a release's values that sets a selector label, as `path: key, key`. */
function chartSelectorLabelsSet(values: unknown, path: string[] = []): string[] {
    if (typeof values !== "object" || values === null || Array.isArray(values)) return [];
    const found: string[] = [];
    for (const [key, value] of Object.entries(values as Obj)) {
        const at = [...path, key];
        if (CHART_LABEL_VALUES.has(key) && typeof value === "object" && value !== null) {
            const set = CHART_SELECTOR_LABELS.filter((l) => l in value);
            if (set.length > 0) found.push(`${at.join(".")}: ${set.join(", ")}`);
        } else {
            found.push(...chartSelectorLabelsSet(value, at));
        }
    }
    return found;
}

export const helmValuesSelectorLabels = resourcePolicy({
    name: "helm-values-no-selector-labels",
    summary: "A Helm release's free-form label values (additionalLabels, commonLabels, customLabels, extraLabels, podLabels) must not set app.kubernetes.io/name or app.kubernetes.io/instance.",
    enforcement: "mandatory",
    meta: {
        area: "cost",
        source: "Kubernetes recommended labels; Helm chart best practices (labels and selectors)",
        why: "Charts write these two on every object and select their pods by them; a label value that sets them renders the key twice and Helm keeps the last, so the chart's objects carry the program's name, or a Deployment's selector no longer matches its pods and the API server refuses it. Mandatory: the release fails or mislabels a controller, and the plan never renders the chart to show it.",
    },
    fix: "Pass chartLabels(labels) from components/labels.ts: the cost labels, without app.kubernetes.io/*.",
    types: [T.HelmRelease],
    validate: (args, report) => {
        for (const where of chartSelectorLabelsSet(args.props.values)) {
            report(`Helm release ${args.props.name ?? args.name} sets the chart's selector label(s) in ${where}.`);
        }
    },
});

export const helmPodCostLabels = resourcePolicy({
    name: "helm-pod-cost-labels",
    summary: "A Helm release must set the cost labels (requiredLabels other than app.kubernetes.io/*) at every value path where its chart takes labels for its pods, as components/charts/pod-labels.ts records them.",
    enforcement: "mandatory",
    meta: {
        area: "cost",
        source: `${COST_SOURCE}; each chart's templates at its pinned version`,
        why: "k8s-required-labels sees the program's own objects, not the pods a chart renders, and the plan never renders the charts: a chart whose pods lack the cost labels is spend no cost report allocates. Which value reaches a chart's pods differs per chart and some feed selectors, so a chart not in the table is refused until someone has read its templates.",
    },
    fix: "Put chartLabels(labels) from components/labels.ts at each of the chart's paths in components/charts/pod-labels.ts; for a new chart, read its templates at the pinned version and add its paths (or why it has none) there.",
    configSchema: schemaFor(["requiredLabels"]),
    types: [T.HelmRelease],
    validate: (args, report) => {
        const cfg = configOf(args, { requiredLabels: DEFAULTS.requiredLabels as readonly string[] });
        const cost = cfg.requiredLabels.filter((l) => !l.startsWith("app.kubernetes.io/"));
        const release = args.props.name ?? args.name;
        const chart = chartName(args.props);
        const known = POD_LABEL_PATHS[chart];
        if (!known) {
            report(`Helm release ${release}: chart ${chart || "(none)"} has no entry in components/charts/pod-labels.ts, so where its pods take labels is unknown.`);
            return;
        }
        if (known.paths.length === 0) args.notApplicable(`chart ${chart} takes no pod labels outside its selectors: ${known.unlabelled ?? "see components/charts/pod-labels.ts"}`);
        // In a preview, values computed from other resources' outputs are unknown until the update.
        if (args.props.values === undefined) args.notApplicable("the release's values are not known yet");
        for (const path of known.paths) {
            const missing = missingKeys(valueAt(args.props.values, path) as Obj | undefined, cost);
            if (missing.length > 0) report(`Helm release ${release} (${chart}) does not set ${missing.join(", ")} in ${path}: its pods there carry no cost labels.`);
        }
    },
});

export const namespaceQuota = stackPolicy({
    name: "k8s-namespace-resource-quota",
    summary: "Every namespace with workloads must have a ResourceQuota bounding requests.cpu and requests.memory.",
    enforcement: "mandatory",
    meta: {
        area: "cost",
        source: "Kubernetes ResourceQuota; GKE/EKS multi-tenancy guidance; playbook resource quotas (requests.cpu 100, requests.memory 200Gi, pvc 10, services.loadbalancers 2)",
        why: "Autoscaling on queue depth can request nodes without bound; the quota caps what a runaway backlog (or a bug in a ScaledObject) can cost.",
    },
    fix: "Add a ResourceQuota in the namespace with spec.hard requests.cpu and requests.memory (playbook: 100 and 200Gi).",
    configSchema: schemaFor(["systemNamespaces"]),
    validate: (args, report) => {
        const cfg = configOf(args, { systemNamespaces: DEFAULTS.systemNamespaces as readonly string[] });
        const seen = new Set<string>();
        for (const w of args.resources.filter((r) => isWorkload(r.type))) {
            const ns = namespaceOf(w.props);
            if (cfg.systemNamespaces.includes(ns) || seen.has(ns)) continue;
            seen.add(ns);
            const ok = args.resources.some((q) => q.type === T.ResourceQuota && namespaceOf(q.props) === ns && q.props.spec?.hard?.["requests.cpu"] !== undefined && q.props.spec?.hard?.["requests.memory"] !== undefined);
            if (!ok) {
                const nsRes = args.resources.find((r) => r.type === T.Namespace && objectName(r.props, r.name) === ns);
                report(`Namespace ${ns} runs workloads but has no ResourceQuota on requests.cpu and requests.memory.`, (nsRes ?? w).urn);
            }
        }
    },
});

function podRequests(pod: Obj | undefined, resource: string): number {
    return containersOf(pod, false).reduce((sum, { c }) => sum + (quantity(c.resources?.requests?.[resource]) ?? 0), 0);
}

export const quotaFitsMaxScale = stackPolicy({
    name: "k8s-quota-fits-max-scale",
    summary: "A namespace's ResourceQuota must admit every autoscaled workload at its maxReplicaCount (requests.cpu and requests.memory).",
    enforcement: "mandatory",
    meta: {
        area: "cost",
        source: "Kubernetes ResourceQuota admission; docs/decisions.md #8 and #12 (quota cross-checked against maxReplicas)",
        why: "When the quota is smaller than the autoscalers' ceiling, KEDA scales the Deployment but the ReplicaSet cannot create pods: the backlog grows while every dashboard shows scaling working.",
    },
    fix: "Raise the quota, lower maxReplicaCount, or shrink the containers' requests so the sum at maximum scale fits.",
    validate: (args, report) => {
        for (const q of args.resources.filter((r) => r.type === T.ResourceQuota)) {
            const ns = namespaceOf(q.props);
            const hard = q.props.spec?.hard ?? {};
            for (const [key, resource] of [["requests.cpu", "cpu"], ["requests.memory", "memory"]] as const) {
                const limit = quantity(hard[key]);
                if (limit === undefined) continue;
                let total = 0;
                const parts: string[] = [];
                for (const w of args.resources.filter((r) => isWorkload(r.type) && r.type !== T.Job && r.type !== T.CronJob && namespaceOf(r.props) === ns)) {
                    const so = w.type === T.Deployment ? scaledObjectFor(w, args.resources) : undefined;
                    const max = so ? (typeof so.props.spec?.maxReplicaCount === "number" ? so.props.spec.maxReplicaCount : 100) : typeof w.props.spec?.replicas === "number" ? w.props.spec.replicas : 1;
                    const per = podRequests(podTemplate(w.type, w.props)?.spec, resource);
                    total += max * per;
                    if (per > 0) parts.push(`${objectName(w.props, w.name)} ${max}×`);
                }
                if (total > limit * (1 + 1e-9)) {
                    report(`ResourceQuota ${ns}/${objectName(q.props, q.name)} allows ${key} ${hard[key]} but the workloads at maximum scale request ${resource === "memory" ? `${(total / 2 ** 30).toFixed(1)}Gi` : total.toFixed(2)} (${parts.join(", ")}).`, q.urn);
                }
            }
        }
    },
});
