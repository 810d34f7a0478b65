import type { PolicyResource, StackValidationArgs, ReportViolation } from "@pulumi/policy";
import { arr, namespaceOf, objectName, T, type Obj } from "../core/k8s";
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
