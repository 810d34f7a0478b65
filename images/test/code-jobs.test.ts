import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCodeHandler } from "../src/handlers/code";
import { Processor } from "../src/runtime/processor";
import { unusedStore, waitFor } from "./handlers";
import { testApiKey } from "./api-keys";
import { startTestDatabase, type TestDatabase } from "./pg";

// Real code jobs through the API, the queue and one sandbox, on a real PostgreSQL. The store is one that
// fails on use: code results live in the job row, as the sandboxed pod has no route to an object store.
let db: TestDatabase;
let processor: Processor;
let base: string;
let auth: Record<string, string>;
const handler = createCodeHandler({ sandboxes: 1 });

beforeAll(async () => {
  db = await startTestDatabase();
  auth = (await testApiKey(db.url, "code-jobs", ["code"])).headers;
  processor = new Processor({
    type: "code",
    handlers: { code: handler },
    store: unusedStore,
    databaseUrl: db.url,
    port: 0,
    metricsPort: 0,
    host: "127.0.0.1",
    logger: pino({ level: "silent" }),
    worker: { concurrency: 3, leaseSeconds: 5, pollIntervalMs: 100, costPerSecondUsd: 1 },
  });
  await processor.start();
  base = `http://127.0.0.1:${processor.port}`;
});
afterAll(async () => {
  await processor?.stop(2000);
  await db?.stop();
});

async function submit(payload: unknown): Promise<string> {
  const res = await fetch(`${base}/api/code/jobs`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: JSON.stringify({ payload }) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

interface JobBody {
  status: string;
  attempts: number;
  error?: string;
  result?: { status: string; value?: unknown; valueJson?: string; console: Array<{ text: string; escaped?: true }>; error?: { message: string; escaped?: true } };
}

const finished = (id: string) =>
  waitFor(async () => {
    const job = (await (await fetch(`${base}/api/code/jobs/${id}`, { headers: auth })).json()) as JobBody;
    return ["completed", "failed", "dead"].includes(job.status) && job;
  }, 60_000);

describe("code jobs on PostgreSQL", () => {
  it("complete with any characters in their result and console, stored losslessly", async () => {
    const job = await finished(
      await submit({ source: `console.log("before\\u0000after"); console.log("half \\ud800 pair"); ({ text: "a\\u0000b", ok: "plain" })` }),
    );
    expect(job).toMatchObject({ status: "completed", attempts: 1, result: { status: "ok" } });
    const r = job.result!;
    // U+0000 cannot sit in jsonb: the value is kept as its exact JSON text, the lines JSON-escaped.
    expect(r.value).toBeUndefined();
    expect(JSON.parse(r.valueJson!)).toEqual({ text: "a\u0000b", ok: "plain" });
    expect(r.console.map((l) => JSON.parse(`"${l.text}"`))).toEqual(["before\u0000after", "half \ud800 pair"]);
    expect(r.console.every((l) => l.escaped)).toBe(true);

    const thrown = await finished(await submit({ source: `throw new Error("bad\\u0000byte")` }));
    expect(thrown).toMatchObject({ status: "completed", result: { status: "error", error: { escaped: true } } });
    expect(JSON.parse(`"${thrown.result!.error!.message}"`)).toBe("bad\u0000byte");

    const deep = await finished(await submit({ source: `let v = 1; for (let i = 0; i < 2000; i++) v = [v]; v` }));
    expect(deep).toMatchObject({ status: "completed", result: { status: "ok" } });
    expect(deep.result!.valueJson).toBe(`${"[".repeat(2000)}1${"]".repeat(2000)}`);

    const plain = await finished(await submit({ source: `console.log("hi"); [1, "two"]` }));
    expect(plain.result).toMatchObject({ status: "ok", value: [1, "two"], console: [{ level: "log", text: "hi" }] });
  });

  it("record their own run time and cost, not the time spent waiting for the sandbox", async () => {
    const busy = { source: `const t = Date.now(); while (Date.now() - t < 400) {} "done"`, timeoutMs: 5000 };
    // Three at once on one sandbox: the last waits for the other two (~0.8 s) before it runs.
    const ids = await Promise.all([submit(busy), submit(busy), submit(busy)]);
    await Promise.all(ids.map(finished));
    const rows = await db.query<{ processing_time_seconds: string; estimated_cost_usd: string; started_at: Date; completed_at: Date }>(
      "SELECT processing_time_seconds, estimated_cost_usd, started_at, completed_at FROM container_jobs WHERE id = ANY($1::uuid[])",
      [ids],
    );
    const spans = rows.map((r) => (r.completed_at.getTime() - r.started_at.getTime()) / 1000).sort((a, b) => a - b);
    // At least one of them did wait: claimed together, finished one after another.
    expect(spans[2]).toBeGreaterThan(1.0);
    for (const r of rows) {
      expect(Number(r.processing_time_seconds)).toBeGreaterThanOrEqual(0.4);
      expect(Number(r.processing_time_seconds)).toBeLessThan(0.95);
      // 1 USD per second.
      expect(Number(r.estimated_cost_usd)).toBeCloseTo(Number(r.processing_time_seconds), 3);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${processor.metricsPort}/metrics`)).text();
    const waited = Number(/^job_wait_seconds_sum\{type="code"\} (\S+)$/m.exec(metrics)?.[1]);
    expect(waited).toBeGreaterThan(0.6);
  });
});
