import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { migrationJobName } from "./migration";

describe("migration Job name", () => {
  it("changes exactly when a migration's name or content changes", () => {
    const ctx = mkdtempSync(join(tmpdir(), "migrations-"));
    mkdirSync(join(ctx, "migrations"));
    writeFileSync(join(ctx, "migrations", "001_a.sql"), "CREATE TABLE a (id int);");
    const first = migrationJobName(ctx);
    expect(migrationJobName(ctx)).toBe(first);
    writeFileSync(join(ctx, "migrations", "001_a.sql"), "CREATE TABLE a (id bigint);");
    const second = migrationJobName(ctx);
    expect(second).not.toBe(first);
    writeFileSync(join(ctx, "migrations", "002_b.sql"), "SELECT 1;");
    expect(migrationJobName(ctx)).not.toBe(second);
    // Unrelated files elsewhere in the image context do not re-run migrations.
    writeFileSync(join(ctx, "README.md"), "x");
    expect(migrationJobName(ctx)).toBe(migrationJobName(ctx));
  });
});
