import { find, remove, res, type Case } from "../util";

const schedule = (s: Parameters<Case["mutate"]>[0]) => find(s, "velero-schedule").props.spec;
const location = (s: Parameters<Case["mutate"]>[0]) => find(s, "velero-location").props.spec;
const values = (s: Parameters<Case["mutate"]>[0]) => find(s, "velero-release").props.values;

export const clusterStateCases: Record<string, Case[]> = {
    "cluster-state-backup-scheduled": [
        { name: "no Velero Schedule exists", culprit: "gke", mutate: (s) => remove(s, "velero-schedule") },
        { name: "the schedule is paused", culprit: "velero-schedule", mutate: (s) => void (schedule(s).paused = true) },
        { name: "the schedule leaves Secrets out", culprit: "velero-schedule", mutate: (s) => void schedule(s).template.excludedResources.push("secrets") },
        { name: "the schedule backs up only some resources, Secrets not among them", culprit: "velero-schedule", mutate: (s) => void (schedule(s).template.includedResources = ["deployments.apps", "configmaps"]) },
        { name: "the schedule leaves cluster-scoped resources out", culprit: "velero-schedule", mutate: (s) => void (schedule(s).template.includeClusterResources = false) },
        { name: "the schedule covers one namespace", culprit: "velero-schedule", mutate: (s) => void (schedule(s).template.includedNamespaces = ["processors"]) },
        { name: "the schedule's location does not exist", culprit: "velero-schedule", mutate: (s) => remove(s, "velero-location") },
        { name: "the location writes without a customer key", culprit: "velero-location", mutate: (s) => void delete location(s).config.kmsKeyName },
        { name: "the location's bucket is not the stack's", culprit: "velero-location", mutate: (s) => void (location(s).objectStorage.bucket = "someone-elses-bucket") },
        { name: "the location's bucket has no customer-managed key", culprit: "velero-location", mutate: (s) => void delete find(s, "gcs-backups").props.encryption },
        {
            name: "an S3 location's bucket is encrypted with SSE-S3 only",
            culprit: "velero-location",
            mutate: (s) => {
                Object.assign(location(s), { provider: "velero.io/aws", objectStorage: { bucket: "pitchey-prod-backups", prefix: "configs" }, config: { region: "eu-west-1", kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/k" } });
                remove(s, "gcs-backups");
                find(s, "backups-sse").props.rules = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }];
            },
        },
    ],
    "velero-workload-identity": [
        { name: "the chart mounts a credentials Secret (its default)", culprit: "velero-release", mutate: (s) => void delete values(s).credentials },
        { name: "the chart is handed secretContents", culprit: "velero-release", mutate: (s) => void (values(s).credentials.secretContents = { cloud: "[default]\naws_access_key_id=AKIA..." }) },
        { name: "the server ServiceAccount has no identity annotation", culprit: "velero-release", mutate: (s) => void (values(s).serviceAccount.server.annotations = {}) },
        { name: "the location names a credential Secret", culprit: "velero-location", mutate: (s) => void (location(s).credential = { name: "cloud-credentials", key: "cloud" }) },
        {
            name: "a cloud key Secret sits in Velero's namespace",
            culprit: "velero-credentials",
            mutate: (s) => void s.push(res("kubernetes:core/v1:Secret", "velero-credentials", { metadata: { name: "bsl-credentials", namespace: "velero" }, stringData: { gcp: '{"type": "service_account", "private_key": "x"}' } })),
        },
    ],
};
