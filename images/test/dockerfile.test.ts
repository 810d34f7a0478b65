import { readFileSync } from "node:fs";
import { join } from "node:path";
import { validate } from "dockerfile-utils";
import { describe, expect, it } from "vitest";
import { debianTools } from "../src/dev/tools";

const root = join(__dirname, "..");
const text = readFileSync(join(root, "Dockerfile"), "utf8");

interface Stage {
  name: string;
  from: string;
  instructions: Array<{ op: string; args: string }>;
}

/** Instructions per stage, with line continuations joined and comments dropped. */
function parse(src: string): { args: Record<string, string>; stages: Map<string, Stage> } {
  const logical = src
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const args: Record<string, string> = {};
  const stages = new Map<string, Stage>();
  let current: Stage | undefined;
  for (const line of logical) {
    const [, op, rest] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (op === "FROM") {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      current = { name: m[2] ?? `stage${stages.size}`, from: m[1], instructions: [] };
      stages.set(current.name, current);
    } else if (op === "ARG" && !current) {
      const [k, v] = rest.split("=");
      args[k] = v;
    } else if (current) {
      current.instructions.push({ op, args: rest });
    }
  }
  return { args, stages };
}

const { args, stages } = parse(text);
const TARGETS = ["video-processor", "media-transcoder", "document-processor", "code-executor", "ai-inference"];
/** Targets that run to completion (CronJobs) rather than serve jobs. */
const JOBS = ["db-backup"];

/** A stage and its ancestors, nearest first. */
function chain(name: string): Stage[] {
  const out: Stage[] = [];
  for (let s = stages.get(name); s; s = stages.get(s.from)) out.push(s);
  return out;
}
const all = (name: string) => chain(name).flatMap((s) => s.instructions);
const last = (name: string, op: string) => all(name).find((i) => i.op === op)?.args;
const aptPackages = (name: string) =>
  all(name)
    .filter((i) => i.op === "RUN" && i.args.includes("apt-get install"))
    .flatMap((i) => /apt-get install ([^&]*)/.exec(i.args)![1].split(/\s+/).filter((w) => w && !w.startsWith("-")));
const copiesFrom = (name: string) =>
  all(name)
    .filter((i) => i.op === "COPY")
    .map((i) => /--from=(\S+)/.exec(i.args)?.[1])
    .filter(Boolean);

describe("images/Dockerfile", () => {
  it("passes the Dockerfile linter", () => {
    expect(validate(text)).toEqual([]);
  });

  it("has a target per processor", () => {
    for (const t of TARGETS) expect(stages.has(t)).toBe(true);
  });

  it("pins every base image by digest", () => {
    const bases = [...stages.values()].map((s) => s.from).filter((f) => !stages.has(f));
    expect(bases.length).toBeGreaterThan(0);
    for (const b of bases) {
      const image = b.replace(/^\$\{(\w+)\}$/, (_, k: string) => args[k] ?? "");
      expect(image).toMatch(/^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/);
    }
  });

  it.each(TARGETS)("%s runs as 10001, checks health on :8080 and starts the worker", (t) => {
    expect(last(t, "USER")).toBe("10001:10001");
    expect(last(t, "HEALTHCHECK")).toContain("http://127.0.0.1:8080/health");
    expect(last(t, "CMD")).toBe('["node", "dist/cli/worker.js"]');
    expect(last(t, "WORKDIR")).toBe("/app");
  });

  it("gives each target only what it needs", () => {
    expect(aptPackages("video-processor")).toContain("ffmpeg");
    expect(aptPackages("media-transcoder")).toContain("ffmpeg");
    expect(aptPackages("document-processor")).toContain("poppler-utils");
    expect(aptPackages("document-processor")).not.toContain("ffmpeg");
    expect(aptPackages("code-executor")).toEqual([]);
    expect(aptPackages("ai-inference")).toEqual([]);
    expect(chain("ai-inference").at(-1)!.from).toBe("${CUDA_IMAGE}");
    expect(args.CUDA_IMAGE).toMatch(/^nvidia\/cuda:12\.[\d.]+-cudnn-runtime-/);
    for (const t of ["video-processor", "media-transcoder", "document-processor", "code-executor"]) {
      expect(copiesFrom(t)).toContain("slim-deps");
      expect(copiesFrom(t)).not.toContain("onnx-deps");
    }
    expect(copiesFrom("ai-inference")).toContain("onnx-deps");
    expect(all("ai-inference").some((i) => i.op === "COPY" && i.args.includes("models/block-classifier.onnx"))).toBe(true);
  });

  it("has a db-backup target: the runtime stage, PostgreSQL's client and server, slim modules, the backup command as 10001", () => {
    expect(stages.get("db-backup")!.from).toBe("runtime");
    expect(aptPackages("db-backup")).toEqual(["postgresql-client", "postgresql"]);
    expect(copiesFrom("db-backup")).toContain("slim-deps");
    expect(copiesFrom("db-backup")).not.toContain("onnx-deps");
    expect(last("db-backup", "USER")).toBe("10001:10001");
    expect(last("db-backup", "CMD")).toBe('["node", "dist/cli/backup.js"]');
    expect(last("db-backup", "WORKDIR")).toBe("/app");
    // It serves no HTTP, so the processors' health check must not apply to it.
    expect(last("db-backup", "HEALTHCHECK")).toBe("NONE");
    for (const t of TARGETS) expect(aptPackages(t)).not.toContain("postgresql-client");
    for (const t of TARGETS) expect(aptPackages(t)).not.toContain("postgresql");
  });

  it("installs no Debian package whose tools the tests do not run too (scripts/debian-tools.txt)", () => {
    const tested = new Set(debianTools().values());
    const imagePackages = new Set([...TARGETS, ...JOBS].flatMap(aptPackages));
    expect(imagePackages).toContain("postgresql-client");
    for (const p of imagePackages) expect(tested).toContain(p);
  });

  it("builds from a lockfile that matches the package manifest", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
    const hint = "images/package-lock.json is stale: run images/scripts/lock.sh";
    expect(lock.packages[""].dependencies, hint).toEqual(pkg.dependencies);
    expect(lock.packages[""].devDependencies, hint).toEqual(pkg.devDependencies);
  });
});
