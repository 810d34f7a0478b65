import { Pool } from "pg";
import { createClient } from "../src/runtime/auth-admin";
import { JOB_TYPES } from "../src/runtime/types";

/** Creates an API client (every type unless told) on the database at `url` and returns its key and headers. */
export async function testApiKey(url: string, name: string, scopes: readonly string[] = JOB_TYPES) {
  const pool = new Pool({ connectionString: url, max: 1 });
  try {
    const issued = await createClient(pool, { name, scopes });
    return { ...issued, headers: { authorization: `Bearer ${issued.key}` } as Record<string, string> };
  } finally {
    await pool.end();
  }
}
