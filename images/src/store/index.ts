import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PermanentJobError } from "../runtime/errors";
import type { ResultStore } from "../runtime/types";

/** Inputs larger than this are refused unless `MAX_INPUT_BYTES` says otherwise (2 GiB). */
export const DEFAULT_MAX_INPUT_BYTES = 2 * 1024 ** 3;

/** Downloads land under this prefix inside the temp dir so they can be told apart from store files. */
const FETCH_PREFIX = "pitchey-input-";

/** The input cannot be had as given (a 4xx answer, no such file, too large, an unsupported URL): retrying cannot help. */
export class InputError extends PermanentJobError {
  override readonly name = "InputError";
}

/** Answers that may change on retry: timeouts, throttling, server errors. Other 4xx are the input's fault. */
const RETRYABLE_STATUS = (status: number) => status >= 500 || status === 408 || status === 425 || status === 429;

/** Rejects keys that could climb out of the store's root or prefix. */
export function checkKey(key: string): string {
  const parts = key.split("/");
  if (key.length === 0 || key.length > 512 || key.startsWith("/") || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new InputError(`invalid result key ${JSON.stringify(key)}`);
  }
  if (!/^[A-Za-z0-9._/-]+$/.test(key)) throw new InputError(`result key ${JSON.stringify(key)} has characters outside [A-Za-z0-9._/-]`);
  return key;
}

/** Removes a file that `fetchToFile` downloaded; store-owned paths are never touched. */
export async function releaseFetched(path: string): Promise<void> {
  const dir = dirname(path);
  if (dirname(dir) === resolve(tmpdir()) && basename(dir).startsWith(FETCH_PREFIX)) {
    await rm(dir, { recursive: true, force: true });
  }
}

async function newFetchTarget(url: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), FETCH_PREFIX));
  const tail = basename(new URL(url).pathname).replace(/[^A-Za-z0-9._-]/g, "_").slice(-100);
  return join(dir, tail || "input");
}

/** Counts bytes through a stream and fails it once they pass `limit`. */
function byteCap(limit: number, url: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) done(new InputError(`input ${url} is larger than ${limit} bytes`));
      else done(null, chunk);
    },
  });
}

async function streamToFile(body: Readable, target: string, limit: number, url: string, signal: AbortSignal): Promise<string> {
  try {
    await pipeline(body, byteCap(limit, url), createWriteStream(target), { signal });
    return target;
  } catch (err) {
    await releaseFetched(target);
    throw err;
  }
}

export interface FetchOptions {
  readonly maxBytes: number;
  /** Plain http is refused except where a test or a private deployment turns it on. */
  readonly allowHttp: boolean;
  readonly gcsEndpoint: string;
  readonly gcsToken?: string;
}

/** Downloads an http(s) URL to a temp file, refusing oversize bodies before and while reading. */
export async function fetchHttp(url: string, signal: AbortSignal, opts: FetchOptions, headers: Record<string, string> = {}): Promise<string> {
  let res: Response;
  let current = url;
  // Redirects are followed by hand so that an https input cannot be bounced to plain http.
  for (let hops = 0; ; hops++) {
    res = await fetch(current, { signal, headers, redirect: "manual" });
    const location = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || !location) break;
    await res.body?.cancel();
    if (hops >= 5) throw new InputError(`fetching ${redact(url)} failed: too many redirects`);
    const next = new URL(location, current);
    if (next.protocol !== "https:" && !(opts.allowHttp && next.protocol === "http:")) {
      throw new InputError(`fetching ${redact(url)} failed: redirected to a ${next.protocol} URL`);
    }
    current = next.toString();
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    const message = `fetching ${redact(url)} failed: HTTP ${res.status}`;
    throw RETRYABLE_STATUS(res.status) || res.ok ? new Error(message) : new InputError(message);
  }
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > opts.maxBytes) {
    await res.body.cancel();
    throw new InputError(`input ${redact(url)} is ${declared} bytes, over the ${opts.maxBytes}-byte limit`);
  }
  const target = await newFetchTarget(url);
  return streamToFile(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), target, opts.maxBytes, redact(url), signal);
}

/** gs://bucket/object through the JSON API; a token comes from env or the GKE metadata server, else anonymous. */
async function fetchGcs(url: string, signal: AbortSignal, opts: FetchOptions): Promise<string> {
  const u = new URL(url);
  const object = u.pathname.replace(/^\//, "");
  if (!u.hostname || !object) throw new InputError(`gs URL ${url} needs a bucket and an object`);
  const api = `${opts.gcsEndpoint}/storage/v1/b/${encodeURIComponent(u.hostname)}/o/${encodeURIComponent(object)}?alt=media`;
  const token = opts.gcsToken ?? (await metadataToken(signal));
  const file = await fetchHttp(api, signal, { ...opts, allowHttp: true }, token ? { authorization: `Bearer ${token}` } : {});
  // Name the download after the object, not the API path.
  const named = join(dirname(file), basename(object).replace(/[^A-Za-z0-9._-]/g, "_") || "input");
  if (named !== file) {
    await copyFile(file, named);
    await rm(file);
  }
  return named;
}

async function metadataToken(signal: AbortSignal): Promise<string | undefined> {
  try {
    const res = await fetch("http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token", {
      headers: { "Metadata-Flavor": "Google" },
      signal: AbortSignal.any([signal, AbortSignal.timeout(1500)]),
    });
    if (!res.ok) return undefined;
    return ((await res.json()) as { access_token?: string }).access_token;
  } catch {
    return undefined;
  }
}

function redact(url: string): string {
  const u = new URL(url);
  u.search = "";
  u.username = "";
  u.password = "";
  return u.toString();
}

/** Resolves the schemes every store understands; returns undefined for the store's own scheme. */
async function fetchCommon(url: string, signal: AbortSignal, opts: FetchOptions): Promise<string | undefined> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(`input ${JSON.stringify(url)} is not a URL`);
  }
  switch (u.protocol) {
    case "https:":
      return fetchHttp(url, signal, opts);
    case "http:":
      if (!opts.allowHttp) throw new InputError(`plain http inputs are refused (${redact(url)}); use https`);
      return fetchHttp(url, signal, opts);
    case "gs:":
      return fetchGcs(url, signal, opts);
    default:
      return undefined;
  }
}

/** A directory on local disk, for tests and the demo; results are `file://` URLs. */
export class LocalDirStore implements ResultStore {
  readonly root: string;
  constructor(root: string, private readonly opts: FetchOptions) {
    this.root = resolve(root);
  }

  async put(key: string, body: Buffer | NodeJS.ReadableStream, _contentType: string): Promise<{ url: string; bytes: number }> {
    const path = join(this.root, checkKey(key));
    await mkdir(dirname(path), { recursive: true });
    if (Buffer.isBuffer(body)) await writeFile(path, body);
    else await pipeline(body as Readable, createWriteStream(path));
    return { url: pathToFileURL(path).href, bytes: (await stat(path)).size };
  }

  async fetchToFile(url: string, signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    const common = await fetchCommon(url, signal, this.opts);
    if (common) return common;
    if (!url.startsWith("file:")) throw new InputError(`unsupported input scheme in ${JSON.stringify(url)}`);
    const path = fileURLToPath(url);
    if (!isAbsolute(path)) throw new InputError(`file input ${url} must be absolute`);
    const size = (await stat(path).catch(() => {
      throw new InputError(`input ${url} does not exist`);
    })).size;
    if (size > this.opts.maxBytes) throw new InputError(`input ${url} is ${size} bytes, over the ${this.opts.maxBytes}-byte limit`);
    // A private copy keeps a handler from altering the store or the caller's file.
    const target = await newFetchTarget(url);
    await copyFile(path, target);
    return target;
  }

  /** The local path behind one of this store's URLs (tests read results back through it). */
  pathOf(url: string): string {
    const path = fileURLToPath(url);
    const rel = relative(this.root, path);
    if (rel.startsWith("..") || isAbsolute(rel) || rel.split(sep).includes("..")) throw new InputError(`${url} is outside the store`);
    return path;
  }
}

export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

/** S3 or an S3-compatible service (Cloudflare R2 via `RESULTS_S3_ENDPOINT`); results are `s3://bucket/key` URLs. */
export class S3Store implements ResultStore {
  private clientPromise?: Promise<import("@aws-sdk/client-s3").S3Client>;

  constructor(
    private readonly location: S3Location,
    private readonly endpoint: string | undefined,
    private readonly region: string,
    private readonly opts: FetchOptions,
    private readonly credentials?: { accessKeyId: string; secretAccessKey: string },
  ) {}

  private client(): Promise<import("@aws-sdk/client-s3").S3Client> {
    // The SDK is loaded on first use so that workers with a local store never pay for it.
    this.clientPromise ??= import("@aws-sdk/client-s3").then(
      ({ S3Client }) =>
        new S3Client({
          region: this.region,
          endpoint: this.endpoint,
          forcePathStyle: Boolean(this.endpoint),
          credentials: this.credentials,
          // R2 and other S3-compatible stores reject the SDK's default streaming checksums.
          requestChecksumCalculation: "WHEN_REQUIRED",
          responseChecksumValidation: "WHEN_REQUIRED",
        }),
    );
    return this.clientPromise;
  }

  async put(key: string, body: Buffer | NodeJS.ReadableStream, contentType: string): Promise<{ url: string; bytes: number }> {
    const fullKey = [this.location.prefix, checkKey(key)].filter(Boolean).join("/");
    const { PutObjectCommand } = await import("@aws-sdk/client-s3");
    let payload: Buffer | Readable;
    let length: number;
    const filePath = (body as { path?: unknown }).path;
    if (Buffer.isBuffer(body)) {
      payload = body;
      length = body.length;
    } else if (typeof filePath === "string") {
      // PutObject needs a length up front; file streams have one on disk.
      length = (await stat(filePath)).size;
      payload = body as Readable;
    } else {
      const chunks: Buffer[] = [];
      for await (const c of body as Readable) chunks.push(Buffer.from(c as Buffer));
      payload = Buffer.concat(chunks);
      length = payload.length;
    }
    const client = await this.client();
    await client.send(
      new PutObjectCommand({ Bucket: this.location.bucket, Key: fullKey, Body: payload, ContentType: contentType, ContentLength: length }),
    );
    return { url: `s3://${this.location.bucket}/${fullKey}`, bytes: length };
  }

  async fetchToFile(url: string, signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    const common = await fetchCommon(url, signal, this.opts);
    if (common) return common;
    const u = new URL(url);
    if (u.protocol !== "s3:") throw new InputError(`unsupported input scheme in ${JSON.stringify(url)}`);
    const { GetObjectCommand } = await import("@aws-sdk/client-s3");
    const client = await this.client();
    const out = await client
      .send(new GetObjectCommand({ Bucket: u.hostname, Key: decodeURIComponent(u.pathname.slice(1)) }), { abortSignal: signal })
      .catch((err: unknown) => {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status !== undefined && status >= 400 && !RETRYABLE_STATUS(status)) {
          throw new InputError(`fetching ${url} failed: ${(err as Error).name} (HTTP ${status})`);
        }
        throw err;
      });
    if ((out.ContentLength ?? 0) > this.opts.maxBytes) {
      throw new InputError(`input ${url} is ${out.ContentLength} bytes, over the ${this.opts.maxBytes}-byte limit`);
    }
    const target = await newFetchTarget(url);
    return streamToFile(out.Body as Readable, target, this.opts.maxBytes, url, signal);
  }
}

function fetchOptions(env: NodeJS.ProcessEnv): FetchOptions {
  const maxBytes = env.MAX_INPUT_BYTES ? Number(env.MAX_INPUT_BYTES) : DEFAULT_MAX_INPUT_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new Error(`MAX_INPUT_BYTES must be a positive integer, got ${env.MAX_INPUT_BYTES}`);
  return {
    maxBytes,
    allowHttp: env.ALLOW_HTTP_INPUTS === "1" || env.ALLOW_HTTP_INPUTS === "true",
    gcsEndpoint: (env.GCS_API_ENDPOINT ?? "https://storage.googleapis.com").replace(/\/$/, ""),
    gcsToken: env.GCS_ACCESS_TOKEN || undefined,
  };
}

/**
 * The store named by `RESULTS_STORE_URL`: `file:///dir` for a local directory,
 * `s3://bucket/prefix` for S3 or R2 (`RESULTS_S3_ENDPOINT`, credentials from the usual AWS variables).
 */
export function createResultStore(env: NodeJS.ProcessEnv): ResultStore {
  const raw = env.RESULTS_STORE_URL;
  if (!raw) throw new Error("RESULTS_STORE_URL is not set (file:///dir or s3://bucket/prefix)");
  const opts = fetchOptions(env);
  const u = new URL(raw);
  if (u.protocol === "file:") return new LocalDirStore(fileURLToPath(u), opts);
  if (u.protocol === "s3:") {
    if (!u.hostname) throw new Error(`RESULTS_STORE_URL ${raw} names no bucket`);
    const prefix = u.pathname.replace(/^\/+|\/+$/g, "");
    // R2 accepts any region name; "auto" is what it documents.
    const region = env.RESULTS_S3_REGION ?? env.AWS_REGION ?? (env.RESULTS_S3_ENDPOINT ? "auto" : "us-east-1");
    const keyId = env.RESULTS_S3_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID;
    const secret = env.RESULTS_S3_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY;
    // Without keys in env the SDK's default chain applies (IRSA, instance roles).
    const credentials = keyId && secret ? { accessKeyId: keyId, secretAccessKey: secret } : undefined;
    return new S3Store({ bucket: u.hostname, prefix }, env.RESULTS_S3_ENDPOINT || undefined, region, opts, credentials);
  }
  throw new Error(`RESULTS_STORE_URL must be file:// or s3://, got ${raw}`);
}

/** Opens a stored file as a stream for `put`. */
export function fileBody(path: string): NodeJS.ReadableStream {
  return createReadStream(path);
}
