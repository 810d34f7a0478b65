import { arr, objectName, T, type Obj } from "../core/k8s";
import { stackPolicy } from "../core/policy";
import { EKS_ADDON, EKS_CLUSTER } from "./eks";

const GKE_CLUSTER = "gcp:container/cluster:Cluster";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const RESOURCE_TRIGGERS = ["cpu", "memory"];
const METRICS_SERVER_CHART = /(^|\/)metrics-server$/;

/** The ScaledObjects and HPAs that read metrics.k8s.io: KEDA's cpu/memory triggers and HPA Resource metrics. */
function resourceMetricReaders(resources: readonly { type: string; name: string; urn: string; props: Obj }[]) {
    return resources.filter((r) => {
        if (r.type === T.ScaledObject) return arr<Obj>(r.props.spec?.triggers).some((t) => RESOURCE_TRIGGERS.includes(String(t.type)));
        if (r.type === HPA) return arr<Obj>(r.props.spec?.metrics).some((m) => m.type === "Resource" || m.type === "ContainerResource");
        return false;
    });
}

function isMetricsServerChart(r: { type: string; props: Obj }): boolean {
    if (r.type !== T.HelmRelease && r.type !== T.HelmChart) return false;
    return METRICS_SERVER_CHART.test(String(r.props.chart ?? "")) || r.props.name === "metrics-server";
}

export const metricsApiServed = stackPolicy({
    name: "resource-metrics-api-served",
    summary:
        "A stack whose ScaledObjects have cpu or memory triggers (or whose HPAs have Resource metrics) must have something serving metrics.k8s.io: a GKE cluster (served natively), or on EKS the metrics-server add-on or chart.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: "Kubernetes HPA resource metrics (metrics.k8s.io, served by metrics-server); EKS user guide (metrics-server is not installed by default; community add-on); GKE (metrics-server runs in every cluster)",
        why: "Without metrics.k8s.io the HPA cannot read cpu or memory: it never scales on them and, since a metric it cannot read blocks scale-down, it keeps every replica it ever added. Nothing in a preview would say so.",
    },
    fix: "On EKS add aws.eks.Addon { addonName: \"metrics-server\" } (or the metrics-server Helm chart) and let KEDA wait for it.",
    validate: (args, report) => {
        const readers = resourceMetricReaders(args.resources);
        if (readers.length === 0) args.notApplicable("no cpu or memory scaling");
        const names = readers.map((r) => objectName(r.props, r.name)).join(", ");
        const chart = args.resources.some(isMetricsServerChart);
        const gke = args.resources.some((r) => r.type === GKE_CLUSTER);
        const eks = args.resources.filter((r) => r.type === EKS_CLUSTER);
        for (const c of eks) {
            const clusterName = c.props.name ?? c.name;
            const addon = args.resources.some(
                (r) => r.type === EKS_ADDON && r.props.addonName === "metrics-server" && (r.props.clusterName === undefined || r.props.clusterName === clusterName),
            );
            if (!addon && !chart) report(`EKS cluster ${clusterName} serves no metrics.k8s.io (no metrics-server add-on or chart), yet ${names} scale on cpu or memory.`, c.urn);
        }
        if (eks.length === 0 && !gke && !chart) {
            for (const r of readers) report(`${objectName(r.props, r.name)} scales on cpu or memory, but nothing in the stack serves metrics.k8s.io.`, r.urn);
        }
    },
});
