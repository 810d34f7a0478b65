import type { HandlerRegistry } from "../runtime/types";
import { codeHandler } from "./code";
import { documentHandler } from "./document";
import { inferenceHandler } from "./inference";
import { mediaHandler } from "./media";
import { videoHandler } from "./video";

/** The handler each job type runs. */
export const handlers: HandlerRegistry = {
  video: videoHandler,
  media: mediaHandler,
  document: documentHandler,
  inference: inferenceHandler,
  code: codeHandler,
};
