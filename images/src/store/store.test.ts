import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createResultStore, LocalDirStore, releaseFetched } from "./index";

let base: string;
const signal = new AbortController().signal;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "store-test-"));
});
afterAll(() => rm(base, { recursive: true, force: true }));

interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
}

async function serve(handler: (req: IncomingMessage, body: Buffer) => Reply) {
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const out = handler(req, Buffer.concat(chunks));
    res.writeHead(out.status ?? 200, out.headers ?? {});
    if (out.body instanceof Readable) out.body.pipe(res);
    else res.end(out.body ?? "");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

describe("local directory store", () => {
  const store = () => createResultStore({ RESULTS_STORE_URL: pathToFileURL(join(base, "results")).href }) as LocalDirStore;

  it("stores buffers and streams under their key and reports the size", async () => {
    const s = store();
    const a = await s.put("video/job1/a.txt", Buffer.from("hello"), "text/plain");
    expect(a).toEqual({ url: pathToFileURL(join(base, "results/video/job1/a.txt")).href, bytes: 5 });
    const b = await s.put("video/job1/b.txt", Readable.from([Buffer.from("str"), Buffer.from("eam")]), "text/plain");
    expect(b.bytes).toBe(6);
    expect(await readFile(s.pathOf(b.url), "utf8")).toBe("stream");
  });

  it("refuses keys that could leave the store", async () => {
    for (const key of ["../escape", "/abs", "a//b", "a/./b", "a/../../b", "spaces are bad", ""]) {
      await expect(store().put(key, Buffer.from("x"), "text/plain")).rejects.toThrow(/key/);
    }
  });

  it("hands out a private copy of file inputs and removes it on release", async () => {
    const src = join(base, "input.bin");
    await writeFile(src, "original");
    const copy = await store().fetchToFile(pathToFileURL(src).href, signal);
    expect(copy).not.toBe(src);
    await writeFile(copy, "changed");
    expect(await readFile(src, "utf8")).toBe("original");
    await releaseFetched(copy);
    await expect(stat(copy)).rejects.toThrow();
    await expect(stat(src)).resolves.toBeTruthy();
  });

  it("refuses missing and oversize inputs and unknown schemes", async () => {
    const s = createResultStore({ RESULTS_STORE_URL: pathToFileURL(base).href, MAX_INPUT_BYTES: "4" });
    await expect(s.fetchToFile(pathToFileURL(join(base, "nope")).href, signal)).rejects.toThrow(/does not exist/);
    const big = join(base, "big.bin");
    await writeFile(big, "12345");
    await expect(s.fetchToFile(pathToFileURL(big).href, signal)).rejects.toThrow(/over the 4-byte limit/);
    await expect(s.fetchToFile("ftp://example.com/x", signal)).rejects.toThrow(/unsupported input scheme/);
  });

  it("rejects a bad RESULTS_STORE_URL", () => {
    expect(() => createResultStore({})).toThrow(/RESULTS_STORE_URL is not set/);
    expect(() => createResultStore({ RESULTS_STORE_URL: "ftp://x" })).toThrow(/file:\/\/ or s3:\/\//);
  });
});

describe("remote inputs", () => {
  it("refuses plain http unless allowed, and downloads within the size cap", async () => {
    const srv = await serve((req) => (req.url === "/clip.mp4" ? { body: Buffer.from("0123456789") } : { status: 404 }));
    try {
      const strict = createResultStore({ RESULTS_STORE_URL: pathToFileURL(base).href });
      await expect(strict.fetchToFile(`${srv.url}/clip.mp4`, signal)).rejects.toThrow(/use https/);
      const open = createResultStore({ RESULTS_STORE_URL: pathToFileURL(base).href, ALLOW_HTTP_INPUTS: "1" });
      const path = await open.fetchToFile(`${srv.url}/clip.mp4`, signal);
      expect(path.endsWith("clip.mp4")).toBe(true);
      expect(await readFile(path, "utf8")).toBe("0123456789");
      await releaseFetched(path);
      await expect(open.fetchToFile(`${srv.url}/missing`, signal)).rejects.toThrow(/HTTP 404/);
    } finally {
      await srv.close();
    }
  });

  it("follows redirects, at most five of them", async () => {
    const srv = await serve((req) => {
      const n = Number(req.url!.slice(1));
      return n > 0 ? { status: 302, headers: { location: `/${n - 1}` } } : { body: Buffer.from("landed") };
    });
    try {
      const s = createResultStore({ RESULTS_STORE_URL: pathToFileURL(base).href, ALLOW_HTTP_INPUTS: "1" });
      const path = await s.fetchToFile(`${srv.url}/3`, signal);
      expect(await readFile(path, "utf8")).toBe("landed");
      await releaseFetched(path);
      await expect(s.fetchToFile(`${srv.url}/9`, signal)).rejects.toThrow(/too many redirects/);
    } finally {
      await srv.close();
    }
  });

  it("stops a download that grows past the cap even without a Content-Length", async () => {
    const srv = await serve(() => ({ body: Readable.from((function* () { for (let i = 0; i < 100; i++) yield Buffer.alloc(1024, 1); })()) }));
    try {
      const s = createResultStore({ RESULTS_STORE_URL: pathToFileURL(base).href, ALLOW_HTTP_INPUTS: "1", MAX_INPUT_BYTES: "10000" });
      await expect(s.fetchToFile(`${srv.url}/endless`, signal)).rejects.toThrow(/larger than 10000 bytes/);
    } finally {
      await srv.close();
    }
  });

  it("reads gs:// objects through the JSON API with the configured token", async () => {
    const seen: Array<{ url?: string; auth?: string }> = [];
    const srv = await serve((req) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      return req.url === "/storage/v1/b/media-bucket/o/in%2Fclip.wav?alt=media" ? { body: Buffer.from("RIFF....") } : { status: 404 };
    });
    try {
      const s = createResultStore({ RESULTS_STORE_URL: pathToFileURL(base).href, GCS_API_ENDPOINT: srv.url, GCS_ACCESS_TOKEN: "tok-123" });
      const path = await s.fetchToFile("gs://media-bucket/in/clip.wav", signal);
      expect(path.endsWith("clip.wav")).toBe(true);
      expect(await readFile(path, "utf8")).toBe("RIFF....");
      expect(seen[0].auth).toBe("Bearer tok-123");
      await releaseFetched(path);
    } finally {
      await srv.close();
    }
  });
});

describe("S3-compatible store", () => {
  it("puts objects under the prefix, signed, and reads them back by s3:// URL", async () => {
    const objects = new Map<string, { body: Buffer; type?: string }>();
    const auth: string[] = [];
    const srv = await serve((req, body): Reply => {
      auth.push(String(req.headers.authorization));
      const key = decodeURIComponent(new URL(req.url!, "http://x").pathname);
      if (req.method === "PUT") {
        objects.set(key, { body, type: req.headers["content-type"] });
        return { headers: { etag: '"abc"' } };
      }
      const obj = objects.get(key);
      return obj ? { headers: { "content-length": String(obj.body.length), "content-type": obj.type ?? "" }, body: obj.body } : { status: 404 };
    });
    try {
      const s = createResultStore({
        RESULTS_STORE_URL: "s3://results/prod",
        RESULTS_S3_ENDPOINT: srv.url,
        RESULTS_S3_ACCESS_KEY_ID: "test-key",
        RESULTS_S3_SECRET_ACCESS_KEY: "test-secret",
      });
      const file = join(base, "upload.txt");
      await writeFile(file, "from a file stream");
      const { createReadStream } = await import("node:fs");
      const a = await s.put("document/j1/text.txt", createReadStream(file), "text/plain");
      expect(a).toEqual({ url: "s3://results/prod/document/j1/text.txt", bytes: 18 });
      expect(objects.get("/results/prod/document/j1/text.txt")?.body.toString()).toBe("from a file stream");
      expect(objects.get("/results/prod/document/j1/text.txt")?.type).toBe("text/plain");
      await s.put("code/j2/result.json", Buffer.from("{}"), "application/json");
      expect(auth.every((h) => h.startsWith("AWS4-HMAC-SHA256 Credential=test-key/"))).toBe(true);

      const path = await s.fetchToFile(a.url, signal);
      expect(await readFile(path, "utf8")).toBe("from a file stream");
      await releaseFetched(path);
      await expect(s.fetchToFile("file:///etc/passwd", signal)).rejects.toThrow(/unsupported input scheme/);
    } finally {
      await srv.close();
    }
  });
});
