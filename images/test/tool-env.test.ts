import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentHandler } from "../src/handlers/document";
import { ffmpeg, probe } from "../src/handlers/ffmpeg";
import { makeContext } from "../src/handlers/test-context";

// Stand-ins for the real tools, first on PATH, that write down the environment they were started with.
// The worker's environment holds secrets here, as a careless Deployment would give it.
const SECRETS = {
  DATABASE_URL: "postgres://worker:db-password-123@db:5432/jobs",
  AWS_ACCESS_KEY_ID: "AKIA-KEY-ID-456",
  AWS_SECRET_ACCESS_KEY: "aws-secret-789",
  RESULTS_S3_SECRET_ACCESS_KEY: "results-secret-012",
  GCS_ACCESS_TOKEN: "gcs-token-345",
};
let dir: string;
const saved = { ...process.env };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tool-env-"));
  const tool = (name: string, body: string) => writeFile(join(dir, name), `#!/bin/sh\nenv > "${dir}/${name}.env"\n${body}\n`).then(() => chmod(join(dir, name), 0o755));
  await tool("ffprobe", "exit 1");
  await tool("ffmpeg", "exit 1");
  await tool("pdfinfo", 'echo "Pages: 1"; exit 0');
  await tool("pdftotext", "exit 1");
  Object.assign(process.env, SECRETS, { PATH: `${dir}:${process.env.PATH}` });
});
afterAll(async () => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  await rm(dir, { recursive: true, force: true });
});

async function seenBy(tool: string): Promise<string> {
  return readFile(join(dir, `${tool}.env`), "utf8");
}

function expectNoSecret(env: string) {
  for (const [name, value] of Object.entries(SECRETS)) {
    expect(env).not.toContain(value);
    expect(env).not.toMatch(new RegExp(`^${name}=`, "m"));
  }
  // What a tool does need is still there.
  expect(env).toMatch(/^PATH=/m);
}

describe("external tools", () => {
  it("ffprobe and ffmpeg see no secret from the worker's environment", async () => {
    const signal = new AbortController().signal;
    await expect(probe(join(dir, "clip.mp4"), signal)).rejects.toThrow(/not a readable media file/);
    await expect(ffmpeg(["-i", "x", "y"], { signal })).rejects.toThrow(/ffmpeg failed/);
    expectNoSecret(await seenBy("ffprobe"));
    expectNoSecret(await seenBy("ffmpeg"));
  });

  it("pdfinfo and pdftotext see no secret from the worker's environment", async () => {
    const ctx = await makeContext();
    try {
      const pdf = join(ctx.workDir, "in.pdf");
      await writeFile(pdf, "%PDF-1.7\nnot really\n");
      await expect(documentHandler.run({ input: pathToFileURL(pdf).href, maxPages: 10, previewChars: 10 }, ctx)).rejects.toThrow(/pdftotext/);
    } finally {
      await ctx.cleanup();
    }
    expectNoSecret(await seenBy("pdfinfo"));
    expectNoSecret(await seenBy("pdftotext"));
  });
});
