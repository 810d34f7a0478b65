import type { PolicyResource } from "@pulumi/policy";
import { arr, namespaceOf, objectName, T, type Obj } from "../core/k8s";
import { stackPolicy } from "../core/policy";
import { GCS_BUCKET, S3, settingsOf } from "../storage/s3";

const VELERO = {
    Schedule: "kubernetes:velero.io/v1:Schedule",
    Location: "kubernetes:velero.io/v1:BackupStorageLocation",
} as const;
const CLUSTERS = ["gcp:container/cluster:Cluster", "aws:eks/cluster:Cluster"];
const VELERO_CHART = /(^|\/)velero$/;

const isVeleroRelease = (r: PolicyResource) => r.type === T.HelmRelease && VELERO_CHART.test(String(r.props.chart ?? ""));

/** The location a schedule's backups go to: the named one, or the namespace's default. */
function locationOf(schedule: PolicyResource, resources: readonly PolicyResource[]): PolicyResource | undefined {
    const ns = namespaceOf(schedule.props);
    const named = schedule.props.spec?.template?.storageLocation;
    const locations = resources.filter((r) => r.type === VELERO.Location && namespaceOf(r.props) === ns);
    return named ? locations.find((l) => objectName(l.props, l.name) === named) : locations.find((l) => l.props.spec?.default === true);
}

/** Why the schedule does not capture the cluster's state with its Secrets, or undefined when it does. */
function scheduleGap(s: PolicyResource): string | undefined {
    const spec = s.props.spec ?? {};
    const t = spec.template ?? {};
    if (spec.paused === true) return "is paused";
    if (t.includeClusterResources === false) return "leaves out cluster-scoped resources";
    const included = arr<string>(t.includedResources);
    const secretsIn = included.length === 0 || included.some((x) => x === "*" || /^secrets?(\.|$)/.test(x));
    if (!secretsIn || arr<string>(t.excludedResources).some((x) => /^secrets?(\.|$)/.test(x))) return "leaves out Secrets";
    const namespaces = arr<string>(t.includedNamespaces);
    if (namespaces.length > 0 && !namespaces.includes("*")) return `covers only namespaces ${namespaces.join(", ")}`;
    return undefined;
}

/** The stack's bucket a location names, and whether a customer-managed key encrypts it by default. */
function bucketKey(bucketName: string, resources: readonly PolicyResource[]): { found: boolean; customerKey: boolean } {
    const gcs = resources.find((r) => r.type === GCS_BUCKET && (r.props.name ?? r.name) === bucketName);
    if (gcs) return { found: true, customerKey: typeof gcs.props.encryption?.defaultKmsKeyName === "string" && gcs.props.encryption.defaultKmsKeyName !== "" };
    const s3 = resources.find((r) => r.type === S3.Bucket && (r.props.bucket ?? r.name) === bucketName);
    if (s3) {
        const rules = settingsOf(s3, resources, S3.Encryption).flatMap((e) => arr<Obj>(e.props.rules));
        return { found: true, customerKey: rules.some((r) => /^aws:kms/.test(String(r.applyServerSideEncryptionByDefault?.sseAlgorithm ?? "")) && !!r.applyServerSideEncryptionByDefault?.kmsMasterKeyId) };
    }
    return { found: false, customerKey: false };
}

export const clusterStateBackupScheduled = stackPolicy({
    name: "cluster-state-backup-scheduled",
    summary:
        "A stack with a Kubernetes cluster must back up the cluster's objects, Secrets included, on a schedule: an unpaused Velero Schedule over every namespace and the cluster-scoped resources, writing to a BackupStorageLocation that encrypts under a customer key (GCS kmsKeyName / S3 kmsKeyId) in a bucket of the stack that is itself encrypted under a customer-managed key.",
    enforcement: "mandatory",
    meta: {
        area: "completeness",
        source: "Operations playbook backup_policy.configurations and backup.sh configs (cluster objects, Secrets encrypted); AWS Well-Architected REL09-BP01/BP02 (identify and back up all data, secure backups); Velero Schedule and BackupStorageLocation APIs",
        why: "The program rebuilds what it declares, not what only lives in the cluster (issued certificates, operators' generated credentials, objects changed by hand); and a backup of Secrets is itself a secret, readable only with a key the organisation holds.",
    },
    fix: "Install Velero with a Schedule (includedNamespaces [\"*\"], includeClusterResources true, Secrets not excluded) and a default BackupStorageLocation on the stack's customer-key bucket with config.kmsKeyName (GCP) or config.kmsKeyId (AWS): the platform's Velero component does this.",
    validate: (args, report) => {
        const clusters = args.resources.filter((r) => CLUSTERS.includes(r.type));
        if (clusters.length === 0) return;
        const schedules = args.resources.filter((r) => r.type === VELERO.Schedule);
        if (schedules.length === 0) {
            for (const c of clusters) report(`Cluster ${c.props.name ?? c.name} has no Velero Schedule backing up its objects and Secrets.`, c.urn);
            return;
        }
        for (const s of schedules) {
            const name = `Velero Schedule ${namespaceOf(s.props)}/${objectName(s.props, s.name)}`;
            const gap = scheduleGap(s);
            if (gap) {
                report(`${name} ${gap}.`, s.urn);
                continue;
            }
            const loc = locationOf(s, args.resources);
            if (!loc) {
                report(`${name} names no BackupStorageLocation of this stack (and its namespace has no default one).`, s.urn);
                continue;
            }
            const spec = loc.props.spec ?? {};
            const provider = String(spec.provider ?? "").replace(/^velero\.io\//, "");
            const key = provider === "gcp" ? spec.config?.kmsKeyName : provider === "aws" ? spec.config?.kmsKeyId : undefined;
            const locName = `BackupStorageLocation ${namespaceOf(loc.props)}/${objectName(loc.props, loc.name)}`;
            if (typeof key !== "string" || key === "") {
                report(`${locName} writes backups without a customer key (${provider === "gcp" ? "config.kmsKeyName" : provider === "aws" ? "config.kmsKeyId" : `provider "${spec.provider}" has none this policy knows`}).`, loc.urn);
                continue;
            }
            const bucket = String(spec.objectStorage?.bucket ?? "");
            const b = bucketKey(bucket, args.resources);
            if (!b.found) report(`${locName} writes to bucket "${bucket}", which this stack does not declare.`, loc.urn);
            else if (!b.customerKey) report(`${locName} writes to bucket "${bucket}", which is not encrypted under a customer-managed key by default.`, loc.urn);
        }
    },
});

/** Keys of a cloud credentials file (AWS shared credentials, a GCP service-account key, Velero's `cloud` key). */
const CREDENTIAL_KEY = /^(cloud|credentials(-velero)?|aws_access_key_id|aws_secret_access_key|service[-_]account\.json|key\.json)$/i;
const CREDENTIAL_TEXT = /aws_secret_access_key|"private_key"|"type"\s*:\s*"service_account"/;

export const veleroWorkloadIdentity = stackPolicy({
    name: "velero-workload-identity",
    summary:
        "Velero must reach its bucket as a workload identity, never with static cloud credentials: the chart's credentials.useSecret false and no secretContents or existingSecret, its server ServiceAccount annotated for GKE Workload Identity (iam.gke.io/gcp-service-account) or EKS IRSA (eks.amazonaws.com/role-arn), no BackupStorageLocation naming a credential Secret, and no cloud-credentials Secret in Velero's namespace.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "GKE Workload Identity Federation and EKS IRSA guidance; Velero GCP/AWS plugins (Workload Identity, IRSA); CIS GKE 5.2.2; AWS Well-Architected SEC02-BP02 (use temporary credentials)",
        why: "Velero reads every Secret in the cluster and writes them all to the bucket: a long-lived key to that bucket, stored in the cluster it backs up, would hand the whole cluster's secrets to whoever reads one Secret. Without an identity annotation, Velero on EKS would fall back to the node's role.",
    },
    fix: "Set credentials.useSecret false, annotate serviceAccount.server with the cloud identity the program creates for Velero, drop spec.credential from the BackupStorageLocation and delete the credentials Secret.",
    validate: (args, report) => {
        const namespaces = new Set<string>();
        for (const r of args.resources.filter(isVeleroRelease)) {
            const v = (r.props.values ?? {}) as Obj;
            namespaces.add(String(r.props.namespace ?? "default"));
            const label = `Velero release ${r.props.namespace ?? "default"}/${r.props.name ?? r.name}`;
            const creds = v.credentials ?? {};
            if (creds.useSecret !== false) report(`${label} mounts a cloud credentials Secret (credentials.useSecret is not false; the chart's default is true).`, r.urn);
            else if (creds.existingSecret || (creds.secretContents && Object.keys(creds.secretContents).length > 0) || (creds.extraEnvVars && Object.keys(creds.extraEnvVars).length > 0)) {
                report(`${label} still hands the server static credentials (credentials.existingSecret, secretContents or extraEnvVars).`, r.urn);
            }
            const ann = (v.serviceAccount?.server?.annotations ?? {}) as Obj;
            if (!ann["iam.gke.io/gcp-service-account"] && !ann["eks.amazonaws.com/role-arn"]) report(`${label}'s server ServiceAccount carries no workload identity annotation.`, r.urn);
        }
        for (const l of args.resources.filter((r) => r.type === VELERO.Location)) {
            namespaces.add(namespaceOf(l.props));
            if (l.props.spec?.credential) report(`BackupStorageLocation ${namespaceOf(l.props)}/${objectName(l.props, l.name)} names a credential Secret (spec.credential).`, l.urn);
        }
        for (const s of args.resources.filter((r) => r.type === "kubernetes:core/v1:Secret" && namespaces.has(namespaceOf(r.props)))) {
            const data = { ...(s.props.data ?? {}), ...(s.props.stringData ?? {}) } as Obj;
            const keys = Object.keys(data);
            if (keys.some((k) => CREDENTIAL_KEY.test(k)) || keys.some((k) => typeof data[k] === "string" && CREDENTIAL_TEXT.test(data[k]))) {
                report(`Secret ${namespaceOf(s.props)}/${objectName(s.props, s.name)} holds cloud credentials in Velero's namespace.`, s.urn);
            }
        }
    },
});
