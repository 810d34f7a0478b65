import type { PolicyResource, ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { refersTo } from "../core/refs";
import { configOf, resourcePolicy, stackPolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";

export const CF_ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting";
export const CF_DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord";
export const CF_RECORD = "cloudflare:index/record:Record";
export const CF_ZONE = "cloudflare:index/zone:Zone";

const CF_SOURCE = "Cloudflare SSL/TLS recommendations";

/** The zones the stack manages: every zoneId a setting or record uses, plus Zone resources nothing refers to yet. */
function zones(resources: readonly PolicyResource[]): { id: string; urn: string }[] {
    const out = new Map<string, string>();
    const zoneResources = resources.filter((r) => r.type === CF_ZONE);
    for (const r of resources) {
        if (r.type !== CF_ZONE_SETTING && r.type !== CF_DNS_RECORD && r.type !== CF_RECORD) continue;
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
