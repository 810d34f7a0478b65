import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The frame every CronJob command runs in, driven as a process of its own the way the Job runs it. */
const frame = path.join(__dirname, "..", "src", "cli", "job-command.ts");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "job-command-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs a command whose work is `body` and returns its exit code and JSON log lines. */
async function command(name: string, body: string): Promise<{ code: number | null; lines: Record<string, unknown>[] }> {
  const file = path.join(dir, `${name}.ts`);
  await writeFile(
    file,
    `import { runJobCommand } from ${JSON.stringify(frame)};\n` +
      `runJobCommand({ component: "probe", event: "probe", parseEnv: () => ({}), run: async () => { ${body} } });\n`,
  );
  const r = spawnSync(process.execPath, ["--import", "tsx", file], { cwd: path.join(__dirname, ".."), encoding: "utf8", timeout: 30_000, killSignal: "SIGKILL" });
  const lines = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: r.status, lines };
}

describe("the CronJob command frame", () => {
  it("exits with the work's code", async () => {
    expect((await command("ok", "return 0;")).code).toBe(0);
    expect((await command("three", "return 3;")).code).toBe(3);
  });

  it("a thrown error is logged as <event>.failed and exits 1", async () => {
    const r = await command("throws", 'throw new Error("the store refused");');
    expect(r.code).toBe(1);
    expect(r.lines.at(-1)).toMatchObject({ event: "probe.failed", err: "the store refused", level: 50 });
  });

  it("work left waiting on something that can never finish exits 1, not 0", async () => {
    // Nothing keeps the process alive, so Node would end it with the work's promise pending, as it did when a refused
    // upload left pg_dump's output unread.
    const r = await command("stranded", "await new Promise(() => undefined); return 0;");
    expect(r.code).toBe(1);
    expect(r.lines.at(-1)).toMatchObject({ event: "probe.failed", level: 50 });
    expect(String(r.lines.at(-1)!.err)).toMatch(/probe ended without finishing/);
  });

  it("a failed run exits at once even when its failure left something in flight", async () => {
    // An upload request the store still holds open, say: nothing will finish it, and the Job must not wait for it.
    const r = await command("left-open", 'setTimeout(() => undefined, 600_000); throw new Error("the upload was cut");');
    expect(r.code).toBe(1);
    expect(r.lines.at(-1)).toMatchObject({ event: "probe.failed", err: "the upload was cut" });
  });
});
