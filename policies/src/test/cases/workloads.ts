import { clone, container, find, pod, processorDeployment, remove, res, type Case, type Mutable } from "../util";

const VP = "video-processor";
const d = (s: Mutable[]) => find(s, VP);
const c = (s: Mutable[]) => container(d(s));
const p = (s: Mutable[]) => pod(d(s));
const so = (s: Mutable[]) => find(s, `${VP}-scaler`).props.spec;

/** A bare Pod copied from the video-processor template, otherwise compliant. */
function barePod(s: Mutable[]): void {
    const tpl = clone(d(s).props.spec.template);
    s.push(res("kubernetes:core/v1:Pod", "debug-pod", { metadata: { ...tpl.metadata, name: "debug", namespace: "processors" }, spec: tpl.spec }));
}

export const workloadCases: Record<string, Case[]> = {
    "k8s-run-as-non-root": [
        { name: "runAsNonRoot is missing", culprit: VP, mutate: (s) => void delete p(s).securityContext.runAsNonRoot },
        { name: "a container overrides runAsNonRoot to false", culprit: VP, mutate: (s) => void (c(s).securityContext.runAsNonRoot = false) },
        {
            name: "an init container of a Job runs without it",
            culprit: "migrate",
            mutate: (s) => {
                const job = clone(d(s));
                s.push(res("kubernetes:batch/v1:Job", "migrate", { metadata: { ...job.props.metadata, name: "migrate" }, spec: { template: job.props.spec.template } }));
                const jp = find(s, "migrate").props.spec.template.spec;
                delete jp.securityContext.runAsNonRoot;
                jp.containers[0].securityContext.runAsNonRoot = true;
                jp.initContainers = [{ ...clone(jp.containers[0]), name: "init", securityContext: { ...jp.containers[0].securityContext, runAsNonRoot: false } }];
            },
        },
    ],
    "k8s-non-root-uid-gid": [
        { name: "runAsUser is 0", culprit: VP, mutate: (s) => void (p(s).securityContext.runAsUser = 0) },
        { name: "runAsGroup is missing", culprit: VP, mutate: (s) => void delete p(s).securityContext.runAsGroup },
        { name: "fsGroup is 0", culprit: VP, mutate: (s) => void (p(s).securityContext.fsGroup = 0) },
        { name: "runAsUser is a system account (1)", culprit: VP, mutate: (s) => void (p(s).securityContext.runAsUser = 1) },
    ],
    "k8s-no-privilege-escalation": [
        { name: "allowPrivilegeEscalation is unset", culprit: VP, mutate: (s) => void delete c(s).securityContext.allowPrivilegeEscalation },
        { name: "allowPrivilegeEscalation is true", culprit: VP, mutate: (s) => void (c(s).securityContext.allowPrivilegeEscalation = true) },
    ],
    "k8s-drop-all-capabilities": [
        { name: "capabilities are not dropped", culprit: VP, mutate: (s) => void delete c(s).securityContext.capabilities },
        { name: "SYS_ADMIN is added", culprit: VP, mutate: (s) => void (c(s).securityContext.capabilities.add = ["NET_BIND_SERVICE", "SYS_ADMIN"]) },
    ],
    "k8s-seccomp-runtime-default": [
        { name: "no seccomp profile", culprit: VP, mutate: (s) => void delete p(s).securityContext.seccompProfile },
        { name: "a container is Unconfined", culprit: VP, mutate: (s) => void (c(s).securityContext.seccompProfile = { type: "Unconfined" }) },
    ],
    "k8s-not-privileged": [{ name: "the container is privileged", culprit: VP, mutate: (s) => void (c(s).securityContext.privileged = true) }],
    "k8s-no-host-namespaces": [
        { name: "hostNetwork is set", culprit: VP, mutate: (s) => void (p(s).hostNetwork = true) },
        { name: "hostPID is set", culprit: VP, mutate: (s) => void (p(s).hostPID = true) },
    ],
    "k8s-no-host-ports": [{ name: "a hostPort is bound", culprit: VP, mutate: (s) => void (c(s).ports[0].hostPort = 8080) }],
    "k8s-restricted-volume-types": [
        { name: "a hostPath volume is mounted", culprit: VP, mutate: (s) => void p(s).volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } }) },
        { name: "an nfs volume is mounted", culprit: VP, mutate: (s) => void p(s).volumes.push({ name: "share", nfs: { server: "nfs", path: "/" } }) },
    ],
    "k8s-read-only-root-filesystem": [{ name: "the root filesystem is writable", culprit: VP, mutate: (s) => void (c(s).securityContext.readOnlyRootFilesystem = false) }],
    "k8s-cpu-memory-requests-limits": [
        { name: "memory limit is missing", culprit: VP, mutate: (s) => void delete c(s).resources.limits.memory },
        { name: "resources are missing entirely", culprit: VP, mutate: (s) => void delete c(s).resources },
    ],
    "k8s-ephemeral-storage-limits": [{ name: "ephemeral-storage limit is missing", culprit: VP, mutate: (s) => void delete c(s).resources.limits["ephemeral-storage"] }],
    "k8s-probes-present": [
        { name: "readiness probe is missing", culprit: VP, mutate: (s) => void delete c(s).readinessProbe },
        { name: "liveness probe is missing", culprit: VP, mutate: (s) => void delete c(s).livenessProbe },
    ],
    "k8s-probes-not-identical": [
        { name: "both probes hit /readyz", culprit: "document-processor", mutate: (s) => void (container(find(s, "document-processor")).livenessProbe = { httpGet: { port: 8080, path: "/readyz" }, periodSeconds: 30 }) },
    ],
    "k8s-image-pinned-by-digest": [
        { name: "the image is referenced by tag", culprit: VP, mutate: (s) => void (c(s).image = "us-west1-docker.pkg.dev/pitchey/processors/video-processor:1.4.2") },
    ],
    "k8s-no-latest-tag": [
        { name: "the image uses :latest", culprit: VP, mutate: (s) => void (c(s).image = "pitchey/video-processor:latest") },
        { name: "the image has no tag", culprit: VP, mutate: (s) => void (c(s).image = "pitchey/video-processor") },
    ],
    "k8s-slo-min-replicas": [
        { name: "the ScaledObject can scale to one replica", culprit: VP, mutate: (s) => void (find(s, `${VP}-scaler`).props.spec.minReplicaCount = 1) },
        { name: "the ScaledObject omits minReplicaCount (KEDA default 0)", culprit: VP, mutate: (s) => void delete find(s, `${VP}-scaler`).props.spec.minReplicaCount },
        {
            name: "ai-inference runs one replica once its exception is withdrawn",
            culprit: "ai-inference",
            mutate: (s) => void (find(s, "ai-inference-scaler").props.spec.minReplicaCount = 1),
            config: { "k8s-slo-min-replicas": { acceptedBelowMinimum: [] } },
        },
        {
            name: "an unscaled SLO Deployment runs one replica",
            culprit: VP,
            mutate: (s) => {
                remove(s, `${VP}-scaler`);
                d(s).props.spec.replicas = 1;
            },
        },
    ],
    "k8s-slo-accepted-below-minimum": [
        { name: "ai-inference can scale down to one replica", culprit: "ai-inference", mutate: (s) => void (find(s, "ai-inference-scaler").props.spec.minReplicaCount = 1) },
    ],
    "k8s-pdb-required": [
        { name: "the PDB is missing", culprit: VP, mutate: (s) => remove(s, `${VP}-pdb`) },
        { name: "the PDB selects other pods", culprit: VP, mutate: (s) => void (find(s, `${VP}-pdb`).props.spec.selector = { matchLabels: { "app.kubernetes.io/name": "other" } }) },
        { name: "the PDB is in another namespace", culprit: VP, mutate: (s) => void (find(s, `${VP}-pdb`).props.metadata.namespace = "default") },
    ],
    "k8s-pdb-allows-disruption": [
        { name: "maxUnavailable is 0", culprit: `${VP}-pdb`, mutate: (s) => void (find(s, `${VP}-pdb`).props.spec = { maxUnavailable: 0, selector: { matchLabels: { "app.kubernetes.io/name": VP } } }) },
        { name: "minAvailable equals the minimum replicas", culprit: `${VP}-pdb`, mutate: (s) => void (find(s, `${VP}-pdb`).props.spec = { minAvailable: 2, selector: { matchLabels: { "app.kubernetes.io/name": VP } } }) },
        { name: "minAvailable is 100%", culprit: `${VP}-pdb`, mutate: (s) => void (find(s, `${VP}-pdb`).props.spec = { minAvailable: "100%", selector: { matchLabels: { "app.kubernetes.io/name": VP } } }) },
    ],
    "k8s-termination-grace-covers-job-timeout": [
        { name: "grace is shorter than JOB_TIMEOUT", culprit: VP, mutate: (s) => void (p(s).terminationGracePeriodSeconds = 300) },
        { name: "grace is defaulted (30 s) and JOB_TIMEOUT is 10m", culprit: VP, mutate: (s) => { delete p(s).terminationGracePeriodSeconds; c(s).env[0].value = "10m"; } },
    ],
    "keda-queue-trigger-total-depth": [
        { name: "the queue trigger takes KEDA's default (AverageValue)", culprit: `${VP}-scaler`, mutate: (s) => void delete so(s).triggers[2].metricType },
        { name: "the queue trigger is AverageValue", culprit: `${VP}-scaler`, mutate: (s) => void (so(s).triggers[2].metricType = "AverageValue") },
    ],
    "keda-scaling-rate-limited": [
        { name: "there is no behavior", culprit: `${VP}-scaler`, mutate: (s) => void delete so(s).advanced },
        { name: "scale-up has no policies", culprit: `${VP}-scaler`, mutate: (s) => void delete so(s).advanced.horizontalPodAutoscalerConfig.behavior.scaleUp.policies },
        { name: "scale-down has no stabilization window", culprit: `${VP}-scaler`, mutate: (s) => void (so(s).advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds = 0) },
    ],
    "gpu-rollout-timeout": [
        { name: "a GPU Deployment has no customTimeouts", culprit: "ai-inference", mutate: (s) => void delete find(s, "ai-inference").customTimeouts },
        { name: "the update timeout is 10 minutes", culprit: "ai-inference", mutate: (s) => void (find(s, "ai-inference").customTimeouts = { create: "30m", update: "10m" }) },
    ],
    "k8s-no-automount-service-account-token": [
        { name: "the pod does not disable automount", culprit: VP, mutate: (s) => void delete p(s).automountServiceAccountToken },
        { name: "the ServiceAccount enables automount", culprit: `${VP}-sa`, mutate: (s) => void (find(s, `${VP}-sa`).props.automountServiceAccountToken = true) },
    ],
    "k8s-no-default-service-account": [
        { name: "serviceAccountName is unset", culprit: VP, mutate: (s) => void delete p(s).serviceAccountName },
        { name: "serviceAccountName is default", culprit: VP, mutate: (s) => void (p(s).serviceAccountName = "default") },
    ],
    "k8s-no-bare-pods": [{ name: "a Pod is declared directly", culprit: "debug-pod", mutate: barePod }],
    "k8s-no-literal-secret-env": [
        { name: "a password is a literal", culprit: VP, mutate: (s) => void c(s).env.push({ name: "DB_PASSWORD", value: "hunter2" }) },
        { name: "a secret output is inlined", culprit: VP, mutate: (s) => void c(s).env.push({ name: "UPSTREAM", value: "[secret]" }) },
        { name: "a URL carries credentials", culprit: VP, mutate: (s) => void c(s).env.push({ name: "QUEUE_URL", value: "postgres://app:pw@db:5432/jobs" }) },
    ],
    "k8s-no-secrets-in-env": [
        { name: "DATABASE_URL comes from a secretKeyRef", culprit: VP, mutate: (s) => void c(s).env.push({ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "jobs-db", key: "DATABASE_URL" } } }) },
        { name: "a Secret is loaded with envFrom", culprit: VP, mutate: (s) => void (c(s).envFrom = [{ secretRef: { name: "object-store" } }]) },
    ],
    "k8s-secret-mounts-read": [
        {
            name: "the object-store Secret is mounted but nothing reads it",
            culprit: "code-executor",
            mutate: (s) => {
                const ce = pod(find(s, "code-executor"));
                ce.volumes.push({ name: "secret-object-store", secret: { secretName: "object-store" } });
                ce.containers[0].volumeMounts.push({ name: "secret-object-store", mountPath: "/var/run/secrets/pitchey/object-store", readOnly: true });
            },
        },
        { name: "a Secret volume is not mounted by any container", culprit: VP, mutate: (s) => void p(s).volumes.push({ name: "spare", secret: { secretName: "object-store" } }) },
    ],
    "k8s-sandboxed-service-runtime-class": [
        { name: "code-executor has no runtime class", culprit: "code-executor", mutate: (s) => void delete pod(find(s, "code-executor")).runtimeClassName },
        { name: "code-executor uses runc", culprit: "code-executor", mutate: (s) => void (pod(find(s, "code-executor")).runtimeClassName = "runc") },
    ],
    "k8s-no-default-namespace": [
        {
            name: "a Deployment has no namespace",
            culprit: "stray",
            mutate: (s) => {
                const stray = processorDeployment("stray");
                delete stray.props.metadata.namespace;
                s.push(stray);
            },
        },
    ],
};
