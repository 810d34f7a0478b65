import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import {
  monitorArgs,
  rateLimitRules,
  recordTypeFor,
  validateWeights,
  wafRules,
  zoneSettings,
  type CloudflareSettings,
  type EdgeRouteLimit,
} from "./builders";

export * from "./builders";

export interface EdgeOriginArgs {
  readonly zoneId: string;
  /** This region's origin host name, e.g. `origin-us-west1.pitchey.com`. */
  readonly hostname: string;
  /** The ingress controller's load balancer address (IP or host name). */
  readonly address: pulumi.Input<string>;
}

/** One region's proxied origin record; every stack owns its own. */
export class EdgeOrigin extends pulumi.ComponentResource {
  readonly record: cloudflare.DnsRecord;
  readonly hostname: string;

  constructor(name: string, args: EdgeOriginArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:edge:EdgeOrigin", name, {}, opts);
    this.hostname = args.hostname;
    const address = pulumi.output(args.address);
    this.record = new cloudflare.DnsRecord(
      `${name}-record`,
      {
        zoneId: args.zoneId,
        name: args.hostname,
        type: address.apply(recordTypeFor),
        content: address,
        proxied: true,
        ttl: 1,
        comment: "Regional origin behind the global load balancer; managed by Pulumi",
      },
      { parent: this },
    );
    this.registerOutputs({ hostname: this.hostname });
  }
}

export interface GlobalEdgeArgs {
  readonly settings: CloudflareSettings;
  readonly apiHost: string;
  /** Per-route whole-ingress limits; the edge rules are derived from them. */
  readonly routes: readonly EdgeRouteLimit[];
  /** Origin host names of the two regions. */
  readonly primaryOrigin: pulumi.Input<string>;
  readonly standbyOrigin: pulumi.Input<string>;
}

/**
 * What exists once for the zone: its settings, the rate-limiting and managed WAF rulesets, the health monitor, one
 * pool per region and the load balancer that steers between them with the standby as fallback.
 */
export class GlobalEdge extends pulumi.ComponentResource {
  readonly loadBalancer: cloudflare.LoadBalancer;
  readonly monitor: cloudflare.LoadBalancerMonitor;
  readonly pools: { readonly primary: cloudflare.LoadBalancerPool; readonly standby: cloudflare.LoadBalancerPool };

  constructor(name: string, args: GlobalEdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:edge:GlobalEdge", name, {}, opts);
    const s = args.settings;
    const problems = validateWeights(s.loadBalancer.poolWeights).map((m) => ({ propertyPath: `settings.loadBalancer.${m.split(":")[0]}`, reason: m }));
    if (args.routes.length === 0) problems.push({ propertyPath: "routes", reason: "must not be empty" });
    if (problems.length > 0) {
      throw new pulumi.InputPropertiesError({ message: `invalid arguments for edge ${name}: ${problems.map((p) => p.reason).join("; ")}`, errors: problems });
    }
    const child = { parent: this };
    for (const z of zoneSettings(s.securityLevel)) {
      new cloudflare.ZoneSetting(`${name}-${z.settingId.replace(/_/g, "-")}`, { zoneId: s.zoneId, settingId: z.settingId, value: z.value }, child);
    }
    new cloudflare.Ruleset(
      `${name}-rate-limits`,
      {
        zoneId: s.zoneId,
        kind: "zone",
        phase: "http_ratelimit",
        name: "job API rate limits",
        description: "Per-route client-IP limits derived from the ingress limits",
        rules: rateLimitRules({
          apiHost: args.apiHost,
          routes: args.routes,
          periodSeconds: s.rateLimitPeriodSeconds,
          mitigationTimeoutSeconds: s.mitigationTimeoutSeconds,
        }),
      },
      child,
    );
    new cloudflare.Ruleset(
      `${name}-waf`,
      { zoneId: s.zoneId, kind: "zone", phase: "http_request_firewall_managed", name: "managed WAF", rules: wafRules() },
      child,
    );
    this.monitor = new cloudflare.LoadBalancerMonitor(`${name}-monitor`, monitorArgs(s.accountId, args.apiHost, s.loadBalancer.monitor), child);
    const pool = (role: "primary" | "standby", origin: pulumi.Input<string>) =>
      new cloudflare.LoadBalancerPool(
        `${name}-${role}-pool`,
        {
          accountId: s.accountId,
          name: `${args.apiHost.replace(/\./g, "-")}-${role}`,
          description: `${role} region`,
          enabled: true,
          minimumOrigins: 1,
          monitor: this.monitor.id,
          origins: [{ name: role, address: origin, enabled: true, weight: 1, header: { hosts: [args.apiHost] } }],
        },
        child,
      );
    this.pools = { primary: pool("primary", args.primaryOrigin), standby: pool("standby", args.standbyOrigin) };
    const w = s.loadBalancer.poolWeights;
    this.loadBalancer = new cloudflare.LoadBalancer(
      `${name}-load-balancer`,
      {
        zoneId: s.zoneId,
        name: args.apiHost,
        description: "Job API across regions; the failover phase sets the weights",
        proxied: true,
        defaultPools: [this.pools.primary.id, this.pools.standby.id],
        fallbackPool: this.pools.standby.id,
        steeringPolicy: "random",
        randomSteering: {
          defaultWeight: 0,
          poolWeights: pulumi.all([this.pools.primary.id, this.pools.standby.id]).apply(([p, sb]) => ({ [p]: w.primary, [sb]: w.standby })),
        },
      },
      child,
    );
    this.registerOutputs({ loadBalancer: this.loadBalancer.id });
  }
}
