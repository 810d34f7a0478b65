import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { extractRunbookSql } from "../src/backup/verify-queries";

/**
 * Writes the runbooks' SQL into the image's source (the image's build context holds no docs), so every restore
 * verification runs the queries an operator would. A test fails when the two drift apart.
 */
export const RUNBOOKS = path.resolve(__dirname, "..", "..", "docs", "runbooks");
export const OUTPUT = path.resolve(__dirname, "..", "src", "backup", "verify-runbook-sql.ts");

export function render(): string {
  const files = readdirSync(RUNBOOKS).map((name) => ({ name, text: readFileSync(path.join(RUNBOOKS, name), "utf8") }));
  const queries = extractRunbookSql(files);
  return [
    "// Generated from docs/runbooks by `npm run -w @pitchey/worker runbook-sql`; do not edit.",
    'import type { RunbookQuery } from "./verify-queries";',
    "",
    "export type { RunbookQuery };",
    "",
    `export const RUNBOOK_SQL: readonly RunbookQuery[] = ${JSON.stringify(queries, null, 2)};`,
    "",
  ].join("\n");
}

if (require.main === module) {
  writeFileSync(OUTPUT, render());
  console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}`);
}
