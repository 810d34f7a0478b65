import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probe, threadArgs } from "./ffmpeg";
import { averageColour, never } from "./media-test-utils";
import { makeColourVideo, makeTestVideo } from "./samples";
import { makeContext, type TestContext } from "./test-context";
import { requireTools } from "../dev/tools";
import { videoHandler, videoPayloadSchema } from "./video";

let fixtures: TestContext;
let colourUrl: string;

beforeAll(async () => {
  requireTools("ffmpeg", "ffprobe");
  fixtures = await makeContext();
  colourUrl = pathToFileURL(await makeColourVideo(join(fixtures.workDir, "colour.mp4"))).href;
});
afterAll(() => fixtures?.cleanup());

describe("video handler", () => {
  it("probes, grabs thumbnails at the asked times and transcodes to H.264/AAC at the asked height", async () => {
    const ctx = await makeContext();
    try {
      const r = await videoHandler.run(
        videoPayloadSchema.parse({ input: colourUrl, thumbnails: { times: [0.5, 1.5], height: 120 }, transcode: { height: 120 } }),
        ctx,
      );
      expect(r.probe.durationSec).toBeCloseTo(2, 1);
      expect(r.probe.video).toMatchObject({ codec: "h264", width: 320, height: 240, frameRate: 25 });
      expect(r.probe.audio).toMatchObject({ codec: "aac", sampleRate: 44100 });

      // The first second is red and the second blue, so each thumbnail's colour proves where it was taken.
      const [red, blue] = r.thumbnails.map((t) => ctx.store.pathOf(t.url));
      const redRgb = await averageColour(red);
      const blueRgb = await averageColour(blue);
      expect(redRgb[0]).toBeGreaterThan(200);
      expect(redRgb[2]).toBeLessThan(60);
      expect(blueRgb[2]).toBeGreaterThan(200);
      expect(blueRgb[0]).toBeLessThan(60);
      const thumb = await probe(red, never);
      expect(thumb.video).toMatchObject({ codec: "mjpeg", width: 160, height: 120 });

      const out = await probe(ctx.store.pathOf(r.transcode!.url), never);
      expect(out.format).toContain("mp4");
      expect(out.video).toMatchObject({ codec: "h264", width: 160, height: 120 });
      expect(out.audio?.codec).toBe("aac");
      expect(out.durationSec).toBeGreaterThan(1.9);
      expect(out.durationSec).toBeLessThan(2.2);
      expect(r.transcode).toMatchObject({ width: 160, height: 120, videoCodec: "h264", audioCodec: "aac" });

      const fractions = ctx.progressLog.map((p) => p.fraction);
      expect(fractions.length).toBeGreaterThan(3);
      expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
      expect(fractions.at(-1)).toBe(1);
    } finally {
      await ctx.cleanup();
    }
  });

  it("keeps odd heights even for H.264", async () => {
    const ctx = await makeContext();
    try {
      const r = await videoHandler.run(videoPayloadSchema.parse({ input: colourUrl, transcode: { height: 101, preset: "ultrafast" } }), ctx);
      expect(r.transcode!.height % 2).toBe(0);
      expect(r.transcode!.width % 2).toBe(0);
    } finally {
      await ctx.cleanup();
    }
  });

  it("stops ffmpeg promptly when the job is aborted", async () => {
    const ctx = await makeContext();
    try {
      const long = await makeTestVideo(join(ctx.workDir, "long.mp4"), { seconds: 20, width: 640, height: 360 });
      const t0 = Date.now();
      const running = videoHandler.run(videoPayloadSchema.parse({ input: pathToFileURL(long).href, transcode: { height: 360, preset: "slow" } }), {
        ...ctx,
        progress: (f, m) => {
          ctx.progress(f, m);
          if (m === "transcoding") ctx.controller.abort(new Error("job timed out"));
        },
      });
      await expect(running).rejects.toThrow(/job timed out/);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(ctx.progressLog.some((p) => p.message === "transcoding")).toBe(true);
    } finally {
      await ctx.cleanup();
    }
  });

  it("rejects a file that is not a video with a clear error", async () => {
    const ctx = await makeContext();
    try {
      const bogus = join(ctx.workDir, "not-video.mp4");
      await writeFile(bogus, "this is text, not a video");
      await expect(videoHandler.run(videoPayloadSchema.parse({ input: pathToFileURL(bogus).href }), ctx)).rejects.toThrow(/not a readable media file/);
    } finally {
      await ctx.cleanup();
    }
  });

  it("refuses thumbnails past the end", async () => {
    const ctx = await makeContext();
    try {
      await expect(videoHandler.run(videoPayloadSchema.parse({ input: colourUrl, thumbnails: { times: [9] } }), ctx)).rejects.toThrow(/past the end/);
    } finally {
      await ctx.cleanup();
    }
  });

  it("reads FFMPEG_THREADS when it runs ffmpeg", async () => {
    const ctx = await makeContext();
    const saved = process.env.FFMPEG_THREADS;
    process.env.FFMPEG_THREADS = "lots";
    try {
      await expect(videoHandler.run(videoPayloadSchema.parse({ input: colourUrl, transcode: { height: 60 } }), ctx)).rejects.toThrow(
        /FFMPEG_THREADS must be "auto" or 1\.\.64, got lots/,
      );
      process.env.FFMPEG_THREADS = "1";
      const r = await videoHandler.run(videoPayloadSchema.parse({ input: colourUrl, transcode: { height: 60, preset: "ultrafast" } }), ctx);
      expect(r.transcode?.height).toBe(60);
    } finally {
      if (saved === undefined) delete process.env.FFMPEG_THREADS;
      else process.env.FFMPEG_THREADS = saved;
      await ctx.cleanup();
    }
  });

  it("turns FFMPEG_THREADS into ffmpeg's -threads", () => {
    expect(threadArgs({ FFMPEG_THREADS: "3" })).toEqual(["-threads", "3"]);
    expect(threadArgs({ FFMPEG_THREADS: "auto" })).toEqual([]);
    expect(threadArgs({})).toEqual([]);
    expect(() => threadArgs({ FFMPEG_THREADS: "many" })).toThrow(/FFMPEG_THREADS/);
  });
});
