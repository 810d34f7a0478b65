import type { HandlerRegistry } from "../runtime/types";

/** The handler each job type runs. */
export const handlers: HandlerRegistry = {};
