import { afterAll, afterEach, describe, expect, it } from "vitest";
import { makeContext, type TestContext } from "../test-context";
import { codePayloadSchema, type CodeResult, createCodeHandler } from "./index";

// Two warm threads: enough to show that jobs share threads and not state.
const codeHandler = createCodeHandler({ sandboxes: 2 });
afterAll(() => codeHandler.close?.());

const contexts: TestContext[] = [];
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.cleanup()));
});

async function run(source: string, extra: Record<string, unknown> = {}): Promise<CodeResult> {
  const ctx = await makeContext();
  contexts.push(ctx);
  return codeHandler.run(codePayloadSchema.parse({ source, ...extra }), ctx);
}

describe("code handler", () => {
  it("returns the last expression's value, console output and resource use, inline in the result", async () => {
    const ctx = await makeContext();
    contexts.push(ctx);
    const r = await codeHandler.run(
      codePayloadSchema.parse({
        source: `console.log("n =", input.n); const d = new Date(Date.UTC(2020, 0, 2)); ({ sq: Math.pow(input.n, 2), iso: d.toISOString(), json: JSON.parse('[1,2]').length })`,
        input: { n: 12 },
      }),
      ctx,
    );
    expect(r.status).toBe("ok");
    expect(r.value).toEqual({ sq: 144, iso: "2020-01-02T00:00:00.000Z", json: 2 });
    expect(r.console).toEqual([{ level: "log", text: "n = 12" }]);
    expect(r.usage.memoryBytes).toBeGreaterThan(0);
    expect(r.usage.outputBytes).toBe("n = 12".length + 1 + JSON.stringify(r.value).length);
    // Nothing goes to the object store: the sandbox has no route to it.
    expect(Object.keys(r).sort()).toEqual(["console", "status", "usage", "value"]);
  });

  it("settles an async program's promise", async () => {
    const r = await run(`(async () => { const x = await Promise.resolve(20); return x + 1; })()`);
    expect(r).toMatchObject({ status: "ok", value: 21 });
  });

  it("reports a thrown error with its name and message", async () => {
    const r = await run(`throw new TypeError("bad input")`);
    expect(r.status).toBe("error");
    expect(r.error).toEqual({ name: "TypeError", message: "bad input" });
  });

  it("returns no value for a program whose last expression is undefined", async () => {
    const r = await run(`console.log("only output")`);
    expect(r.status).toBe("ok");
    expect(r.value).toBeUndefined();
    expect(r.console).toEqual([{ level: "log", text: "only output" }]);
  });

  it("bounds what an error or a log line can copy out of the sandbox", async () => {
    const thrown = await run(`throw new Error("e".repeat(5e6))`);
    expect(thrown.status).toBe("error");
    expect(thrown.error?.message).toHaveLength(2000);
    const logged = await run(`console.log("z".repeat(5e6))`, { maxOutputBytes: 1024 });
    expect(logged.status).toBe("output-limit");
    expect(logged.console[0].text).toHaveLength(1024);
  });

  it("reports thrown non-errors", async () => {
    expect((await run(`throw null`)).error).toEqual({ name: "Error", message: "uncaught null" });
    expect((await run(`throw "boom"`)).error).toEqual({ name: "Error", message: 'uncaught "boom"' });
    expect((await run(`Promise.reject(42)`)).error).toEqual({ name: "Error", message: "uncaught 42" });
  });

  it("refuses unknown fields and oversize sources counted in UTF-8 bytes", () => {
    expect(codePayloadSchema.safeParse({ source: "1", extra: "x".repeat(10) }).success).toBe(false);
    expect(codePayloadSchema.safeParse({ source: "é".repeat(40 * 1024) }).success).toBe(false);
    expect(codePayloadSchema.safeParse({ source: "e".repeat(40 * 1024) }).success).toBe(true);
  });

  it("applies the documented defaults", () => {
    expect(codePayloadSchema.parse({ source: "1" })).toMatchObject({ timeoutMs: 5000, memoryMb: 128, maxOutputBytes: 65536 });
    expect(() => codePayloadSchema.parse({ source: "1", timeoutMs: 60_000 })).toThrow();
    expect(() => codePayloadSchema.parse({ source: "1", memoryMb: 1024 })).toThrow();
  });
});

describe("code handler against hostile programs", () => {
  it("stops an infinite loop at the wall-time limit", async () => {
    const t0 = Date.now();
    const r = await run(`for (;;) {}`, { timeoutMs: 300 });
    expect(r.status).toBe("timeout");
    expect(r.error?.message).toMatch(/300 ms wall-time limit/);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it("stops a memory bomb at the memory limit", async () => {
    const objects = await run(`const a = []; for (;;) a.push({ n: a.length, list: [1, 2, 3] });`, { memoryMb: 16 });
    expect(objects.status).toBe("memory-limit");
    expect(objects.error?.message).toMatch(/16777216-byte memory limit/);
    const buffers = await run(`const a = []; for (;;) a.push(new Float64Array(1e5));`, { memoryMb: 16 });
    expect(buffers.status).toBe("memory-limit");
  });

  it("contains a string-doubling bomb (QuickJS ropes keep it small until the length cap)", async () => {
    const r = await run(`let s = "x"; for (;;) s = s + s;`, { memoryMb: 16 });
    expect(r.status).toBe("error");
    expect(r.error?.message).toMatch(/string too long/);
    // Slow built-ins between interrupt polls still end at the host's hard deadline.
    const t0 = Date.now();
    const slow = await run(`const a = []; for (;;) a.push("x".repeat(1e6) + a.length);`, { memoryMb: 16, timeoutMs: 500 });
    expect(["timeout", "memory-limit"]).toContain(slow.status);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it("turns unbounded recursion into a stack overflow", async () => {
    const r = await run(`function f(n) { return f(n + 1) + 1; } f(0)`);
    expect(r.status).toBe("stack-overflow");
    expect(r.error?.message).toMatch(/stack overflow/);
  });

  it("cuts huge output at the output limit", async () => {
    const r = await run(`for (let i = 0; ; i++) console.log("spam line " + i);`, { maxOutputBytes: 4096 });
    expect(r.status).toBe("output-limit");
    expect(r.usage.outputBytes).toBe(4096);
    const printed = r.console.reduce((n, l) => n + Buffer.byteLength(l.text) + 1, 0);
    expect(printed).toBeLessThanOrEqual(4096 + 1);
  });

  it("counts the value and the console against one output budget", async () => {
    const fits = await run(`console.log("a".repeat(500)); "b".repeat(400)`, { maxOutputBytes: 1024 });
    expect(fits.status).toBe("ok");
    const over = await run(`console.log("a".repeat(600)); "b".repeat(600)`, { maxOutputBytes: 1024 });
    expect(over.status).toBe("output-limit");
  });

  it("refuses a huge return value", async () => {
    const r = await run(`"y".repeat(200000)`, { maxOutputBytes: 1024 });
    expect(r.status).toBe("output-limit");
    expect(r.value).toBeUndefined();
  });

  it.each([
    ["require", `require("fs").readFileSync("/etc/passwd", "utf8")`, /require/],
    ["process", `process.env`, /process/],
    ["fetch", `fetch("https://example.com")`, /fetch/],
    ["globalThis host objects", `Object.keys(globalThis).filter(k => /process|require|Buffer|module/.test(k)).length === 0 ? (() => { throw new ReferenceError("no host globals") })() : "leak"`, /no host globals/],
    ["eval of require", `eval("require('child_process')")`, /require/],
    ["Function constructor", `Function("return process")()`, /process/],
    ["constructor chain", `(function(){}).constructor("return this")().process.mainModule`, /undefined|not an object|cannot read/i],
    ["static import", `import fs from "fs"; fs`, /import|expecting|unexpected|token/i],
  ])("blocks a %s escape", async (_name, source, message) => {
    const r = await run(source);
    expect(r.status).toBe("error");
    expect(`${r.error?.name}: ${r.error?.message}`).toMatch(message);
  });

  it("fails a dynamic import, which has no module loader", async () => {
    const r = await run(`import("fs").then(m => Object.keys(m))`);
    expect(r.status).toBe("error");
    expect(r.value).toBeUndefined();
  });

  it("keeps prototype pollution inside the sandbox", async () => {
    const r = await run(
      `Object.prototype.polluted = "yes"; Array.prototype.map = null; JSON.parse('{"__proto__": {"polluted2": true}, "ok": 1}')`,
    );
    expect(r.status).toBe("ok");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted2).toBeUndefined();
    expect(typeof [].map).toBe("function");
    expect(Object.getPrototypeOf(r.value)).toBe(Object.prototype);
    // The next job sees pristine built-ins.
    const next = await run(`[({}).polluted, typeof [].map]`);
    expect(next.value).toEqual([null, "function"]);
  });

  it("has no timers, and a self-feeding microtask chain ends at the deadline", async () => {
    const timers = await run(`setTimeout(() => console.log("late"), 10)`);
    expect(timers.status).toBe("error");
    expect(timers.error?.message).toMatch(/setTimeout/);
    const chain = await run(`const spin = () => Promise.resolve().then(spin); spin(); 1`, { timeoutMs: 300 });
    expect(chain.status).toBe("timeout");
  });

  it("stops a running program when the job is aborted", async () => {
    const ctx = await makeContext();
    contexts.push(ctx);
    const t0 = Date.now();
    const p = codeHandler.run(codePayloadSchema.parse({ source: "for(;;){}", timeoutMs: 10_000 }), ctx);
    setTimeout(() => ctx.controller.abort(new Error("job cancelled")), 200);
    await expect(p).rejects.toThrow(/job cancelled/);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it("survives a flood of hostile and honest jobs at once", async () => {
    const sources = Array.from({ length: 40 }, (_, i) =>
      i % 4 === 0 ? `for(;;){}` : i % 4 === 1 ? `const a = []; for(;;) a.push(new Float64Array(1e5));` : i % 4 === 2 ? `function f(){f()} f()` : `${i} * 2`,
    );
    // Loops get a short deadline; the others a long one, since the host may be busy with other suites.
    const results = await Promise.all(sources.map((s, i) => run(s, { timeoutMs: i % 4 === 0 ? 200 : 5_000, memoryMb: 16 })));
    results.forEach((r, i) => {
      const expected = [["timeout"], ["memory-limit"], ["stack-overflow"], ["ok"]][i % 4];
      expect(expected).toContain(r.status);
      if (i % 4 === 3) expect(r.value).toBe(i * 2);
    });
    // The host is still healthy afterwards.
    expect((await run(`"alive"`)).value).toBe("alive");
  });
});
