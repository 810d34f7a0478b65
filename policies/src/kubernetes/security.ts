import { arr, effective, WORKLOAD_TYPES } from "../core/k8s";
import { configOf, resourcePolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";
import { workloadView } from "./common";

const PSS_RESTRICTED = "Kubernetes Pod Security Standards, restricted profile";
const PSS_BASELINE = "Kubernetes Pod Security Standards, baseline profile";

export const runAsNonRoot = resourcePolicy({
    name: "k8s-run-as-non-root",
    summary: "Every container must run with runAsNonRoot: true (set on the pod or the container).",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: `${PSS_RESTRICTED} "Running as Non-root"; Checkov CKV_K8S_23; kube-score container-security-context-user-group-id`,
        why: "A process running as root inside a container is one kernel bug away from root on the node; processors run untrusted media and code.",
    },
    fix: "Set spec.template.spec.securityContext.runAsNonRoot: true.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            if (effective(w.pod, c, "runAsNonRoot") !== true) report(`${w.what}: ${label} does not set runAsNonRoot: true.`);
        }
    },
});

export const nonZeroUidGid = resourcePolicy({
    name: "k8s-non-root-uid-gid",
    summary: "Every container must run with an explicit runAsUser and runAsGroup of at least minUserId (default 1000, never 0), and a non-zero fsGroup if set.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: `${PSS_RESTRICTED} "Running as Non-root user"; kube-score container-security-context-user-group-id; Checkov CKV_K8S_40`,
        why: "runAsNonRoot alone only works when the image declares a numeric non-root USER; an explicit UID/GID makes the check independent of the image and keeps files off group 0.",
    },
    fix: "Set securityContext.runAsUser and runAsGroup to the image's non-root ids (e.g. 10001).",
    configSchema: schemaFor(["minUserId"]),
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const cfg = configOf(args, { minUserId: DEFAULTS.minUserId as number });
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            for (const key of ["runAsUser", "runAsGroup"] as const) {
                const v = effective(w.pod, c, key);
                if (typeof v !== "number") report(`${w.what}: ${label} has no ${key}.`);
                else if (v === 0) report(`${w.what}: ${label} runs with ${key} 0 (root).`);
                else if (v < cfg.minUserId) report(`${w.what}: ${label} runs with ${key} ${v}, a system account id (minimum ${cfg.minUserId}).`);
            }
        }
        if (w.pod.securityContext?.fsGroup === 0) report(`${w.what}: fsGroup is 0 (root group).`);
    },
});

export const noPrivilegeEscalation = resourcePolicy({
    name: "k8s-no-privilege-escalation",
    summary: "Every container must set allowPrivilegeEscalation: false.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: `${PSS_RESTRICTED} "Privilege Escalation"; Checkov CKV_K8S_20; Polaris privilegeEscalationAllowed`,
        why: "Without it setuid binaries in the image can regain the privileges the other settings removed.",
    },
    fix: "Set securityContext.allowPrivilegeEscalation: false on each container.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            if (c.securityContext?.allowPrivilegeEscalation !== false) {
                report(`${w.what}: ${label} does not set allowPrivilegeEscalation: false.`);
            }
        }
    },
});

export const dropAllCapabilities = resourcePolicy({
    name: "k8s-drop-all-capabilities",
    summary: "Every container must drop ALL capabilities and add back at most NET_BIND_SERVICE.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: `${PSS_RESTRICTED} "Capabilities"; Checkov CKV_K8S_28/CKV_K8S_37; kube-score container-security-context-privileged; Polaris dangerousCapabilities`,
        why: "The default capability set includes NET_RAW and others that the processors never need and attackers do.",
    },
    fix: "Set securityContext.capabilities: { drop: [\"ALL\"] } and remove any add other than NET_BIND_SERVICE.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            const caps = c.securityContext?.capabilities ?? {};
            if (!arr<string>(caps.drop).some((d) => String(d).toUpperCase() === "ALL")) {
                report(`${w.what}: ${label} does not drop ALL capabilities.`);
            }
            const extra = arr<string>(caps.add).filter((a) => String(a).toUpperCase().replace(/^CAP_/, "") !== "NET_BIND_SERVICE");
            if (extra.length > 0) report(`${w.what}: ${label} adds capabilities ${extra.join(", ")}; only NET_BIND_SERVICE is allowed.`);
        }
    },
});

export const seccompRuntimeDefault = resourcePolicy({
    name: "k8s-seccomp-runtime-default",
    summary: "Every container must run under the RuntimeDefault (or a Localhost) seccomp profile.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: `${PSS_RESTRICTED} "Seccomp"; Checkov CKV_K8S_31; kube-score container-seccomp-profile`,
        why: "Unconfined containers can call every syscall, including the ones most container escapes use.",
    },
    fix: "Set spec.template.spec.securityContext.seccompProfile: { type: RuntimeDefault }.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            const profile = effective(w.pod, c, "seccompProfile") as { type?: string } | undefined;
            if (profile?.type !== "RuntimeDefault" && profile?.type !== "Localhost") {
                report(`${w.what}: ${label} runs with seccomp profile ${profile?.type ?? "unset (Unconfined)"}.`);
            }
        }
    },
});

export const notPrivileged = resourcePolicy({
    name: "k8s-not-privileged",
    summary: "No container may run privileged.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: `${PSS_BASELINE} "Privileged Containers"; Checkov CKV_K8S_16; kube-score container-security-context-privileged; Polaris privileged`,
        why: "A privileged container has every device and capability of the node: it is root on the node.",
    },
    fix: "Remove securityContext.privileged (or set it to false).",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            if (c.securityContext?.privileged === true) report(`${w.what}: ${label} is privileged.`);
        }
    },
});

export const noHostNamespaces = resourcePolicy({
    name: "k8s-no-host-namespaces",
    summary: "Pods must not share the node's network, PID or IPC namespace.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: `${PSS_BASELINE} "Host Namespaces"; Checkov CKV_K8S_17/18/19; Polaris hostNetworkSet/hostPIDSet/hostIPCSet`,
        why: "Host namespaces let a pod see and signal node processes and bypass NetworkPolicy.",
    },
    fix: "Remove hostNetwork, hostPID and hostIPC from the pod spec.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const key of ["hostNetwork", "hostPID", "hostIPC"]) {
            if (w.pod[key] === true) report(`${w.what}: ${key} is true.`);
        }
    },
});

export const noHostPorts = resourcePolicy({
    name: "k8s-no-host-ports",
    summary: "Containers must not bind host ports.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: `${PSS_BASELINE} "HostPorts"; Checkov CKV_K8S_26; Polaris hostPortSet`,
        why: "A hostPort exposes the pod on every node address, outside Services, NetworkPolicy and the load balancer.",
    },
    fix: "Remove hostPort from containers[].ports; expose the port through a Service.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            for (const p of arr(c.ports)) {
                if (typeof p?.hostPort === "number" && p.hostPort !== 0) report(`${w.what}: ${label} binds hostPort ${p.hostPort}.`);
            }
        }
    },
});

/** The volume sources the restricted profile permits. */
const RESTRICTED_VOLUMES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

export const restrictedVolumes = resourcePolicy({
    name: "k8s-restricted-volume-types",
    summary: `Pod volumes must use only ${RESTRICTED_VOLUMES.join(", ")} (never hostPath).`,
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: `${PSS_RESTRICTED} "Volume Types"; ${PSS_BASELINE} "HostPath Volumes"; Checkov CKV_K8S_27`,
        why: "hostPath and in-tree network volumes reach node files and credentials outside the pod's sandbox.",
    },
    fix: "Replace the volume with an emptyDir, PVC, configMap, secret or projected volume.",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const v of arr(w.pod.volumes)) {
            const kinds = Object.keys(v ?? {}).filter((k) => k !== "name");
            const bad = kinds.filter((k) => !RESTRICTED_VOLUMES.includes(k));
            if (bad.length > 0) report(`${w.what}: volume "${v.name}" uses ${bad.join(", ")}.`);
        }
    },
});

export const readOnlyRootFilesystem = resourcePolicy({
    name: "k8s-read-only-root-filesystem",
    summary: "Every container must mount its root filesystem read-only; scratch space comes from emptyDir volumes.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "Checkov CKV_K8S_22; kube-score container-security-context-readonlyrootfilesystem; Polaris notReadOnlyRootFilesystem",
        why: "A writable root lets a compromised job drop binaries that survive across jobs in the same pod.",
    },
    fix: "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir at /tmp (and any work dir).",
    types: WORKLOAD_TYPES,
    validate: (args, report) => {
        const w = workloadView(args);
        for (const { c, label } of w.containers) {
            if (c.securityContext?.readOnlyRootFilesystem !== true) report(`${w.what}: ${label} has a writable root filesystem.`);
        }
    },
});
