/**
 * The program that runs inside each sandbox thread. It is kept as plain JavaScript source so the same text
 * runs from `src` under the test runner and from `dist` in the image; the thread is created with `eval: true`.
 *
 * The untrusted program only ever sees a QuickJS context compiled to WebAssembly: no Node globals, no module
 * loader, no host functions other than the console below. The thread exists so that the host's event loop
 * keeps serving while a program spins, and so the host can terminate it outright.
 */
export const SANDBOX_WORKER_SOURCE = String.raw`
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");
const { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC } = require(workerData.quickjsPath);

function utf8Length(s) { return Buffer.byteLength(s, "utf8"); }

async function main() {
  const { source, inputJson, timeoutMs, memoryBytes, maxOutputBytes, stackBytes, wasmHeadroomBytes } = workerData;
  // QuickJS's own limit misses some allocations (array buffers among them), so the WebAssembly memory
  // itself is capped too: past it, malloc fails inside QuickJS and surfaces as "out of memory".
  const pages = (bytes) => Math.ceil(bytes / 65536);
  const wasmMemory = new WebAssembly.Memory({ initial: pages(16 * 1024 * 1024), maximum: pages(memoryBytes + wasmHeadroomBytes) });
  const QuickJS = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory }));
  const runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(memoryBytes);
  runtime.setMaxStackSize(stackBytes);
  // The host's own deadline starts from here, so time spent compiling the module under load is not charged.
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

  const lines = [];
  let outputBytes = 0;
  const consoleHandle = vm.newObject();
  for (const level of ["log", "info", "warn", "error", "debug"]) {
    const fn = vm.newFunction(level, (...args) => {
      if (outputExceeded) return;
      const text = args.map((h) => {
        const t = vm.typeof(h);
        if (t === "string") return vm.getString(h);
        try {
          const r = vm.callFunction(vm.getProp(vm.global, "__fmt"), vm.undefined, h);
          if (r.error) { r.error.dispose(); return "[unprintable]"; }
          const s = vm.getString(r.value); r.value.dispose(); return s;
        } catch { return "[unprintable]"; }
      }).join(" ");
      const size = utf8Length(text) + 1;
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

  // Formatting happens inside the sandbox so a hostile toJSON or getter can only hurt the sandbox.
  const prelude = vm.evalCode(
    "Object.defineProperty(globalThis, '__fmt', { value: (v) => { try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); } } });" +
    "globalThis.input = " + inputJson + ";",
    "prelude.js", { type: "global" });
  if (prelude.error) { prelude.error.dispose(); throw new Error("sandbox prelude failed"); }
  prelude.value.dispose();

  let status = "ok";
  let value;
  let error;
  const result = vm.evalCode(source, "program.js", { type: "global", strict: false });
  let handle;
  if (result.error) {
    handle = result.error;
  } else {
    handle = result.value;
    // Drain promise jobs so an async program can settle, still under the interrupt handler.
    for (;;) {
      const jobs = runtime.executePendingJobs(1000);
      if (jobs.error) { const e = vm.dump(jobs.error); jobs.error.dispose(); handle.dispose(); handle = undefined; error = e; break; }
      if (jobs.value === 0) break;
    }
    if (handle) {
      const state = vm.getPromiseState(handle);
      if (state.type === "fulfilled") {
        if (!state.notAPromise) { handle.dispose(); handle = state.value; }
      } else if (state.type === "rejected") {
        handle.dispose(); handle = undefined; error = vm.dump(state.error); state.error.dispose();
      } else {
        handle.dispose(); handle = undefined; error = { name: "Error", message: "the program's promise never settled" };
      }
    }
  }
  if (result.error && handle) {
    error = vm.dump(handle); handle.dispose(); handle = undefined;
  }
  if (handle) {
    const r = vm.callFunction(vm.getProp(vm.global, "__fmt"), vm.undefined, handle);
    handle.dispose();
    if (r.error) { error = vm.dump(r.error); r.error.dispose(); }
    else {
      const json = vm.getString(r.value); r.value.dispose();
      // The value shares the output budget with the console.
      const size = utf8Length(json);
      if (outputBytes + size > maxOutputBytes) { outputExceeded = true; }
      else { outputBytes += size; try { value = JSON.parse(json); } catch { value = json; } }
    }
  }

  let memoryUsedBytes = 0;
  try {
    const usage = runtime.computeMemoryUsage();
    const dumped = vm.dump(usage); usage.dispose();
    memoryUsedBytes = Number(dumped.memory_used_size || 0);
  } catch { memoryUsedBytes = memoryBytes; }
  // QuickJS throws null when it runs out of memory while building the error object itself.
  const oomWithoutError = result.error && (error === null || error === undefined) && memoryUsedBytes > memoryBytes * 0.5;
  if (timedOut) status = "timeout";
  else if (oomWithoutError) status = "memory-limit";
  else if (outputExceeded) status = "output-limit";
  else if (error !== undefined) {
    const msg = String((error && error.message) || "");
    status = /out of memory/i.test(msg) ? "memory-limit" : /stack overflow/i.test(msg) ? "stack-overflow" : "error";
  }
  const wallMs = Math.round(performance.now() - started);
  let err;
  if (error !== undefined) {
    const isObject = error !== null && typeof error === "object";
    err = {
      name: String((isObject && error.name) || "Error"),
      message: String(isObject && "message" in error ? error.message : "uncaught " + JSON.stringify(error)).slice(0, 2000),
    };
  }
  if (status === "timeout") err = { name: "TimeoutError", message: "the program exceeded its " + timeoutMs + " ms wall-time limit" };
  if (status === "output-limit") err = { name: "OutputLimitError", message: "the program's output exceeded " + maxOutputBytes + " bytes" };
  if (status === "memory-limit") err = { name: "MemoryLimitError", message: "the program exceeded its " + memoryBytes + "-byte memory limit" };
  if (status !== "ok") value = undefined;
  parentPort.postMessage({ kind: "result", status, value, error: err, console: lines, usage: { wallMs, memoryBytes: memoryUsedBytes, outputBytes } });
  try { vm.dispose(); runtime.dispose(); } catch { /* leaks inside a thread that is about to end do not matter */ }
}

main().catch((e) => {
  parentPort.postMessage({ kind: "result", status: "error", error: { name: "SandboxError", message: String(e && e.message || e) }, console: [], usage: { wallMs: 0, memoryBytes: 0, outputBytes: 0 } });
});
`;
