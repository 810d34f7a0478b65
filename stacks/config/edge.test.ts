import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { parsePlatformConfig, PROJECT } from "./index";
import { problems, stackRaw } from "./test-support";

const root = join(__dirname, "..", "..");
const work = mkdtempSync(join(tmpdir(), "edge-config-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("edge config defaults (playbook nginx.conf)", () => {
  const c = parsePlatformConfig(stackRaw("prod")).edge;
  it("has the playbook's controller-wide figures", () => {
    expect(c.ingress.nginx).toEqual({
      workerProcesses: "auto",
      workerConnections: 4096,
      keepaliveTimeoutSeconds: 65,
      keepaliveRequests: 100,
      clientBodyBufferSize: "128k",
      clientMaxBodySize: "100m",
      largeClientHeaderBuffers: { number: 4, size: "8k" },
      gzip: { level: 6, types: ["text/plain", "text/css", "application/json", "application/javascript"] },
    });
    expect(c.ingress.upstream).toMatchObject({ lbMethod: "least_conn", keepalive: 32, maxFails: 3, failTimeoutSeconds: 30 });
  });
  it("has the playbook's zones and video/document routes", () => {
    expect(c.rateLimits.zones.api!.ratePerSecond).toBe(10);
    expect(c.rateLimits.zones.heavy!.ratePerSecond).toBe(1);
    expect(c.rateLimits.routes["video-processor"]).toEqual({
      zone: "heavy",
      burst: 5,
      clientBurst: 10,
      readTimeoutSeconds: 600,
      sendTimeoutSeconds: 600,
      requestBuffering: false,
      responseBuffering: false,
    });
    expect(c.rateLimits.routes["document-processor"]).toMatchObject({ zone: "api", burst: 20 });
  });
  it("manages Cloudflare in both stacks; only dr names a primary stack", () => {
    expect(c.cloudflare).toMatchObject({ securityLevel: "medium", loadBalancer: { poolWeights: { primary: 1, standby: 0 } } });
    expect(c.cloudflare?.primaryStack).toBeUndefined();
    expect(parsePlatformConfig(stackRaw("dr")).edge.cloudflare?.primaryStack).toBe("pitchey/pitchey-containers/prod");
  });
});

describe("bad edge input names the key", () => {
  const withEdge = (edge: Record<string, unknown>) => {
    const raw = stackRaw("dr");
    raw.edge = { ...raw.edge, ...edge };
    return problems(raw);
  };

  it("a route that names an unknown processor", () => {
    expect(withEdge({ rateLimits: { routes: { "pdf-processor": { zone: "api", burst: 1, clientBurst: 1, readTimeoutSeconds: 1, sendTimeoutSeconds: 1, requestBuffering: true, responseBuffering: true } } } })).toContainEqual(
      expect.stringMatching(/^edge\.rateLimits\.routes\.pdf-processor: unknown key/),
    );
  });

  it("a route in an unknown zone", () => {
    expect(withEdge({ rateLimits: { routes: { "video-processor": { zone: "huge" } } } })).toContainEqual(
      expect.stringMatching(/^edge\.rateLimits\.routes\.video-processor\.zone: names no zone/),
    );
  });

  it("negative weights, and weights that do not sum to 1", () => {
    const cf = stackRaw("dr").edge.cloudflare;
    expect(withEdge({ cloudflare: { ...cf, loadBalancer: { poolWeights: { primary: -0.5, standby: 1.5 } } } })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^edge\.cloudflare\.loadBalancer\.poolWeights\.primary: must be in \[0, 1\]/),
        expect.stringMatching(/^edge\.cloudflare\.loadBalancer\.poolWeights\.standby: must be in \[0, 1\]/),
      ]),
    );
    expect(withEdge({ cloudflare: { ...cf, loadBalancer: { poolWeights: { primary: 0.5, standby: 0.4 } } } })).toContainEqual(
      expect.stringMatching(/^edge\.cloudflare\.loadBalancer\.poolWeights: must sum to 1/),
    );
  });

  it("a rate of 0 and a burst below 0", () => {
    const p = withEdge({ rateLimits: { zones: { heavy: { ratePerSecond: 0 } }, routes: { "document-processor": { burst: -1 } } } });
    expect(p).toContainEqual(expect.stringMatching(/^edge\.rateLimits\.zones\.heavy\.ratePerSecond: must be > 0/));
    expect(p).toContainEqual(expect.stringMatching(/^edge\.rateLimits\.routes\.document-processor\.burst: must be ≥ 0/));
  });

  it("an empty Cloudflare range list", () => {
    expect(withEdge({ ingress: { cloudflareRanges: [] } })).toContainEqual(expect.stringMatching(/^edge\.ingress\.cloudflareRanges: must list at least one range/));
  });

  it("a security_level Cloudflare does not know", () => {
    const cf = stackRaw("dr").edge.cloudflare;
    expect(withEdge({ cloudflare: { ...cf, securityLevel: "paranoid" } })).toContainEqual(expect.stringMatching(/^edge\.cloudflare\.securityLevel: .*under_attack/));
  });

  it("accepts under_attack: the DDoS response is this one key", () => {
    const raw = stackRaw("dr");
    raw.edge.cloudflare.securityLevel = "under_attack";
    expect(parsePlatformConfig(raw).edge.cloudflare?.securityLevel).toBe("under_attack");
  });
});

describe("npm run plan with bad edge input", () => {
  it("exits non-zero naming every bad key, before registering anything", () => {
    const doc = parse(readFileSync(join(root, "Pulumi.dr.yaml"), "utf8"));
    const edge = doc.config[`${PROJECT}:edge`];
    edge.cloudflare.securityLevel = "paranoid";
    edge.cloudflare.loadBalancer = { poolWeights: { primary: -1, standby: 1 } };
    edge.ingress = { cloudflareRanges: [] };
    edge.rateLimits = { zones: { api: { ratePerSecond: 0 } }, routes: { "pdf-processor": {}, "video-processor": { burst: -2 } } };
    const file = join(work, "bad-edge.yaml");
    writeFileSync(file, stringify(doc));
    const out = join(work, "out");
    const r = spawnSync(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "stacks/plan/cli.ts"), "--config", file, "--out", out], {
      cwd: root,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(r.status).not.toBe(0);
    for (const key of [
      "edge.cloudflare.securityLevel",
      "edge.cloudflare.loadBalancer.poolWeights.primary",
      "edge.ingress.cloudflareRanges",
      "edge.rateLimits.zones.api.ratePerSecond",
      "edge.rateLimits.routes.pdf-processor",
      "edge.rateLimits.routes.video-processor.burst",
    ]) {
      expect(r.stderr).toContain(`${key}:`);
    }
    expect(r.stdout).not.toMatch(/registered \d+ resources/);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
