import { spawnSync } from "node:child_process";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { Writable } from "node:stream";
import fc from "fast-check";
import { Pool } from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAuthorization } from "../src/runtime/auth";
import { createClient, issueKey, revokeClient, revokeKey, rotateKey } from "../src/runtime/auth-admin";
import { Processor } from "../src/runtime/processor";
import { testHandlers, unusedStore } from "./handlers";
import { startTestDatabase, type TestDatabase } from "./pg";

// Every way a job request can be refused, against the real API on a real PostgreSQL, with what the worker logs
// captured: no refusal leaves a job behind, and no log line carries a secret.
let db: TestDatabase;
let pool: Pool;
let processor: Processor;
let base: string;
const logLines: string[] = [];
/** Every credential this file hands out, to search the logs for. */
const issued: string[] = [];

beforeAll(async () => {
  db = await startTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => undefined);
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString("utf8"));
      done();
    },
  });
  processor = new Processor({
    type: "code",
    handlers: testHandlers(),
    store: unusedStore,
    databaseUrl: db.url,
    port: 0,
    metricsPort: 0,
    host: "127.0.0.1",
    logger: pino({ level: "trace" }, sink),
    worker: { leaseSeconds: 3, pollIntervalMs: 100 },
  });
  await processor.start();
  base = `http://127.0.0.1:${processor.port}`;
});
afterAll(async () => {
  await processor?.stop(1000);
  await pool?.end();
  await db?.stop();
});

async function client(name: string, scopes: string[] = ["code"]) {
  const k = await createClient(pool, { name, scopes });
  issued.push(k.key);
  return k;
}
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const submit = (headers: Record<string, string>, body: unknown = { payload: { n: 1 } }) =>
  fetch(`${base}/api/code/jobs`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const read = (id: string, headers: Record<string, string>) => fetch(`${base}/api/code/jobs/${id}`, { headers });
const jobs = async () => Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM container_jobs"))[0]!.n);

/** The refusal a client sees, checked whole: status, challenge, JSON message; and the queue unchanged. */
async function expectRefused(send: () => Promise<Response>, status: 401 | 403, error: string | RegExp, challenge: RegExp) {
  const before = await jobs();
  const res = await send();
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/json");
  expect(res.headers.get("www-authenticate")).toMatch(challenge);
  const body = (await res.json()) as { error: string };
  if (typeof error === "string") expect(body.error).toBe(error);
  else expect(body.error).toMatch(error);
  expect(await jobs()).toBe(before);
}

describe("who may submit jobs", () => {
  it("a request without a credential gets 401 with a Bearer challenge, for submit and for read", async () => {
    await expectRefused(() => submit({}), 401, "Authentication required: send Authorization: Bearer <API key>", /^Bearer realm="pitchey"$/);
    await expectRefused(() => read("00000000-0000-0000-0000-000000000000", {}), 401, /Authentication required/, /^Bearer realm="pitchey"$/);
    // Unknown types are not revealed to a caller without a credential either.
    expect((await fetch(`${base}/api/teleport/jobs`, { method: "POST", body: "{}" })).status).toBe(401);
  });

  it("a malformed credential, another scheme, an unknown key and a wrong secret get 401", async () => {
    const k = await client("alpha");
    const wrongSecret = `${k.key.slice(0, -4)}AAAA` === k.key ? `${k.key.slice(0, -4)}BBBB` : `${k.key.slice(0, -4)}AAAA`;
    const unknownId = `pk_${"0".repeat(24)}.${k.key.split(".")[1]}`;
    await expectRefused(() => submit({ authorization: "Bearer not-a-key" }), 401, /^Malformed Authorization header/, /error="invalid_request"/);
    await expectRefused(() => submit({ authorization: `Basic ${Buffer.from(`x:${k.key}`).toString("base64")}` }), 401, /^Malformed/, /error="invalid_request"/);
    await expectRefused(() => submit(bearer(wrongSecret)), 401, "Invalid API key", /error="invalid_token"/);
    await expectRefused(() => submit(bearer(unknownId)), 401, "Invalid API key", /error="invalid_token"/);
    expect((await submit(bearer(k.key))).status).toBe(202);
  });

  it("an expired key or client gets 401 saying so, and only to the holder of the secret", async () => {
    const k = await client("bravo");
    expect((await submit(bearer(k.key))).status).toBe(202);
    await pool.query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [k.keyId]);
    await expectRefused(() => submit(bearer(k.key)), 401, "API key expired", /error="invalid_token"/);
    await expectRefused(() => submit(bearer(`${k.key.slice(0, -1)}${k.key.endsWith("A") ? "B" : "A"}`)), 401, "Invalid API key", /invalid_token/);
    const fresh = await issueKey(pool, "bravo");
    issued.push(fresh.key);
    expect((await submit(bearer(fresh.key))).status).toBe(202);
    await pool.query("UPDATE api_clients SET expires_at = now() - interval '1 second' WHERE name = 'bravo'");
    await expectRefused(() => submit(bearer(fresh.key)), 401, "API client expired", /invalid_token/);
  });

  it("revocation holds from the very next request: nothing is cached", async () => {
    const k = await client("charlie");
    const second = await issueKey(pool, "charlie");
    issued.push(second.key);
    expect((await submit(bearer(k.key))).status).toBe(202);
    await revokeKey(pool, k.keyId);
    await expectRefused(() => submit(bearer(k.key)), 401, "API key revoked", /invalid_token/);
    expect((await submit(bearer(second.key))).status).toBe(202);
    await revokeClient(pool, "charlie");
    await expectRefused(() => submit(bearer(second.key)), 401, "API client revoked", /invalid_token/);
    await expectRefused(() => read("00000000-0000-0000-0000-000000000000", bearer(second.key)), 401, "API client revoked", /invalid_token/);
  });

  it("refuses a large body without a key before reading it, and the client still gets the 401", async () => {
    const before = await jobs();
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/api/code/jobs`, { method: "POST", headers: { "content-type": "application/json", "content-length": String(90 * 1024 * 1024) } });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      // A reset before any answer shows as -1: the client never learnt why it was cut off.
      req.on("error", (err) => (["EPIPE", "ECONNRESET"].includes((err as NodeJS.ErrnoException).code ?? "") ? resolve(-1) : reject(err)));
      req.write(Buffer.alloc(64 * 1024, 0x20));
    });
    expect(status).toBe(401);
    expect(await jobs()).toBe(before);
  });

  it("a job type outside the key's scopes gets 403 naming what it may submit", async () => {
    const k = await client("delta", ["video", "document"]);
    await expectRefused(() => submit(bearer(k.key)), 403, "API client delta may not submit code jobs (allowed: video, document)", /error="insufficient_scope"/);
  });

  it("rotation has no gap: both keys work during the overlap, then only the new one", async () => {
    const old = await client("echo");
    const fresh = await rotateKey(pool, "echo", old.keyId, { overlapSeconds: 3600 });
    issued.push(fresh.key);
    expect((await submit(bearer(old.key))).status).toBe(202);
    expect((await submit(bearer(fresh.key))).status).toBe(202);
    // The overlap ends (moved into the past rather than waited for).
    await pool.query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [old.keyId]);
    await expectRefused(() => submit(bearer(old.key)), 401, "API key expired", /invalid_token/);
    expect((await submit(bearer(fresh.key))).status).toBe(202);
  });

  it("a client reads only its own jobs: another's, and ownerless ones, are 404 exactly like unknown ids", async () => {
    const a = await client("foxtrot");
    const b = await client("golf");
    const res = await submit(bearer(a.key));
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect((await read(id, bearer(a.key))).status).toBe(200);
    const [theirs, unknown] = await Promise.all([read(id, bearer(b.key)), read("00000000-0000-0000-0000-000000000000", bearer(b.key))]);
    expect(theirs.status).toBe(404);
    expect(await theirs.json()).toEqual(await unknown.json());
    const [{ id: ownerless }] = await db.query<{ id: string }>("INSERT INTO container_jobs (type, payload) VALUES ('code', '{\"n\":1}') RETURNING id");
    expect((await read(ownerless!, bearer(a.key))).status).toBe(404);
    const [row] = await db.query<{ owner: string }>("SELECT owner_client_id AS owner FROM container_jobs WHERE id = $1", [id]);
    expect(row!.owner).toBe(a.clientId);
  });

  it("idempotency keys are per client: reusing another client's key reveals nothing of its job", async () => {
    const a = await client("hotel");
    const b = await client("india");
    const first = (await (await submit(bearer(a.key), { payload: { n: 2 }, idempotencyKey: "order-1" })).json()) as { id: string };
    const again = await submit(bearer(a.key), { payload: { n: 2 }, idempotencyKey: "order-1" });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(first.id);
    // Another client, same key, different payload: its own new job, not a 409 carrying the first client's id.
    const other = await submit(bearer(b.key), { payload: { n: 3 }, idempotencyKey: "order-1" });
    expect(other.status).toBe(202);
    expect(((await other.json()) as { id: string }).id).not.toBe(first.id);
  });

  it("no malformed Authorization header yields a 5xx or a job", async () => {
    const k = await client("juliet");
    const before = await jobs();
    const [, secret] = k.key.split(".");
    // Raw bytes on a socket: the client libraries refuse most of what a hostile client can send.
    const header = fc.oneof(
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.stringMatching(/^[ -~]{0,200}$/),
      fc.tuple(fc.constantFrom("Bearer ", "bearer ", "Bearer  ", "Basic ", "", "Bearer\t"), fc.constantFrom(k.key, `pk_${k.keyId}`, `pk_${k.keyId}.`, `${k.keyId}.${secret}`, `pk_${k.keyId.toUpperCase()}.${secret}`), fc.string({ maxLength: 20 })).map(([s, key, tail]) => `${s}${key}${tail}`),
    );
    await fc.assert(
      fc.asyncProperty(header, fc.boolean(), async (h, post) => {
        const sent = h.replace(/[\r\n]/g, "");
        // The one well-formed case the generator can hit is the real key itself; that is not malformed.
        const parsed = parseAuthorization(sent.trim());
        fc.pre(!(parsed.kind === "key" && parsed.keyId === k.keyId && `pk_${parsed.keyId}.${parsed.secret}` === k.key));
        const value = Buffer.from(sent, "latin1");
        const status = await rawStatus(post ? "POST" : "GET", post ? "/api/code/jobs" : "/api/code/jobs/00000000-0000-0000-0000-000000000000", value);
        expect(status, JSON.stringify(h)).toBeGreaterThanOrEqual(400);
        expect(status, JSON.stringify(h)).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
    expect(await jobs()).toBe(before);
  });

  it("parses only the exact key shape", () => {
    const key = `pk_${"a1".repeat(12)}.${"x".repeat(43)}`;
    expect(parseAuthorization(`Bearer ${key}`)).toMatchObject({ kind: "key", keyId: "a1".repeat(12) });
    expect(parseAuthorization(`bearer   ${key}`)).toMatchObject({ kind: "key" });
    for (const bad of [`Bearer ${key}x`, `Bearer ${key.toUpperCase()}`, key, `Bearer ${key}, Bearer ${key}`]) expect(parseAuthorization(bad).kind).toBe("malformed");
    expect(parseAuthorization(undefined).kind).toBe("missing");
    expect(parseAuthorization("  ").kind).toBe("missing");
  });
});

describe("the admin command", () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "..", "src", "cli", "api-clients.ts"), ...args], {
      env: { ...process.env, DATABASE_URL: db.url, DATABASE_URL_FILE: "" },
      encoding: "utf8",
      timeout: 60_000,
    });

  it("creates a client and prints its key once; the key works; list shows no secret; revoke stops it", async () => {
    const created = cli(["create", "kilo", "--scopes", "code,video"]);
    expect(created.status, created.stderr).toBe(0);
    const out = JSON.parse(created.stdout) as { key: string; keyId: string; client: string };
    issued.push(out.key);
    expect(out).toMatchObject({ client: "kilo", keyId: expect.stringMatching(/^[0-9a-f]{24}$/) });
    expect(created.stderr).toContain("shown once");
    expect((await submit(bearer(out.key))).status).toBe(202);

    const rotated = cli(["rotate-key", "kilo", out.keyId, "--overlap-hours", "0"]);
    expect(rotated.status, rotated.stderr).toBe(0);
    const next = JSON.parse(rotated.stdout) as { key: string; keyId: string; replaces: string };
    issued.push(next.key);
    expect(next.replaces).toBe(out.keyId);
    expect((await submit(bearer(out.key))).status).toBe(401);
    expect((await submit(bearer(next.key))).status).toBe(202);

    const list = cli(["list"]);
    expect(list.status).toBe(0);
    expect(list.stdout).toContain(next.keyId);
    for (const k of [out.key, next.key]) expect(list.stdout).not.toContain(k.split(".")[1]);
    const [hash] = await db.query<{ h: string }>("SELECT encode(secret_sha256, 'hex') AS h FROM api_keys WHERE id = $1", [next.keyId]);
    expect(list.stdout).not.toContain(hash!.h);

    expect(cli(["revoke-key", next.keyId]).status).toBe(0);
    expect((await submit(bearer(next.key))).status).toBe(401);
  });

  it("refuses bad input, naming it", () => {
    const unknownScope = cli(["create", "lima", "--scopes", "code,fax"]);
    expect(unknownScope.status).toBe(1);
    expect(unknownScope.stderr).toContain("unknown job type(s) fax");
    expect(cli(["create", "lima"]).stderr).toContain("create needs --scopes");
    expect(cli(["issue-key", "nobody"]).stderr).toContain("no API client named nobody");
    expect(cli(["frobnicate"]).status).toBe(2);
  });
});

describe("logs", () => {
  it("name the client and key id of a submitted job and never carry a secret or its hash", async () => {
    const text = logLines.join("");
    expect(text).toMatch(/"msg":"job submitted"/);
    expect(text).toMatch(/"keyId":"[0-9a-f]{24}"/);
    expect(issued.length).toBeGreaterThan(8);
    const hashes = await db.query<{ h: string }>("SELECT encode(secret_sha256, 'hex') AS h FROM api_keys");
    for (const key of issued) expect(text).not.toContain(key.split(".")[1]);
    for (const { h } of hashes) expect(text).not.toContain(h);
  });
});

/** One request with `authorization` set to exactly these bytes; resolves with the status line's code. */
function rawStatus(method: string, target: string, authorization: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(processor.port, "127.0.0.1");
    let data = "";
    socket.on("data", (d) => {
      data += d.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on("error", reject);
    socket.on("close", () => (/^HTTP\/1\.1 \d{3}/.test(data) ? undefined : reject(new Error(`no answer: ${JSON.stringify(data)}`))));
    const body = method === "POST" ? '{"payload":{"n":1}}' : "";
    socket.write(
      Buffer.concat([
        Buffer.from(`${method} ${target} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nauthorization: `, "latin1"),
        authorization,
        Buffer.from(`\r\nconnection: close\r\n\r\n${body}`, "latin1"),
      ]),
    );
  });
}
