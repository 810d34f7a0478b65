import type { PolicyResource } from "@pulumi/policy";
import { arr, isEmptySelector, isWorkload, namespaceOf, objectName, podTemplate, selects, serviceName, T, type Obj } from "../core/k8s";
import { configOf, resourcePolicy, stackPolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";

function netpols(resources: readonly PolicyResource[], ns: string): PolicyResource[] {
    return resources.filter((r) => r.type === T.NetworkPolicy && namespaceOf(r.props) === ns);
}

function policyTypes(spec: Obj): string[] {
    const t = arr<string>(spec.policyTypes);
    if (t.length > 0) return t;
    // The API server's defaulting: Ingress always, Egress only when egress rules are given.
    return spec.egress ? ["Ingress", "Egress"] : ["Ingress"];
}

/**
 * Custom resources whose operator runs pods in the resource's own namespace: a CloudNativePG `Cluster` (its instances
 * and their set-up Jobs) and `Pooler` (PgBouncer). Those pods hold the data, so their namespace is held to the same
 * default deny as one with workloads the program declares itself.
 */
const OPERATOR_POD_OWNERS: readonly string[] = ["kubernetes:postgresql.cnpg.io/v1:Cluster", "kubernetes:postgresql.cnpg.io/v1:Pooler"];

export const namespaceDefaultDeny = stackPolicy({
    name: "k8s-namespace-default-deny",
    summary: "Every namespace with workloads, or with a CloudNativePG Cluster or Pooler (whose operator runs the pods), must have a NetworkPolicy that selects all pods and denies all ingress and egress by default.",
    enforcement: "mandatory",
    meta: {
        area: "network",
        source: "Kubernetes NetworkPolicy \"default deny all\"; NSA/CISA Kubernetes Hardening Guide; Checkov CKV2_K8S_6; playbook deny_by_default",
        why: "Kubernetes allows all pod traffic until some policy selects a pod; default-deny makes every flow an explicit, reviewed allow. A database's instances and poolers are pods too, though an operator creates them: without an egress default, a compromised instance reaches anything.",
    },
    fix: "Add a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] and no rules, then allow the needed flows explicitly.",
    configSchema: schemaFor(["systemNamespaces"]),
    validate: (args, report) => {
        const cfg = configOf(args, { systemNamespaces: DEFAULTS.systemNamespaces as readonly string[] });
        const byNs = new Map<string, PolicyResource>();
        for (const w of args.resources.filter((r) => isWorkload(r.type) || OPERATOR_POD_OWNERS.includes(r.type))) {
            const ns = namespaceOf(w.props);
            if (!cfg.systemNamespaces.includes(ns) && !byNs.has(ns)) byNs.set(ns, w);
        }
        for (const [ns, first] of byNs) {
            const denies = new Set<string>();
            for (const np of netpols(args.resources, ns)) {
                const spec = np.props.spec ?? {};
                if (!isEmptySelector(spec.podSelector)) continue;
                const types = policyTypes(spec);
                if (types.includes("Ingress") && arr(spec.ingress).length === 0) denies.add("Ingress");
                if (types.includes("Egress") && arr(spec.egress).length === 0) denies.add("Egress");
            }
            const missing = ["Ingress", "Egress"].filter((t) => !denies.has(t));
            if (missing.length > 0) {
                const nsRes = args.resources.find((r) => r.type === T.Namespace && objectName(r.props, r.name) === ns);
                report(`Namespace ${ns} runs workloads but has no default-deny ${missing.join(" and ")} NetworkPolicy.`, (nsRes ?? first).urn);
            }
        }
    },
});

export const helmNamespaceDefaultDeny = stackPolicy({
    name: "k8s-helm-namespace-default-deny",
    summary: "Namespaces that Helm releases deploy into should also have a default-deny NetworkPolicy (ingress and egress).",
    enforcement: "advisory",
    meta: {
        area: "network",
        source: "Kubernetes NetworkPolicy \"default deny all\"; NSA/CISA Kubernetes Hardening Guide",
        why: "Chart-deployed controllers (ingress, monitoring, KEDA) are reachable from every pod until a policy says otherwise. Advisory because their pods are not visible to a preview and several need API-server or node flows the chart does not declare.",
    },
    fix: "Add a default-deny NetworkPolicy to the release's namespace and allow the chart's documented flows.",
    configSchema: schemaFor(["systemNamespaces"]),
    validate: (args, report) => {
        const cfg = configOf(args, { systemNamespaces: DEFAULTS.systemNamespaces as readonly string[] });
        const withWorkloads = new Set(args.resources.filter((r) => isWorkload(r.type)).map((r) => namespaceOf(r.props)));
        const seen = new Set<string>();
        for (const rel of args.resources.filter((r) => r.type === T.HelmRelease)) {
            const ns = String(rel.props.namespace ?? "default");
            if (cfg.systemNamespaces.includes(ns) || withWorkloads.has(ns) || seen.has(ns)) continue;
            seen.add(ns);
            const types = new Set<string>();
            for (const np of netpols(args.resources, ns)) {
                const spec = np.props.spec ?? {};
                if (!isEmptySelector(spec.podSelector)) continue;
                const t = policyTypes(spec);
                if (t.includes("Ingress") && arr(spec.ingress).length === 0) types.add("Ingress");
                if (t.includes("Egress") && arr(spec.egress).length === 0) types.add("Egress");
            }
            const missing = ["Ingress", "Egress"].filter((t) => !types.has(t));
            if (missing.length > 0) report(`Namespace ${ns} (Helm release ${rel.props.name ?? rel.name}) has no default-deny ${missing.join(" and ")} NetworkPolicy.`, rel.urn);
        }
    },
});

const OPEN_CIDRS = new Set(["0.0.0.0/0", "::/0"]);

function portNumbers(rule: Obj): (number | string)[] | undefined {
    const ports = arr(rule.ports);
    if (ports.length === 0) return undefined;
    return ports.map((p) => (p?.port === undefined ? "any" : p.port));
}

export const codeExecutorEgress = stackPolicy({
    name: "k8s-sandboxed-service-egress",
    summary: "The code executor's pods may reach only DNS and the database: every egress rule selecting them must be limited to those ports.",
    enforcement: "mandatory",
    meta: {
        area: "network",
        source: "NSA/CISA Kubernetes Hardening Guide (egress restriction); OWASP Kubernetes Top 10 K07 Missing Network Segmentation; playbook block_external_access",
        why: "Submitted code must not exfiltrate data, reach the metadata server or scan the cluster; only name resolution and the job database are needed.",
    },
    fix: "Restrict the code-executor NetworkPolicies' egress to port 53 (UDP/TCP) and the database port (5432) and deny the rest.",
    configSchema: schemaFor(["sandboxedService", "dnsPorts", "databasePorts"]),
    validate: (args, report) => {
        const cfg = configOf(args, { sandboxedService: DEFAULTS.sandboxedService, dnsPorts: DEFAULTS.dnsPorts as readonly number[], databasePorts: DEFAULTS.databasePorts as readonly number[] });
        const allowed = new Set<number | string>([...cfg.dnsPorts, ...cfg.databasePorts]);
        for (const w of args.resources.filter((r) => isWorkload(r.type) && serviceName(r.props, r.name) === cfg.sandboxedService)) {
            const labels = podTemplate(w.type, w.props)?.metadata.labels;
            const governing = netpols(args.resources, namespaceOf(w.props)).filter((np) => selects(np.props.spec?.podSelector ?? {}, labels) || isEmptySelector(np.props.spec?.podSelector));
            const egressGoverned = governing.some((np) => policyTypes(np.props.spec ?? {}).includes("Egress"));
            if (!egressGoverned) {
                report(`${cfg.sandboxedService} has no NetworkPolicy restricting its egress.`, w.urn);
                continue;
            }
            for (const np of governing) {
                for (const rule of arr(np.props.spec?.egress)) {
                    const ports = portNumbers(rule);
                    const npName = objectName(np.props, np.name);
                    if (!ports) report(`NetworkPolicy ${npName} lets ${cfg.sandboxedService} egress on all ports.`, np.urn);
                    else {
                        const bad = ports.filter((p) => !allowed.has(p));
                        if (bad.length > 0) report(`NetworkPolicy ${npName} lets ${cfg.sandboxedService} egress on port(s) ${bad.join(", ")}; only DNS and the database are allowed.`, np.urn);
                    }
                    // Even on allowed ports, an open destination is a channel out (any resolver, any PostgreSQL on the internet).
                    const to = arr<Obj>(rule.to);
                    const open = to.length === 0 || to.some((peer) => peer.ipBlock && OPEN_CIDRS.has(String(peer.ipBlock.cidr)));
                    if (open) report(`NetworkPolicy ${npName} lets ${cfg.sandboxedService} egress to any destination; name the DNS pods and the database address.`, np.urn);
                }
            }
        }
    },
});

export const noNodePort = resourcePolicy({
    name: "k8s-no-nodeport-services",
    summary: "Services must not be of type NodePort.",
    enforcement: "mandatory",
    meta: {
        area: "network",
        source: "kube-score service-type; GKE hardening guide (avoid NodePort exposure)",
        why: "A NodePort opens the service on every node's address, bypassing the ingress controller, its TLS and its rate limits.",
    },
    fix: "Use type ClusterIP and route through the ingress controller.",
    types: [T.Service],
    validate: (args, report) => {
        if (args.props.spec?.type === "NodePort") report(`Service ${namespaceOf(args.props)}/${objectName(args.props, args.name)} is of type NodePort.`);
    },
});

function isIngressController(props: Obj, name: string, pattern: string): boolean {
    const re = new RegExp(pattern, "i");
    const labels = props.metadata?.labels ?? {};
    return [objectName(props, name), name, labels["app.kubernetes.io/name"], labels["app.kubernetes.io/component"] === "controller" ? labels["app.kubernetes.io/part-of"] ?? labels["app.kubernetes.io/instance"] : undefined]
        .some((v) => typeof v === "string" && re.test(v));
}

export const loadBalancerOnlyIngress = resourcePolicy({
    name: "k8s-loadbalancer-only-ingress-controller",
    summary: "Only the ingress controller may have a LoadBalancer Service, and it must set loadBalancerSourceRanges.",
    enforcement: "mandatory",
    meta: {
        area: "network",
        source: "Kubernetes Service docs (loadBalancerSourceRanges); GKE and EKS load balancer hardening guidance; playbook quota services.loadbalancers 2",
        why: "Every LoadBalancer is a public entry point with its own cost; one controller with source ranges (the CDN's edges) is the only intended door.",
    },
    fix: "Make the Service ClusterIP and route it through the ingress; on the controller set spec.loadBalancerSourceRanges.",
    configSchema: schemaFor(["ingressControllerPattern"]),
    types: [T.Service, T.HelmRelease],
    validate: (args, report) => {
        const cfg = configOf(args, { ingressControllerPattern: DEFAULTS.ingressControllerPattern as string });
        if (args.type === T.HelmRelease) {
            const chart = String(args.props.chart ?? "");
            if (!new RegExp(cfg.ingressControllerPattern, "i").test(chart)) args.notApplicable("not an ingress controller chart");
            const svc = args.props.values?.controller?.service ?? {};
            // The chart creates no Service: the program declares the controller's Service itself (checked as a Service).
            if (svc.create === false) return;
            const type = svc.type ?? "LoadBalancer";
            if (type === "LoadBalancer" && arr(svc.loadBalancerSourceRanges).length === 0) {
                report(`Helm release ${args.name} exposes the ingress controller as a LoadBalancer without controller.service.loadBalancerSourceRanges.`);
            }
            return;
        }
        const spec = args.props.spec ?? {};
        if (spec.type !== "LoadBalancer") return;
        const label = `Service ${namespaceOf(args.props)}/${objectName(args.props, args.name)}`;
        if (!isIngressController(args.props, args.name, cfg.ingressControllerPattern)) report(`${label} is a LoadBalancer but is not the ingress controller.`);
        else if (arr(spec.loadBalancerSourceRanges).length === 0) report(`${label} is a LoadBalancer without loadBalancerSourceRanges.`);
    },
});

/** Env values that name a remote object store a handler writes to. */
const REMOTE_STORE = /^(s3|gs|https):\/\//;
const HTTPS_PORT = 443;

export const storeReachable = stackPolicy({
    name: "k8s-workload-store-reachable",
    summary: "A workload configured with a remote store (a *_STORE_URL of s3://, gs:// or https://) or a store credential must be allowed HTTPS egress by the NetworkPolicies that govern it.",
    enforcement: "mandatory",
    meta: {
        area: "network",
        source: "Kubernetes NetworkPolicy egress semantics (the union of the policies selecting a pod); playbook block_external_access for the code sandbox",
        why: "A sandboxed processor with no route out whose handler still writes to an object store fails every job, retries it and dead-letters it; a credential it cannot use is only something to steal.",
    },
    fix: "Either keep the workload's results out of the store (no *_STORE_URL, no store token) or allow it HTTPS egress; untrusted code gets the former.",
    validate: (args, report) => {
        for (const wr of args.resources.filter((r) => isWorkload(r.type))) {
            const tpl = podTemplate(wr.type, wr.props);
            if (!tpl) continue;
            const containers = [...arr(tpl.spec.containers), ...arr(tpl.spec.initContainers)];
            const stores = containers.flatMap((c) => arr(c.env).filter((e) => /_STORE_URL$/.test(String(e?.name)) && REMOTE_STORE.test(String(e?.value ?? ""))).map((e) => `${e.name}=${e.value}`));
            const credentials = containers.flatMap((c) => arr(c.env).filter((e) => /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)(_FILE)?$/.test(String(e?.name))).map((e) => String(e.name)));
            if (stores.length === 0 && credentials.length === 0) continue;
            const governing = netpols(args.resources, namespaceOf(wr.props)).filter((np) => {
                const sel = np.props.spec?.podSelector;
                return (isEmptySelector(sel) || selects(sel, tpl.metadata.labels)) && policyTypes(np.props.spec ?? {}).includes("Egress");
            });
            if (governing.length === 0) continue; // egress not restricted: reachable
            const https = governing.some((np) => arr(np.props.spec?.egress).some((rule) => {
                const ports = portNumbers(rule);
                return !ports || ports.includes(HTTPS_PORT) || ports.includes("https");
            }));
            if (!https) {
                const what = stores.length > 0 ? stores.join(", ") : `store credentials (${credentials.join(", ")})`;
                report(`${wr.type.split(":").pop()} ${namespaceOf(wr.props)}/${objectName(wr.props, wr.name)} is given ${what} but no NetworkPolicy lets it reach HTTPS.`, wr.urn);
            }
        }
    },
});
