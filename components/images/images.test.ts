import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { IMAGES } from "../versions";
import { buildArgsFor, contextHash, imageBuildArgs, imageTag, type BuildInputs } from "./index";
import { nodeMajorOf, nodeSupportOn, NODE_RELEASES } from "./node-releases";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function context(files: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), "ctx-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe("image tags", () => {
  it("change exactly when the build context's content does", () => {
    const d = context({ Dockerfile: "FROM scratch", "src/a.ts": "a" });
    const before = contextHash(d);
    expect(contextHash(d)).toBe(before);
    writeFileSync(join(d, "src/a.ts"), "b");
    expect(contextHash(d)).not.toBe(before);
  });

  it("ignore node_modules and build output", () => {
    const d = context({ Dockerfile: "FROM scratch" });
    const before = contextHash(d);
    mkdirSync(join(d, "node_modules", "x"), { recursive: true });
    writeFileSync(join(d, "node_modules", "x", "i.js"), "1");
    mkdirSync(join(d, "dist"));
    writeFileSync(join(d, "dist", "o.js"), "1");
    expect(contextHash(d)).toBe(before);
  });
});

describe("image tags hash every build input", () => {
  const base = (d: string): BuildInputs => ({
    context: d,
    dockerfile: join(d, "Dockerfile"),
    target: "video-processor",
    platforms: ["linux/amd64"],
    buildArgs: { PROCESSOR: "video-processor" },
  });

  it("are stable for the same inputs, platforms in any order", () => {
    const d = context({ Dockerfile: "FROM scratch", "src/a.ts": "a" });
    expect(imageTag(base(d))).toBe(imageTag(base(d)));
    expect(imageTag({ ...base(d), platforms: ["linux/arm64", "linux/amd64"] })).toBe(
      imageTag({ ...base(d), platforms: ["linux/amd64", "linux/arm64"] }),
    );
    expect(imageTag(base(d))).toMatch(/^b-[0-9a-f]{20}$/);
  });

  it("change with the platforms, the target, a build argument, the Dockerfile or the context", () => {
    const d = context({ Dockerfile: "FROM scratch", "src/a.ts": "a" });
    const before = imageTag(base(d));
    const variants: [string, BuildInputs][] = [
      ["platforms", { ...base(d), platforms: ["linux/amd64", "linux/arm64"] }],
      ["target", { ...base(d), target: "media-transcoder" }],
      ["build argument value", { ...base(d), buildArgs: { PROCESSOR: "other" } }],
      ["extra build argument", { ...base(d), buildArgs: { PROCESSOR: "video-processor", NODE_ENV: "production" } }],
    ];
    const tags = new Set([before]);
    for (const [what, inputs] of variants) {
      const tag = imageTag(inputs);
      expect(tag, what).not.toBe(before);
      tags.add(tag);
    }
    expect(tags.size).toBe(variants.length + 1);
    writeFileSync(join(d, "Dockerfile"), "FROM scratch\nUSER 10001");
    expect(imageTag(base(d)), "Dockerfile").not.toBe(before);
  });

  it("cover a Dockerfile kept outside the context", () => {
    const outside = mkdtempSync(join(tmpdir(), "df-"));
    try {
      const d = context({ "src/a.ts": "a" });
      writeFileSync(join(outside, "Dockerfile"), "FROM scratch");
      const inputs = { ...base(d), dockerfile: join(outside, "Dockerfile") };
      const before = imageTag(inputs);
      writeFileSync(join(outside, "Dockerfile"), "FROM busybox");
      expect(imageTag(inputs)).not.toBe(before);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("are what the Image is pushed under, and previews do not build", async () => {
    const d = context({ Dockerfile: "FROM scratch" });
    const args = {
      target: "ai-inference",
      context: d,
      dockerfile: join(d, "Dockerfile"),
      repository: "registry.example/p/ai-inference",
      registryAuth: { address: "registry.example", username: "u", password: "p" },
      platforms: ["linux/amd64"] as const,
      push: true,
    };
    const built = imageBuildArgs({ ...args, platforms: [...args.platforms] }, args.repository);
    expect(built.buildOnPreview).toBe(false);
    expect(built.buildArgs).toEqual(buildArgsFor("ai-inference"));
    const tag = await new Promise<string>((resolve) => built.tags[0].apply(resolve));
    expect(tag).toBe(`registry.example/p/ai-inference:${imageTag({ ...args, buildArgs: buildArgsFor("ai-inference") })}`);
  });
});

describe("base images", () => {
  const dockerfile = readFileSync(resolve(__dirname, "../../images/Dockerfile"), "utf8");
  const argDefault = (name: string) => new RegExp(`^ARG ${name}=(\\S+)$`, "m").exec(dockerfile)?.[1];

  it("are passed to every target as build arguments, CUDA's only to ai-inference", () => {
    expect(buildArgsFor("video-processor")).toEqual({ PROCESSOR: "video-processor", NODE_IMAGE: IMAGES.node });
    expect(buildArgsFor("db-backup")).toEqual({ PROCESSOR: "db-backup", NODE_IMAGE: IMAGES.node });
    expect(buildArgsFor("ai-inference")).toEqual({ PROCESSOR: "ai-inference", NODE_IMAGE: IMAGES.node, CUDA_IMAGE: IMAGES.cuda });
  });

  it("are the Dockerfile's own defaults, so a local build ships what the program deploys", () => {
    expect(argDefault("NODE_IMAGE")).toBe(IMAGES.node);
    expect(argDefault("CUDA_IMAGE")).toBe(IMAGES.cuda);
  });

  it("keep Debian bookworm under node: the db-backup image's PostgreSQL client must match the server's major", () => {
    expect(IMAGES.node).toMatch(/-bookworm-slim@sha256:[0-9a-f]{64}$/);
    expect(IMAGES.postgresql).toMatch(/^[^:]+:15\.\d+-.*bookworm$/);
  });
});

describe("the Node.js release table", () => {
  it("reads the major of official node image references only", () => {
    expect(nodeMajorOf("node:24.18.0-bookworm-slim@sha256:abc")).toBe(24);
    expect(nodeMajorOf("docker.io/library/node:20-bookworm-slim")).toBe(20);
    expect(nodeMajorOf("node:22")).toBe(22);
    expect(nodeMajorOf("nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04")).toBeUndefined();
    expect(nodeMajorOf("example.com/node:24")).toBeUndefined();
    expect(nodeMajorOf("node:lts-bookworm")).toBeUndefined();
  });

  it("ends a line on its end-of-life day", () => {
    expect(nodeSupportOn(20, new Date("2026-04-29T23:59:59Z")).state).toBe("supported");
    expect(nodeSupportOn(20, new Date("2026-04-30T00:00:00Z"))).toEqual({ state: "end-of-life", major: 20, end: "2026-04-30" });
    expect(nodeSupportOn(24, new Date("2026-12-02T00:00:00Z"))).toEqual({ state: "supported", major: 24, end: "2028-04-30" });
    expect(nodeSupportOn(17, new Date("2026-12-02T00:00:00Z"))).toEqual({ state: "unknown", major: 17 });
  });

  it("knows the line the images are built on", () => {
    expect(NODE_RELEASES[nodeMajorOf(IMAGES.node)!]).toBeDefined();
  });
});
