import type { PolicyResource } from "@pulumi/policy";
import { arr, chartName, T, type Obj } from "../core/k8s";
import { refersTo } from "../core/refs";
import { resourcePolicy, stackPolicy } from "../core/policy";
import { R2_CUSTOM_DOMAIN, R2_MANAGED_DOMAIN } from "../storage/keys-gcs";
import { R2_BUCKET, R2_LIFECYCLE, S3 } from "../storage/s3";

const SEVERITIES = ["critical", "warning", "info"];

/** Rule groups of a PrometheusRule, or of chart values that carry rules (`additionalPrometheusRulesMap`, …). */
function ruleGroupsOf(type: string, props: Obj): Obj[] {
    if (type === T.PrometheusRule) return arr<Obj>(props.spec?.groups);
    const out: Obj[] = [];
    const visit = (v: unknown, depth: number) => {
        if (depth > 12 || v === null || typeof v !== "object") return;
        if (Array.isArray(v)) return v.forEach((x) => visit(x, depth + 1));
        const o = v as Obj;
        if (Array.isArray(o.groups) && o.groups.some((g: Obj) => Array.isArray(g?.rules))) out.push(...o.groups);
        else Object.values(o).forEach((x) => visit(x, depth + 1));
    };
    visit(props.values, 0);
    return out;
}

export const alertSeverity = resourcePolicy({
    name: "alert-has-severity",
    summary: "Every Prometheus alerting rule must carry a severity label (critical, warning or info), a summary and a description.",
    enforcement: "mandatory",
    meta: {
        area: "observability",
        source: "Prometheus Operator / kube-prometheus alerting conventions (severity label, summary and description annotations); Alertmanager routing by label",
        why: "Alertmanager routes by severity: an alert without one reaches only the email digest, so a real outage would page nobody.",
    },
    fix: "Add labels.severity (critical pages, warning goes to Slack) and annotations.summary/description to the alert.",
    types: [T.PrometheusRule, T.HelmRelease],
    validate: (args, report) => {
        const groups = ruleGroupsOf(args.type, args.props);
        if (groups.length === 0) args.notApplicable("no alerting rules");
        for (const g of groups) {
            for (const r of arr<Obj>(g.rules)) {
                if (typeof r.alert !== "string") continue;
                const sev = r.labels?.severity;
                if (!SEVERITIES.includes(sev)) report(`Alert ${r.alert} in group ${g.name} has ${sev === undefined ? "no severity" : `severity "${sev}"`}; expected one of ${SEVERITIES.join(", ")}.`);
                for (const a of ["summary", "description"]) {
                    if (typeof r.annotations?.[a] !== "string" || r.annotations[a].trim() === "") report(`Alert ${r.alert} in group ${g.name} has no ${a} annotation.`);
                }
            }
        }
    },
});

const isChart = (r: PolicyResource, chart: string) => r.type === T.HelmRelease && chartName(r.props) === chart;

export const lokiBucketPrivate = stackPolicy({
    name: "loki-bucket-private-with-lifecycle",
    summary: "Loki's object store bucket must be declared by the stack, must not be published, and must have a lifecycle that deletes old objects.",
    enforcement: "mandatory",
    meta: {
        area: "observability",
        source: "Grafana Loki storage and retention docs (compactor retention, object store lifecycle as backstop); Cloudflare R2 docs (public buckets); CIS AWS 2.1.5 (S3 public access)",
        why: "Logs carry job payload fragments, client identifiers and stack traces: a public bucket leaks them, and a bucket that never expires keeps them past the retention the stack promises.",
    },
    fix: "Create the bucket in the stack, give it a lifecycle rule that deletes objects after the log retention, and remove any r2.dev or custom domain (S3: a public access block).",
    validate: (args, report) => {
        for (const rel of args.resources.filter((r) => isChart(r, "loki"))) {
            const storage = rel.props.values?.loki?.storage ?? {};
            const names = [...new Set(Object.values(storage.bucketNames ?? {}).filter((n): n is string => typeof n === "string"))];
            if (names.length === 0) {
                report(`Loki release ${rel.props.name ?? rel.name} keeps logs without an object store bucket.`, rel.urn);
                continue;
            }
            for (const name of names) {
                const bucket = args.resources.find((b) => (b.type === R2_BUCKET || b.type === S3.Bucket || b.type === "gcp:storage/bucket:Bucket") && (b.props.name === name || b.props.bucket === name));
                if (!bucket) {
                    report(`Loki's bucket ${name} is not declared by the stack, so its privacy and lifecycle cannot be checked.`, rel.urn);
                    continue;
                }
                if (bucket.type === R2_BUCKET) {
                    const published = args.resources.some(
                        (d) => (d.type === R2_MANAGED_DOMAIN || d.type === R2_CUSTOM_DOMAIN) && (d.props.bucketName === name || refersTo(d.props.bucketName, bucket)) && d.props.enabled !== false,
                    );
                    if (published) report(`Loki's R2 bucket ${name} is published on a public domain.`, bucket.urn);
                    const expires = args.resources.some(
                        (l) => l.type === R2_LIFECYCLE && (l.props.bucketName === name || refersTo(l.props.bucketName, bucket)) && arr<Obj>(l.props.rules).some((x) => x.enabled !== false && x.deleteObjectsTransition),
                    );
                    if (!expires) report(`Loki's R2 bucket ${name} has no lifecycle rule deleting old objects.`, bucket.urn);
                } else if (bucket.type === S3.Bucket) {
                    const blocked = args.resources.some((p) => p.type === S3.PublicAccessBlock && refersTo(p.props.bucket, bucket) && p.props.blockPublicAcls && p.props.blockPublicPolicy && p.props.restrictPublicBuckets && p.props.ignorePublicAcls);
                    if (!blocked) report(`Loki's S3 bucket ${name} has no full public access block.`, bucket.urn);
                    const expires = args.resources.some((l) => l.type === S3.Lifecycle && refersTo(l.props.bucket, bucket) && arr<Obj>(l.props.rules).some((x) => x.status === "Enabled" && x.expiration));
                    if (!expires) report(`Loki's S3 bucket ${name} has no lifecycle expiration.`, bucket.urn);
                } else {
                    if (bucket.props.publicAccessPrevention !== "enforced") report(`Loki's GCS bucket ${name} does not enforce public access prevention.`, bucket.urn);
                    if (!arr<Obj>(bucket.props.lifecycleRules).some((x) => x.action?.type === "Delete")) report(`Loki's GCS bucket ${name} has no delete lifecycle rule.`, bucket.urn);
                }
            }
        }
    },
});

/** Grafana's settings wherever a release carries them: the grafana chart, or kube-prometheus-stack's subchart. */
function grafanaValues(r: PolicyResource): Obj | undefined {
    if (isChart(r, "grafana")) return r.props.values ?? {};
    if (isChart(r, "kube-prometheus-stack") && r.props.values?.grafana?.enabled !== false) return r.props.values?.grafana ?? {};
    return undefined;
}

export const grafanaNoAnonymousAdmin = resourcePolicy({
    name: "grafana-no-anonymous-admin",
    summary: "Grafana must not let anonymous users in as Admin or Editor, and its admin password must come from a Secret, not from chart values.",
    enforcement: "mandatory",
    meta: {
        area: "observability",
        source: "Grafana security hardening docs (anonymous access, admin credentials); CIS Kubernetes 5.4.1 (prefer secrets as files over values)",
        why: "An anonymous Admin can read every data source (logs included), change alert rules and add data sources that reach inside the cluster; a password in values lands in the Helm release history in clear.",
    },
    fix: "Set grafana.ini auth.anonymous.enabled: false (or org_role: Viewer) and admin.existingSecret instead of adminPassword.",
    types: [T.HelmRelease],
    validate: (args, report) => {
        const v = grafanaValues(args as unknown as PolicyResource);
        if (!v) return args.notApplicable("not a Grafana release");
        const anon = v["grafana.ini"]?.["auth.anonymous"] ?? {};
        const on = anon.enabled === true || anon.enabled === "true";
        const role = String(anon.org_role ?? "Viewer");
        if (on && role !== "Viewer") report(`Grafana lets anonymous users in with role ${role}.`);
        if (typeof v.adminPassword === "string" && v.adminPassword !== "") report("Grafana's admin password is set in the chart values.");
        if (!v.admin?.existingSecret) report("Grafana's admin credentials do not come from a Secret (admin.existingSecret).");
    },
});
