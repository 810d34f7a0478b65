import { z } from "zod";

/** Inputs are referenced by URL: https, s3, gs, or the results store's own scheme (file in tests and the demo). */
export const inputUrl = z
  .string()
  .max(2048)
  .refine((s) => {
    try {
      return ["https:", "http:", "s3:", "gs:", "file:"].includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, "input must be an https://, s3://, gs:// or results-store URL");
