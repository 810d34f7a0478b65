import { z } from "zod";
import { SECURITY_LEVELS } from "../../components/edge/builders";
import { PROCESSOR_NAMES } from "./defaults";

const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "expected a lowercase DNS name such as api.example.com");
const nginxSize = z.string().regex(/^\d+[km]?$/, "expected an nginx size such as 128k or 100m");
const positiveInt = z.number().int().positive();
const rate = z.number().gt(0, "must be > 0 (a rate of 0 would refuse every request; remove the route instead)");
const burst = z.number().int().min(0, "must be ≥ 0");
const cidr = z
  .string()
  .regex(/^((\d{1,3}\.){3}\d{1,3}\/\d{1,2}|[0-9a-f:]+::?[0-9a-f:]*\/\d{1,3})$/i, "expected an IPv4 or IPv6 CIDR");
const weight = z.number().min(0, "must be in [0, 1]").max(1, "must be in [0, 1]");
const hex32 = z.string().regex(/^[0-9a-f]{32}$/, "expected a 32-character Cloudflare id");

/** Periods and mitigation timeouts Cloudflare's rate-limiting rules accept. */
const PERIODS = [10, 60, 120, 300, 600, 3600] as const;
const MITIGATION_TIMEOUTS = [0, 10, 60, 120, 300, 600, 3600, 86400] as const;
const oneOf = <T extends readonly number[]>(values: T) =>
  z.number().refine((v) => values.includes(v), `expected one of ${values.join(", ")}`);

const routeSchema = z.strictObject({
  zone: z.string().min(1),
  burst,
  clientBurst: burst,
  readTimeoutSeconds: positiveInt,
  sendTimeoutSeconds: positiveInt,
  requestBuffering: z.boolean(),
  responseBuffering: z.boolean(),
});

const cloudflareSchema = z
  .strictObject({
    /** Account that owns the load balancer's monitor and pools. */
    accountId: hex32,
    zoneId: hex32,
    /** This stack's origin record; default `origin-<cluster.region>.<edge.zone>`. */
    originHost: hostname.optional(),
    /** Cloudflare's security level; `under_attack` is the DDoS response (docs/runbooks/ddos.md). */
    securityLevel: z.enum(SECURITY_LEVELS),
    rateLimitPeriodSeconds: oneOf(PERIODS),
    mitigationTimeoutSeconds: oneOf(MITIGATION_TIMEOUTS),
    loadBalancer: z.strictObject({
      /** Random-steering weights of the primary (prod) and standby (dr) pools; the failover phase overrides them. */
      poolWeights: z
        .strictObject({ primary: weight, standby: weight })
        .refine((w) => Math.abs(w.primary + w.standby - 1) < 1e-9, { message: "must sum to 1" }),
      monitor: z.strictObject({
        path: z.string().startsWith("/"),
        expectedCodes: z.string().regex(/^[1-5](\d\d|xx)$/, "expected a status code such as 200 or 2xx"),
        intervalSeconds: z.number().int().min(10).max(3600),
        retries: z.number().int().min(0).max(5),
        timeoutSeconds: z.number().int().min(1).max(10),
      }),
    }),
    /**
     * Set on the one stack that declares what exists once per zone (settings, rulesets, monitor, pools, load
     * balancer): the fully qualified name of the primary stack whose origin it reads, e.g. `pitchey/pitchey-containers/prod`.
     */
    primaryStack: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "expected <organization>/<project>/<stack>")
      .optional(),
  });

export const edgeSchema = z
  .strictObject({
    zone: hostname,
    apiHost: hostname,
    ingress: z.strictObject({
      replicas: z.number().int().min(1).max(20),
      nginx: z.strictObject({
        workerProcesses: z.string().regex(/^(auto|[1-9]\d*)$/, "expected auto or a count"),
        workerConnections: positiveInt,
        keepaliveTimeoutSeconds: positiveInt,
        keepaliveRequests: positiveInt,
        clientBodyBufferSize: nginxSize,
        clientMaxBodySize: nginxSize,
        largeClientHeaderBuffers: z.strictObject({ number: positiveInt, size: nginxSize }),
        gzip: z.strictObject({
          level: z.number().int().min(1).max(9),
          types: z.array(z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/, "expected a MIME type")).min(1),
        }),
      }),
      upstream: z.strictObject({
        lbMethod: z.enum(["least_conn", "round_robin", "random two least_conn"]),
        keepalive: positiveInt,
        maxFails: z.number().int().min(0),
        failTimeoutSeconds: positiveInt,
        connectTimeoutSeconds: positiveInt,
      }),
      cloudflareRanges: z.array(cidr).min(1, "must list at least one range (Cloudflare's published ranges by default); an empty list would admit nobody"),
      originPullCa: z.string().includes("-----BEGIN CERTIFICATE-----", { message: "expected a PEM certificate" }).optional(),
      hstsMaxAgeSeconds: positiveInt,
    }),
    rateLimits: z.strictObject({
      zones: z.record(z.string().regex(/^[a-z][a-z0-9]*$/, "expected a lowercase zone name"), z.strictObject({ ratePerSecond: rate, clientRatePerSecond: rate })),
      /** One route per processor, keyed by processor name; a name that is no processor is an unknown key. */
      routes: z.strictObject(
        Object.fromEntries(PROCESSOR_NAMES.map((p) => [p, routeSchema])) as Record<(typeof PROCESSOR_NAMES)[number], typeof routeSchema>,
      ),
    }),
    tls: z.strictObject({
      /** ACME directory cert-manager asks for the origin certificate (DNS-01 through Cloudflare). */
      acmeServer: z.url(),
    }),
    cloudflare: cloudflareSchema.optional(),
  })
  .superRefine((e, ctx) => {
    for (const [name, r] of Object.entries(e.rateLimits.routes)) {
      if (!(r.zone in e.rateLimits.zones)) {
        ctx.addIssue({
          code: "custom",
          path: ["rateLimits", "routes", name, "zone"],
          message: `names no zone in edge.rateLimits.zones (${Object.keys(e.rateLimits.zones).join(", ")}), got "${r.zone}"`,
        });
      }
    }
    // Each replica enforces rate / replicas; below 1 r/m nginx cannot express it.
    for (const [zone, z] of Object.entries(e.rateLimits.zones)) {
      for (const key of ["ratePerSecond", "clientRatePerSecond"] as const) {
        if ((z[key] * 60) / e.ingress.replicas < 1) {
          ctx.addIssue({
            code: "custom",
            path: ["rateLimits", "zones", zone, key],
            message: `${z[key]} r/s split over edge.ingress.replicas (${e.ingress.replicas}) is below 1 request per minute per replica`,
          });
        }
      }
    }
  });
export type EdgeConfig = z.infer<typeof edgeSchema>;
