// A worker process whose job never finishes, to be SIGKILLed by bench:recovery.
import { z } from "zod";
import { runWorkerProcess } from "../runtime/main";
import { noStore } from "./common";

runWorkerProcess({
  argv: ["--type", "code"],
  env: process.env,
  handlers: {
    code: {
      type: "code",
      payloadSchema: z.unknown(),
      run: (_payload, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
    },
  },
  createStore: () => noStore,
}).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
