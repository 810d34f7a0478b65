import { arr, serviceName, T, WORKLOAD_TYPES } from "../core/k8s";
import { configOf, resourcePolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";
import { workloadView } from "./common";

export const noAutomountToken = resourcePolicy({
    name: "k8s-no-automount-service-account-token",
    summary: "Pods must set automountServiceAccountToken: false; service accounts must not enable automounting.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "Checkov CKV_K8S_38; CIS Kubernetes Benchmark 5.1.6; Polaris automountServiceAccountToken",
        why: "Processors do not call the Kubernetes API; a mounted token turns any code-execution bug into API access. Cloud identity comes from Workload Identity / IRSA, not this token.",
    },
    fix: "Set spec.template.spec.automountServiceAccountToken: false (and on the ServiceAccount).",
    types: [...WORKLOAD_TYPES, T.ServiceAccount],
    validate: (args, report) => {
        if (args.type === T.ServiceAccount) {
            if (args.props.automountServiceAccountToken === true) report(`ServiceAccount ${args.props.metadata?.name ?? args.name} enables token automounting.`);
            return;
        }
        const w = workloadView(args);
        if (w.pod.automountServiceAccountToken !== false) report(`${w.what}: automountServiceAccountToken is not false.`);
    },
});

export const noDefaultServiceAccount = resourcePolicy({
    name: "k8s-no-default-service-account",
    summary: "Workloads must run under their own service account, never the namespace's default.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "Checkov CKV_K8S_41; CIS Kubernetes Benchmark 5.1.5",
        why: "The default account is shared by everything in the namespace, so any binding granted to it (or to its Workload Identity / IRSA mapping) leaks to every pod.",
    },
    fix: "Create a ServiceAccount per service and set spec.template.spec.serviceAccountName.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        const sa = w.pod.serviceAccountName ?? w.pod.serviceAccount;
        if (sa === undefined || sa === "" || sa === "default") report(`${w.what}: runs as the default service account.`);
    },
});

export const noBarePods = resourcePolicy({
    name: "k8s-no-bare-pods",
    summary: "Pods must be created by a controller (Deployment, StatefulSet, Job...), never directly.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "Kubernetes configuration best practices \"Naked Pods\"",
        why: "A bare pod is not rescheduled when its node goes away, is invisible to KEDA and PDBs, and cannot be rolled back.",
    },
    fix: "Wrap the pod spec in a Deployment (or a Job for one-off work).",
    types: [T.Pod],
    validate: (args, report) => {
        report(`Pod ${args.props.metadata?.namespace ?? "default"}/${args.props.metadata?.name ?? args.name} is not managed by a controller.`);
    },
});

/** Names that hold credentials by convention; anchored at the end so MAX_TOKENS or SECRET_NAME_PREFIX do not match. */
const SECRET_NAME = /(^|_)(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?|ACCESS_?KEY(_ID)?|DSN|CONNECTION_?STRING|DATABASE_URL)$/i;
const CREDENTIAL_URL = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;

export const noLiteralSecretEnv = resourcePolicy({
    name: "k8s-no-literal-secret-env",
    summary: "Secret values must come from secretKeyRef/volumes, never as literal env values in the pod spec.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "Checkov CKV_K8S_35 (prefer secrets as files) / CKV_SECRET_*; OWASP Kubernetes Top 10 K08 Secrets Management",
        why: "A literal env value is stored in the Deployment object, in the plan output and in every `kubectl get -o yaml`; Secrets are encrypted at rest and access-controlled.",
    },
    fix: "Move the value into a Kubernetes Secret and reference it with env[].valueFrom.secretKeyRef.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            for (const e of arr(c.env)) {
                if (typeof e?.value !== "string" || e.value === "") continue;
                if (e.value === "[secret]" || SECRET_NAME.test(String(e.name)) || CREDENTIAL_URL.test(e.value)) {
                    report(`${w.what}: ${label} sets ${e.name} as a literal value.`);
                }
            }
        }
    },
});

export const sandboxRuntime = resourcePolicy({
    name: "k8s-sandboxed-service-runtime-class",
    summary: "The code executor must run under the sandbox RuntimeClass (gVisor by default).",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "GKE Sandbox (gVisor) guidance for untrusted workloads; Kubernetes RuntimeClass",
        why: "code-executor runs user-submitted code; the gVisor user-space kernel is the boundary that keeps it off the host kernel.",
    },
    fix: "Set spec.template.spec.runtimeClassName to the sandbox runtime class (gvisor).",
    configSchema: schemaFor(["sandboxedService", "sandboxRuntimeClass"]),
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const cfg = configOf(args, { sandboxedService: DEFAULTS.sandboxedService, sandboxRuntimeClass: DEFAULTS.sandboxRuntimeClass });
        const name = serviceName(args.props, args.name);
        if (name !== cfg.sandboxedService && args.props.metadata?.name !== cfg.sandboxedService) args.notApplicable("not the sandboxed service");
        const w = workloadView(args);
        if (w.pod.runtimeClassName !== cfg.sandboxRuntimeClass) {
            report(`${w.what}: runtimeClassName is ${w.pod.runtimeClassName ?? "unset"}, expected ${cfg.sandboxRuntimeClass}.`);
        }
    },
});

export const explicitNamespace = resourcePolicy({
    name: "k8s-no-default-namespace",
    summary: "Workloads must be placed in an explicit namespace other than default.",
    enforcement: "advisory",
    meta: {
        area: "kubernetes-workloads",
        source: "Checkov CKV_K8S_21",
        why: "Quotas, default-deny NetworkPolicies and RBAC are attached per namespace; the default namespace has none of them. Advisory because the network and quota policies already fail such a workload.",
    },
    fix: "Set metadata.namespace (processors run in the processors namespace).",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const ns = args.props.metadata?.namespace;
        if (ns === undefined || ns === "" || ns === "default") report(`${args.type.split(":").pop()} ${args.props.metadata?.name ?? args.name} is in the default namespace.`);
    },
});

export const noSecretEnv = resourcePolicy({
    name: "k8s-no-secrets-in-env",
    summary: "Secrets must reach containers as mounted files, never as environment variables (env valueFrom.secretKeyRef or envFrom secretRef).",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "Checkov CKV_K8S_35 (prefer using secrets as files over secrets as environment variables); OWASP Kubernetes Top 10 K08",
        why: "Every process a worker spawns (ffmpeg, ffprobe, pdftotext parsing hostile files) inherits its environment, and the environment shows in crash dumps and /proc; a file is read once by the worker and by nothing it spawns.",
    },
    fix: "Mount the Secret as a read-only volume with only the needed keys and set X_FILE to the file's path; the worker reads X from it.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            for (const e of arr(c.env)) {
                if (e?.valueFrom?.secretKeyRef) report(`${w.what}: ${label} takes ${e.name} from Secret ${e.valueFrom.secretKeyRef.name} as an environment variable.`);
            }
            for (const f of arr(c.envFrom)) {
                if (f?.secretRef) report(`${w.what}: ${label} loads Secret ${f.secretRef.name} into its environment (envFrom).`);
            }
        }
    },
});

/** Secret names a pod's volumes bring in (plain secret volumes and projected ones), by volume name. */
function secretVolumes(pod: Record<string, any>): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const v of arr(pod.volumes)) {
        if (v?.secret?.secretName) out.set(v.name, [v.secret.secretName]);
        const projected = arr(v?.projected?.sources).filter((s) => s?.secret?.name).map((s) => s.secret.name as string);
        if (projected.length > 0) out.set(v.name, projected);
    }
    return out;
}

export const secretMountsRead = resourcePolicy({
    name: "k8s-secret-mounts-read",
    summary: "A Secret mounted into a pod must be read there: some container mounts the volume and names a file under it (an X_FILE variable, or its command/args).",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "Least privilege (NSA/CISA Kubernetes Hardening Guide, secrets); Checkov CKV_K8S_35",
        why: "A credential mounted where nothing reads it serves only an attacker: a shared token mounted into every processor and the backup job let any compromised parser delete the backups.",
    },
    fix: "Remove the Secret volume from workloads that do not read it, or set the reading container's X_FILE to the file under its mount path.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const [volume, secrets] of secretVolumes(w.pod)) {
            const readers = w.containers.filter(({ c }) => {
                const mounts = arr(c.volumeMounts).filter((m) => m?.name === volume).map((m) => String(m.mountPath).replace(/\/+$/, ""));
                if (mounts.length === 0) return false;
                const refs = [...arr(c.env).map((e) => e?.value), ...arr(c.command), ...arr(c.args)].filter((x) => typeof x === "string") as string[];
                return refs.some((r) => mounts.some((m) => r === m || r.startsWith(`${m}/`)));
            });
            if (readers.length === 0) report(`${w.what}: Secret ${secrets.join(", ")} (volume ${volume}) is mounted but no container reads a file from it.`);
        }
    },
});
