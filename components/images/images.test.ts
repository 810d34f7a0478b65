import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { contextHash } from "./index";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function context(files: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), "ctx-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe("image tags", () => {
  it("change exactly when the build context's content does", () => {
    const d = context({ Dockerfile: "FROM scratch", "src/a.ts": "a" });
    const before = contextHash(d);
    expect(contextHash(d)).toBe(before);
    writeFileSync(join(d, "src/a.ts"), "b");
    expect(contextHash(d)).not.toBe(before);
  });

  it("ignore node_modules and build output", () => {
    const d = context({ Dockerfile: "FROM scratch" });
    const before = contextHash(d);
    mkdirSync(join(d, "node_modules", "x"), { recursive: true });
    writeFileSync(join(d, "node_modules", "x", "i.js"), "1");
    mkdirSync(join(d, "dist"));
    writeFileSync(join(d, "dist", "o.js"), "1");
    expect(contextHash(d)).toBe(before);
  });
});
