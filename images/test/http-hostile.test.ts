import http from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { Pool } from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handlers } from "../src/handlers";
import { CODE_LIMITS } from "../src/handlers/code";
import { JobQueue } from "../src/queue/queue";
import { ApiKeyAuthenticator } from "../src/runtime/auth";
import { createHttpServer } from "../src/runtime/http";
import { createMetrics } from "../src/runtime/metrics";
import { DEFAULT_MAX_REQUEST_BYTES, JOB_TYPES } from "../src/runtime/types";
import { testApiKey } from "./api-keys";
import { startTestDatabase, type TestDatabase } from "./pg";

// The API in front of a real PostgreSQL with every real handler's schema, and no worker: what a hostile
// client can make of it is decided here, before any job runs.
let db: TestDatabase;
let pool: Pool;
let server: http.Server;
let base: string;
let auth: Record<string, string>;

beforeAll(async () => {
  db = await startTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 8, connectionTimeoutMillis: 2000 });
  pool.on("error", () => undefined);
  auth = (await testApiKey(db.url, "hostile")).headers;
  server = createHttpServer({
    queue: new JobQueue(pool),
    auth: new ApiKeyAuthenticator(pool),
    handlers,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: pino({ level: "silent" }),
    isAlive: () => true,
    isReady: async () => true,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => {
    server?.close(r);
    server?.closeAllConnections();
  });
  await pool?.end();
  await db?.stop();
});

const count = async () => Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM container_jobs"))[0]!.n);
const postRaw = (path: string, body: string) => fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body });
const get = (path: string) => fetch(`${base}${path}`, { headers: auth });
const post = (type: string, body: unknown) => postRaw(`/api/${type}/jobs`, JSON.stringify(body));
const issuePaths = async (res: Response) => ((await res.json()) as { issues?: Array<{ path: string }> }).issues?.map((i) => i.path);

/** Sends headers and as much of the body as the server will read; resolves with the status it answers. */
function rawRequest(path: string, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: "POST", headers });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    // A reset before any answer shows as -1: the client never learnt why it was cut off.
    req.on("error", (err) => (["EPIPE", "ECONNRESET"].includes((err as NodeJS.ErrnoException).code ?? "") ? resolve(-1) : reject(err)));
    req.write(body);
    req.end();
  });
}

const zeros = Array(512).fill(0);
const valid: Record<string, { payload: unknown; withUnknown: unknown; unknownPath: string }> = {
  code: { payload: { source: "1" }, withUnknown: { source: "1", padding: "x" }, unknownPath: "payload" },
  video: {
    payload: { input: "https://example.com/a.mp4", thumbnails: { times: [1] } },
    withUnknown: { input: "https://example.com/a.mp4", thumbnails: { times: [1], extra: 1 } },
    unknownPath: "payload.thumbnails",
  },
  media: {
    payload: { operation: "convert", input: "https://example.com/a.wav", format: "mp3" },
    withUnknown: { operation: "convert", input: "https://example.com/a.wav", format: "mp3", extra: 1 },
    unknownPath: "payload",
  },
  document: { payload: { input: "https://example.com/a.pdf" }, withUnknown: { input: "https://example.com/a.pdf", extra: 1 }, unknownPath: "payload" },
  inference: { payload: { inputs: [zeros] }, withUnknown: { inputs: [zeros], extra: 1 }, unknownPath: "payload" },
};

describe("payload schemas and body limits", () => {
  it.each(JOB_TYPES)("%s: every object in the payload is strict", async (type) => {
    const before = await count();
    const bad = await post(type, { payload: valid[type]!.withUnknown });
    expect(bad.status).toBe(400);
    expect(await issuePaths(bad)).toEqual([valid[type]!.unknownPath]);
    expect(await count()).toBe(before);
    expect((await post(type, { payload: valid[type]!.payload })).status).toBe(202);
  });

  it("sizes the code body cap from the code limits: a full-size job fits, much more is refused unread", async () => {
    const full = { source: `/*${"s".repeat(CODE_LIMITS.sourceBytes - 10)}*/1`, input: { blob: "i".repeat(CODE_LIMITS.inputBytes - 20) } };
    expect((await post("code", { payload: full })).status).toBe(202);
    const before = await count();
    // A declared length over the cap is refused before any of the body is read…
    expect(await rawRequest("/api/code/jobs", { ...auth, "content-type": "application/json", "content-length": String(90 * 1024 * 1024) }, Buffer.from("{"))).toBe(413);
    // …and a chunked body is counted as it streams.
    const chunked = Buffer.from(JSON.stringify({ payload: { source: "1", input: "x".repeat(CODE_LIMITS.requestBytes) } }));
    expect(await rawRequest("/api/code/jobs", { ...auth, "content-type": "application/json", "transfer-encoding": "chunked" }, chunked)).toBe(413);
    expect(await count()).toBe(before);
  });

  it("gives each type its own cap", async () => {
    expect(handlers.code!.maxRequestBytes).toBeLessThan(1024 * 1024);
    const big = JSON.stringify({ payload: { input: "https://example.com/a.pdf" }, pad: " ".repeat(DEFAULT_MAX_REQUEST_BYTES) });
    expect((await postRaw("/api/document/jobs", big)).status).toBe(413);
    // Inline inference inputs are legitimately large (up to 4,096 rows of 512 numbers).
    const rows = Array.from({ length: 512 }, () => Array.from({ length: 512 }, (_, i) => i / 7));
    expect((await post("inference", { payload: { inputs: rows } })).status).toBe(202);
  });
});

describe("malformed requests are 400 with the offending path", () => {
  it("a malformed percent-escape in a job id", async () => {
    const res = await get("/api/code/jobs/%E0%A4%A");
    expect(res.status).toBe(400);
    expect(await issuePaths(res)).toEqual(["id"]);
  });

  it("U+0000 or an unpaired surrogate anywhere in the body, values or keys", async () => {
    const before = await count();
    const nulInput = await post("code", { payload: { source: "1", input: { list: ["ok", "a\u0000b"] } } });
    expect(nulInput.status).toBe(400);
    expect(await issuePaths(nulInput)).toEqual(["payload.input.list.1"]);
    // Written by hand: JSON.stringify would escape the surrogate, which is just as bad for PostgreSQL.
    const lone = await postRaw("/api/code/jobs", '{"payload":{"source":"1 // \\ud800"}}');
    expect(lone.status).toBe(400);
    expect(await issuePaths(lone)).toEqual(["payload.source"]);
    const lowAlone = await postRaw("/api/code/jobs", '{"payload":{"source":"1","input":"\\udc00x"}}');
    expect(await issuePaths(lowAlone)).toEqual(["payload.input"]);
    const key = await post("code", { payload: { source: "1", input: { "k\u0000": 1 } } });
    expect(key.status).toBe(400);
    expect(await issuePaths(key)).toEqual(["payload.input"]);
    const idem = await post("code", { payload: { source: "1" }, idempotencyKey: "key\u0000" });
    expect(await issuePaths(idem)).toEqual(["idempotencyKey"]);
    expect(await count()).toBe(before);
    // A proper pair is fine.
    expect((await post("code", { payload: { source: "'\ud83d\ude00'" } })).status).toBe(202);
  });

  it("JSON nested thousands deep", async () => {
    const deep = `{"payload":{"source":"1","input":${"[".repeat(5000)}${"]".repeat(5000)}}}`;
    const res = await postRaw("/api/code/jobs", deep);
    expect(res.status).toBe(400);
    const [path] = (await issuePaths(res))!;
    expect(path).toMatch(/^payload\.input(\.0)+$/);
  });
});

describe("a database outage", () => {
  it("is 503 with Retry-After, never 500, and the API recovers after", async () => {
    const statuses = new Set<number>();
    let retryAfter: string | null = null;
    const restarting = db.restart(3000);
    const deadline = Date.now() + 2500;
    while (Date.now() < deadline) {
      const [submit, read] = await Promise.all([post("code", { payload: { source: "1" } }), get("/api/code/jobs/00000000-0000-0000-0000-000000000000")]);
      for (const r of [submit, read]) {
        statuses.add(r.status);
        if (r.status === 503) retryAfter = r.headers.get("retry-after");
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await restarting;
    expect(statuses).toContain(503);
    expect([...statuses].filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    const deadlineUp = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadlineUp && status !== 202) {
      status = (await post("code", { payload: { source: "1" } })).status;
      if (status !== 202) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(202);
  });
});

describe("hostile bodies, generated", () => {
  // Strings over every UTF-16 code unit, so NULs and lone surrogates turn up, in values and in keys.
  const hostileString = fc.string({ unit: "binary", maxLength: 40 });
  const deep = fc.integer({ min: 1, max: 3000 }).map((n) => "[".repeat(n) + "]".repeat(n));
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.double(),
      fc.integer(),
      hostileString,
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.oneof(hostileString, fc.constantFrom("__proto__", "constructor", "payload", "source", "input")), tie("value"), { maxKeys: 4 }),
    ),
  })).value;
  const envelope = fc.record(
    {
      payload: fc.oneof(json, fc.record({ source: fc.oneof(hostileString, json), input: json }, { requiredKeys: [] })),
      priority: fc.oneof(json, fc.integer({ min: -2000, max: 2000 })),
      idempotencyKey: fc.oneof(hostileString, json),
      maxAttempts: json,
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    envelope.map((e) => JSON.stringify(e)),
    json.map((j) => JSON.stringify(j) ?? "null"),
    // Raw text: broken JSON, escapes JSON.stringify would never write (\u0000, lone \ud800), deep nesting.
    fc.tuple(fc.constantFrom('{"payload":{"source":"', '{"payload":', '{"idempotencyKey":"', "["), hostileString, deep).map(
      ([head, s, d]) => `${head}${s.replace(/["\\]/g, "")}\\u0000\\ud800${d}`,
    ),
    deep.map((d) => `{"payload":{"source":"1","input":${d}}}`),
    hostileString,
  );
  const path = fc.oneof(
    fc.constantFrom(...JOB_TYPES, "teleport").map((t) => `/api/${t}/jobs`),
    fc.constantFrom("%E0%A4%A", "%", "%ZZ", "%C0%AF", "..%2F", "%00", "00000000-0000-0000-0000-000000000000", "%F0%9F%98").map((id) => `/api/code/jobs/${id}`),
  );

  it("never answers 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(path, body, async (p, b) => {
        const res = p.includes("/jobs/") ? await get(p) : await postRaw(p, b);
        await res.arrayBuffer();
        expect(res.status, `${p} ${b.slice(0, 200)}`).toBeLessThan(500);
      }),
      { numRuns: 400 },
    );
  });
});
