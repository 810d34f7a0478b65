import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import pino from "pino";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mirroredAt, runMirror } from "../src/backup/mirror";
import { openBackupStore, readAll, type BackupStore } from "../src/backup/store";

/**
 * The mirror against a real S3-compatible server (s3rver: buckets on disk, the S3 REST API, multipart uploads), the
 * way the CronJob reaches R2: path-style, one key pair for both buckets.
 */
let server: S3rver;
let dir: string;
let endpoint: string;
const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "s3rver-"));
  server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: dir, configureBuckets: [{ name: "pitchey-results" }, { name: "pitchey-backups" }] });
  const address: AddressInfo = await server.run();
  endpoint = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const put = (s: BackupStore, key: string, body: string) => s.put(key, Readable.from([Buffer.from(body)]), async () => undefined);

describe("results mirror on an S3-compatible server", () => {
  it("mirrors a results store under r2/ and restores an earlier day", async () => {
    const source = openBackupStore("s3://pitchey-results/jobs", { endpoint, credentials });
    const target = openBackupStore("s3://pitchey-backups", { endpoint, credentials });
    const run = (day: string) =>
      runMirror({
        source: source.store,
        sourcePrefix: source.prefix,
        target: target.store,
        targetPrefix: target.prefix,
        retention: { daily: 30, weekly: 12 },
        logger: pino({ level: "silent" }),
        now: () => new Date(`${day}T03:30:00Z`),
      });

    await put(source.store, "jobs/video/1/out.mp4", "first render");
    await put(source.store, "jobs/doc/2/out.txt", "text");
    expect(await run("2026-11-01")).toMatchObject({ copied: 2, preserved: 0 });
    await put(source.store, "jobs/video/1/out.mp4", "second, longer render");
    await source.store.delete("jobs/doc/2/out.txt");
    expect(await run("2026-11-02")).toMatchObject({ copied: 1, unchanged: 0, preserved: 2 });

    const keys = (await target.store.list("r2/")).map((o) => o.key);
    expect(keys).toEqual(["r2/current/video/1/out.mp4", "r2/daily/2026-11-02/doc/2/out.txt", "r2/daily/2026-11-02/video/1/out.mp4"]);
    const at = await mirroredAt(target.store, "", "2026-11-01");
    const first: Record<string, string> = {};
    for (const [rel, key] of at) first[rel] = (await readAll(await target.store.get(key))).toString();
    expect(first).toEqual({ "video/1/out.mp4": "first render", "doc/2/out.txt": "text" });
  });
});
