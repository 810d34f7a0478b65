import type { IngressSettings } from "./args";
import { controllerConfigEntries, KEY_ID_HEADER, KEY_ID_VARIABLE } from "./builders";

/**
 * A minimal nginx.conf holding the directives the controller's ConfigMap asks for, each written the way the
 * controller's v5.5.4 main template writes it (internal/configs/version1/nginx.tmpl), plus its `http-snippets`
 * verbatim. It is not the controller's nginx.conf: `nginx -t` on it proves the snippets and values are valid nginx,
 * not that the controller renders them so (see docs/edge.md, "What nginx -t covers").
 */
export function minimalNginxConf(s: IngressSettings, paths: { readonly prefix: string; readonly listen: number }): string {
  const e = controllerConfigEntries(s);
  const temp = (name: string) => `${paths.prefix}/${name}`;
  return [
    `worker_processes ${e["worker-processes"]};`,
    `pid ${paths.prefix}/nginx.pid;`,
    `error_log ${paths.prefix}/error.log notice;`,
    "events {",
    `    worker_connections ${e["worker-connections"]};`,
    "}",
    "http {",
    `    client_body_temp_path ${temp("client_body")};`,
    `    proxy_temp_path ${temp("proxy")};`,
    `    fastcgi_temp_path ${temp("fastcgi")};`,
    `    uwsgi_temp_path ${temp("uwsgi")};`,
    `    scgi_temp_path ${temp("scgi")};`,
    `    access_log ${paths.prefix}/access.log;`,
    `    keepalive_timeout ${e["keepalive-timeout"]};`,
    `    keepalive_requests ${e["keepalive-requests"]};`,
    `    client_body_buffer_size ${e["client-body-buffer-size"]};`,
    `    client_max_body_size ${e["client-max-body-size"]};`,
    `    server_tokens ${e["server-tokens"] === "false" ? "off" : "on"};`,
    ...e["set-real-ip-from"]!.split(",").map((c) => `    set_real_ip_from ${c};`),
    `    real_ip_header ${e["real-ip-header"]};`,
    `    ssl_protocols ${e["ssl-protocols"]};`,
    ...e["http-snippets"]!.split("\n").map((l) => `    ${l}`),
    // A zone keyed as the per-client Policy keys it, so the key variable is checked in a limit_req context too.
    `    limit_req_zone $${KEY_ID_VARIABLE} zone=per_client:10m rate=30r/m;`,
    // The controller turns a route's header condition into a map over `$http_<header with - as _>`, case kept
    // (v5.5.4 getNameForSourceForMatchesRouteMapFromCondition); this stands in for that map and its 401.
    `    map $http_${KEY_ID_HEADER.replace(/-/g, "_")} $pitchey_no_credential {`,
    '        "" 1;',
    "        default 0;",
    "    }",
    "    server {",
    `        listen 127.0.0.1:${paths.listen};`,
    "        location = /key-id {",
    "            limit_req zone=per_client burst=1000 nodelay;",
    "            limit_req_status 429;",
    `            return 200 "[$${KEY_ID_VARIABLE}]";`,
    "        }",
    "        location = /jobs {",
    "            if ($pitchey_no_credential) {",
    "                return 401;",
    "            }",
    "            return 202;",
    "        }",
    "    }",
    "}",
    "",
  ].join("\n");
}
