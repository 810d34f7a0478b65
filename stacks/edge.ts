import type { IngressSettings } from "../components/ingress/args";
import type { PlatformConfig } from "./config";

/** The ingress settings of the stack config, in the shape the ingress component takes. */
export function ingressSettings(config: PlatformConfig): IngressSettings {
  const e = config.edge;
  return { ...e.ingress, zones: e.rateLimits.zones, routes: e.rateLimits.routes };
}

/** This region's origin host: `origin-<cluster.region>.<edge.zone>` unless the stack names it. */
export const originHostOf = (config: PlatformConfig): string =>
  config.edge.cloudflare?.originHost ?? `origin-${config.cluster.region}.${config.edge.zone}`;
