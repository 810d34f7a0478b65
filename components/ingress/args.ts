/**
 * What the ingress needs to know, in the shape the stack config maps onto. Nothing here reads config: the
 * composition root hands these in.
 */

/** A rate class (the playbook's `limit_req_zone`s `api` and `heavy`): requests per second per client IP and per API client. */
export interface RateZone {
  /** Requests per second per client IP, across the whole controller (not per replica). */
  readonly ratePerSecond: number;
  /** Requests per second per API client (its credential), across the whole controller. */
  readonly clientRatePerSecond: number;
}

/** One public route: `/api/<jobType>/` to one processor's Service. */
export interface RouteSettings {
  /** Rate class; its rates apply to this route alone (each route counts in its own zone). */
  readonly zone: string;
  /** Requests above the rate served at once before 429s (`limit_req burst … nodelay`), per client IP. */
  readonly burst: number;
  /** The same for one API client. */
  readonly clientBurst: number;
  /** `proxy_read_timeout` / `proxy_send_timeout`, seconds. */
  readonly readTimeoutSeconds: number;
  readonly sendTimeoutSeconds: number;
  /** `proxy_request_buffering` (off streams uploads to the processor). */
  readonly requestBuffering: boolean;
  /** `proxy_buffering` (off streams responses to the client). */
  readonly responseBuffering: boolean;
}

/** Controller-wide nginx settings (the playbook's `nginx.conf` main, events and http blocks). */
export interface NginxSettings {
  /** `worker_processes`: `auto` or a count. */
  readonly workerProcesses: string;
  readonly workerConnections: number;
  readonly keepaliveTimeoutSeconds: number;
  readonly keepaliveRequests: number;
  /** nginx sizes such as `128k`, `100m`. */
  readonly clientBodyBufferSize: string;
  readonly clientMaxBodySize: string;
  readonly largeClientHeaderBuffers: { readonly number: number; readonly size: string };
  readonly gzip: { readonly level: number; readonly types: readonly string[] };
}

/** The playbook's upstream blocks. */
export interface UpstreamSettings {
  readonly lbMethod: "least_conn" | "round_robin" | "random two least_conn";
  readonly keepalive: number;
  readonly maxFails: number;
  readonly failTimeoutSeconds: number;
  readonly connectTimeoutSeconds: number;
}

export interface IngressSettings {
  /**
   * Controller replicas. Fixed (no autoscaling): each replica enforces its share of every rate, so the count is
   * part of the limit's arithmetic.
   */
  readonly replicas: number;
  readonly nginx: NginxSettings;
  readonly upstream: UpstreamSettings;
  readonly zones: Readonly<Record<string, RateZone>>;
  /** Keyed by processor name. */
  readonly routes: Readonly<Record<string, RouteSettings>>;
  /** Cloudflare's published address ranges: the only sources the load balancer admits, and whose client-IP header is trusted. */
  readonly cloudflareRanges: readonly string[];
  /**
   * PEM CA that signs Cloudflare's origin-pull client certificate. When set, the origin refuses TLS clients
   * without a certificate it signed (authenticated origin pulls).
   */
  readonly originPullCa?: string;
  /** `Strict-Transport-Security` max-age, seconds. */
  readonly hstsMaxAgeSeconds: number;
}
