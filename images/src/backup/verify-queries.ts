/** One SQL block of a runbook, as a restore verification runs it. */
export interface RunbookQuery {
  /** The runbook's file name under docs/runbooks/. */
  readonly file: string;
  /** 1-based position of the block in its file. */
  readonly index: number;
  readonly sql: string;
}

/**
 * Every fenced `sql` block of the runbooks (a `.sql` file is one block), with the alert-template placeholders an
 * operator would fill in replaced by sample values, in file-name order.
 */
export function extractRunbookSql(files: ReadonlyArray<{ readonly name: string; readonly text: string }>): RunbookQuery[] {
  const out: RunbookQuery[] = [];
  for (const { name, text } of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!name.endsWith(".md") && !name.endsWith(".sql")) continue;
    const blocks = name.endsWith(".sql") ? [text] : [...text.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!);
    blocks.forEach((sql, i) => {
      out.push({ file: name, index: i + 1, sql: sql.replace(/\{\{\s*\$labels\.\w+\s*\}\}/g, "video-processor-0").replace(/:'type'/g, "'video'") });
    });
  }
  return out;
}
