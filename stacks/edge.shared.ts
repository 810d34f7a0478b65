import { expect, it } from "vitest";
import { KEY_ID_HEADER, KEY_ID_VARIABLE, keyIdMap } from "../components/ingress/builders";
import { CHARTS } from "../components/versions";
import { JOB_TYPE_OF, PROCESSOR_NAMES, type PlatformConfig } from "./config";
import type { planStack } from "./plan/wholeStack";

type Plan = Awaited<ReturnType<typeof planStack>>;

const CF = (t: string) => `cloudflare:index/${t}`;

/** What every stack's edge must show in its plan: the controller, its routes and limits, and its Cloudflare share. */
export function edgeChecks(get: () => Plan, config: () => PlatformConfig, role: "primary" | "standby"): void {
  it("installs the pinned F5 NGINX Ingress Controller in the ingress namespace, with PSA restricted", () => {
    const plan = get();
    const rel = plan.ofType("kubernetes:helm.sh/v3:Release").find((r) => (r.props as any).name === "nginx-ingress")!.props as any;
    expect(rel.chart).toBe(`${CHARTS.nginxIngress.repo}/${CHARTS.nginxIngress.chart}`);
    expect(rel.version).toBe(CHARTS.nginxIngress.version);
    expect(rel.namespace).toBe(config().ingressNamespace);
    const ns = plan.k8s("Namespace").find((n) => n.metadata.name === config().ingressNamespace);
    expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    const deny = plan.k8s("NetworkPolicy").find((n) => n.metadata.namespace === config().ingressNamespace && n.metadata.name === "default-deny");
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("has exactly one LoadBalancer Service, fenced to Cloudflare's ranges", () => {
    const lbs = get()
      .k8s("Service")
      .filter((s) => s.spec.type === "LoadBalancer");
    expect(lbs).toHaveLength(1);
    expect(lbs[0].metadata.namespace).toBe(config().ingressNamespace);
    expect(lbs[0].spec.loadBalancerSourceRanges).toEqual(config().edge.ingress.cloudflareRanges.filter((c) => !c.includes(":")));
  });

  it("refuses requests without a well-formed API key at every route and limits per key id, consistently with the ConfigMap", () => {
    const plan = get();
    const values = (plan.ofType("kubernetes:helm.sh/v3:Release").find((r) => (r.props as any).name === "nginx-ingress")!.props as any).values;
    // The map that defines the key-id variable is in the http block the routes and Policies read it from.
    expect(values.controller.config.entries["http-snippets"]).toContain(keyIdMap().join("\n"));
    const vs = plan.k8s("VirtualServer").find((v) => v.metadata.name === "job-api");
    const policies = new Map(plan.k8s("Policy").map((p) => [p.metadata.name, p.spec]));
    for (const name of PROCESSOR_NAMES) {
      const route = vs.spec.routes.find((r: any) => r.path === `/api/${JOB_TYPE_OF[name]}/`);
      expect(route.matches, name).toEqual([
        expect.objectContaining({ conditions: [{ header: KEY_ID_HEADER, value: "" }], action: { return: expect.objectContaining({ code: 401 }) } }),
      ]);
      const keys = route.policies.map((p: any) => policies.get(p.name)!.rateLimit.key);
      expect(keys, name).toEqual(["${binary_remote_addr}", `\${${KEY_ID_VARIABLE}}`]);
    }
    // And the processors behind those routes verify the key themselves.
    for (const d of plan.k8s("Deployment").filter((x) => (PROCESSOR_NAMES as readonly string[]).includes(x.metadata.name))) {
      expect(d.spec.template.spec.containers[0].env, d.metadata.name).toContainEqual({ name: "API_AUTH", value: "required" });
    }
  });

  it("routes every processor, and Cloudflare's limit and the ingress's agree for every route", () => {
    const plan = get();
    const c = config();
    const vs = plan.k8s("VirtualServer").find((v) => v.metadata.name === "job-api");
    expect(vs.spec.host).toBe(c.edge.apiHost);
    const policies = new Map(plan.k8s("Policy").map((p) => [p.metadata.name, p.spec]));
    const replicas = (plan.ofType("kubernetes:helm.sh/v3:Release").find((r) => (r.props as any).name === "nginx-ingress")!.props as any).values.controller
      .replicaCount;
    expect(replicas).toBe(c.edge.ingress.replicas);
    const ruleset = plan.ofType(CF("ruleset:Ruleset")).find((r) => (r.props as any).phase === "http_ratelimit")?.props as any;
    if (role === "standby") expect(ruleset).toBeDefined();
    for (const name of PROCESSOR_NAMES) {
      const path = `/api/${JOB_TYPE_OF[name]}/`;
      const route = vs.spec.routes.find((r: any) => r.path === path);
      const perIp = policies.get(route.policies[0].name)!.rateLimit;
      const wholeRate = (Number(String(perIp.rate).replace("r/m", "")) * replicas) / 60;
      const cfgRoute = c.edge.rateLimits.routes[name];
      expect(wholeRate, name).toBe(c.edge.rateLimits.zones[cfgRoute.zone]!.ratePerSecond);
      expect(perIp.burst, name).toBe(Math.ceil(cfgRoute.burst / replicas));
      if (ruleset) {
        const rule = ruleset.rules.find((r: any) => r.expression.includes(`"${path}"`));
        const period = rule.ratelimit.period;
        expect(rule.ratelimit.requestsPerPeriod, name).toBe(Math.ceil(wholeRate * period) + cfgRoute.burst);
        expect(rule.ratelimit.characteristics).toEqual(["cf.colo.id", "ip.src"]);
      }
    }
  });

  it("owns its origin record, proxied, pointing at the controller's load balancer", () => {
    const records = get().ofType(CF("dnsRecord:DnsRecord")).map((r) => r.props as any);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ proxied: true, type: "A", content: "192.0.2.10" });
    expect(records[0].name).toMatch(new RegExp(`^origin-${config().cluster.region}\\.`));
  });

  if (role === "primary") {
    it("leaves the zone's settings, rulesets and load balancer to the standby stack", () => {
      const plan = get();
      for (const t of ["zoneSetting:ZoneSetting", "ruleset:Ruleset", "loadBalancer:LoadBalancer", "loadBalancerPool:LoadBalancerPool", "loadBalancerMonitor:LoadBalancerMonitor"]) {
        expect(plan.ofType(CF(t)), t).toHaveLength(0);
      }
    });
  } else {
    it("declares the zone's settings: strict SSL, TLS 1.2, HTTPS only, the configured security level", () => {
      const settings = Object.fromEntries(get().ofType(CF("zoneSetting:ZoneSetting")).map((r) => [(r.props as any).settingId, (r.props as any).value]));
      expect(settings).toMatchObject({ ssl: "strict", min_tls_version: "1.2", always_use_https: "on", security_level: config().edge.cloudflare!.securityLevel });
    });

    it("runs Cloudflare's managed WAF", () => {
      const waf = get().ofType(CF("ruleset:Ruleset")).find((r) => (r.props as any).phase === "http_request_firewall_managed")!.props as any;
      expect(waf.rules.map((r: any) => r.actionParameters.id)).toContain("efb7b8c949ac4650a09736fc376e9aee");
    });

    it("balances the API host over both regions: GET /health expecting 200, dr as fallback, random steering", () => {
      const plan = get();
      const cf = config().edge.cloudflare!;
      const monitor = plan.ofType(CF("loadBalancerMonitor:LoadBalancerMonitor"))[0]!.props as any;
      expect(monitor).toMatchObject({ method: "GET", path: "/health", expectedCodes: "200", interval: cf.loadBalancer.monitor.intervalSeconds, retries: cf.loadBalancer.monitor.retries });
      const pools = plan.ofType(CF("loadBalancerPool:LoadBalancerPool"));
      expect(pools).toHaveLength(2);
      const byRole = Object.fromEntries(pools.map((p) => [p.name.replace(/^edge-|-pool$/g, ""), p]));
      expect((byRole.standby!.props as any).origins[0].address).toBe(`origin-${config().cluster.region}.${config().edge.zone}`);
      // prod's origin, as prod's stack file makes it (the plan reads a StackReference's outputs from that file).
      expect((byRole.primary!.props as any).origins[0].address).toBe(`origin-us-west1.${config().edge.zone}`);
      const lb = plan.ofType(CF("loadBalancer:LoadBalancer"))[0]!.props as any;
      expect(lb.name).toBe(config().edge.apiHost);
      expect(lb.steeringPolicy).toBe("random");
      expect(lb.fallbackPool).toBe(`${CF("loadBalancerPool:LoadBalancerPool")}::edge-standby-pool-id`);
      expect(lb.randomSteering.poolWeights).toEqual({
        [`${CF("loadBalancerPool:LoadBalancerPool")}::edge-primary-pool-id`]: cf.loadBalancer.poolWeights.primary,
        [`${CF("loadBalancerPool:LoadBalancerPool")}::edge-standby-pool-id`]: cf.loadBalancer.poolWeights.standby,
      });
      expect(plan.ofType("pulumi:pulumi:StackReference").map((r) => (r.props as any).name)).toContain(cf.primaryStack);
    });
  }
}
