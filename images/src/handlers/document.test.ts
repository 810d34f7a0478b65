import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentHandler, documentPayloadSchema } from "./document";
import { never, runTool } from "./media-test-utils";
import { makePdf } from "./samples";
import { makeContext, type TestContext } from "./test-context";
import { requireTools } from "../dev/tools";

let fixtures: TestContext;
const url = (p: string) => pathToFileURL(p).href;
let reportPdf: string;

beforeAll(async () => {
  requireTools("pdftotext", "pdfinfo", "qpdf", "prlimit");
  fixtures = await makeContext();
  reportPdf = await makePdf(
    join(fixtures.workDir, "report.pdf"),
    [["Alpha page one", "Second line 42"], ["Beta page two"], ["Gamma page three", "Unicode-free ending."]],
    { title: "Handler Test", author: "Test Author", subject: "Extraction" },
  );
});
afterAll(() => fixtures?.cleanup());

async function withContext<T>(fn: (ctx: TestContext) => Promise<T>): Promise<T> {
  const ctx = await makeContext();
  try {
    return await fn(ctx);
  } finally {
    await ctx.cleanup();
  }
}

describe("document handler", () => {
  it("extracts text per page, the page count and the metadata", async () =>
    withContext(async (ctx) => {
      const r = await documentHandler.run(documentPayloadSchema.parse({ input: url(reportPdf) }), ctx);
      expect(r.pageCount).toBe(3);
      expect(r.pagesExtracted).toBe(3);
      expect(r.metadata).toMatchObject({ title: "Handler Test", author: "Test Author", subject: "Extraction", creator: "pitchey samples" });
      expect(r.metadata.pdfVersion).toMatch(/^1\.\d$/);
      expect(r.metadata.creationDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d/);
      expect(r.metadata.pageSize).toMatch(/^595 x 842 pts/);
      const lines = (await readFile(ctx.store.pathOf(r.pagesUrl), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
      expect(lines.map((l) => l.page)).toEqual([1, 2, 3]);
      expect(lines[0].text).toMatch(/^Alpha page one\n+Second line 42$/);
      expect(lines[1].text).toBe("Beta page two");
      expect(lines[2].text).toContain("Gamma page three");
      expect(lines[2].text).toContain("Unicode-free ending.");
      const text = await readFile(ctx.store.pathOf(r.textUrl), "utf8");
      expect(text.split("\f")).toHaveLength(3);
      expect(r.pages[1]).toEqual({ page: 2, chars: "Beta page two".length, preview: "Beta page two" });
    }));

  it("rejects a password-protected PDF", async () =>
    withContext(async (ctx) => {
      const locked = join(ctx.workDir, "locked.pdf");
      await runTool("qpdf", ["--encrypt", "userpw", "ownerpw", "256", "--", reportPdf, locked], never);
      await expect(documentHandler.run(documentPayloadSchema.parse({ input: url(locked) }), ctx)).rejects.toThrow(/encrypted PDFs are not accepted/);
    }));

  it("rejects a PDF encrypted with an empty user password", async () =>
    withContext(async (ctx) => {
      const locked = join(ctx.workDir, "owner-only.pdf");
      await runTool("qpdf", ["--encrypt", "", "ownerpw", "256", "--print=none", "--", reportPdf, locked], never);
      await expect(documentHandler.run(documentPayloadSchema.parse({ input: url(locked) }), ctx)).rejects.toThrow(/encrypted PDFs are not accepted/);
    }));

  it("rejects malformed files with a clear error", async () =>
    withContext(async (ctx) => {
      const junk = join(ctx.workDir, "junk.pdf");
      await writeFile(junk, "%PDF-1.7\nthis is not really a pdf\n");
      await expect(documentHandler.run(documentPayloadSchema.parse({ input: url(junk) }), ctx)).rejects.toThrow(/^malformed PDF/);
      const text = join(ctx.workDir, "notes.pdf");
      await writeFile(text, "just some notes");
      await expect(documentHandler.run(documentPayloadSchema.parse({ input: url(text) }), ctx)).rejects.toThrow(/not a PDF/);
    }));

  it("handles a large document page by page and honours maxPages", async () =>
    withContext(async (ctx) => {
      const pages = Array.from({ length: 600 }, (_, i) => [`Page number ${i + 1}`, "x".repeat(80), `Checksum ${(i * 7919) % 1000}`]);
      const big = await makePdf(join(ctx.workDir, "big.pdf"), pages);
      const heapBefore = process.memoryUsage().heapUsed;
      const r = await documentHandler.run(documentPayloadSchema.parse({ input: url(big), previewChars: 20 }), ctx);
      expect(r.pageCount).toBe(600);
      expect(r.pages).toHaveLength(600);
      expect(r.pages[599].preview).toBe("Page number 600\nxxxx");
      const last = JSON.parse((await readFile(ctx.store.pathOf(r.pagesUrl), "utf8")).trim().split("\n")[599]);
      expect(last.text).toContain(`Checksum ${(599 * 7919) % 1000}`);
      // The text is streamed to disk; the heap keeps only the short previews.
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(50 * 1024 * 1024);

      const capped = await documentHandler.run(documentPayloadSchema.parse({ input: url(big), maxPages: 25 }), ctx);
      expect(capped.pageCount).toBe(600);
      expect(capped.pagesExtracted).toBe(25);
      expect(capped.pages).toHaveLength(25);
    }));

  it("caps poppler's memory and says so when a document needs more", async () =>
    withContext(async (ctx) => {
      const saved = process.env.DOCUMENT_MEMORY_LIMIT_MB;
      process.env.DOCUMENT_MEMORY_LIMIT_MB = "8";
      try {
        await expect(documentHandler.run(documentPayloadSchema.parse({ input: url(reportPdf) }), ctx)).rejects.toThrow(
          /exceeded the 8 MB memory limit for document extraction/,
        );
        process.env.DOCUMENT_MEMORY_LIMIT_MB = "64";
        expect((await documentHandler.run(documentPayloadSchema.parse({ input: url(reportPdf) }), ctx)).pageCount).toBe(3);
      } finally {
        if (saved === undefined) delete process.env.DOCUMENT_MEMORY_LIMIT_MB;
        else process.env.DOCUMENT_MEMORY_LIMIT_MB = saved;
      }
    }));

  it("stops when the job is aborted", async () =>
    withContext(async (ctx) => {
      const run = documentHandler.run(documentPayloadSchema.parse({ input: url(reportPdf) }), ctx);
      ctx.controller.abort(new Error("cancelled by user"));
      await expect(run).rejects.toThrow(/cancelled by user/);
    }));
});
