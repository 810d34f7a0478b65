import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestDatabase, type TestDatabase } from "./pg";

let db: TestDatabase;
beforeAll(async () => {
  db = await startTestDatabase();
});
afterAll(async () => {
  await db?.stop();
});
beforeEach(async () => {
  await db.query("TRUNCATE container_jobs");
});

function bench(args: string[] = []): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "..", "src", "bench", "queue.ts"), ...args], {
      env: { ...process.env, DATABASE_URL: db.url, BENCH_JOBS: "20", BENCH_ROUNDS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => resolve({ code, out }));
  });
}

describe("bench:queue on a database it did not create", () => {
  it("refuses to touch jobs it did not insert, with one line saying why and how", async () => {
    await db.query(`INSERT INTO container_jobs (type, payload) VALUES ('code', '{"real": "work"}')`);
    const { code, out } = await bench();
    expect(code).toBe(2);
    expect(out.trim()).toMatch(/^queue\.ts: refusing to run on 127\.0\.0\.1:\d+\/postgres: container_jobs holds 1 job\(s\) no benchmark inserted.*--discard-existing-jobs/);
    expect(out).not.toContain("postgres:postgres@");
    expect(await db.query("SELECT payload FROM container_jobs")).toEqual([{ payload: { real: "work" } }]);
  });

  it("deletes them only when told to", async () => {
    await db.query(`INSERT INTO container_jobs (type, payload) VALUES ('code', '{"real": "work"}')`);
    const { code, out } = await bench(["--discard-existing-jobs"]);
    expect(code, out).toBe(0);
    expect(await db.query(`SELECT count(*)::int AS n FROM container_jobs WHERE payload ? 'real'`)).toEqual([{ n: 0 }]);
  });
});
