import type { HandlerRegistry } from "../runtime/types";
import { codeHandler } from "./code";

/** The handler each job type runs. */
export const handlers: HandlerRegistry = {
  code: codeHandler,
};
