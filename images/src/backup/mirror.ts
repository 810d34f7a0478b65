import type { Logger } from "pino";
import { selectRetained } from "./retention";
import type { BackupStore, StoredObject } from "./store";

/** How many daily snapshots of the results store stay, and how many weekly ones beyond them. */
export interface MirrorRetention {
  readonly daily: number;
  readonly weekly: number;
}

export interface MirrorOptions {
  readonly source: BackupStore;
  /** Key prefix of the results inside the source ("" or ending in "/"). */
  readonly sourcePrefix: string;
  readonly target: BackupStore;
  /** Prefix inside the target under which `r2/` lives ("" or ending in "/"). */
  readonly targetPrefix: string;
  readonly retention: MirrorRetention;
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly signal?: AbortSignal;
}

export interface MirrorResult {
  /** Objects copied into the mirror because they were new or had changed. */
  readonly copied: number;
  /** Objects already mirrored unchanged. */
  readonly unchanged: number;
  /** Mirrored objects that changed or vanished at the source, moved into today's snapshot. */
  readonly preserved: number;
  /** Snapshot days dropped by retention, and the objects they held. */
  readonly droppedDays: readonly string[];
  readonly deleted: number;
  readonly bytes: number;
}

/**
 * The layout under `<targetPrefix>r2/`: `current/` is the results store as of the last run; `daily/<YYYY-MM-DD>/` holds
 * what that day's run replaced or found deleted (the version of the day before), so the store as it was at the end of
 * a kept day D is `current/` with every later day's folder laid over it, the oldest last. Days are kept by the
 * grandfather-father-son judge; a dropped day's versions are merged into the next kept day, so the rule still holds.
 */
export const MIRROR_FOLDER = "r2/";
const CURRENT = "current/";
const DAYS = "daily/";

const DAY_PATTERN = /^(\d{4}-\d{2}-\d{2})\/$/;

export class MirrorError extends Error {
  override readonly name = "MirrorError";
}

async function copy(from: BackupStore, fromKey: string, to: BackupStore, toKey: string): Promise<void> {
  await to.put(toKey, await from.get(fromKey), async () => undefined);
}

/** The kept snapshot days, newest `daily` plus the newest of each of the `weekly` ISO weeks before them. */
export function retainedDays(days: readonly string[], retention: MirrorRetention, now: Date): Set<string> {
  const at = new Map(days.map((d) => [new Date(`${d}T00:00:00Z`), d] as const));
  const keep = selectRetained([...at.keys()], { hourly: 0, daily: retention.daily, weekly: retention.weekly, monthly: 0 }, now);
  return new Set([...keep].map((d) => at.get(d)!));
}

/**
 * One day's mirror of the results store: new and changed objects are copied into `current/`; what a changed or
 * deleted object looked like before is first moved into today's snapshot folder, so nothing the mirror held is ever
 * lost before its retention; then snapshot days beyond the retention are dropped. Runs again safely on the same day.
 */
export async function runMirror(opts: MirrorOptions): Promise<MirrorResult> {
  const now = (opts.now ?? (() => new Date()))();
  const base = `${opts.targetPrefix}${MIRROR_FOLDER}`;
  const current = base + CURRENT;
  const today = base + DAYS + now.toISOString().slice(0, 10) + "/";

  const source = new Map<string, StoredObject>();
  for (const o of await opts.source.list(opts.sourcePrefix)) source.set(o.key.slice(opts.sourcePrefix.length), o);
  const mirrored = new Map<string, StoredObject>();
  for (const o of await opts.target.list(current)) mirrored.set(o.key.slice(current.length), o);
  const snapshot = new Set((await opts.target.list(today)).map((o) => o.key));

  let copied = 0;
  let unchanged = 0;
  let preserved = 0;
  let bytes = 0;
  const keepOld = async (rel: string) => {
    // A second run on one day keeps the day's first replaced version: the state at the end of the previous day.
    if (!snapshot.has(today + rel)) await copy(opts.target, current + rel, opts.target, today + rel);
    preserved++;
  };

  for (const [rel, o] of source) {
    opts.signal?.throwIfAborted();
    const had = mirrored.get(rel);
    if (had && had.bytes === o.bytes) {
      unchanged++;
      continue;
    }
    if (had) await keepOld(rel);
    await copy(opts.source, o.key, opts.target, current + rel);
    copied++;
    bytes += o.bytes;
    opts.logger.debug({ event: "mirror.copied", key: rel, bytes: o.bytes }, "copied");
  }
  for (const rel of mirrored.keys()) {
    if (source.has(rel)) continue;
    opts.signal?.throwIfAborted();
    await keepOld(rel);
    await opts.target.delete(current + rel);
    opts.logger.info({ event: "mirror.preserved", key: rel }, "deleted at the source; kept in today's snapshot");
  }

  const byDay = new Map<string, string[]>();
  for (const { key } of await opts.target.list(base + DAYS)) {
    const m = DAY_PATTERN.exec(key.slice(base.length + DAYS.length).replace(/^([^/]+\/).*$/, "$1"));
    if (!m) {
      opts.logger.warn({ key }, "not in a snapshot day; left alone");
      continue;
    }
    byDay.set(m[1]!, [...(byDay.get(m[1]!) ?? []), key]);
  }
  const keep = retainedDays([...byDay.keys()], opts.retention, now);
  const kept = [...keep].sort();
  const droppedDays: string[] = [];
  let deleted = 0;
  // A kept day D restores as `current/` with the folders of the days after D laid over it. So a dropped day after the
  // oldest kept one moves its versions into the next kept day after it (newest first, the older version winning); one
  // before every kept day serves no restore point and goes.
  for (const day of [...byDay.keys()].filter((d) => !keep.has(d)).sort().reverse()) {
    const into = kept[0] !== undefined && day > kept[0] ? kept.find((k) => k > day) : undefined;
    for (const key of byDay.get(day)!) {
      opts.signal?.throwIfAborted();
      if (into) await copy(opts.target, key, opts.target, `${base}${DAYS}${into}/${key.slice(base.length + DAYS.length + day.length + 1)}`);
      await opts.target.delete(key);
      deleted++;
    }
    droppedDays.push(day);
    opts.logger.info({ event: "mirror.day-dropped", day, mergedInto: into, objects: byDay.get(day)!.length }, "snapshot day past retention dropped");
  }
  return { copied, unchanged, preserved, droppedDays: droppedDays.sort(), deleted, bytes };
}

/**
 * Where each object of the results store, as it stood at the end of `day` (the run's day, for the newest; a kept
 * snapshot day otherwise), is kept in the mirror (`rel → key`). Objects created after `day` show as well.
 */
export async function mirroredAt(target: BackupStore, targetPrefix: string, day: string): Promise<Map<string, string>> {
  const base = `${targetPrefix}${MIRROR_FOLDER}`;
  const out = new Map<string, string>();
  for (const { key } of await target.list(base + CURRENT)) out.set(key.slice(base.length + CURRENT.length), key);
  const later = new Map<string, string[]>();
  for (const { key } of await target.list(base + DAYS)) {
    const rest = key.slice(base.length + DAYS.length);
    const d = rest.slice(0, 10);
    if (d > day) later.set(d, [...(later.get(d) ?? []), key]);
  }
  // Newest first, so the oldest later day, which holds the version of `day` itself, is laid on last.
  for (const d of [...later.keys()].sort().reverse()) for (const key of later.get(d)!) out.set(key.slice(base.length + DAYS.length + 11), key);
  return out;
}
