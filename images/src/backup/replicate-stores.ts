import type { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { Storage } from "@google-cloud/storage";
import type { CopySource, CopyTarget, ListedObject, PutOptions } from "./replicate";
import { createS3Client, type S3Credentials } from "./store";

/** A plain (single-part, unencrypted-or-SSE-S3) ETag is the content's MD5; a multipart or SSE-KMS one is not. */
const md5OfEtag = (etag: string | undefined, trusted: boolean) => {
  const e = etag?.replace(/"/g, "");
  return trusted && e && /^[0-9a-f]{32}$/.test(e) ? e : undefined;
};

type Condition = { IfMatch?: string; IfNoneMatch?: string };

const status = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

async function listS3(client: S3Client, bucket: string, prefix: string, md5Etags: boolean): Promise<ListedObject[]> {
  const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (!o.Key || o.Key.endsWith("/")) continue;
      out.push({ key: o.Key, bytes: o.Size ?? 0, md5: md5OfEtag(o.ETag, md5Etags), etag: o.ETag, lastModified: o.LastModified });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export interface S3Location {
  readonly bucket: string;
  readonly endpoint?: string;
  readonly region: string;
  readonly credentials?: S3Credentials;
}

/** The R2 backup bucket, read with the copy's read-only key pair. */
export class S3CopySource implements CopySource {
  private client?: Promise<S3Client>;
  constructor(private readonly loc: S3Location) {}
  private c() {
    return (this.client ??= createS3Client(this.loc));
  }
  async list(prefix: string) {
    // R2 reports a single-part upload's MD5 as its ETag, like S3 without KMS.
    return listS3(await this.c(), this.loc.bucket, prefix, true);
  }
  async get(key: string): Promise<Readable> {
    const { GetObjectCommand } = await import("@aws-sdk/client-s3");
    const out = await (await this.c()).send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: key }));
    return out.Body as Readable;
  }
}

/**
 * The S3 copy, reached by the pod's IRSA role (no key pair). Writes are conditional: `If-None-Match: *` adds a name only
 * when it is absent, `If-Match` replaces exactly the version listed (versioning keeps it). Objects up to
 * `singlePutBytes` stream in one PutObject; larger ones go in parts of `partBytes`, one part in memory at a time.
 */
export class S3CopyTarget implements CopyTarget {
  readonly canReplace = true;
  private client?: Promise<S3Client>;
  private readonly singlePutBytes: number;
  private readonly partBytes: number;

  constructor(
    private readonly loc: S3Location,
    sizes: { singlePutBytes?: number; partBytes?: number } = {},
  ) {
    this.partBytes = Math.max(sizes.partBytes ?? 64 * 1024 ** 2, 5 * 1024 ** 2);
    this.singlePutBytes = Math.min(sizes.singlePutBytes ?? 512 * 1024 ** 2, 5 * 1024 ** 3);
  }
  get url() {
    return `s3://${this.loc.bucket}`;
  }
  private c() {
    return (this.client ??= createS3Client(this.loc));
  }

  async list(prefix: string) {
    // Under SSE-KMS an ETag is not the content's MD5: compare by size.
    return listS3(await this.c(), this.loc.bucket, prefix, false);
  }

  async put(key: string, body: Readable, opts: PutOptions): Promise<"written" | "exists"> {
    const s3 = await import("@aws-sdk/client-s3");
    const client = await this.c();
    const Bucket = this.loc.bucket;
    const condition: Condition = opts.replaces?.etag ? { IfMatch: opts.replaces.etag } : { IfNoneMatch: "*" };
    // The SDK does not end a request whose streamed body fails (a download cut part-way): it would wait for the rest.
    const broken = new AbortController();
    body.once("error", (err) => broken.abort(err));
    const signal = opts.signal ? AbortSignal.any([opts.signal, broken.signal]) : broken.signal;
    try {
      if (opts.bytes <= this.singlePutBytes) {
        await client.send(new s3.PutObjectCommand({ Bucket, Key: key, Body: body, ContentLength: opts.bytes, ContentType: "application/octet-stream", ...condition }), {
          abortSignal: signal,
        });
      } else {
        await this.multipart(client, key, body, condition, signal);
      }
    } catch (err) {
      body.destroy();
      if (broken.signal.aborted) throw broken.signal.reason;
      // 412: another run wrote the name (or a new version) first.
      if (status(err) === 412 || (err as Error).name === "PreconditionFailed") return "exists";
      throw err;
    }
    if (opts.retainUntil) await this.ensureRetention(key, opts.retainUntil);
    return "written";
  }

  private async multipart(client: S3Client, Key: string, body: Readable, condition: Condition, signal?: AbortSignal) {
    const s3 = await import("@aws-sdk/client-s3");
    const Bucket = this.loc.bucket;
    const { UploadId } = await client.send(new s3.CreateMultipartUploadCommand({ Bucket, Key, ContentType: "application/octet-stream" }));
    const parts: { ETag: string; PartNumber: number }[] = [];
    const upload = async (chunk: Buffer) => {
      const PartNumber = parts.length + 1;
      const res = await client.send(new s3.UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: chunk, ContentLength: chunk.length }), { abortSignal: signal });
      parts.push({ ETag: res.ETag ?? "", PartNumber });
    };
    try {
      let pending: Buffer[] = [];
      let size = 0;
      for await (const c of body) {
        const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
        pending.push(chunk);
        size += chunk.length;
        if (size >= this.partBytes) {
          await upload(Buffer.concat(pending));
          pending = [];
          size = 0;
        }
      }
      if (size > 0 || parts.length === 0) await upload(Buffer.concat(pending));
      await client.send(new s3.CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts }, ...condition }));
    } catch (err) {
      await client.send(new s3.AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
      throw err;
    }
  }

  /** Governance retention until `until`, unless the object already holds one as long (a retention is never shortened). */
  async ensureRetention(key: string, until: Date): Promise<void> {
    const s3 = await import("@aws-sdk/client-s3");
    const client = await this.c();
    const current = await client.send(new s3.GetObjectRetentionCommand({ Bucket: this.loc.bucket, Key: key })).catch((err) => {
      if (status(err) === 404 || (err as Error).name === "NoSuchObjectLockConfiguration") return undefined;
      throw err;
    });
    const held = current?.Retention?.RetainUntilDate;
    if (held && held >= until) return;
    await client.send(new s3.PutObjectRetentionCommand({ Bucket: this.loc.bucket, Key: key, Retention: { Mode: "GOVERNANCE", RetainUntilDate: until } }));
  }
}

/**
 * The GCS copy, reached with Application Default Credentials (Workload Identity on GKE; no key file). Every write
 * carries `ifGenerationMatch: 0`, so it can only create a name that does not exist: the copy needs no delete or
 * overwrite right, and a second run racing this one gets a 412, counted as already there. The monthly tier's objects
 * are created with their retention (unlocked mode) in the same request.
 */
export class GcsCopyTarget implements CopyTarget {
  readonly canReplace = false;
  private storage?: Storage;

  constructor(
    private readonly bucket: string,
    private readonly opts: { endpoint?: string; projectId?: string; resumableAboveBytes?: number } = {},
  ) {}
  get url() {
    return `gs://${this.bucket}`;
  }
  private s() {
    return (this.storage ??= new Storage({ ...(this.opts.endpoint ? { apiEndpoint: this.opts.endpoint } : {}), ...(this.opts.projectId ? { projectId: this.opts.projectId } : {}) }));
  }

  async list(prefix: string): Promise<ListedObject[]> {
    const [files] = await this.s().bucket(this.bucket).getFiles({ prefix, autoPaginate: true });
    return files
      .filter((f) => !f.name.endsWith("/"))
      .map((f) => ({
        key: f.name,
        bytes: Number(f.metadata.size ?? 0),
        md5: f.metadata.md5Hash ? Buffer.from(String(f.metadata.md5Hash), "base64").toString("hex") : undefined,
      }));
  }

  async put(key: string, body: Readable, opts: PutOptions): Promise<"written" | "exists"> {
    const file = this.s().bucket(this.bucket).file(key);
    const metadata: Record<string, unknown> = { contentType: "application/octet-stream" };
    if (opts.retainUntil) metadata.retention = { mode: "Unlocked", retainUntilTime: opts.retainUntil.toISOString() };
    const write = file.createWriteStream({
      // Resumable uploads send a large dump in chunks (and survive a dropped connection); small objects go in one request.
      resumable: opts.bytes > (this.opts.resumableAboveBytes ?? 8 * 1024 ** 2),
      preconditionOpts: { ifGenerationMatch: 0 },
      metadata,
      validation: "crc32c",
    });
    try {
      const { pipeline } = await import("node:stream/promises");
      await pipeline(body, write, { signal: opts.signal });
      return "written";
    } catch (err) {
      body.destroy();
      if ((err as { code?: number }).code === 412) return "exists";
      throw err;
    }
  }
}
