import { find, remove, res, type Case } from "../util";

const rule = (s: Parameters<Case["mutate"]>[0]) => find(s, "processor-alerts").props.spec.groups[0].rules[1];

export const observabilityCases: Record<string, Case[]> = {
    "alert-has-severity": [
        { name: "an alert has no severity", culprit: "processor-alerts", mutate: (s) => void delete rule(s).labels },
        { name: "an alert's severity is not one Alertmanager routes", culprit: "processor-alerts", mutate: (s) => void (rule(s).labels.severity = "page") },
        { name: "an alert has no description", culprit: "processor-alerts", mutate: (s) => void delete rule(s).annotations.description },
    ],
    "loki-bucket-private-with-lifecycle": [
        { name: "the logs bucket has no lifecycle", culprit: "logs-bucket", mutate: (s) => remove(s, "logs-lifecycle") },
        { name: "the lifecycle only aborts uploads", culprit: "logs-bucket", mutate: (s) => void (find(s, "logs-lifecycle").props.rules = [{ id: "abort", enabled: true, abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: 86400 } } }]) },
        {
            name: "the logs bucket is on its r2.dev domain",
            culprit: "logs-bucket",
            mutate: (s) => void s.push(res("cloudflare:index/r2ManagedDomain:R2ManagedDomain", "logs-dev-domain", { accountId: "acc", bucketName: "pitchey-logs", enabled: true })),
        },
        { name: "Loki writes to a bucket the stack does not declare", culprit: "monitoring-loki", mutate: (s) => remove(s, "logs-bucket") },
    ],
    "grafana-no-anonymous-admin": [
        { name: "anonymous users get Admin", culprit: "monitoring-grafana", mutate: (s) => void (find(s, "monitoring-grafana").props.values["grafana.ini"]["auth.anonymous"] = { enabled: true, org_role: "Admin" }) },
        { name: "the admin password is in the values", culprit: "monitoring-grafana", mutate: (s) => void (find(s, "monitoring-grafana").props.values = { adminPassword: "hunter2", "grafana.ini": {} }) },
    ],
};
