import http from "node:http";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Processor } from "../src/runtime/processor";
import { testHandlers, unusedStore, waitFor } from "./handlers";
import { testApiKey } from "./api-keys";
import { startTestDatabase, type TestDatabase } from "./pg";

let db: TestDatabase;
let processor: Processor;
let base: string;
let auth: Record<string, string>;

beforeAll(async () => {
  db = await startTestDatabase();
  auth = (await testApiKey(db.url, "http-test")).headers;
  processor = new Processor({
    type: "code",
    handlers: testHandlers(),
    store: unusedStore,
    databaseUrl: db.url,
    port: 0,
    metricsPort: 0,
    host: "127.0.0.1",
    logger: pino({ level: "silent" }),
    worker: { leaseSeconds: 3, pollIntervalMs: 100, costPerSecondUsd: 0.01 },
  });
  await processor.start();
  base = `http://127.0.0.1:${processor.port}`;
});
afterAll(async () => {
  await processor?.stop(1000);
  await db?.stop();
});

const post = (path: string, body: unknown) =>
  fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: JSON.stringify(body) });
const get = (path: string) => fetch(`${base}${path}`, { headers: auth });
const count = async () => Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM container_jobs"))[0]!.n);

describe("HTTP API", () => {
  it("accepts a job with 202 and reports its outcome", async () => {
    const res = await post("/api/code/jobs", { payload: { n: 4 } });
    expect(res.status).toBe(202);
    const { id, status } = (await res.json()) as { id: string; status: string };
    expect(status).toBe("pending");
    const done = await waitFor(async () => {
      const r = (await (await get(`/api/code/jobs/${id}`)).json()) as { status: string };
      return r.status === "completed" && r;
    });
    expect(done).toMatchObject({ id, type: "code", status: "completed", attempts: 1, result: { doubled: 8, attempt: 1 } });
  });

  it("returns the existing job for a repeated idempotency key, even under 50 concurrent requests", async () => {
    const before = await count();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => post("/api/code/jobs", { payload: { n: 9 }, idempotencyKey: "same-key" })),
    );
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as Array<{ id: string }>;
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(responses.map((r) => r.status).sort((a, b) => a - b)).toEqual([...Array(49).fill(200), 202]);
    expect(await count()).toBe(before + 1);
    const conflict = await post("/api/code/jobs", { payload: { n: 10 }, idempotencyKey: "same-key" });
    expect(conflict.status).toBe(409);
  });

  it("rejects bad input with the offending fields and writes nothing", async () => {
    const before = await count();
    const bad = await post("/api/code/jobs", { payload: { n: "four" }, priority: 1.5 });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { issues: Array<{ path: string }> };
    expect(body.issues.map((i) => i.path)).toEqual(["priority"]);
    const badPayload = await post("/api/code/jobs", { payload: { n: "four" } });
    expect(badPayload.status).toBe(400);
    expect(((await badPayload.json()) as { issues: Array<{ path: string }> }).issues.map((i) => i.path)).toEqual(["payload.n"]);
    expect((await post("/api/code/jobs", { payload: { n: 1 }, extra: true })).status).toBe(400);
    expect((await post("/api/code/jobs", {})).status).toBe(400);
    const notJson = await fetch(`${base}/api/code/jobs`, { method: "POST", headers: auth, body: "{nope" });
    expect(notJson.status).toBe(400);
    expect(await count()).toBe(before);
  });

  it("answers 404 for unknown or unserved types and unknown jobs", async () => {
    expect((await post("/api/teleport/jobs", { payload: {} })).status).toBe(404);
    expect((await post("/api/video/jobs", { payload: {} })).status).toBe(404);
    expect((await get("/api/code/jobs/00000000-0000-0000-0000-000000000000")).status).toBe(404);
    expect((await get("/api/code/jobs/not-a-uuid")).status).toBe(404);
  });

  it("refuses bodies over 100 MB", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/api/code/jobs`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json", "content-length": String(100 * 1024 * 1024 + 1) },
      });
      req.on("response", (res) => resolve(res.statusCode ?? 0));
      req.on("error", reject);
      req.write("{");
    });
    expect(status).toBe(413);
  });

  it("serves health, readiness and the contracted metrics", async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    await db.query("INSERT INTO container_jobs (type, payload, run_at) VALUES ('code', '{\"n\":1}', now() + interval '1 hour')");
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    const text = await (await fetch(`http://127.0.0.1:${processor.metricsPort}/metrics`)).text();
    expect(text).toMatch(/^jobs_total\{type="code",status="completed"\} [1-9]/m);
    expect(text).toMatch(/^job_duration_seconds_bucket\{le="600",type="code"\} [1-9]/m);
    expect(text).toContain('job_duration_seconds_bucket{le="1",type="code"}');
    expect(text).toMatch(/^job_queue_depth\{queue="code"\} [1-9]/m);
    // The job due in an hour is pending but not runnable: the backlog figure (and KEDA's) leaves it out.
    const gauge = (name: string) => Number(new RegExp(`^${name}\\{queue="code"\\} (\\d+)$`, "m").exec(text)?.[1]);
    expect(gauge("job_queue_depth") - gauge("job_queue_runnable")).toBe(1);
    const [runnableNow] = await db.query<{ n: string }>("SELECT runnable_job_count('code') AS n");
    expect(gauge("job_queue_runnable")).toBe(Number(runnableNow!.n));
    expect(text).toMatch(/^container_health\{container="[^"]+"\} 1$/m);
    expect(text).toMatch(/^job_cost_usd\{type="code"\} \d/m);
    expect(text).toMatch(/^jobs_active\{type="code"\} 0$/m);
    for (const name of ["job_claim_latency_seconds_bucket", "job_lease_expiries_total", "job_retries_total", "jobs_dead_total", "process_cpu_user_seconds_total"]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/^http_requests_total\{method="POST",route="\/api\/:type\/jobs",status="202"\} [1-9]/m);
    expect(text).toContain("http_request_duration_seconds_bucket");
  });

  it("reports not ready while the database is down and ready again after, staying alive throughout", async () => {
    const restarting = db.restart(2000);
    await waitFor(async () => (await fetch(`${base}/ready`)).status === 503, 5000, 50);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    await restarting;
    await waitFor(async () => (await fetch(`${base}/ready`)).status === 200, 15_000, 100);
    const res = await post("/api/code/jobs", { payload: { n: 21 } });
    expect(res.status).toBe(202);
  });
});
