import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const run = (script: string, env: Record<string, string>, args: string[] = []) => {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !["DATABASE_URL", "JOB_TYPE", "MAX_CONCURRENT_JOBS"].includes(k)),
  );
  return spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "..", "src", "cli", script), ...args], {
    env: { ...clean, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
};

describe("CLIs", () => {
  it("worker refuses a bad environment and names each bad variable", () => {
    const r = run("worker.ts", { DATABASE_URL: "mysql://x", MAX_CONCURRENT_JOBS: "many", JOB_TYPE: "code" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("DATABASE_URL: DATABASE_URL must be a postgres:// or postgresql:// URL");
    expect(r.stderr).toContain("MAX_CONCURRENT_JOBS: MAX_CONCURRENT_JOBS must be a number");
  });

  it("worker refuses an unknown --type", () => {
    const r = run("worker.ts", { DATABASE_URL: "postgres://u:p@127.0.0.1:1/db", RESULTS_STORE_URL: "file:///tmp" }, ["--type", "fax"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Job type must be one of video, document, inference, media, code .*got fax/);
  });

  it("migrate needs DATABASE_URL", () => {
    const r = run("migrate.ts", {});
    expect(r.status).toBe(2);
    expect(r.stdout).toContain("DATABASE_URL is required");
  });
});
