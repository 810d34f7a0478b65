import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { Storage } from "@google-cloud/storage";
import pino from "pino";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../src/dev/embedded-db";
import { requireTool } from "../src/dev/tools";
import { replicate, type CopyTarget, type ReplicateOptions } from "../src/backup/replicate";
import { GcsCopyTarget, S3CopySource, S3CopyTarget } from "../src/backup/replicate-stores";
import { openBackupStore, readAll } from "../src/backup/store";

/**
 * The copy against real peers: s3rver stands in for R2 (the source) and for S3 (the dr target), fake-gcs-server for
 * GCS (the prod target). fake-gcs-server keeps an object's retention and enforces `ifGenerationMatch`; s3rver has no
 * Object Lock, so for S3 the retention requests the copy sends are recorded by a pass-through proxy in front of it.
 */
const SOURCE = "pitchey-backups";
const TARGET = "pitchey-containers-dr-backups-0a1b2c3d";
const GCS = "pitchey-containers-backups-0a1b2c3d";
const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
const MONTHLY_SECONDS = 12 * 28 * 86400;
const BIG = 6 * 1024 * 1024 + 17;

let s3: S3rver;
let s3Dir: string;
let s3Endpoint: string;
let proxy: http.Server;
let proxyEndpoint: string;
const retentionRequests: { key: string; body: string }[] = [];
let gcs: ChildProcess;
let gcsEndpoint: string;

/** Forwards to s3rver; answers the object-retention sub-resource itself (s3rver would take it for an upload), recording it. */
function retentionProxy(target: string): http.Server {
  const held = new Map<string, string>();
  return http.createServer((req, res) => {
    const u = new URL(req.url!, "http://x");
    if (u.searchParams.has("retention")) {
      const key = decodeURIComponent(u.pathname.split("/").slice(2).join("/"));
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        if (req.method === "PUT") {
          const body = Buffer.concat(chunks).toString();
          retentionRequests.push({ key, body });
          held.set(key, body);
          res.writeHead(200).end();
        } else if (held.has(key)) {
          res.writeHead(200, { "content-type": "application/xml" }).end(held.get(key));
        } else {
          res.writeHead(404, { "content-type": "application/xml" }).end("<Error><Code>NoSuchObjectLockConfiguration</Code></Error>");
        }
      });
      return;
    }
    const t = new URL(target);
    const fwd = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(fwd);
  });
}

beforeAll(async () => {
  const fakeGcs = requireTool("fake-gcs-server");
  s3Dir = await mkdtemp(path.join(os.tmpdir(), "replicate-s3-"));
  s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: s3Dir, configureBuckets: [{ name: SOURCE }, { name: TARGET }] });
  s3Endpoint = `http://127.0.0.1:${(await s3.run() as AddressInfo).port}`;
  proxy = retentionProxy(s3Endpoint);
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyEndpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  const port = await freePort();
  gcsEndpoint = `http://127.0.0.1:${port}`;
  gcs = spawn(fakeGcs, ["-scheme", "http", "-host", "127.0.0.1", "-port", String(port), "-backend", "memory", "-public-host", `127.0.0.1:${port}`, "-log-level", "error"], { stdio: "ignore" });
  const storage = new Storage({ apiEndpoint: gcsEndpoint, projectId: "test" });
  for (let i = 0; ; i++) {
    try {
      await storage.createBucket(GCS);
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const src = openBackupStore(`s3://${SOURCE}`, { endpoint: s3Endpoint, credentials }).store;
  const put = (key: string, body: Buffer) => src.put(key, Readable.from([body]), async () => undefined);
  await put("postgres/2026-11-30T23-00-00Z.dump", Buffer.from("hourly dump"));
  await put("postgres/daily/2026-11-30T00-00-00Z.dump", Buffer.from("daily dump"));
  await put("postgres/weekly/2026-11-30T00-00-00Z.dump", Buffer.alloc(BIG, 7));
  await put("postgres/monthly/2026-11-01T00-00-00Z.dump", Buffer.from("monthly dump"));
  await put("r2/current/video/1/out.mp4", Buffer.from("render"));
  await put("r2/daily/2026-11-30/doc/2/out.txt", Buffer.from("yesterday's text"));
  await put("reports/capacity-2026-11.json", Buffer.from("{}"));
}, 60_000);

afterAll(async () => {
  gcs?.kill();
  await new Promise((r) => proxy?.close(r));
  await s3?.close();
  await rm(s3Dir, { recursive: true, force: true });
});

const COPIED = [
  "postgres/2026-11-30T23-00-00Z.dump",
  "postgres/daily/2026-11-30T00-00-00Z.dump",
  "postgres/monthly/2026-11-01T00-00-00Z.dump",
  "postgres/weekly/2026-11-30T00-00-00Z.dump",
  "r2/current/video/1/out.mp4",
  "r2/daily/2026-11-30/doc/2/out.txt",
];

const source = () => new S3CopySource({ bucket: SOURCE, endpoint: s3Endpoint, region: "auto", credentials });
const s3Target = () => new S3CopyTarget({ bucket: TARGET, endpoint: proxyEndpoint, region: "eu-west-1", credentials }, { singlePutBytes: 1024 * 1024, partBytes: 5 * 1024 * 1024 });
const gcsTarget = () => new GcsCopyTarget(GCS, { endpoint: gcsEndpoint, projectId: "test", resumableAboveBytes: 1024 * 1024 });
const run = (target: CopyTarget, extra: Partial<ReplicateOptions> = {}) =>
  replicate({ source: source(), target, prefixes: ["postgres/", "r2/"], lock: { prefix: "postgres/monthly/", seconds: MONTHLY_SECONDS }, logger: pino({ level: "silent" }), ...extra });

async function sourceTimes(): Promise<Map<string, Date>> {
  return new Map((await source().list("postgres/monthly/")).map((o) => [o.key, o.lastModified!]));
}

describe("replicate-backups into S3 (dr)", () => {
  it("copies postgres/ and r2/ on the first run, streaming a multi-part dump, and locks the monthly tier in governance mode", async () => {
    const r = await run(s3Target());
    expect(r).toMatchObject({ copied: 6, present: 0, locked: 1, bytes: expect.any(Number) });
    expect((await s3Target().list("")).map((o) => o.key).sort()).toEqual(COPIED);
    const big = await readAll(await openBackupStore(`s3://${TARGET}`, { endpoint: s3Endpoint, credentials }).store.get("postgres/weekly/2026-11-30T00-00-00Z.dump"));
    expect(big.equals(Buffer.alloc(BIG, 7))).toBe(true);
    expect(retentionRequests.map((q) => q.key)).toEqual(["postgres/monthly/2026-11-01T00-00-00Z.dump"]);
    const [req] = retentionRequests;
    expect(req.body).toContain("<Mode>GOVERNANCE</Mode>");
    const until = new Date(/<RetainUntilDate>([^<]+)</.exec(req.body)![1]);
    const written = (await sourceTimes()).get("postgres/monthly/2026-11-01T00-00-00Z.dump")!;
    expect(until.getTime()).toBe(written.getTime() + MONTHLY_SECONDS * 1000);
  });

  it("copies nothing on a second run, and only what is missing from a partial destination", async () => {
    expect(await run(s3Target())).toMatchObject({ copied: 0, present: 6, raced: 0 });
    await openBackupStore(`s3://${TARGET}`, { endpoint: s3Endpoint, credentials }).store.delete("r2/current/video/1/out.mp4");
    expect(await run(s3Target())).toMatchObject({ copied: 1, present: 5 });
    // The monthly copy's retention was already as long: it is not sent again.
    expect(retentionRequests).toHaveLength(1);
  });
});

describe("replicate-backups into GCS (prod)", () => {
  it("copies postgres/ and r2/ with a resumable upload for the large dump, creating the monthly copy with its retention", async () => {
    const r = await run(gcsTarget());
    expect(r).toMatchObject({ copied: 6, present: 0, locked: 1 });
    const bucket = new Storage({ apiEndpoint: gcsEndpoint, projectId: "test" }).bucket(GCS);
    const [files] = await bucket.getFiles();
    expect(files.map((f) => f.name).sort()).toEqual(COPIED);
    const [big] = await bucket.file("postgres/weekly/2026-11-30T00-00-00Z.dump").download();
    expect(big.equals(Buffer.alloc(BIG, 7))).toBe(true);
    const [md] = await bucket.file("postgres/monthly/2026-11-01T00-00-00Z.dump").getMetadata();
    const written = (await sourceTimes()).get("postgres/monthly/2026-11-01T00-00-00Z.dump")!;
    expect(md.retention?.mode).toBe("Unlocked");
    expect(new Date(md.retention!.retainUntilTime!).getTime()).toBe(Math.floor((written.getTime() + MONTHLY_SECONDS * 1000) / 1000) * 1000);
    const [daily] = await bucket.file("postgres/daily/2026-11-30T00-00-00Z.dump").getMetadata();
    expect(daily.retention).toBeUndefined();
  });

  it("copies nothing on a second run and fills a partial destination, never overwriting", async () => {
    expect(await run(gcsTarget())).toMatchObject({ copied: 0, present: 6 });
    const bucket = new Storage({ apiEndpoint: gcsEndpoint, projectId: "test" }).bucket(GCS);
    await bucket.file("r2/daily/2026-11-30/doc/2/out.txt").delete();
    expect(await run(gcsTarget())).toMatchObject({ copied: 1, present: 5 });
    // A changed source object is reported, not written over (that would need the delete right).
    await openBackupStore(`s3://${SOURCE}`, { endpoint: s3Endpoint, credentials }).store.put("r2/current/video/1/out.mp4", Readable.from([Buffer.from("a longer render")]), async () => undefined);
    expect(await run(gcsTarget())).toMatchObject({ copied: 0, changed: 1 });
    const [kept] = await bucket.file("r2/current/video/1/out.mp4").download();
    expect(kept.toString()).toBe("render");
    await openBackupStore(`s3://${SOURCE}`, { endpoint: s3Endpoint, credentials }).store.put("r2/current/video/1/out.mp4", Readable.from([Buffer.from("render")]), async () => undefined);
  });

  it("is safe to run twice at once: the second writer of a name gets 412 and counts it as there", async () => {
    const fresh = "pitchey-containers-backups-race";
    await new Storage({ apiEndpoint: gcsEndpoint, projectId: "test" }).createBucket(fresh);
    const target = () => new GcsCopyTarget(fresh, { endpoint: gcsEndpoint, projectId: "test", resumableAboveBytes: 1024 * 1024 });
    const [a, b] = await Promise.all([run(target()), run(target())]);
    expect(a.copied + b.copied).toBe(6);
    expect(a.raced + b.raced + a.copied + b.copied).toBe(12);
    const [files] = await new Storage({ apiEndpoint: gcsEndpoint, projectId: "test" }).bucket(fresh).getFiles();
    expect(files.map((f) => f.name).sort()).toEqual(COPIED);
  });

  it("stops starting copies at its deadline, leaving the rest to the next run", async () => {
    const fresh = "pitchey-containers-backups-late";
    await new Storage({ apiEndpoint: gcsEndpoint, projectId: "test" }).createBucket(fresh);
    const target = new GcsCopyTarget(fresh, { endpoint: gcsEndpoint, projectId: "test" });
    expect(await run(target, { deadline: new Date(Date.now() - 1) })).toMatchObject({ copied: 0, deferred: 6 });
    expect(await run(target)).toMatchObject({ copied: 6 });
  });
});

describe("the replicate-backups command", () => {
  // Asynchronous: s3rver runs in this process and must keep answering while the command runs.
  const cli = (env: Record<string, string>) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "..", "src", "cli", "replicate-backups.ts")], { env: { PATH: process.env.PATH, ...env } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c) => (stdout += c));
      child.stderr.on("data", (c) => (stderr += c));
      const timer = setTimeout(() => child.kill(), 60_000);
      child.on("close", (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
  const good = {
    COPY_SOURCE_URL: `s3://${SOURCE}`,
    COPY_SOURCE_ENDPOINT: "http://127.0.0.1:9",
    COPY_TARGET_URL: `gs://${GCS}`,
    COPY_MONTHLY_RETENTION_SECONDS: String(MONTHLY_SECONDS),
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
  };

  it.each([
    [{ COPY_TARGET_URL: "https://storage.example/bucket" }, "COPY_TARGET_URL must be gs://bucket or s3://bucket"],
    [{ COPY_MONTHLY_RETENTION_SECONDS: "a year" }, "COPY_MONTHLY_RETENTION_SECONDS must be a whole number of seconds"],
    [{ COPY_PREFIXES: "postgres" }, "COPY_PREFIXES must be a comma-separated list of key prefixes ending in /"],
    [{ AWS_SECRET_ACCESS_KEY: "" }, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"],
    [{ COPY_TARGET_URL: `s3://${TARGET}` }, "COPY_TARGET_REGION is required"],
  ])("exits 2 on bad settings, naming the variable: %j", async (bad, message) => {
    const r = await cli({ ...good, ...bad });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout + r.stderr).toContain(message);
  });

  it("exits 1 when the source cannot be reached", async () => {
    const r = await cli({ ...good, COPY_TARGET_ENDPOINT: gcsEndpoint, GOOGLE_CLOUD_PROJECT: "test", AWS_MAX_ATTEMPTS: "1" });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('"event":"replicate.failed"');
  });

  it("copies end to end as the CronJob runs it (the target by its endpoint, no key for it)", async () => {
    const r = await cli({ ...good, COPY_SOURCE_ENDPOINT: s3Endpoint, COPY_TARGET_ENDPOINT: gcsEndpoint, GOOGLE_CLOUD_PROJECT: "test" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('"event":"replicate.completed"');
    expect(JSON.parse(r.stdout.trim().split("\n").pop()!)).toMatchObject({ copied: 0, present: 6 });
  });
});
