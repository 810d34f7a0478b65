import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "pg";
import type { Logger } from "pino";

/** Both `src/db` and `dist/db` sit two levels below the package root. */
export const MIGRATIONS_DIR = path.resolve(__dirname, "..", "..", "migrations");

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrateResult {
  readonly applied: string[];
  readonly skipped: string[];
}

const FILE_PATTERN = /^(\d+)_([\w-]+)\.sql$/;
// Any constant works; it only has to be the same for every runner.
const MIGRATION_LOCK_KEY = 7_031_001;

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  const seen = new Set<number>();
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new Error(`Migration file name ${file} must look like 001_name.sql`);
    const version = Number(match[1]);
    if (seen.has(version)) throw new Error(`Two migrations share version ${version}`);
    seen.add(version);
    const sql = await readFile(path.join(dir, file), "utf8");
    migrations.push({ version, name: match[2]!, sql, checksum: createHash("sha256").update(sql).digest("hex") });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/**
 * Applies pending migrations, each in its own transaction, recording version
 * and checksum. Concurrent runners serialise on an advisory lock, so two
 * migration Jobs never apply the same file twice. An applied migration whose
 * file changed is an error rather than silently ignored.
 */
export async function migrate(databaseUrl: string, opts: { dir?: string; logger?: Logger } = {}): Promise<MigrateResult> {
  const migrations = await loadMigrations(opts.dir);
  const client = new Client({ connectionString: databaseUrl, application_name: "migrate" });
  await client.connect();
  const applied: string[] = [];
  const skipped: string[] = [];
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
      "SELECT version, name, checksum FROM schema_migrations",
    );
    const done = new Map(rows.map((r) => [r.version, r]));
    for (const m of migrations) {
      const label = `${String(m.version).padStart(3, "0")}_${m.name}`;
      const prior = done.get(m.version);
      if (prior) {
        if (prior.checksum !== m.checksum) {
          throw new Error(`Migration ${label} was changed after it was applied; add a new migration instead`);
        }
        skipped.push(label);
        continue;
      }
      try {
        await client.query("BEGIN");
        await client.query(m.sql);
        await client.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", [
          m.version,
          m.name,
          m.checksum,
        ]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw new Error(`Migration ${label} failed: ${(err as Error).message}`, { cause: err });
      }
      opts.logger?.info({ migration: label }, "migration applied");
      applied.push(label);
    }
    return { applied, skipped };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
