import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { JobContext, JobHandler } from "../runtime/types";
import { fileBody, releaseFetched } from "../store";
import { evenScale, ffmpeg, MediaError, probe, type ProbeInfo } from "./ffmpeg";
import { inputUrl } from "./schema";

export const videoPayloadSchema = z
  .object({
    input: inputUrl,
    /** Seconds into the video at which to grab a JPEG each. */
    thumbnails: z
      .object({
        times: z.array(z.number().min(0)).min(1).max(50),
        /** Thumbnail height in pixels; width keeps the aspect ratio. */
        height: z.number().int().min(16).max(2160).default(180),
      })
      .strict()
      .optional(),
    /** Transcode to H.264/AAC MP4 at this height. */
    transcode: z
      .object({
        height: z.number().int().min(16).max(4320),
        crf: z.number().int().min(0).max(51).default(23),
        preset: z.enum(["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"]).default("veryfast"),
        audioBitrateKbps: z.number().int().min(32).max(512).default(128),
      })
      .strict()
      .optional(),
  })
  .strict();
export type VideoPayload = z.infer<typeof videoPayloadSchema>;

export interface VideoResult {
  probe: ProbeInfo;
  thumbnails: Array<{ timeSec: number; url: string; bytes: number }>;
  transcode?: { url: string; bytes: number; durationSec: number; width: number; height: number; videoCodec: string; audioCodec?: string };
}

export const videoHandler: JobHandler<VideoPayload, VideoResult> = {
  type: "video",
  payloadSchema: videoPayloadSchema as z.ZodType<VideoPayload>,
  async run(payload, ctx: JobContext) {
    const p = videoPayloadSchema.parse(payload);
    const input = await ctx.store.fetchToFile(p.input, ctx.signal);
    try {
      const info = await probe(input, ctx.signal);
      if (!info.video) throw new MediaError(`input has no video stream (found ${info.streams.map((s) => s.codecType).join(", ") || "none"})`);
      ctx.progress(0.05, "probed");
      const result: VideoResult = { probe: info, thumbnails: [] };
      const outDir = join(ctx.workDir, "video-out");
      await mkdir(outDir, { recursive: true });

      // Thumbnails take a small share of the progress bar; the transcode takes the rest.
      const thumbShare = p.transcode ? 0.15 : 0.95;
      const times = p.thumbnails?.times ?? [];
      const late = times.find((t) => t > info.durationSec);
      if (late !== undefined) throw new MediaError(`thumbnail time ${late}s is past the end (${info.durationSec}s)`);
      for (const [i, t] of times.entries()) {
        const file = join(outDir, `thumb-${i}.jpg`);
        // Input seeking (-ss before -i) starts decoding at the keyframe before t, so a grab stays cheap on long inputs.
        await ffmpeg(["-ss", String(Math.min(t, Math.max(0, info.durationSec - 0.05))), "-i", input, "-frames:v", "1", "-vf", evenScale(p.thumbnails!.height), "-q:v", "3", "-y", file], {
          signal: ctx.signal,
        });
        const stored = await ctx.store.put(`video/${ctx.jobId}/thumb-${i}.jpg`, fileBody(file), "image/jpeg");
        result.thumbnails.push({ timeSec: t, ...stored });
        ctx.progress(0.05 + (thumbShare * (i + 1)) / times.length, `thumbnail ${i + 1}`);
      }

      if (p.transcode) {
        const tc = p.transcode;
        const file = join(outDir, "transcoded.mp4");
        const base = 0.05 + thumbShare;
        await ffmpeg(
          [
            "-i", input,
            "-map", "0:v:0", "-map", "0:a:0?",
            "-vf", evenScale(tc.height),
            "-c:v", "libx264", "-preset", tc.preset, "-crf", String(tc.crf), "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", `${tc.audioBitrateKbps}k`,
            "-movflags", "+faststart",
            "-y", file,
          ],
          {
            signal: ctx.signal,
            durationSec: info.durationSec,
            onProgress: (f) => ctx.progress(base + f * (0.98 - base), "transcoding"),
          },
        );
        const out = await probe(file, ctx.signal);
        const stored = await ctx.store.put(`video/${ctx.jobId}/transcoded-${tc.height}p.mp4`, fileBody(file), "video/mp4");
        result.transcode = {
          ...stored,
          bytes: (await stat(file)).size,
          durationSec: out.durationSec,
          width: out.video?.width ?? 0,
          height: out.video?.height ?? 0,
          videoCodec: out.video?.codec ?? "none",
          audioCodec: out.audio?.codec,
        };
      }
      ctx.progress(1, "done");
      return result;
    } finally {
      await releaseFetched(input);
    }
  },
};
