import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { debianTools, findTool, MissingToolError, pathWithTools, requireTool, requireTools, TOOLS_BIN } from "./tools";

describe("the Debian tool list", () => {
  it("names a package for every binary the tests and the images run", () => {
    const tools = debianTools();
    for (const [binary, pkg] of [
      ["ffmpeg", "ffmpeg"],
      ["ffprobe", "ffmpeg"],
      ["pdftotext", "poppler-utils"],
      ["pdfinfo", "poppler-utils"],
      ["qpdf", "qpdf"],
      ["pg_dump", "postgresql-client"],
      ["postgres", "postgresql"],
    ]) {
      expect(tools.get(binary), binary).toBe(pkg);
    }
  });

  it("rejects a line that is not `<binary> <package>`", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "pitchey-tools-"));
    const file = path.join(dir, "list.txt");
    writeFileSync(file, "# comment\nffmpeg ffmpeg\nqpdf\n");
    try {
      expect(() => debianTools(file)).toThrow(/expected "<binary> <debian-package>", got "qpdf"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("requireTool", () => {
  it("finds a tool through the project's tool directory first", () => {
    expect(pathWithTools("/usr/bin:/bin").split(":")[0]).toBe(TOOLS_BIN);
    expect(pathWithTools(pathWithTools("/bin")).split(":").filter((p) => p === TOOLS_BIN)).toHaveLength(1);
    expect(findTool("sh")).toMatch(/\/sh$/);
  });

  it("fails at once with one line naming the tool and its package", () => {
    const t0 = Date.now();
    let err: unknown;
    try {
      requireTool("no-such-tool-pitchey");
    } catch (e) {
      err = e;
    }
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(MissingToolError);
    const e = err as MissingToolError;
    expect(e.message).not.toContain("\n");
    expect(e.stack).toBe(`MissingToolError: ${e.message}`);
    expect(e.message).toMatch(/^missing tool: no-such-tool-pitchey, from the Debian package \(not listed/);
  });

  it("names every missing tool with its package at once", () => {
    expect(() => requireTools("sh", "no-such-a", "no-such-b")).toThrow(/missing tools: no-such-a \(unlisted\), no-such-b \(unlisted\)/);
  });
});
