import type * as k8s from "@pulumi/kubernetes";
import type { IngressSettings, RateZone, RouteSettings } from "./args";
import { API_SERVER_EGRESS, DNS_EGRESS, nsSelector, tcpPort } from "../namespace/builders";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/** Labels the chart puts on the controller's pods (set explicitly, so NetworkPolicies elsewhere can name them). */
export const CONTROLLER_POD_LABELS = { "app.kubernetes.io/name": "nginx-ingress", "app.kubernetes.io/instance": "nginx-ingress" } as const;
/** The chart's release name; its resources are named `<release>-controller…`. */
export const RELEASE_NAME = "nginx-ingress";
export const INGRESS_CLASS = "nginx";
/** The LoadBalancer Service in front of the controller; the program owns it (not the chart) to read its address. */
export const CONTROLLER_SERVICE = "nginx-ingress-controller";
/** The controller's Prometheus exporter port (chart default). */
export const CONTROLLER_METRICS_PORT = 9113;
/** Secret holding the origin certificate for the API host. */
export const ORIGIN_TLS_SECRET = "api-origin-tls";
/** Secret (type `nginx.org/ca`) holding the CA of Cloudflare's origin-pull client certificate. */
export const ORIGIN_PULL_CA_SECRET = "cloudflare-origin-pull-ca";
/** The header API clients send their credential in. */
export const AUTH_HEADER = "Authorization";
/**
 * The key id of a well-formed API key (`Authorization: Bearer pk_<24 hex>.<43 base64url>`, the worker's format),
 * or empty. Defined by a `map` in the http block (see {@link keyIdMap}). The controller accepts only `$http_*`,
 * `$arg_*`, `$cookie_*` and a few built-ins as a rate-limit key, so the variable carries an `http_` name; nginx
 * resolves a defined variable before the `http_` header prefix, so a client's own `X-Pitchey-Key-Id` header is
 * never read.
 */
export const KEY_ID_VARIABLE = "http_x_pitchey_key_id";
/** The header name whose variable {@link KEY_ID_VARIABLE} shadows (route conditions name headers, not variables). */
export const KEY_ID_HEADER = "X-Pitchey-Key-Id";
/** The worker's key shape (images/src/runtime/auth.ts BEARER_PATTERN), as PCRE with the key id captured. */
export const KEY_ID_REGEX = String.raw`^(?i:bearer) +pk_([0-9a-f]{24})\.[A-Za-z0-9_-]{43} *$`;

/** Status for requests over a limit (nginx's default, 503, would read as an outage). */
export const REJECT_CODE = 429;

/** The facts about one processor a route needs. */
export interface RouteTarget {
  /** Processor (and its Service) name. */
  readonly processor: string;
  /** Job type: the route is `/api/<jobType>/`, the path the worker serves. */
  readonly jobType: string;
  readonly servicePort: number;
}

export const routePath = (jobType: string) => `/api/${jobType}/`;

/**
 * What one replica enforces so that the controller as a whole enforces the configured rate: each replica keeps its
 * own counters, and Cloudflare spreads a client's connections over the replicas. Rates are expressed per minute so
 * that a share below 1 r/s stays exact (1 r/s over 2 replicas is 30 r/m each).
 */
export function perReplica(ratePerSecond: number, burst: number, replicas: number): { rate: string; burst: number } {
  const perMinute = Math.floor((ratePerSecond * 60) / replicas);
  if (perMinute < 1) throw new Error(`${ratePerSecond} r/s over ${replicas} replicas is below 1 r/m per replica`);
  return { rate: `${perMinute}r/m`, burst: Math.ceil(burst / replicas) };
}

/** The limits a route enforces, whole-controller figures (what a client experiences) and per replica. */
export interface RouteLimits {
  readonly perIp: { readonly ratePerSecond: number; readonly burst: number };
  readonly perClient: { readonly ratePerSecond: number; readonly burst: number };
}

export function routeLimits(route: RouteSettings, zones: Readonly<Record<string, RateZone>>): RouteLimits {
  const zone = zones[route.zone];
  if (!zone) throw new Error(`route names unknown rate zone "${route.zone}"`);
  return {
    perIp: { ratePerSecond: zone.ratePerSecond, burst: route.burst },
    perClient: { ratePerSecond: zone.clientRatePerSecond, burst: route.clientBurst },
  };
}

/** nginx directives the controller's ConfigMap keys cannot express; they go into the `http` block. */
export function httpSnippets(s: IngressSettings): string[] {
  const n = s.nginx;
  return [
    ...keyIdMap(),
    "gzip on;",
    "gzip_vary on;",
    "gzip_proxied any;",
    `gzip_comp_level ${n.gzip.level};`,
    `gzip_types ${n.gzip.types.join(" ")};`,
    "client_header_buffer_size 1k;",
    `large_client_header_buffers ${n.largeClientHeaderBuffers.number} ${n.largeClientHeaderBuffers.size};`,
  ];
}

/** Derives the API key's id from the Authorization header: the per-client limit's key and the edge's credential check. */
export function keyIdMap(): string[] {
  return [`map $http_authorization $${KEY_ID_VARIABLE} {`, '    default "";', `    "~${KEY_ID_REGEX}" $1;`, "}"];
}

/** The controller's ConfigMap (`controller.config.entries`): the playbook's nginx.conf, TLS and real client IPs. */
export function controllerConfigEntries(s: IngressSettings): Record<string, string> {
  const n = s.nginx;
  const u = s.upstream;
  return {
    "worker-processes": n.workerProcesses,
    "worker-connections": String(n.workerConnections),
    "keepalive-timeout": `${n.keepaliveTimeoutSeconds}s`,
    "keepalive-requests": String(n.keepaliveRequests),
    "client-body-buffer-size": n.clientBodyBufferSize,
    "client-max-body-size": n.clientMaxBodySize,
    "http-snippets": httpSnippets(s).join("\n"),
    // Defaults for every upstream; the VirtualServer repeats them per upstream so the route objects say it all.
    "lb-method": u.lbMethod,
    keepalive: String(u.keepalive),
    "max-fails": String(u.maxFails),
    "fail-timeout": `${u.failTimeoutSeconds}s`,
    // Every request arrives from a Cloudflare edge: the client's address is in CF-Connecting-IP, trusted only from there.
    "set-real-ip-from": s.cloudflareRanges.join(","),
    "real-ip-header": "CF-Connecting-IP",
    "ssl-protocols": "TLSv1.2 TLSv1.3",
    hsts: "true",
    "hsts-max-age": String(s.hstsMaxAgeSeconds),
    "hsts-include-subdomains": "false",
    "server-tokens": "false",
  };
}

const restrictedPod = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };

/** Values for the F5 NGINX Ingress Controller chart. */
export function controllerValues(s: IngressSettings, labels: Record<string, string>): Record<string, unknown> {
  return {
    controller: {
      kind: "deployment",
      replicaCount: s.replicas,
      // Rates are split over a fixed replica count (see perReplica); an autoscaler would change the effective limit.
      autoscaling: { enabled: false },
      selectorLabels: { ...CONTROLLER_POD_LABELS },
      // The chart writes selectorLabels on the pods itself; repeating them here would render those keys twice.
      pod: { extraLabels: Object.fromEntries(Object.entries(labels).filter(([key]) => !(key in CONTROLLER_POD_LABELS))) },
      ingressClass: { name: INGRESS_CLASS, create: true, setAsDefaultIngress: false },
      enableCustomResources: true,
      // Route-level snippets carry proxy_request_buffering and access_log, which VirtualServer has no field for.
      // Only this program creates VirtualServers (RBAC), so snippets are not a tenant's door into nginx.
      enableSnippets: true,
      enableCertManager: false,
      enableTLSPassthrough: false,
      enableOIDC: false,
      telemetryReporting: { enable: false },
      readOnlyRootFilesystem: true,
      podSecurityContext: restrictedPod,
      config: { entries: controllerConfigEntries(s) },
      // The program owns the LoadBalancer Service (it reads the address for the origin record).
      service: { create: false },
      reportIngressStatus: { enable: true, externalService: CONTROLLER_SERVICE },
      podDisruptionBudget: { enabled: true, minAvailable: 1 },
      resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "1Gi" } },
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: "topology.kubernetes.io/zone",
          whenUnsatisfiable: "ScheduleAnyway",
          labelSelector: { matchLabels: { ...CONTROLLER_POD_LABELS } },
        },
      ],
    },
    prometheus: { create: true, port: CONTROLLER_METRICS_PORT },
  };
}

/** The only LoadBalancer in the cluster: Cloudflare's ranges in, client addresses preserved for the per-IP limits. */
export function controllerServiceSpec(s: IngressSettings): k8s.types.input.core.v1.ServiceSpec {
  return {
    type: "LoadBalancer",
    externalTrafficPolicy: "Local",
    // Cloud load balancers here are IPv4; the IPv6 ranges still matter for real-ip and the NetworkPolicy.
    loadBalancerSourceRanges: s.cloudflareRanges.filter((c) => !c.includes(":")),
    selector: { ...CONTROLLER_POD_LABELS },
    ports: [
      { name: "http", port: 80, targetPort: 80, protocol: "TCP" },
      { name: "https", port: 443, targetPort: 443, protocol: "TCP" },
    ],
  };
}

const policyName = (processor: string, kind: "per-ip" | "per-client") => `${processor}-${kind}`;

/** Two rate-limit Policies per route: per client IP and per API client (its credential), both answering 429. */
export function rateLimitPolicies(
  s: IngressSettings,
  targets: readonly RouteTarget[],
): Record<string, { spec: { rateLimit: Record<string, unknown> } }> {
  const out: Record<string, { spec: { rateLimit: Record<string, unknown> } }> = {};
  for (const t of targets) {
    const route = s.routes[t.processor];
    if (!route) throw new Error(`no route settings for processor ${t.processor}`);
    const limits = routeLimits(route, s.zones);
    const ip = perReplica(limits.perIp.ratePerSecond, limits.perIp.burst, s.replicas);
    const client = perReplica(limits.perClient.ratePerSecond, limits.perClient.burst, s.replicas);
    const common = { noDelay: true, rejectCode: REJECT_CODE, zoneSize: "10m", logLevel: "warn" };
    out[policyName(t.processor, "per-ip")] = { spec: { rateLimit: { ...common, rate: ip.rate, burst: ip.burst, key: "${binary_remote_addr}" } } };
    // Keyed on the key id, never the secret: the secret stays out of the controller's memory, and a client cannot
    // mint fresh buckets by varying it. Requests without a well-formed key never get this far (the route's 401).
    out[policyName(t.processor, "per-client")] = {
      spec: { rateLimit: { ...common, rate: client.rate, burst: client.burst, key: `\${${KEY_ID_VARIABLE}}` } },
    };
  }
  return out;
}

/** Cloudflare's client certificate, checked at the origin (authenticated origin pulls). */
export function originPullPolicySpec(): Record<string, unknown> {
  return { ingressMTLS: { clientCertSecret: ORIGIN_PULL_CA_SECRET, verifyClient: "on", verifyDepth: 1 } };
}

const UNAUTHENTICATED_BODY = JSON.stringify({ error: "Authentication required: send Authorization: Bearer <API key> (pk_<key id>.<secret>)" });

export interface VirtualServerArgs {
  readonly settings: IngressSettings;
  readonly host: string;
  readonly targets: readonly RouteTarget[];
  /** Name of the origin-pull Policy, when authenticated origin pulls are on. */
  readonly originPullPolicy?: string;
}

/**
 * The API host: `/health` answered by nginx itself, one route per processor with its two limits and timeouts, and a
 * request without credentials refused at the edge (the worker verifies the credential itself).
 */
export function virtualServerSpec(args: VirtualServerArgs): Record<string, unknown> {
  const { settings: s, host, targets } = args;
  const u = s.upstream;
  const upstreams = targets.map((t) => {
    const r = s.routes[t.processor]!;
    return {
      name: t.processor,
      service: t.processor,
      port: t.servicePort,
      "lb-method": u.lbMethod,
      keepalive: u.keepalive,
      "max-fails": u.maxFails,
      "fail-timeout": `${u.failTimeoutSeconds}s`,
      "connect-timeout": `${u.connectTimeoutSeconds}s`,
      "read-timeout": `${r.readTimeoutSeconds}s`,
      "send-timeout": `${r.sendTimeoutSeconds}s`,
      buffering: r.responseBuffering,
      "client-max-body-size": s.nginx.clientMaxBodySize,
    };
  });
  const routes: Record<string, unknown>[] = [
    {
      path: "=/health",
      "location-snippets": "access_log off;",
      action: { return: { code: 200, type: "text/plain", body: "healthy\\n" } },
    },
    ...targets.map((t) => {
      const r = s.routes[t.processor]!;
      return {
        path: routePath(t.jobType),
        policies: [{ name: policyName(t.processor, "per-ip") }, { name: policyName(t.processor, "per-client") }],
        ...(r.requestBuffering ? {} : { "location-snippets": "proxy_request_buffering off;" }),
        matches: [
          {
            // No well-formed key (an absent header included): no trip to a processor. The worker verifies the key itself.
            conditions: [{ header: KEY_ID_HEADER, value: "" }],
            action: {
              return: {
                code: 401,
                type: "application/json",
                body: UNAUTHENTICATED_BODY,
                headers: [{ name: "WWW-Authenticate", value: 'Bearer realm="pitchey"' }],
              },
            },
          },
        ],
        action: { pass: t.processor },
      };
    }),
  ];
  return {
    host,
    ingressClassName: INGRESS_CLASS,
    tls: { secret: ORIGIN_TLS_SECRET, redirect: { enable: true, code: 301 } },
    ...(args.originPullPolicy ? { policies: [{ name: args.originPullPolicy }] } : {}),
    upstreams,
    routes,
  };
}

const tcp = tcpPort;

export interface IngressNetworkArgs {
  readonly cloudflareRanges: readonly string[];
  readonly processorsNamespace: string;
  readonly processorPort: number;
  readonly monitoringNamespace: string;
  /** Labels of Prometheus's pods. */
  readonly prometheusPodLabels: Readonly<Record<string, string>>;
}

/**
 * Default deny, then exactly the controller's flows: HTTP(S) from Cloudflare, scrapes from Prometheus, DNS, the
 * processors' API port, and the Kubernetes API (whose address the cluster decides, hence any address on 443/6443).
 */
export function ingressNetworkPolicies(a: IngressNetworkArgs): Record<string, NetworkPolicySpec> {
  const controller = { matchLabels: { ...CONTROLLER_POD_LABELS } };
  return {
    "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    "allow-cloudflare": {
      podSelector: controller,
      policyTypes: ["Ingress"],
      ingress: [{ from: a.cloudflareRanges.map((cidr) => ({ ipBlock: { cidr } })), ports: [tcp(80), tcp(443)] }],
    },
    "allow-monitoring-scrape": {
      podSelector: controller,
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ ...nsSelector(a.monitoringNamespace), podSelector: { matchLabels: { ...a.prometheusPodLabels } } }],
          ports: [tcp(CONTROLLER_METRICS_PORT)],
        },
      ],
    },
    "allow-dns-egress": { podSelector: {}, policyTypes: ["Egress"], egress: [DNS_EGRESS] },
    "allow-processors-egress": {
      podSelector: controller,
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ...nsSelector(a.processorsNamespace), podSelector: { matchLabels: { "app.kubernetes.io/component": "processor" } } }],
          ports: [tcp(a.processorPort)],
        },
      ],
    },
    "allow-apiserver-egress": {
      podSelector: controller,
      policyTypes: ["Egress"],
      egress: [API_SERVER_EGRESS],
    },
  };
}
