import { Client } from "pg";
import { migrate } from "../src/db/migrate";
import { type EmbeddedDatabase, freePort, startEmbeddedPostgres } from "../src/dev/embedded-db";

export { freePort };

export interface TestDatabase extends EmbeddedDatabase {
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** One private, migrated (unless told otherwise) PostgreSQL per test file. */
export async function startTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const pg = await startEmbeddedPostgres({ fast: true });
  try {
    if (opts.migrate !== false) await migrate(pg.url);
  } catch (err) {
    await pg.stop();
    throw err;
  }
  return {
    ...pg,
    async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      const c = new Client({ connectionString: pg.url });
      await c.connect();
      try {
        return (await c.query<T>(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
  };
}
