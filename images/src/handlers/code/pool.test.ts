import { afterAll, describe, expect, it } from "vitest";
import { CODE_LIMITS } from "./limits";
import { type SandboxJob, SandboxPool } from "./pool";

const pool = new SandboxPool(2);
afterAll(() => pool.close());

const job = (source: string, extra: Partial<SandboxJob> = {}): SandboxJob => ({
  source,
  inputJson: "null",
  timeoutMs: 5_000,
  memoryBytes: 16 * 1024 * 1024,
  maxOutputBytes: 4096,
  maxConsoleLines: CODE_LIMITS.consoleLines,
  stackBytes: CODE_LIMITS.stackBytes,
  wasmHeadroomBytes: CODE_LIMITS.wasmHeadroomBytes,
  ...extra,
});
const run = (source: string, extra: Partial<SandboxJob> = {}) => pool.run(job(source, extra), new AbortController().signal);

describe("sandbox pool", () => {
  it("runs many jobs on the same warm threads, each in a fresh QuickJS instance", async () => {
    await pool.warm();
    expect(pool.threadsStarted).toBe(2);
    const writes = await Promise.all(
      Array.from({ length: 30 }, (_, i) => run(`globalThis.leak = ${i}; Object.prototype.polluted = ${i}; var counter = (typeof counter === "number" ? counter : 0) + 1; counter`)),
    );
    expect(writes.map((r) => r.valueJson)).toEqual(Array(30).fill("1"));
    const reads = await Promise.all(Array.from({ length: 10 }, () => run(`[typeof leak, ({}).polluted, typeof counter]`)));
    for (const r of reads) expect(JSON.parse(r.valueJson!)).toEqual(["undefined", null, "undefined"]);
    expect(pool.threadsStarted).toBe(2);
  });

  it("kills and replaces a thread whose program overran its time or memory, and keeps serving", async () => {
    const before = pool.threadsStarted;
    const loop = await run(`for (;;) {}`, { timeoutMs: 100 });
    expect(loop.status).toBe("timeout");
    const bomb = await run(`const a = []; for (;;) a.push(new Float64Array(1e5));`);
    expect(bomb.status).toBe("memory-limit");
    expect(pool.threadsStarted).toBe(before + 2);
    expect((await run(`"still here"`)).valueJson).toBe('"still here"');
  });

  it("reports how long a job waited for a free thread", async () => {
    const waits: number[] = [];
    const busy = `const t = Date.now(); while (Date.now() - t < 300) {} 1`;
    await Promise.all([0, 1, 2].map(() => pool.run(job(busy), new AbortController().signal, (s) => waits.push(s))));
    waits.sort((a, b) => a - b);
    // Two threads: the third job waited for one of the first two to finish.
    expect(waits[2]).toBeGreaterThan(0.25);
  });

  it("gives up waiting for a thread when the job is aborted", async () => {
    const hog = [run(`const t = Date.now(); while (Date.now() - t < 1500) {} 1`), run(`const t = Date.now(); while (Date.now() - t < 1500) {} 1`)];
    const abort = new AbortController();
    const waiting = pool.run(job("1"), abort.signal);
    abort.abort(new Error("cancelled"));
    await expect(waiting).rejects.toThrow(/cancelled/);
    await Promise.all(hog);
    expect((await run("2")).valueJson).toBe("2");
  });
});
