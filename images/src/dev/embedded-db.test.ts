import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { describe, expect, it } from "vitest";
import { embeddedInstall, startPostgres } from "./embedded-db";

describe("test PostgreSQL servers", () => {
  it("fail at once, with the reason, when the server cannot be run", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "pitchey-no-pg-"));
    try {
      const t0 = Date.now();
      const bogus = { binDir: path.join(root, "bin"), root, libraryPath: [], key: `missing-${process.pid}` };
      await expect(startPostgres(bogus)).rejects.toThrow(/initdb|postgres user cannot run|could not copy/);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(path.join(os.tmpdir(), `pitchey-pg-install-missing-${process.pid}`), { recursive: true, force: true });
    }
  });

  it("start from one template, restart on the same data, and run as a user other than root", async () => {
    const [a, b] = await Promise.all([startPostgres(await embeddedInstall()), startPostgres(await embeddedInstall())]);
    try {
      expect(a.port).not.toBe(b.port);
      const query = async (url: string, sql: string) => {
        const c = new Client({ connectionString: url });
        await c.connect();
        try {
          return (await c.query(sql)).rows;
        } finally {
          await c.end();
        }
      };
      await query(a.url, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)");
      await a.restart(100);
      expect(await query(a.url, "SELECT n FROM kept")).toEqual([{ n: 42 }]);
      // The other server started from the same template, not from the first one's data.
      expect(await query(b.url, "SELECT to_regclass('kept') AS t")).toEqual([{ t: null }]);
      // PostgreSQL refuses root: as root, the server runs as the postgres user.
      const c = new Client({ connectionString: a.url });
      await c.connect();
      try {
        const { pid } = (await c.query("SELECT pg_backend_pid() AS pid")).rows[0];
        expect(statSync(`/proc/${pid}`).uid).not.toBe(0);
      } finally {
        await c.end();
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
