import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentHandler } from "../src/handlers/document";
import { Processor } from "../src/runtime/processor";
import { createResultStore } from "../src/store";
import { waitFor } from "./handlers";
import { testApiKey } from "./api-keys";
import { startTestDatabase, type TestDatabase } from "./pg";

// Document jobs on a real PostgreSQL whose inputs can never work: they must fail at once, saying why,
// while an input that may work later (a 503) is still retried.
let db: TestDatabase;
let processor: Processor;
let inputs: http.Server;
let dir: string;
let base: string;
let auth: Record<string, string>;
let inputBase: string;
let flakyHits = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "permanent-"));
  inputs = http.createServer((req, res) => {
    if (req.url === "/flaky.pdf") flakyHits++;
    res.writeHead(req.url === "/flaky.pdf" ? 503 : req.url === "/private.pdf" ? 403 : 404).end();
  });
  await new Promise<void>((r) => inputs.listen(0, "127.0.0.1", r));
  inputBase = `http://127.0.0.1:${(inputs.address() as AddressInfo).port}`;
  db = await startTestDatabase();
  auth = (await testApiKey(db.url, "documents", ["document"])).headers;
  processor = new Processor({
    type: "document",
    handlers: { document: documentHandler },
    store: createResultStore({ RESULTS_STORE_URL: pathToFileURL(join(dir, "store")).href, ALLOW_HTTP_INPUTS: "1" }),
    databaseUrl: db.url,
    port: 0,
    metricsPort: 0,
    host: "127.0.0.1",
    logger: pino({ level: "silent" }),
    worker: { leaseSeconds: 5, pollIntervalMs: 100, backoff: { baseMs: 50, maxMs: 100 } },
  });
  await processor.start();
  base = `http://127.0.0.1:${processor.port}`;
});
afterAll(async () => {
  await processor?.stop(2000);
  await db?.stop();
  await new Promise((r) => inputs?.close(r));
  await rm(dir, { recursive: true, force: true });
});

async function run(input: string, maxAttempts = 5) {
  const res = await fetch(`${base}/api/document/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth },
    body: JSON.stringify({ payload: { input }, maxAttempts }),
  });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  return waitFor(async () => {
    const job = (await (await fetch(`${base}/api/document/jobs/${id}`, { headers: auth })).json()) as { status: string; attempts: number; error?: string };
    return ["completed", "failed", "dead"].includes(job.status) && job;
  }, 60_000);
}

describe("inputs that cannot work", () => {
  it("a file that is not a PDF fails on its first attempt, with the reason", async () => {
    const notPdf = join(dir, "notes.pdf");
    await writeFile(notPdf, "just some text, no header");
    const job = await run(pathToFileURL(notPdf).href);
    expect(job).toMatchObject({ status: "failed", attempts: 1 });
    expect(job.error).toMatch(/not a PDF/);
  });

  it.each([
    ["404", "/missing.pdf", /HTTP 404/],
    ["403", "/private.pdf", /HTTP 403/],
  ])("an input URL answering %s fails on its first attempt", async (_code, path, reason) => {
    const job = await run(`${inputBase}${path}`);
    expect(job).toMatchObject({ status: "failed", attempts: 1 });
    expect(job.error).toMatch(reason);
  });

  it("an input URL answering 503 is retried until its attempts are used up", async () => {
    const job = await run(`${inputBase}/flaky.pdf`, 3);
    expect(job).toMatchObject({ status: "dead", attempts: 3 });
    expect(flakyHits).toBe(3);
  });
});
