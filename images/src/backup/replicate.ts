import type { Readable } from "node:stream";
import type { Logger } from "pino";

/** An object as a listing reports it. `md5` only where it is the content's MD5 (hex), never a multipart ETag. */
export interface ListedObject {
  readonly key: string;
  readonly bytes: number;
  readonly md5?: string;
  /** The store's ETag, for a conditional overwrite of exactly this version. */
  readonly etag?: string;
  /** When the source wrote it; its retention counts from here. */
  readonly lastModified?: Date;
}

/** Where the copy reads: the R2 backup bucket, through a read-only token. */
export interface CopySource {
  list(prefix: string): Promise<ListedObject[]>;
  get(key: string): Promise<Readable>;
}

export interface PutOptions {
  readonly bytes: number;
  /** Lock the new object until then (S3 governance, GCS unlocked mode). */
  readonly retainUntil?: Date;
  /** The destination's object this write replaces (a conditional overwrite of exactly that one); unset for a new name. */
  readonly replaces?: ListedObject;
  readonly signal?: AbortSignal;
}

/**
 * Where it writes: the cloud bucket. `put` only ever adds a name: when the name already exists (another run got there
 * first) it resolves to "exists" and changes nothing.
 */
export interface CopyTarget {
  readonly url: string;
  /**
   * Whether the copy's identity may write a new version over an object that changed at the source (S3: PutObject with
   * versioning keeps the old one). GCS needs the delete right for that, which the copy does not get.
   */
  readonly canReplace: boolean;
  list(prefix: string): Promise<ListedObject[]>;
  put(key: string, body: Readable, opts: PutOptions): Promise<"written" | "exists">;
  /** Sets a retention on an object written earlier (a run that stopped between the write and the lock); never shortens one. */
  ensureRetention?(key: string, until: Date): Promise<void>;
}

export interface ReplicateOptions {
  readonly source: CopySource;
  readonly target: CopyTarget;
  /** Key prefixes to copy (`postgres/`, `r2/`). */
  readonly prefixes: readonly string[];
  /** Prefix whose objects are locked, and for how long after their source wrote them. */
  readonly lock: { readonly prefix: string; readonly seconds: number };
  /** Stop starting copies past this instant (the Job's deadline less a margin); what is left waits for the next run. */
  readonly deadline?: Date;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
}

export interface ReplicateResult {
  /** Objects the destination lacked and now has. */
  readonly copied: number;
  readonly bytes: number;
  /** Objects already there with the same size (and MD5 where both sides know it). */
  readonly present: number;
  /** Objects another run wrote between our listing and our write. */
  readonly raced: number;
  /** Monthly-tier copies given a retention. */
  readonly locked: number;
  /** Objects the destination held with other content: a new version was written over them. */
  readonly replaced: number;
  /** Objects that changed at the source but cannot be replaced in the destination (logged, left as they are). */
  readonly changed: number;
  /** Objects left for the next run because the deadline came. */
  readonly deferred: number;
}

export class ReplicateError extends Error {
  override readonly name = "ReplicateError";
}

/** Same object: same size, and the same MD5 when both stores report the content's MD5. */
export function sameObject(a: ListedObject, b: ListedObject): boolean {
  if (a.bytes !== b.bytes) return false;
  return !(a.md5 && b.md5 && a.md5 !== b.md5);
}

/** When a copy of `o` must stay locked until, or undefined when it needs no lock (other prefix, or retention already over). */
export function retainUntilFor(o: ListedObject, lock: ReplicateOptions["lock"], now: Date): Date | undefined {
  if (!o.key.startsWith(lock.prefix) || lock.seconds <= 0) return undefined;
  const from = o.lastModified ?? now;
  const until = new Date(from.getTime() + lock.seconds * 1000);
  return until > now ? until : undefined;
}

/**
 * Copies what the destination lacks, never deleting or rewriting there: lifecycle rules and versioning keep the
 * destination's history. Objects stream from source to destination one at a time, so memory holds a part, not a
 * dump. Running twice at once is safe: each write only adds a name that does not exist yet, and the loser of a race
 * counts it as already there.
 */
export async function replicate(opts: ReplicateOptions): Promise<ReplicateResult> {
  const now = (opts.now ?? (() => new Date()))();
  let copied = 0;
  let bytes = 0;
  let present = 0;
  let raced = 0;
  let locked = 0;
  let replaced = 0;
  let deferred = 0;
  let changed = 0;
  for (const prefix of opts.prefixes) {
    const have = new Map((await opts.target.list(prefix)).map((o) => [o.key, o]));
    const want = await opts.source.list(prefix);
    opts.logger.info({ event: "replicate.listed", prefix, source: want.length, target: have.size }, "listed");
    for (const o of want) {
      opts.signal?.throwIfAborted();
      const there = have.get(o.key);
      const until = retainUntilFor(o, opts.lock, now);
      if (there && sameObject(o, there)) {
        present++;
        if (until && opts.target.ensureRetention) await opts.target.ensureRetention(o.key, until);
        continue;
      }
      if (opts.deadline && new Date() >= opts.deadline) {
        deferred++;
        continue;
      }
      if (there && !opts.target.canReplace) {
        changed++;
        opts.logger.warn({ event: "replicate.changed", key: o.key, source: o.bytes, target: there.bytes }, "changed at the source; the copy keeps its first version");
        continue;
      }
      if (there) replaced++;
      const outcome = await opts.target.put(o.key, await opts.source.get(o.key), { bytes: o.bytes, retainUntil: until, replaces: there, signal: opts.signal });
      if (outcome === "exists") {
        raced++;
        if (until && opts.target.ensureRetention) await opts.target.ensureRetention(o.key, until);
        continue;
      }
      copied++;
      bytes += o.bytes;
      if (until) locked++;
      opts.logger.debug({ event: "replicate.copied", key: o.key, bytes: o.bytes, retainUntil: until?.toISOString() }, "copied");
    }
  }
  if (deferred > 0) opts.logger.warn({ event: "replicate.deferred", deferred }, "deadline reached: the next run copies the rest");
  return { copied, bytes, present, raced, locked, replaced, changed, deferred };
}
