import type { PolicyResource, StackValidationArgs, ReportViolation } from "@pulumi/policy";
import { arr, containersOf, namespaceOf, objectName, podTemplate, selects, T, type Obj } from "../core/k8s";
import { stackPolicy } from "../core/policy";

export const NIC_VIRTUAL_SERVER = "kubernetes:k8s.nginx.org/v1:VirtualServer";
export const NIC_POLICY = "kubernetes:k8s.nginx.org/v1:Policy";

/** Helm releases whose chart values create a LoadBalancer Service (an ingress chart left at its default does). */
function releaseCreatesLoadBalancer(r: PolicyResource): boolean {
    const chart = String(r.props.chart ?? "");
    if (!/ingress|gateway/i.test(chart)) return false;
    const svc = (r.props.values as Obj | undefined)?.controller?.service ?? {};
    return svc.create !== false && (svc.type ?? "LoadBalancer") === "LoadBalancer";
}

export const singleLoadBalancer = stackPolicy({
    name: "k8s-single-loadbalancer",
    summary: "A cluster has at most one LoadBalancer Service, and it admits only listed source ranges.",
    enforcement: "mandatory",
    meta: {
        area: "edge",
        source: "Kubernetes Service docs (type LoadBalancer, loadBalancerSourceRanges); the edge design: Cloudflare → one ingress controller",
        why: "Each LoadBalancer is a public door to the cluster; with one, fenced to the CDN's ranges, nothing reaches a processor around the edge's TLS, WAF and rate limits.",
    },
    fix: "Make extra Services ClusterIP and route them through the ingress controller; set spec.loadBalancerSourceRanges on the controller's Service.",
    validate: (args: StackValidationArgs, report: ReportViolation) => {
        const lbs = args.resources.filter(
            (r) => (r.type === T.Service && r.props.spec?.type === "LoadBalancer") || (r.type === T.HelmRelease && releaseCreatesLoadBalancer(r)),
        );
        if (lbs.length > 1) {
            for (const r of lbs) report(`${lbs.length} LoadBalancer Services in one cluster (${lbs.map((x) => x.name).join(", ")}); at most one is allowed.`, r.urn);
        }
        for (const r of lbs) {
            const ranges = r.type === T.Service ? r.props.spec?.loadBalancerSourceRanges : (r.props.values as Obj | undefined)?.controller?.service?.loadBalancerSourceRanges;
            if (arr(ranges).length === 0) report(`LoadBalancer ${r.name} admits every source address: set loadBalancerSourceRanges.`, r.urn);
        }
    },
});

/** Does a route send requests to an upstream (rather than answer itself)? */
function routeProxies(route: Obj): boolean {
    const passes = (a: Obj | undefined) => !!a && (typeof a.pass === "string" || a.proxy !== undefined);
    return passes(route.action) || arr<Obj>(route.splits).some((s) => passes(s.action)) || arr<Obj>(route.matches).some((m) => passes(m.action) || arr<Obj>(m.splits).some((s) => passes(s.action)));
}

export const routeRateLimited = stackPolicy({
    name: "nginx-route-rate-limited",
    summary: "Every VirtualServer route that reaches an upstream applies a rateLimit Policy.",
    enforcement: "mandatory",
    meta: {
        area: "edge",
        source: "Playbook nginx.conf (limit_req on every API location); F5 NGINX Ingress Controller Policy resource (rateLimit)",
        why: "An unlimited route lets one client queue unbounded work and starve every other client of the processors behind it.",
    },
    fix: "Reference a Policy with spec.rateLimit in the route's policies (or the VirtualServer's spec.policies).",
    validate: (args, report) => {
        const limits = new Set(
            args.resources.filter((r) => r.type === NIC_POLICY && r.props.spec?.rateLimit).map((r) => `${namespaceOf(r.props)}/${objectName(r.props, r.name)}`),
        );
        for (const vs of args.resources.filter((r) => r.type === NIC_VIRTUAL_SERVER)) {
            const ns = namespaceOf(vs.props);
            const ref = (p: Obj) => `${p.namespace ?? ns}/${p.name}`;
            const serverWide = arr<Obj>(vs.props.spec?.policies).some((p) => limits.has(ref(p)));
            for (const route of arr<Obj>(vs.props.spec?.routes)) {
                if (!routeProxies(route) || serverWide) continue;
                if (!arr<Obj>(route.policies).some((p) => limits.has(ref(p)))) {
                    report(`VirtualServer ${ns}/${objectName(vs.props, vs.name)} route ${route.path} reaches an upstream without a rate limit.`, vs.urn);
                }
            }
        }
    },
});

/** Upstream names a route sends requests to (its action, its splits, its matches' actions). */
function passedUpstreams(route: Obj): string[] {
    const of = (a: Obj | undefined) => (a && typeof a.pass === "string" ? [a.pass] : []);
    const splits = (xs: unknown) => arr<Obj>(xs).flatMap((x) => of(x.action));
    return [...of(route.action), ...splits(route.splits), ...arr<Obj>(route.matches).flatMap((m) => [...of(m.action), ...splits(m.splits)])];
}

/** Does the route answer 401 itself when the request carries no credential (a header condition on the empty value)? */
function refusesWithoutCredential(route: Obj): boolean {
    return arr<Obj>(route.matches).some(
        (m) => arr<Obj>(m.conditions).some((c) => typeof c.header === "string" && c.value === "") && m.action?.return?.code === 401,
    );
}

export const publicRouteRequiresAuth = stackPolicy({
    name: "api-route-requires-auth",
    summary: "A public route to a job processor answers 401 at the edge without a credential, and the processor verifies credentials itself (API_AUTH not disabled).",
    enforcement: "mandatory",
    meta: {
        area: "edge",
        source: "The edge design (docs/edge.md): API keys checked for shape at the edge and verified by the worker; OWASP API Security Top 10 (API2 broken authentication)",
        why: "A processor's API queues work and returns results: reachable from the internet without authentication, anyone can run jobs at the platform's cost and read other clients' results.",
    },
    fix: "Keep the route's match that returns 401 when the credential header is empty, and remove API_AUTH=disabled from the processor's Deployment (its default is required).",
    validate: (args, report) => {
        const workloads = args.resources.filter((r) => r.type === T.Deployment);
        const services = args.resources.filter((r) => r.type === T.Service);
        for (const vs of args.resources.filter((r) => r.type === NIC_VIRTUAL_SERVER)) {
            const ns = namespaceOf(vs.props);
            const where = `VirtualServer ${ns}/${objectName(vs.props, vs.name)}`;
            const upstreams = new Map(arr<Obj>(vs.props.spec?.upstreams).map((u) => [u.name, u]));
            for (const route of arr<Obj>(vs.props.spec?.routes)) {
                const passes = passedUpstreams(route);
                if (passes.length === 0) continue;
                if (!refusesWithoutCredential(route)) report(`${where} route ${route.path} forwards requests that carry no credential (no match answering 401).`, vs.urn);
                for (const name of passes) {
                    const svcName = upstreams.get(name)?.service;
                    const svc = services.find((s) => namespaceOf(s.props) === ns && objectName(s.props, s.name) === svcName);
                    const backends = workloads.filter((w) => namespaceOf(w.props) === ns && svc && selects(svc.props.spec?.selector, podTemplate(w.type, w.props)?.metadata?.labels));
                    for (const w of backends) {
                        const disabled = containersOf(podTemplate(w.type, w.props)?.spec, false).some((c) =>
                            arr<Obj>(c.c.env).some((e) => e.name === "API_AUTH" && e.value === "disabled"),
                        );
                        if (disabled) report(`${where} route ${route.path} is public, but ${objectName(w.props, w.name)} runs with API_AUTH=disabled: anyone could submit and read jobs.`, w.urn);
                    }
                }
            }
        }
    },
});
