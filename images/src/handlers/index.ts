import type { HandlerRegistry } from "../runtime/types";
import { codeHandler } from "./code";
import { documentHandler } from "./document";
import { mediaHandler } from "./media";
import { videoHandler } from "./video";

/** The handler each job type runs. */
export const handlers: HandlerRegistry = {
  video: videoHandler,
  media: mediaHandler,
  document: documentHandler,
  code: codeHandler,
};
