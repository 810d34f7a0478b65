import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { minimalNginxConf } from "../components/ingress/nginx-conf";
import { freePort } from "../images/src/dev/embedded-db";
import { requireTool } from "../images/src/dev/tools";
import { generateKey } from "../images/src/runtime/auth";
import { stackConfig } from "./config/test-support";
import { ingressSettings } from "./edge";

// The controller cannot render its nginx.conf offline, so this checks what can be checked with Debian's nginx:
// the directives the ConfigMap asks for and its http-snippets, and what the key-id map makes of real API keys.
// Fails fast, naming the package, where nginx is missing.
const nginx = requireTool("nginx");
const dir = mkdtempSync(join(tmpdir(), "edge-nginx-"));
let port: number;
let server: ChildProcess | undefined;

function conf(stack: "prod" | "dr"): string {
  const file = join(dir, `${stack}.conf`);
  writeFileSync(file, minimalNginxConf(ingressSettings(stackConfig(stack)), { prefix: dir, listen: port }));
  return file;
}

const nginxArgs = (file: string, ...rest: string[]) => ["-p", dir, "-e", join(dir, "error.log"), "-c", file, ...rest];

beforeAll(async () => {
  port = await freePort();
});
afterAll(() => {
  server?.kill("SIGQUIT");
  rmSync(dir, { recursive: true, force: true });
});

describe("the edge's nginx directives under nginx -t", () => {
  for (const stack of ["prod", "dr"] as const) {
    it(`${stack}: the ConfigMap's directives and http-snippets are valid nginx`, () => {
      const file = conf(stack);
      const text = readFileSync(file, "utf8");
      // The playbook's figures are what is being checked, not an empty file.
      for (const d of ["worker_connections 4096;", "keepalive_timeout 65s;", "keepalive_requests 100;", "client_body_buffer_size 128k;", "client_max_body_size 100m;", "gzip_comp_level 6;", "large_client_header_buffers 4 8k;"]) {
        expect(text).toContain(d);
      }
      const r = spawnSync(nginx, nginxArgs(file, "-t"), { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain("syntax is ok");
    });
  }

  it("rejects a broken snippet (the check can fail)", () => {
    const file = join(dir, "broken.conf");
    writeFileSync(file, readFileSync(conf("prod"), "utf8").replace("gzip_comp_level 6;", "gzip_comp_level six;"));
    const r = spawnSync(nginx, nginxArgs(file, "-t"), { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("gzip_comp_level");
  });
});

describe("the per-key limit's key, as nginx computes it", () => {
  const ask = async (headers: Record<string, string>) => (await fetch(`http://127.0.0.1:${port}/key-id`, { headers })).text();

  beforeAll(async () => {
    server = spawn(nginx, nginxArgs(conf("prod"), "-g", "daemon off;"), { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    server.stderr!.on("data", (d) => (stderr += String(d)));
    for (let i = 0; ; i++) {
      if (server.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
      if (await fetch(`http://127.0.0.1:${port}/key-id`).then(() => true, () => false)) break;
      if (i > 200) throw new Error(`nginx did not listen: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it("is the key id of a key the worker issues, whatever the scheme's case", async () => {
    const k = generateKey();
    expect(await ask({ authorization: `Bearer ${k.key}` })).toBe(`[${k.keyId}]`);
    expect(await ask({ authorization: `bearer  ${k.key}` })).toBe(`[${k.keyId}]`);
  });

  it("is empty (so the edge answers 401) for no key, a malformed key or another scheme, and a client cannot set it", async () => {
    const k = generateKey();
    expect(await ask({})).toBe("[]");
    expect(await ask({ authorization: `Bearer ${k.key}x` })).toBe("[]");
    expect(await ask({ authorization: `Bearer ${k.key.toUpperCase()}` })).toBe("[]");
    expect(await ask({ authorization: `Basic ${Buffer.from(`a:${k.key}`).toString("base64")}` })).toBe("[]");
    expect(await ask({ "x-pitchey-key-id": "chosen-by-client" })).toBe("[]");
    expect(await ask({ "x-pitchey-key-id": "chosen-by-client", authorization: `Bearer ${k.key}` })).toBe(`[${k.keyId}]`);
  });

  it("drives the route's 401 as the controller renders its header condition", async () => {
    const k = generateKey();
    const status = async (headers: Record<string, string>) => (await fetch(`http://127.0.0.1:${port}/jobs`, { headers })).status;
    expect(await status({ authorization: `Bearer ${k.key}` })).toBe(202);
    expect(await status({})).toBe(401);
    expect(await status({ authorization: "Bearer nonsense" })).toBe(401);
    expect(await status({ "x-pitchey-key-id": k.keyId })).toBe(401);
  });
});
