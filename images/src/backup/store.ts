import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import type { S3Client } from "@aws-sdk/client-s3";

export interface StoredObject {
  readonly key: string;
  readonly bytes: number;
}

/**
 * Where backups live. `put` is all-or-nothing: the object under `key` appears only once the body has been
 * read to its end and `commit` has resolved; if either fails, nothing is left behind.
 */
export interface BackupStore {
  /** A human-readable location of `key`, for logs. */
  url(key: string): string;
  /** Every key that starts with `prefix`, with its size. */
  list(prefix: string): Promise<StoredObject[]>;
  put(key: string, body: Readable, commit: () => Promise<void>): Promise<StoredObject>;
  get(key: string): Promise<Readable>;
  delete(key: string): Promise<void>;
}

function checkBackupKey(key: string): string {
  const parts = key.split("/");
  if (!key || key.startsWith("/") || parts.some((p) => p === "" || p === "." || p === "..") || !/^[A-Za-z0-9._/-]+$/.test(key)) {
    throw new Error(`invalid backup key ${JSON.stringify(key)}`);
  }
  return key;
}

const tempSuffix = () => `.partial-${randomBytes(6).toString("hex")}`;

/** A local directory: `file:///var/backups`. */
export class FileBackupStore implements BackupStore {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  url(key: string): string {
    return `file://${join(this.root, key)}`;
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
      for (const e of entries) {
        const key = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(join(dir, e.name), key);
        else if (e.isFile() && key.startsWith(prefix)) out.push({ key, bytes: (await stat(join(dir, e.name))).size });
      }
    };
    // Only the directory part of the prefix needs walking.
    const base = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    await walk(join(this.root, base), base);
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  async put(key: string, body: Readable, commit: () => Promise<void>): Promise<StoredObject> {
    const path = join(this.root, checkBackupKey(key));
    await mkdir(dirname(path), { recursive: true });
    // Written beside the target and renamed into place, so a reader never sees half a backup.
    const temp = path + tempSuffix();
    try {
      await pipeline(body, createWriteStream(temp, { flags: "wx" }));
      await commit();
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return { key, bytes: (await stat(path)).size };
  }

  async get(key: string): Promise<Readable> {
    const path = join(this.root, checkBackupKey(key));
    await stat(path);
    return createReadStream(path);
  }

  async delete(key: string): Promise<void> {
    await rm(join(this.root, checkBackupKey(key)), { force: true });
  }
}

export interface S3BackupStoreOptions {
  readonly bucket: string;
  readonly endpoint?: string;
  readonly region: string;
  /** Explicit credentials; without them the SDK's default chain applies. */
  readonly credentials?: S3Credentials;
  /** Multipart part size; S3 wants at least 5 MiB for every part but the last. */
  readonly partBytes?: number;
  /**
   * Ends the requests in flight, a download's body included, when it aborts (the Job's deadline): a store that stopped
   * answering must not hold the run until it is killed.
   */
  readonly signal?: AbortSignal;
}

/** How long a clean-up (an aborted upload, a deleted object) may take: it runs after a stop too, and must not hang on a dead store. */
const CLEANUP_MS = 10_000;

/** Builds a client that also works against R2 and other S3-compatible services. */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export async function createS3Client(opts: { endpoint?: string; region: string; credentials?: S3Credentials }): Promise<S3Client> {
  // Loaded on first use so that file stores never pay for the SDK.
  const { S3Client } = await import("@aws-sdk/client-s3");
  return new S3Client({
    region: opts.region,
    endpoint: opts.endpoint,
    forcePathStyle: Boolean(opts.endpoint),
    credentials: opts.credentials,
    // R2 and other S3-compatible stores reject the SDK's default streaming checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** `s3://bucket` on S3 or an S3-compatible endpoint. Credentials given, or the SDK's default chain. */
export class S3BackupStore implements BackupStore {
  private clientPromise?: Promise<S3Client>;
  private readonly partBytes: number;

  constructor(private readonly opts: S3BackupStoreOptions) {
    this.partBytes = Math.max(opts.partBytes ?? 16 * 1024 ** 2, 5 * 1024 ** 2);
  }

  private get sending() {
    return { abortSignal: this.opts.signal };
  }

  private client(): Promise<S3Client> {
    this.clientPromise ??= createS3Client(this.opts);
    return this.clientPromise;
  }

  url(key: string): string {
    return `s3://${this.opts.bucket}/${key}`;
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
    const client = await this.client();
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: prefix, ContinuationToken: token }), this.sending);
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, bytes: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  /**
   * A multipart upload straight to `key`, in parts of bounded size so the dump is never held whole in
   * memory. S3 shows the object only when the upload is completed, which happens after `commit`; any
   * failure aborts the upload and its parts are discarded.
   */
  async put(key: string, body: Readable, commit: () => Promise<void>): Promise<StoredObject> {
    const s3 = await import("@aws-sdk/client-s3");
    const client = await this.client();
    const Bucket = this.opts.bucket;
    const Key = checkBackupKey(key);
    const { UploadId } = await client.send(new s3.CreateMultipartUploadCommand({ Bucket, Key, ContentType: "application/octet-stream" }), this.sending);
    if (!UploadId) throw new Error(`S3 gave no upload id for ${this.url(key)}`);
    const parts: Array<{ ETag: string; PartNumber: number }> = [];
    let bytes = 0;
    const upload = async (chunk: Buffer) => {
      const PartNumber = parts.length + 1;
      const res = await client.send(new s3.UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: chunk, ContentLength: chunk.length }), this.sending);
      parts.push({ ETag: res.ETag ?? "", PartNumber });
      bytes += chunk.length;
    };
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const c of body) {
        const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= this.partBytes) {
          await upload(Buffer.concat(pending));
          pending = [];
          pendingBytes = 0;
        }
      }
      // An empty body still needs one part for the upload to complete.
      if (pendingBytes > 0 || parts.length === 0) await upload(Buffer.concat(pending));
      await commit();
      await client.send(new s3.CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }), this.sending);
    } catch (err) {
      await client.send(new s3.AbortMultipartUploadCommand({ Bucket, Key, UploadId }), { abortSignal: AbortSignal.timeout(CLEANUP_MS) }).catch(() => undefined);
      throw err;
    }
    return { key, bytes };
  }

  async get(key: string): Promise<Readable> {
    const { GetObjectCommand } = await import("@aws-sdk/client-s3");
    const client = await this.client();
    const out = await client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: checkBackupKey(key) }), this.sending);
    return out.Body as Readable;
  }

  async delete(key: string): Promise<void> {
    const { DeleteObjectCommand } = await import("@aws-sdk/client-s3");
    const client = await this.client();
    // One key per request: DeleteObjects needs a Content-MD5 that not every S3-compatible service accepts in the SDK's form.
    // Often the clean-up of a failed or stopped run, so bounded by time rather than ended by the stop.
    await client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: checkBackupKey(key) }), { abortSignal: AbortSignal.timeout(CLEANUP_MS) });
  }
}

/**
 * The store named by a URL plus the key prefix inside it: `file:///dir[/prefix]` is a directory,
 * `s3://bucket[/prefix]` a bucket, with `endpoint` for R2 and other S3-compatible services.
 */
export function openBackupStore(
  url: string,
  s3: { endpoint?: string; region?: string; credentials?: S3Credentials; signal?: AbortSignal } = {},
): { store: BackupStore; prefix: string } {
  const u = new URL(url);
  if (u.protocol === "file:") return { store: new FileBackupStore(fileURLToPath(u)), prefix: "" };
  if (u.protocol === "s3:") {
    if (!u.hostname) throw new Error(`${url} names no bucket`);
    const prefix = u.pathname.replace(/^\/+|\/+$/g, "");
    // R2 accepts any region name; "auto" is what it documents.
    const region = s3.region ?? (s3.endpoint ? "auto" : "us-east-1");
    return {
      store: new S3BackupStore({ bucket: u.hostname, endpoint: s3.endpoint, region, credentials: s3.credentials, signal: s3.signal }),
      prefix: prefix ? `${prefix}/` : "",
    };
  }
  throw new Error(`${url} must be file:// or s3://`);
}

/** Reads a stream to its end, for tests and small objects. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}
