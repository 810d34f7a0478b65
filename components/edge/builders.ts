/**
 * Cloudflare in front of the origins: pure builders for the zone's settings, its rate-limiting and WAF rulesets and
 * the global load balancer. The rate rules are derived from the same route limits as the ingress's Policies.
 */

export const SECURITY_LEVELS = ["off", "essentially_off", "low", "medium", "high", "under_attack"] as const;
export type SecurityLevel = (typeof SECURITY_LEVELS)[number];

/** Cloudflare Managed Ruleset and Cloudflare OWASP Core Ruleset (account-independent ids). */
export const MANAGED_RULESET_ID = "efb7b8c949ac4650a09736fc376e9aee";
export const OWASP_RULESET_ID = "4814384a9e5d4991b9815dcfc25d2f1f";

export interface PoolWeights {
  readonly primary: number;
  readonly standby: number;
}

export interface MonitorSettings {
  readonly path: string;
  readonly expectedCodes: string;
  readonly intervalSeconds: number;
  readonly retries: number;
  readonly timeoutSeconds: number;
}

/** The zone-wide Cloudflare figures, as the stack config maps them. */
export interface CloudflareSettings {
  readonly accountId: string;
  readonly zoneId: string;
  readonly securityLevel: SecurityLevel;
  /** Window of the edge rate rules, seconds. */
  readonly rateLimitPeriodSeconds: number;
  /** How long a client over the limit stays blocked, seconds. */
  readonly mitigationTimeoutSeconds: number;
  readonly loadBalancer: { readonly poolWeights: PoolWeights; readonly monitor: MonitorSettings };
}

/** One route's whole-controller per-IP limit (the ingress's figure, not a replica's share). */
export interface EdgeRouteLimit {
  readonly path: string;
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** Zone settings: strict TLS to the origin, TLS 1.2 minimum, HTTPS only, the DDoS dial, and origin-pull certificates. */
export function zoneSettings(securityLevel: SecurityLevel): { settingId: string; value: string }[] {
  return [
    { settingId: "ssl", value: "strict" },
    { settingId: "min_tls_version", value: "1.2" },
    { settingId: "always_use_https", value: "on" },
    { settingId: "security_level", value: securityLevel },
    // Cloudflare presents its origin-pull client certificate; the ingress checks it when given the CA.
    { settingId: "tls_client_auth", value: "on" },
  ];
}

/**
 * Requests one client IP may make in one window at the edge: the ingress's sustained rate over the window plus its
 * burst. The edge is never stricter than the origin, so a client the ingress would serve is not blocked earlier.
 */
export function edgeRequestsPerPeriod(limit: Pick<EdgeRouteLimit, "ratePerSecond" | "burst">, periodSeconds: number): number {
  return Math.ceil(limit.ratePerSecond * periodSeconds) + limit.burst;
}

const quote = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export function rateLimitRules(args: {
  readonly apiHost: string;
  readonly routes: readonly EdgeRouteLimit[];
  readonly periodSeconds: number;
  readonly mitigationTimeoutSeconds: number;
}) {
  return args.routes.map((r) => ({
    description: `${r.path}: ${r.ratePerSecond} r/s per client IP, burst ${r.burst}`,
    action: "block",
    expression: `(http.host eq ${quote(args.apiHost)} and starts_with(http.request.uri.path, ${quote(r.path)}))`,
    enabled: true,
    ratelimit: {
      // Counters are kept per data centre; cf.colo.id is required alongside the client key.
      characteristics: ["cf.colo.id", "ip.src"],
      period: args.periodSeconds,
      requestsPerPeriod: edgeRequestsPerPeriod(r, args.periodSeconds),
      mitigationTimeout: args.mitigationTimeoutSeconds,
    },
  }));
}

export function wafRules() {
  return [MANAGED_RULESET_ID, OWASP_RULESET_ID].map((id) => ({
    description: id === MANAGED_RULESET_ID ? "Cloudflare Managed Ruleset" : "Cloudflare OWASP Core Ruleset",
    action: "execute",
    expression: "true",
    enabled: true,
    actionParameters: { id },
  }));
}

export function monitorArgs(accountId: string, apiHost: string, m: MonitorSettings) {
  return {
    accountId,
    description: `${apiHost} ${m.path}`,
    type: "https",
    method: "GET",
    path: m.path,
    expectedCodes: m.expectedCodes,
    interval: m.intervalSeconds,
    retries: m.retries,
    timeout: m.timeoutSeconds,
    followRedirects: false,
    allowInsecure: false,
    // The origin's VirtualServer answers /health only for the API host.
    header: { Host: [apiHost] },
  };
}

export function validateWeights(w: PoolWeights): string[] {
  const problems: string[] = [];
  for (const k of ["primary", "standby"] as const) {
    if (!(w[k] >= 0 && w[k] <= 1)) problems.push(`poolWeights.${k}: must be in [0, 1], got ${w[k]}`);
  }
  if (Math.abs(w.primary + w.standby - 1) > 1e-9) problems.push(`poolWeights: must sum to 1, got ${w.primary + w.standby}`);
  return problems;
}

/** `A` for an address, `CNAME` for a load balancer's host name (EKS). */
export const recordTypeFor = (address: string) => (/^\d{1,3}(\.\d{1,3}){3}$/.test(address) ? "A" : /:/.test(address) ? "AAAA" : "CNAME");
