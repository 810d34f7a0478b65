// A worker process for the crash drill: a no-op handler that records each run
// (job id, attempt) with a synchronous write, so a run is on disk before its
// outcome can be.
import { closeSync, openSync, writeSync } from "node:fs";
import { z } from "zod";
import { runWorkerProcess } from "../runtime/main";
import { noStore } from "./common";

const log = openSync(process.env.RUN_LOG!, "a");
process.on("exit", () => closeSync(log));

runWorkerProcess({
  argv: ["--type", "code"],
  env: process.env,
  handlers: {
    code: {
      type: "code",
      payloadSchema: z.unknown(),
      async run(_payload, ctx) {
        writeSync(log, `${ctx.jobId} ${ctx.attempt}\n`);
        return null;
      },
    },
  },
  createStore: () => noStore,
}).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
