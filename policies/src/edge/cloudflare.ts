import type { PolicyResource, ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { refersTo } from "../core/refs";
import { configOf, resourcePolicy, stackPolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";

export const CF_ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting";
export const CF_DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord";
export const CF_RECORD = "cloudflare:index/record:Record";
export const CF_ZONE = "cloudflare:index/zone:Zone";

const CF_SOURCE = "Cloudflare SSL/TLS recommendations";

/** Resources that make a stack the manager of a zone's configuration (a record alone does not). */
const ZONE_WIDE = ["cloudflare:index/zoneSetting:ZoneSetting", "cloudflare:index/ruleset:Ruleset", "cloudflare:index/loadBalancer:LoadBalancer"];

/**
 * The zones the stack manages: every zoneId a setting, ruleset or load balancer uses, plus Zone resources. A stack
 * that only owns records in a zone (a region's origin record) leaves the zone's settings to the stack that manages it.
 */
function zones(resources: readonly PolicyResource[]): { id: string; urn: string }[] {
    const out = new Map<string, string>();
    const zoneResources = resources.filter((r) => r.type === CF_ZONE);
    for (const r of resources) {
        if (!ZONE_WIDE.includes(r.type)) continue;
        const id = r.props.zoneId;
        if (typeof id !== "string" || out.has(id)) continue;
        out.set(id, (zoneResources.find((z) => refersTo(id, z)) ?? r).urn);
    }
    for (const z of zoneResources) {
        if (![...out.keys()].some((id) => refersTo(id, z))) out.set(`${z.type}::${z.name}-id`, z.urn);
    }
    return [...out].map(([id, urn]) => ({ id, urn }));
}

function zoneSetting(settingId: string, accepts: (value: unknown) => boolean, expected: string) {
    return (args: StackValidationArgs, report: ReportViolation) => {
        const settings = args.resources.filter((r) => r.type === CF_ZONE_SETTING && r.props.settingId === settingId);
        for (const s of settings) {
            if (!accepts(s.props.value)) report(`Zone setting ${settingId} on zone ${s.props.zoneId} is ${JSON.stringify(s.props.value)}; expected ${expected}.`, s.urn);
        }
        for (const z of zones(args.resources)) {
            if (!settings.some((s) => s.props.zoneId === z.id)) report(`Zone ${z.id} does not set ${settingId} (${expected}).`, z.urn);
        }
    };
}

export const cfSslStrict = stackPolicy({
    name: "cloudflare-ssl-strict",
    summary: "Every Cloudflare zone must set SSL mode to strict (Full (strict)).",
    enforcement: "mandatory",
    meta: {
        area: "edge",
        source: `${CF_SOURCE} (Full (strict) encryption mode)`,
        why: "Flexible and Full modes accept any origin certificate or plain HTTP to the origin, so the edge-to-ingress hop could be intercepted.",
    },
    fix: "Add cloudflare.ZoneSetting { settingId: \"ssl\", value: \"strict\" } for the zone.",
    validate: zoneSetting("ssl", (v) => v === "strict", "strict"),
});

export const cfMinTls = stackPolicy({
    name: "cloudflare-min-tls-1-2",
    summary: "Every Cloudflare zone must require TLS 1.2 or newer.",
    enforcement: "mandatory",
    meta: {
        area: "edge",
        source: `${CF_SOURCE} (minimum TLS version); PCI DSS 4.0 / NIST SP 800-52r2`,
        why: "TLS 1.0/1.1 are deprecated and broken; clients uploading media must not be able to negotiate them.",
    },
    fix: "Add cloudflare.ZoneSetting { settingId: \"min_tls_version\", value: \"1.2\" }.",
    validate: zoneSetting("min_tls_version", (v) => typeof v === "string" && Number(v) >= 1.2, "1.2 or 1.3"),
});

export const cfAlwaysHttps = stackPolicy({
    name: "cloudflare-always-use-https",
    summary: "Every Cloudflare zone must redirect HTTP to HTTPS.",
    enforcement: "mandatory",
    meta: {
        area: "edge",
        source: `${CF_SOURCE} (Always Use HTTPS)`,
        why: "Without the redirect, a link or client misconfiguration sends API tokens in clear text.",
    },
    fix: "Add cloudflare.ZoneSetting { settingId: \"always_use_https\", value: \"on\" }.",
    validate: zoneSetting("always_use_https", (v) => v === "on" || v === true, "on"),
});

export const cfApiProxied = resourcePolicy({
    name: "cloudflare-api-record-proxied",
    summary: "DNS records for the API host must be proxied through Cloudflare.",
    enforcement: "mandatory",
    meta: {
        area: "edge",
        source: "Cloudflare DNS docs (proxied records); Cloudflare DDoS and rate-limiting prerequisites",
        why: "An unproxied record publishes the origin IP and bypasses the WAF, rate limits and DDoS mode the edge provides.",
    },
    fix: "Set proxied: true on the record.",
    configSchema: schemaFor(["apiHostPattern"]),
    types: [CF_DNS_RECORD, CF_RECORD],
    validate: (args, report) => {
        const cfg = configOf(args, { apiHostPattern: DEFAULTS.apiHostPattern as string });
        const p = args.props;
        if (!["A", "AAAA", "CNAME"].includes(String(p.type))) args.notApplicable("only address records can be proxied");
        if (!new RegExp(cfg.apiHostPattern, "i").test(String(p.name ?? ""))) args.notApplicable("not the API host");
        if (p.proxied !== true) report(`DNS record ${p.name} (${p.type}) is not proxied.`);
    },
});

export const CF_LOAD_BALANCER = "cloudflare:index/loadBalancer:LoadBalancer";
export const CF_LB_POOL = "cloudflare:index/loadBalancerPool:LoadBalancerPool";
export const CF_LB_MONITOR = "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor";

export const cfLoadBalancerFailover = stackPolicy({
    name: "cloudflare-lb-monitor-and-fallback",
    summary: "Every Cloudflare load balancer has a fallback pool, and every pool it uses has a health monitor.",
    enforcement: "mandatory",
    meta: {
        area: "edge",
        source: "Cloudflare Load Balancing docs (fallback pool, monitors); playbook Disaster Recovery (regional failover)",
        why: "Without a monitor a dead region keeps its share of traffic; without a fallback pool there is nowhere to send it when every default pool is down.",
    },
    fix: "Set fallbackPool to the standby region's pool and give every pool a monitor.",
    validate: (args, report) => {
        const pools = args.resources.filter((r) => r.type === CF_LB_POOL);
        const monitors = args.resources.filter((r) => r.type === CF_LB_MONITOR);
        for (const lb of args.resources.filter((r) => r.type === CF_LOAD_BALANCER)) {
            const fallback = lb.props.fallbackPool;
            if (typeof fallback !== "string" || fallback === "") report(`Load balancer ${lb.props.name ?? lb.name} has no fallback pool.`, lb.urn);
            const used = [...(Array.isArray(lb.props.defaultPools) ? lb.props.defaultPools : []), fallback].filter((p) => typeof p === "string" && p !== "");
            for (const ref of used) {
                const pool = pools.find((p) => refersTo(ref, p));
                if (!pool) continue; // a pool managed elsewhere is that stack's to check
                const m = pool.props.monitor;
                if (typeof m !== "string" || m === "" || (monitors.length > 0 && !monitors.some((x) => refersTo(m, x)))) {
                    report(`Pool ${pool.props.name ?? pool.name} of load balancer ${lb.props.name ?? lb.name} has no health monitor.`, lb.urn);
                }
            }
        }
    },
});
