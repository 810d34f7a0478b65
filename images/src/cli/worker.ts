import { handlers } from "../handlers";
import { runWorkerProcess } from "../runtime/main";
import { createResultStore } from "../store";

runWorkerProcess({ argv: process.argv.slice(2), env: process.env, handlers, createStore: createResultStore }).catch(
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
