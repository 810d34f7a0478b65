import http from "node:http";
import type { RuntimeMetrics } from "./metrics";

/**
 * `/metrics` on its own port: the API port faces the ingress, this one only Prometheus's pods
 * (the NetworkPolicies admit nobody else to it).
 */
export function createMetricsServer(metrics: RuntimeMetrics): http.Server {
  return http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== "/metrics" || (req.method ?? "GET") !== "GET") {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("Not found\n");
      return;
    }
    metrics.registry
      .metrics()
      .then((text) => {
        res.writeHead(200, { "content-type": metrics.registry.contentType });
        res.end(text);
      })
      .catch(() => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("metrics collection failed\n");
      });
  });
}
