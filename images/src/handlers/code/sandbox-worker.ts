/**
 * The program that runs inside each sandbox thread. It is kept as plain JavaScript source so the same text
 * runs from `src` under the test runner and from `dist` in the image; the thread is created with `eval: true`.
 *
 * The untrusted program only ever sees a QuickJS context compiled to WebAssembly: no Node globals, no module
 * loader, no host functions other than the console below. The thread exists so that the host's event loop
 * keeps serving while a program spins, and so the host can terminate it outright.
 *
 * A thread serves one job at a time, many jobs in its life. The QuickJS module is compiled once by the host;
 * each job gets a new QuickJS runtime and context, freed when it ends, inside an instance whose linear memory
 * is capped at the job's limit. An instance is reused by the next job only after a program that ended normally,
 * freed cleanly and never grew the memory past its 16 MB minimum; otherwise the next job gets a new instance
 * over a new memory. Nothing a program leaves behind in JS objects is reachable by the next one: its runtime,
 * with every object, global and prototype, is gone. Starting a thread and compiling costs tens to hundreds of
 * milliseconds, instantiating a few, a runtime and context well under one.
 */
export const SANDBOX_WORKER_SOURCE = String.raw`
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");
const { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC } = require(workerData.quickjsPath);
const wasmModule = workerData.wasmModule;
// The module's own minimum: it cannot start with less linear memory.
const INITIAL_MEMORY_BYTES = 16 * 1024 * 1024;

function utf8Length(s) { return Buffer.byteLength(s, "utf8"); }

// Helpers defined inside the sandbox: a hostile toJSON, getter or huge string can only hurt the sandbox,
// and nothing much larger than the output budget is ever copied out of it.
const PRELUDE = [
  "(() => {",
  "  const fmt = (v, limit) => {",
  "    let s;",
  "    try { s = typeof v === 'string' ? v : JSON.stringify(v); if (s === undefined) s = String(v); }",
  "    catch (e) { try { s = String(v); } catch (e2) { s = '[unprintable]'; } }",
  // JSON-quoted: QuickJS hands strings out as NUL-terminated UTF-8, which would cut a line at U+0000 and mangle
  // an unpaired surrogate; JSON's escapes carry both across intact.
  "    return JSON.stringify(s.length > limit ? s.slice(0, limit + 1) : s);",
  "  };",
  "  const json = (v, limit) => { const s = JSON.stringify(v); return s === undefined ? undefined : s.length > limit ? s.slice(0, limit + 1) : s; };",
  "  const err = (e) => {",
  "    try {",
  "      if (e === null || typeof e !== 'object') return { name: 'Error', message: 'uncaught ' + (typeof e === 'string' ? JSON.stringify(e.slice(0, 2000)) : String(e)), bare: true };",
  "      if (!('message' in e)) { const s = JSON.stringify(e); return { name: 'Error', message: 'uncaught ' + String(s === undefined ? e : s).slice(0, 2000) }; }",
  "      return { name: String(e.name).slice(0, 200), message: String(e.message).slice(0, 2000) };",
  "    } catch (x) { return { name: 'Error', message: 'unreadable error', bare: true }; }",
  "  };",
  "  for (const [k, f] of [['__fmt', fmt], ['__json', json], ['__err', err]]) Object.defineProperty(globalThis, k, { value: f });",
  "})();",
].join("\n");

// A WebAssembly instance of QuickJS costs milliseconds to set up; a runtime and context in one, well under one.
// Jobs run one after another on an instance, each in its own runtime, which is freed after it; an instance is
// dropped once a program grew its memory, ended abnormally or failed to free cleanly, and after
// JOBS_PER_INSTANCE jobs. A job whose memory cap differs from the spare instance's gets a fresh one.
const JOBS_PER_INSTANCE = 1000;
let spare;
async function instanceFor(maxBytes) {
  const s = spare;
  spare = undefined;
  if (s && s.maxBytes === maxBytes) return s;
  const pages = (bytes) => Math.ceil(bytes / 65536);
  const wasmMemory = new WebAssembly.Memory({ initial: pages(INITIAL_MEMORY_BYTES), maximum: pages(maxBytes) });
  const QuickJS = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmModule, wasmMemory }));
  return { QuickJS, wasmMemory, maxBytes, jobs: 0 };
}

async function runJob(job) {
  const { source, inputJson, timeoutMs, memoryBytes, maxOutputBytes, maxConsoleLines, stackBytes, wasmHeadroomBytes } = job;
  // QuickJS's own limit misses some allocations (array buffers among them), so the WebAssembly memory
  // itself is capped too: past it, malloc fails inside QuickJS and surfaces as "out of memory".
  const instance = await instanceFor(Math.max(INITIAL_MEMORY_BYTES, memoryBytes + wasmHeadroomBytes));
  const { QuickJS, wasmMemory } = instance;
  const runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(memoryBytes);
  runtime.setMaxStackSize(stackBytes);
  // The host's own deadline starts from here, so time spent instantiating under load is not charged.
  parentPort.postMessage({ kind: "started" });
  const started = performance.now();
  const deadline = started + timeoutMs;
  let timedOut = false;
  let outputExceeded = false;
  runtime.setInterruptHandler(() => {
    if (performance.now() > deadline) timedOut = true;
    return timedOut || outputExceeded;
  });
  const vm = runtime.newContext();

  const prelude = vm.evalCode(PRELUDE + "\nglobalThis.input = " + inputJson + ";", "prelude.js", { type: "global" });
  if (prelude.error) { prelude.error.dispose(); throw new Error("sandbox prelude failed"); }
  prelude.value.dispose();
  const fmtFn = vm.getProp(vm.global, "__fmt");
  const jsonFn = vm.getProp(vm.global, "__json");
  const errFn = vm.getProp(vm.global, "__err");
  const limit = vm.newNumber(maxOutputBytes);

  // The thrown value as { name, message }; null when even that cannot be read (the runtime is out of memory).
  function readError(h) {
    const r = vm.callFunction(errFn, vm.undefined, h);
    if (r.error) { r.error.dispose(); return null; }
    let e;
    try { e = vm.dump(r.value); } catch { e = null; }
    r.value.dispose();
    // Out of memory, the description itself may come back empty.
    return e && typeof e.name === "string" && typeof e.message === "string" ? e : null;
  }

  const lines = [];
  let outputBytes = 0;
  const consoleHandle = vm.newObject();
  for (const level of ["log", "info", "warn", "error", "debug"]) {
    const fn = vm.newFunction(level, (...args) => {
      if (outputExceeded) return;
      const text = args.map((h) => {
        const r = vm.callFunction(fmtFn, vm.undefined, h, limit);
        if (r.error) { r.error.dispose(); return "[unprintable]"; }
        const t = JSON.parse(vm.getString(r.value));
        r.value.dispose();
        return t;
      }).join(" ");
      const size = utf8Length(text) + 1;
      if (lines.length >= maxConsoleLines) {
        outputBytes = maxOutputBytes;
        outputExceeded = true;
        return;
      }
      if (outputBytes + size > maxOutputBytes) {
        const room = Math.max(0, maxOutputBytes - outputBytes);
        if (room > 0) lines.push({ level, text: Buffer.from(text, "utf8").subarray(0, room).toString("utf8") });
        outputBytes = maxOutputBytes;
        outputExceeded = true;
        return;
      }
      outputBytes += size;
      lines.push({ level, text });
    });
    vm.setProp(consoleHandle, level, fn);
    fn.dispose();
  }
  vm.setProp(vm.global, "console", consoleHandle);
  consoleHandle.dispose();

  let valueJson;
  let error; // undefined: none; null: unreadable; else { name, message, bare? }
  let handle;
  const result = vm.evalCode(source, "program.js", { type: "global", strict: false });
  if (result.error) {
    error = readError(result.error);
    result.error.dispose();
  } else {
    handle = result.value;
    // Drain promise jobs so an async program can settle, still under the interrupt handler.
    for (;;) {
      const jobs = runtime.executePendingJobs(1000);
      if (jobs.error) { error = readError(jobs.error); jobs.error.dispose(); handle.dispose(); handle = undefined; break; }
      if (jobs.value === 0) break;
    }
    if (handle) {
      const state = vm.getPromiseState(handle);
      if (state.type === "fulfilled") {
        if (!state.notAPromise) { handle.dispose(); handle = state.value; }
      } else if (state.type === "rejected") {
        handle.dispose(); handle = undefined;
        error = readError(state.error); state.error.dispose();
      } else {
        handle.dispose(); handle = undefined;
        error = { name: "Error", message: "the program's promise never settled" };
      }
    }
  }
  if (handle) {
    const r = vm.callFunction(jsonFn, vm.undefined, handle, limit);
    handle.dispose();
    if (r.error) { error = readError(r.error); r.error.dispose(); }
    else {
      const json = vm.typeof(r.value) === "string" ? vm.getString(r.value) : undefined;
      r.value.dispose();
      if (json !== undefined) {
        // The value shares the output budget with the console.
        const size = utf8Length(json);
        if (outputBytes + size > maxOutputBytes) outputExceeded = true;
        else { outputBytes += size; valueJson = json; }
      }
    }
  }

  let memoryUsedBytes;
  try {
    const usage = runtime.computeMemoryUsage();
    memoryUsedBytes = Number(vm.dump(usage).memory_used_size || 0);
    usage.dispose();
  } catch { memoryUsedBytes = memoryBytes; }

  let status = "ok";
  // Out of memory, QuickJS may throw null (it could not build the error) or fail to describe what it threw.
  const unreadable = error === null || (error && error.bare && /^uncaught null$|^unreadable error$/.test(error.message));
  if (timedOut) status = "timeout";
  else if (unreadable && memoryUsedBytes > memoryBytes * 0.5) status = "memory-limit";
  else if (outputExceeded) status = "output-limit";
  else if (error !== undefined) {
    const msg = error === null ? "" : error.message;
    status = /out of memory/i.test(msg) ? "memory-limit" : /stack overflow/i.test(msg) ? "stack-overflow" : "error";
  }
  let err = error === undefined ? undefined : error === null ? { name: "Error", message: "unreadable error" } : { name: error.name, message: error.message };
  if (status === "timeout") err = { name: "TimeoutError", message: "the program exceeded its " + timeoutMs + " ms wall-time limit" };
  if (status === "output-limit") err = { name: "OutputLimitError", message: "the program's output exceeded " + maxOutputBytes + " bytes" };
  if (status === "memory-limit") err = { name: "MemoryLimitError", message: "the program exceeded its " + memoryBytes + "-byte memory limit" };
  if (status !== "ok") valueJson = undefined;
  const wallMs = Math.round(performance.now() - started);
  // The runtime and everything in it are freed; the instance serves the next job only if that went cleanly
  // and this program never grew the linear memory (so the next one starts from the same small, capped memory).
  let clean = status !== "timeout" && status !== "memory-limit";
  try {
    for (const h of [fmtFn, jsonFn, errFn, limit]) h.dispose();
    vm.dispose();
    runtime.dispose();
  } catch {
    clean = false;
  }
  if (clean && wasmMemory.buffer.byteLength <= INITIAL_MEMORY_BYTES && ++instance.jobs < JOBS_PER_INSTANCE) spare = instance;
  // The value travels as JSON text: however deep it is nested, copying a string cannot overflow a stack.
  return {
    status, valueJson, error: err, console: lines,
    usage: { wallMs, memoryBytes: memoryUsedBytes, outputBytes },
    grewMemory: wasmMemory.buffer.byteLength > INITIAL_MEMORY_BYTES,
  };
}

parentPort.on("message", (msg) => {
  if (msg.kind !== "run") return;
  runJob(msg.job).then(
    (reply) => parentPort.postMessage({ kind: "result", reply }),
    (e) => parentPort.postMessage({
      kind: "result",
      reply: { status: "error", error: { name: "SandboxError", message: String((e && e.message) || e) }, console: [], usage: { wallMs: 0, memoryBytes: 0, outputBytes: 0 }, broken: true },
    }),
  );
});
parentPort.postMessage({ kind: "ready" });
`;
