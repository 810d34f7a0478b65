import { describe, expect, it } from "vitest";
import type { IngressSettings, RouteSettings } from "./args";
import { validateAgainstCrd } from "./crd-schema";
import {
  controllerConfigEntries,
  controllerServiceSpec,
  controllerValues,
  httpSnippets,
  ingressNetworkPolicies,
  KEY_ID_HEADER,
  KEY_ID_VARIABLE,
  perReplica,
  rateLimitPolicies,
  routeLimits,
  virtualServerSpec,
  type RouteTarget,
} from "./builders";

const PROCESSOR_NAMES = ["video-processor", "document-processor", "ai-inference", "media-transcoder", "code-executor"] as const;
const JOB_TYPE_OF: Record<string, string> = {
  "video-processor": "video",
  "document-processor": "document",
  "ai-inference": "inference",
  "media-transcoder": "media",
  "code-executor": "code",
};
const route = (zone: string, burst: number, timeout: number, buffering: boolean): RouteSettings => ({
  zone,
  burst,
  clientBurst: burst * 2,
  readTimeoutSeconds: timeout,
  sendTimeoutSeconds: timeout,
  requestBuffering: buffering,
  responseBuffering: buffering,
});
/** The playbook's nginx.conf, written out by hand (the stack config's defaults are checked against the same figures). */
const settings: IngressSettings = {
  replicas: 2,
  nginx: {
    workerProcesses: "auto",
    workerConnections: 4096,
    keepaliveTimeoutSeconds: 65,
    keepaliveRequests: 100,
    clientBodyBufferSize: "128k",
    clientMaxBodySize: "100m",
    largeClientHeaderBuffers: { number: 4, size: "8k" },
    gzip: { level: 6, types: ["text/plain", "text/css", "application/json", "application/javascript"] },
  },
  upstream: { lbMethod: "least_conn", keepalive: 32, maxFails: 3, failTimeoutSeconds: 30, connectTimeoutSeconds: 5 },
  zones: { api: { ratePerSecond: 10, clientRatePerSecond: 50 }, heavy: { ratePerSecond: 1, clientRatePerSecond: 5 } },
  routes: {
    "video-processor": route("heavy", 5, 600, false),
    "document-processor": route("api", 20, 60, true),
    "ai-inference": route("heavy", 5, 300, true),
    "media-transcoder": route("heavy", 5, 600, false),
    "code-executor": route("api", 20, 60, true),
  },
  cloudflareRanges: ["173.245.48.0/20", "103.21.244.0/22", "2400:cb00::/32"],
  hstsMaxAgeSeconds: 31536000,
};
const targets: RouteTarget[] = PROCESSOR_NAMES.map((p) => ({ processor: p, jobType: JOB_TYPE_OF[p], servicePort: 8080 }));
const vs = (over: Partial<Parameters<typeof virtualServerSpec>[0]> = {}) =>
  virtualServerSpec({ settings, host: "api.pitchey.com", targets, ...over }) as any;
const cr = (kind: string, spec: unknown) => ({ apiVersion: "k8s.nginx.org/v1", kind, metadata: { name: "x", namespace: "processors" }, spec });

/** Per-replica rate back to whole-controller requests per second. */
const effective = (rate: string, replicas: number) => (Number(rate.replace("r/m", "")) * replicas) / 60;

describe("controller-wide settings (playbook nginx.conf)", () => {
  const e = controllerConfigEntries(settings);
  it("sets workers, connections, keepalive and body limits", () => {
    expect(e).toMatchObject({
      "worker-processes": "auto",
      "worker-connections": "4096",
      "keepalive-timeout": "65s",
      "keepalive-requests": "100",
      "client-body-buffer-size": "128k",
      "client-max-body-size": "100m",
    });
  });
  it("compresses the playbook's types at level 6 and sizes large headers 4 × 8k", () => {
    expect(httpSnippets(settings)).toEqual(
      expect.arrayContaining([
        "gzip on;",
        "gzip_comp_level 6;",
        "gzip_types text/plain text/css application/json application/javascript;",
        "large_client_header_buffers 4 8k;",
      ]),
    );
    expect(e["http-snippets"]).toContain("gzip_comp_level 6;");
  });
  it("defaults every upstream to least_conn, keepalive 32, max_fails 3, fail_timeout 30s", () => {
    expect(e).toMatchObject({ "lb-method": "least_conn", keepalive: "32", "max-fails": "3", "fail-timeout": "30s" });
  });
  it("trusts CF-Connecting-IP only from Cloudflare, and speaks TLS 1.2+ with HSTS", () => {
    expect(e["real-ip-header"]).toBe("CF-Connecting-IP");
    expect(e["set-real-ip-from"].split(",")).toEqual([...settings.cloudflareRanges]);
    expect(e["ssl-protocols"]).toBe("TLSv1.2 TLSv1.3");
    expect(e.hsts).toBe("true");
    expect(Number(e["hsts-max-age"])).toBeGreaterThanOrEqual(31536000);
  });
  it("installs the chart with custom resources, no chart-made Service and a fixed replica count", () => {
    const v = controllerValues(settings, {}) as any;
    expect(v.controller.enableCustomResources).toBe(true);
    expect(v.controller.service.create).toBe(false);
    expect(v.controller.autoscaling.enabled).toBe(false);
    expect(v.controller.replicaCount).toBe(settings.replicas);
    expect(v.controller.readOnlyRootFilesystem).toBe(true);
  });
  it("adds the program's labels to the controller's pods without the selector labels the chart already writes there", () => {
    const labels = { "app.kubernetes.io/name": "nginx-ingress", "app.kubernetes.io/instance": "nginx-ingress", "app.kubernetes.io/component": "ingress-controller", "pitchey.io/team": "platform" };
    const v = controllerValues(settings, labels) as any;
    expect(Object.keys(v.controller.selectorLabels).sort()).toEqual(["app.kubernetes.io/instance", "app.kubernetes.io/name"]);
    expect(v.controller.pod.extraLabels).toEqual({ "app.kubernetes.io/component": "ingress-controller", "pitchey.io/team": "platform" });
  });
});

describe("the controller's LoadBalancer", () => {
  it("admits only Cloudflare's IPv4 ranges and keeps client addresses", () => {
    const s = controllerServiceSpec(settings) as any;
    expect(s.type).toBe("LoadBalancer");
    expect(s.externalTrafficPolicy).toBe("Local");
    expect(s.loadBalancerSourceRanges).toEqual(["173.245.48.0/20", "103.21.244.0/22"]);
  });
});

describe("routes (playbook locations)", () => {
  const spec = vs();
  const route = (jobType: string) => spec.routes.find((r: any) => r.path === `/api/${jobType}/`);
  const upstream = (p: string) => spec.upstreams.find((u: any) => u.name === p);

  it("has one route per processor at its job type's prefix, passing to its Service", () => {
    expect(spec.routes.filter((r: any) => r.path.startsWith("/api/")).map((r: any) => r.path).sort()).toEqual(
      ["/api/code/", "/api/document/", "/api/inference/", "/api/media/", "/api/video/"],
    );
    for (const p of PROCESSOR_NAMES) expect(route(JOB_TYPE_OF[p]).action).toEqual({ pass: p });
  });

  it("streams video: 600 s read and send timeouts, request and response buffering off", () => {
    expect(upstream("video-processor")).toMatchObject({ "read-timeout": "600s", "send-timeout": "600s", buffering: false });
    expect(route("video")["location-snippets"]).toBe("proxy_request_buffering off;");
    expect(route("document")["location-snippets"]).toBeUndefined();
  });

  it("gives every upstream least_conn, keepalive 32, max_fails 3, fail_timeout 30s", () => {
    for (const u of spec.upstreams) {
      expect(u).toMatchObject({ "lb-method": "least_conn", keepalive: 32, "max-fails": 3, "fail-timeout": "30s", port: 8080 });
    }
  });

  it("answers /health itself with 200, unlogged, without a processor", () => {
    const h = spec.routes.find((r: any) => r.path === "=/health");
    expect(h.action).toEqual({ return: { code: 200, type: "text/plain", body: "healthy\\n" } });
    expect(h["location-snippets"]).toBe("access_log off;");
    expect(h.policies).toBeUndefined();
  });

  it("refuses a request without a well-formed API key with 401 before it reaches a processor", () => {
    for (const p of PROCESSOR_NAMES) {
      const m = route(JOB_TYPE_OF[p]).matches;
      expect(m).toHaveLength(1);
      // The header condition reads the variable the http block's map derives from Authorization (nginx.test.ts runs it).
      expect(m[0].conditions).toEqual([{ header: KEY_ID_HEADER, value: "" }]);
      expect(`http_${KEY_ID_HEADER.toLowerCase().replace(/-/g, "_")}`).toBe(KEY_ID_VARIABLE);
      expect(controllerConfigEntries(settings)["http-snippets"]).toContain(`map $http_authorization $${KEY_ID_VARIABLE} {`);
      expect(m[0].action.return.headers).toEqual([{ name: "WWW-Authenticate", value: 'Bearer realm="pitchey"' }]);
      expect(m[0].action.return.code).toBe(401);
      expect(JSON.parse(m[0].action.return.body).error).toMatch(/Authentication required/);
    }
  });
});

describe("rate limits", () => {
  const policies = rateLimitPolicies(settings, targets);

  it("limit video to 1 r/s burst 5 and document to 10 r/s burst 20 per client IP, across all replicas", () => {
    expect(routeLimits(settings.routes["video-processor"]!, settings.zones).perIp).toEqual({ ratePerSecond: 1, burst: 5 });
    expect(routeLimits(settings.routes["document-processor"]!, settings.zones).perIp).toEqual({ ratePerSecond: 10, burst: 20 });
    const video = policies["video-processor-per-ip"]!.spec.rateLimit;
    const doc = policies["document-processor-per-ip"]!.spec.rateLimit;
    expect(effective(video.rate as string, settings.replicas)).toBe(1);
    expect(effective(doc.rate as string, settings.replicas)).toBe(10);
    expect(video).toMatchObject({ key: "${binary_remote_addr}", noDelay: true });
  });

  it("put inference and media in the heavy zone", () => {
    for (const p of ["ai-inference", "media-transcoder"]) expect(settings.routes[p]!.zone).toBe("heavy");
  });

  it("reject with 429, never nginx's default 503", () => {
    for (const p of Object.values(policies)) expect(p.spec.rateLimit.rejectCode).toBe(429);
  });

  it("limit each API client by its key id (never the secret) beside each IP", () => {
    for (const p of PROCESSOR_NAMES) {
      expect(policies[`${p}-per-client`]!.spec.rateLimit.key).toBe(`\${${KEY_ID_VARIABLE}}`);
      expect(vs().routes.find((r: any) => r.action?.pass === p).policies).toEqual([{ name: `${p}-per-ip` }, { name: `${p}-per-client` }]);
    }
  });

  it("split each rate over the replicas so the whole controller enforces the configured figure", () => {
    expect(perReplica(1, 5, 2)).toEqual({ rate: "30r/m", burst: 3 });
    expect(perReplica(10, 20, 2)).toEqual({ rate: "300r/m", burst: 10 });
    expect(perReplica(10, 20, 3)).toEqual({ rate: "200r/m", burst: 7 });
    expect(() => perReplica(0.01, 0, 2)).toThrow(/below 1 r\/m/);
  });
});

describe("against the controller's own CRD schemas (nginx/kubernetes-ingress v5.5.4)", () => {
  it("the VirtualServer is valid", () => {
    expect(validateAgainstCrd(cr("VirtualServer", vs({ originPullPolicy: "cloudflare-origin-pull" })))).toEqual([]);
  });
  it("every Policy is valid", () => {
    for (const [name, p] of Object.entries(rateLimitPolicies(settings, targets))) {
      expect(validateAgainstCrd(cr("Policy", p.spec)), name).toEqual([]);
    }
  });
  it("catches a misspelt field and a wrongly typed one", () => {
    const bad = vs();
    bad.routes[1]["location-snippet"] = "access_log off;";
    expect(validateAgainstCrd(cr("VirtualServer", bad))!.join()).toMatch(/location-snippet/);
    expect(validateAgainstCrd(cr("Policy", { rateLimit: { rate: "1r/s", burst: "5" } }))!.join()).toMatch(/burst/);
  });
});

describe("the ingress namespace's NetworkPolicies", () => {
  const np = ingressNetworkPolicies({
    cloudflareRanges: settings.cloudflareRanges,
    processorsNamespace: "processors",
    processorPort: 8080,
    monitoringNamespace: "monitoring",
    prometheusPodLabels: { "app.kubernetes.io/name": "prometheus" },
  }) as Record<string, any>;
  it("deny by default and admit HTTP(S) only from Cloudflare's ranges", () => {
    expect(np["default-deny"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const from = np["allow-cloudflare"].ingress[0].from.map((f: any) => f.ipBlock.cidr);
    expect(from).toEqual([...settings.cloudflareRanges]);
  });
  it("let the controller reach only the processors' API port among the workloads", () => {
    expect(np["allow-processors-egress"].egress[0].ports).toEqual([{ protocol: "TCP", port: 8080 }]);
  });
});
