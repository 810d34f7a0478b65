import { spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { once } from "node:events";
import { z } from "zod";
import { PermanentJobError } from "../runtime/errors";
import { toolEnv } from "../runtime/tool-env";
import type { JobContext, JobHandler } from "../runtime/types";
import { fileBody, releaseFetched } from "../store";
import { runTool, ToolError } from "./ffmpeg";
import { inputUrl } from "./schema";

/** The file is not a usable PDF (not one, malformed, encrypted, too big to extract): retrying cannot help. */
export class DocumentError extends PermanentJobError {
  override readonly name = "DocumentError";
}

export const documentPayloadSchema = z
  .object({
    input: inputUrl,
    /** Pages past this are not extracted (the page count still reports them all). */
    maxPages: z.number().int().min(1).max(10_000).default(2_000),
    /** Characters of each page's text repeated inline in the result; the full text is in the store. */
    previewChars: z.number().int().min(0).max(2_000).default(200),
  })
  .strict();
export type DocumentPayload = z.infer<typeof documentPayloadSchema>;

export interface DocumentMetadata {
  title?: string;
  author?: string;
  subject?: string;
  keywords?: string;
  creator?: string;
  producer?: string;
  creationDate?: string;
  modDate?: string;
  pdfVersion?: string;
  pageSize?: string;
  tagged?: boolean;
}

export interface DocumentResult {
  pageCount: number;
  pagesExtracted: number;
  metadata: DocumentMetadata;
  /** JSON lines, one `{ page, text }` per page. */
  pagesUrl: string;
  /** Plain text with a form feed between pages. */
  textUrl: string;
  pages: Array<{ page: number; chars: number; preview: string }>;
}

/** One page's text is cut at this many characters so a hostile page cannot grow memory without bound. */
const MAX_PAGE_CHARS = 1_000_000;

/** Address-space cap for poppler's processes (`DOCUMENT_MEMORY_LIMIT_MB`, default 1024). */
export function popplerMemoryLimitMb(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DOCUMENT_MEMORY_LIMIT_MB;
  const mb = raw === undefined || raw === "" ? 1024 : Number(raw);
  if (!Number.isInteger(mb) || mb < 8) throw new DocumentError(`DOCUMENT_MEMORY_LIMIT_MB must be an integer of at least 8, got ${raw}`);
  return mb;
}

const PRLIMIT = ["/usr/bin/prlimit", "/bin/prlimit"].find((p) => existsSync(p));

/**
 * Wraps a poppler command in prlimit (util-linux, part of every Debian base) so a decompression bomb inside a
 * PDF fails that process, not the worker's pod.
 */
function limited(cmd: string, args: string[]): [string, string[]] {
  if (!PRLIMIT) return [cmd, args];
  return [PRLIMIT, [`--as=${popplerMemoryLimitMb() * 1024 * 1024}`, "--", cmd, ...args]];
}

const MEMORY_FAILURE = /bad_alloc|failed to map segment|cannot allocate memory|out of memory/i;

function failure(tool: string, detail: string): DocumentError {
  if (MEMORY_FAILURE.test(detail)) {
    return new DocumentError(`${tool} exceeded the ${popplerMemoryLimitMb()} MB memory limit for document extraction`);
  }
  return new DocumentError(`malformed PDF: ${tool} failed: ${detail}`);
}

const INFO_KEYS: Record<string, keyof DocumentMetadata> = {
  Title: "title",
  Author: "author",
  Subject: "subject",
  Keywords: "keywords",
  Creator: "creator",
  Producer: "producer",
  CreationDate: "creationDate",
  ModDate: "modDate",
  "PDF version": "pdfVersion",
  "Page size": "pageSize",
};

/** pdfinfo's key/value lines. */
export function parsePdfInfo(text: string): { pages: number; encrypted: boolean; metadata: DocumentMetadata } {
  const metadata: DocumentMetadata = {};
  let pages = NaN;
  let encrypted = false;
  for (const line of text.split("\n")) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m;
    if (key === "Pages") pages = Number(value);
    else if (key === "Encrypted") encrypted = value.startsWith("yes");
    else if (key === "Tagged") metadata.tagged = value === "yes";
    else if (INFO_KEYS[key] && value) (metadata as Record<string, string>)[INFO_KEYS[key]] = value;
  }
  return { pages, encrypted, metadata };
}

async function assertPdfHeader(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(1024), 0, 1024, 0);
    // The spec lets the header sit anywhere in the first kilobyte.
    if (!buffer.subarray(0, bytesRead).includes("%PDF-")) throw new DocumentError("not a PDF: no %PDF- header in the first 1024 bytes");
  } finally {
    await fh.close();
  }
}

/**
 * Streams pdftotext's output (pages separated by form feeds) into the two output files, holding at most
 * one page in memory.
 */
async function extractPages(
  path: string,
  lastPage: number,
  out: { jsonl: string; txt: string },
  previewChars: number,
  ctx: JobContext,
): Promise<Array<{ page: number; chars: number; preview: string }>> {
  const [cmd, args] = limited("pdftotext", ["-enc", "UTF-8", "-l", String(lastPage), path, "-"]);
  const child = spawn(cmd, args, {
    env: toolEnv(),
    signal: ctx.signal,
    stdio: ["ignore", "pipe", "pipe"],
    killSignal: "SIGKILL",
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr = (stderr + c).slice(-4096)));
  const jsonl = createWriteStream(out.jsonl);
  const txt = createWriteStream(out.txt);
  const pages: Array<{ page: number; chars: number; preview: string }> = [];
  let current = "";
  let truncated = false;
  const write = async (stream: NodeJS.WritableStream, s: string) => {
    if (!stream.write(s)) await once(stream, "drain");
  };
  const flush = async () => {
    const page = pages.length + 1;
    const text = current.replace(/\s+$/, "");
    pages.push({ page, chars: text.length, preview: text.slice(0, previewChars) });
    await write(jsonl, JSON.stringify({ page, text, truncated: truncated || undefined }) + "\n");
    await write(txt, (page > 1 ? "\f" : "") + text);
    current = "";
    truncated = false;
    ctx.progress(0.1 + 0.85 * (page / lastPage), `page ${page}`);
  };
  const exit = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  try {
    child.stdout.setEncoding("utf8");
    for await (const chunk of child.stdout as AsyncIterable<string>) {
      const parts = chunk.split("\f");
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) await flush();
        if (current.length + parts[i].length > MAX_PAGE_CHARS) {
          current += parts[i].slice(0, Math.max(0, MAX_PAGE_CHARS - current.length));
          truncated = true;
        } else {
          current += parts[i];
        }
      }
    }
    const code = await exit;
    if (code === null) throw new Error(`pdftotext was killed: ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
    if (code !== 0) throw failure("pdftotext", stderr.trim().split("\n").slice(-3).join(" | ") || `exit ${code}`);
    // pdftotext ends every page, the last included, with a form feed; leftover text means a final unterminated page.
    if (current.trim()) await flush();
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
    throw err;
  } finally {
    jsonl.end();
    txt.end();
    await Promise.all([once(jsonl, "close"), once(txt, "close")]);
  }
  return pages;
}

export const documentHandler: JobHandler<DocumentPayload, DocumentResult> = {
  type: "document",
  payloadSchema: documentPayloadSchema as z.ZodType<DocumentPayload>,
  async run(payload, ctx) {
    const p = documentPayloadSchema.parse(payload);
    const input = await ctx.store.fetchToFile(p.input, ctx.signal);
    try {
      await assertPdfHeader(input);
      let infoText: string;
      try {
        infoText = (await runTool(...limited("pdfinfo", ["-isodates", "-enc", "UTF-8", input]), ctx.signal)).stdout;
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        // Not started, or killed by a signal: nothing is known about the file, so the attempt may be retried.
        if (!(err instanceof ToolError) || err.signal !== null) throw err;
        const msg = err.message;
        if (/password|encrypt/i.test(msg)) throw new DocumentError("encrypted PDFs are not accepted (the file needs a password)");
        throw failure("pdfinfo", msg.replace(/^\S+ failed \([^)]*\): /, ""));
      }
      const info = parsePdfInfo(infoText);
      // Files that open without a password but carry encryption are refused too: their text may be restricted.
      if (info.encrypted) throw new DocumentError("encrypted PDFs are not accepted; remove the encryption and resubmit");
      if (!Number.isInteger(info.pages) || info.pages < 1) throw new DocumentError("malformed PDF: it has no pages");
      ctx.progress(0.1, `${info.pages} pages`);

      const lastPage = Math.min(info.pages, p.maxPages);
      const files = { jsonl: join(ctx.workDir, "pages.jsonl"), txt: join(ctx.workDir, "text.txt") };
      const pages = await extractPages(input, lastPage, files, p.previewChars, ctx);
      // Blank trailing pages yield no text after the last form feed; pad so pages line up with the count.
      while (pages.length < lastPage) pages.push({ page: pages.length + 1, chars: 0, preview: "" });

      const pagesStored = await ctx.store.put(`document/${ctx.jobId}/pages.jsonl`, fileBody(files.jsonl), "application/x-ndjson");
      const textStored = await ctx.store.put(`document/${ctx.jobId}/text.txt`, fileBody(files.txt), "text/plain; charset=utf-8");
      ctx.progress(1, "done");
      return { pageCount: info.pages, pagesExtracted: lastPage, metadata: info.metadata, pagesUrl: pagesStored.url, textUrl: textStored.url, pages };
    } finally {
      await releaseFetched(input);
    }
  },
};
