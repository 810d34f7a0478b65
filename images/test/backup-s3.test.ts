import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBackup } from "../src/backup/backup";
import { openBackupStore, readAll, S3BackupStore } from "../src/backup/store";
import { clientBinDir, type ScratchServer, startMigratedServer } from "./backup-pg";

/**
 * Just enough of the S3 REST API (path-style, as R2 is addressed) to hold objects and multipart uploads,
 * recording what the client sent.
 */
class FakeS3 {
  readonly objects = new Map<string, Buffer>();
  readonly uploads = new Map<string, { key: string; parts: Map<number, Buffer> }>();
  readonly checksumHeaders: string[] = [];
  private server = http.createServer((req, res) => void this.handle(req, res));
  endpoint = "";

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    for (const h of Object.keys(req.headers)) if (h.startsWith("x-amz-checksum") || h === "x-amz-sdk-checksum-algorithm") this.checksumHeaders.push(h);
    const u = new URL(req.url!, "http://x");
    const [, bucket, ...rest] = u.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    const q = u.searchParams;
    const xml = (s: string, status = 200) => {
      res.writeHead(status, { "content-type": "application/xml" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>${s}`);
    };
    if (bucket !== "backups") return xml("<Error><Code>NoSuchBucket</Code></Error>", 404);
    if (req.method === "POST" && q.has("uploads")) {
      const id = randomBytes(8).toString("hex");
      this.uploads.set(id, { key, parts: new Map() });
      return xml(`<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
    }
    if (req.method === "PUT" && q.has("uploadId")) {
      this.uploads.get(q.get("uploadId")!)!.parts.set(Number(q.get("partNumber")), body);
      res.writeHead(200, { etag: `"p${q.get("partNumber")}"` });
      return void res.end();
    }
    if (req.method === "POST" && q.has("uploadId")) {
      const up = this.uploads.get(q.get("uploadId")!)!;
      const numbers = [...body.toString().matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
      this.objects.set(up.key, Buffer.concat(numbers.map((n) => up.parts.get(n)!)));
      this.uploads.delete(q.get("uploadId")!);
      return xml(`<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>"done"</ETag></CompleteMultipartUploadResult>`);
    }
    if (req.method === "DELETE" && q.has("uploadId")) {
      this.uploads.delete(q.get("uploadId")!);
      res.writeHead(204);
      return void res.end();
    }
    if (req.method === "GET" && q.get("list-type") === "2") {
      // Small pages, so that listing must follow continuation tokens.
      const keys = [...this.objects.keys()].filter((k) => k.startsWith(q.get("prefix") ?? "")).sort();
      const start = Number(q.get("continuation-token") ?? 0);
      const page = keys.slice(start, start + 3);
      const more = start + 3 < keys.length;
      const contents = page.map((k) => `<Contents><Key>${k}</Key><Size>${this.objects.get(k)!.length}</Size></Contents>`).join("");
      return xml(
        `<ListBucketResult><Name>${bucket}</Name><KeyCount>${page.length}</KeyCount><IsTruncated>${more}</IsTruncated>${more ? `<NextContinuationToken>${start + 3}</NextContinuationToken>` : ""}${contents}</ListBucketResult>`,
      );
    }
    if (req.method === "GET") {
      const obj = this.objects.get(key);
      if (!obj) return xml("<Error><Code>NoSuchKey</Code></Error>", 404);
      res.writeHead(200, { "content-length": obj.length, "content-type": "application/octet-stream" });
      return void res.end(obj);
    }
    if (req.method === "DELETE") {
      this.objects.delete(key);
      res.writeHead(204);
      return void res.end();
    }
    xml("<Error><Code>NotImplemented</Code></Error>", 501);
  }
}

const s3 = new FakeS3();
let db: ScratchServer;
let binDir: string;
beforeAll(async () => {
  // Only the fake server's dummy keys: nothing here may reach a real account.
  process.env.AWS_ACCESS_KEY_ID = "test";
  process.env.AWS_SECRET_ACCESS_KEY = "test";
  await s3.start();
  binDir = clientBinDir();
  db = await startMigratedServer();
});
afterAll(async () => {
  await s3.stop();
  await db?.stop();
});

const store = (partBytes?: number) => new S3BackupStore({ bucket: "backups", endpoint: s3.endpoint, region: "auto", partBytes });
const MiB = 1024 ** 2;

describe("S3 backup store", () => {
  it("uploads a stream in bounded parts, visible only once committed, without the SDK's default checksums", async () => {
    const data = randomBytes(12 * MiB + 123);
    const st = store(5 * MiB);
    let sawBeforeCommit: boolean | undefined;
    const stored = await st.put("postgres/a.dump", Readable.from([data.subarray(0, 7 * MiB), data.subarray(7 * MiB)]), async () => {
      sawBeforeCommit = s3.objects.has("postgres/a.dump");
    });
    expect(sawBeforeCommit).toBe(false);
    expect(stored).toEqual({ key: "postgres/a.dump", bytes: data.length });
    expect(s3.objects.get("postgres/a.dump")!.equals(data)).toBe(true);
    expect((await readAll(await st.get("postgres/a.dump"))).equals(data)).toBe(true);
    expect(s3.uploads.size).toBe(0);
    expect(s3.checksumHeaders).toEqual([]);
  });

  it("aborts the upload when the commit check fails or the body breaks", async () => {
    const st = store();
    await expect(st.put("postgres/b.dump", Readable.from([Buffer.from("half")]), () => Promise.reject(new Error("pg_dump failed")))).rejects.toThrow("pg_dump failed");
    const broken = new Readable({
      read() {
        this.destroy(new Error("pipe broke"));
      },
    });
    await expect(st.put("postgres/c.dump", broken, () => Promise.resolve())).rejects.toThrow("pipe broke");
    expect(s3.objects.has("postgres/b.dump")).toBe(false);
    expect(s3.objects.has("postgres/c.dump")).toBe(false);
    expect(s3.uploads.size).toBe(0);
  });

  it("lists across pages and deletes", async () => {
    const st = store();
    for (let i = 0; i < 7; i++) s3.objects.set(`list/${i}.dump`, Buffer.from(String(i)));
    s3.objects.set("elsewhere/x.dump", Buffer.from("x"));
    expect((await st.list("list/")).map((o) => o.key)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `list/${i}.dump`));
    await st.delete("list/3.dump");
    expect((await st.list("list/")).length).toBe(6);
  });

  it("runs a whole backup against it under a prefix: dump, verify, prune", async () => {
    for (let h = 0; h < 5; h++) s3.objects.set(`prod/postgres/2026-11-27T0${h}-00-00Z.dump`, Buffer.from("old"));
    const { store: st, prefix } = openBackupStore("s3://backups/prod", { endpoint: s3.endpoint });
    const result = await runBackup({
      databaseUrl: db.url,
      store: st,
      prefix,
      policy: { hourly: 2, daily: 1, weekly: 1, monthly: 1 },
      pgBinDir: binDir,
      logger: pino({ level: "silent" }),
      now: () => new Date("2026-11-27T05:30:00Z"),
    });
    // The day's first backup (00:00) is copied into each higher tier's folder; the top keeps the two newest hours.
    expect(result).toMatchObject({ key: "prod/postgres/2026-11-27T05-30-00Z.dump", kept: 5, deleted: 4 });
    expect([...s3.objects.keys()].filter((k) => k.startsWith("prod/")).sort()).toEqual([
      "prod/postgres/2026-11-27T04-00-00Z.dump",
      "prod/postgres/2026-11-27T05-30-00Z.dump",
      "prod/postgres/daily/2026-11-27T00-00-00Z.dump",
      "prod/postgres/monthly/2026-11-27T00-00-00Z.dump",
      "prod/postgres/weekly/2026-11-27T00-00-00Z.dump",
    ]);
    expect(s3.objects.get("prod/postgres/monthly/2026-11-27T00-00-00Z.dump")!.toString()).toBe("old");
    expect(s3.objects.get(result.key)!.subarray(0, 5).toString()).toBe("PGDMP");
  });
});
