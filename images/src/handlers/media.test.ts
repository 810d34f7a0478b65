import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probe } from "./ffmpeg";
import { mediaHandler, mediaPayloadSchema, parsePlaylist } from "./media";
import { never, toneFrequency } from "./media-test-utils";
import { makeTestVideo, makeTone } from "./samples";
import { makeContext, type TestContext } from "./test-context";
import { requireTools } from "../dev/tools";

let fixtures: TestContext;
let toneUrl: string;
let videoUrl: string;

beforeAll(async () => {
  requireTools("ffmpeg", "ffprobe");
  fixtures = await makeContext();
  toneUrl = pathToFileURL(await makeTone(join(fixtures.workDir, "tone.wav"), { seconds: 2, frequency: 440 })).href;
  videoUrl = pathToFileURL(await makeTestVideo(join(fixtures.workDir, "clip.mp4"), { seconds: 6, width: 320, height: 240 })).href;
});
afterAll(() => fixtures?.cleanup());

async function withContext<T>(fn: (ctx: TestContext) => Promise<T>): Promise<T> {
  const ctx = await makeContext();
  try {
    return await fn(ctx);
  } finally {
    await ctx.cleanup();
  }
}

describe("media handler", () => {
  it.each([
    ["opus", "opus", "ogg", 48000],
    ["aac", "aac", "mp4", 44100],
    ["mp3", "mp3", "mp3", 44100],
    ["flac", "flac", "flac", 44100],
  ] as const)("converts a 440 Hz tone to %s and keeps its pitch and length", async (format, codec, container, rate) =>
    withContext(async (ctx) => {
      const r = await mediaHandler.run(mediaPayloadSchema.parse({ operation: "convert", input: toneUrl, format, audioBitrateKbps: 64 }), ctx);
      if (r.operation !== "convert") throw new Error("wrong operation");
      const file = ctx.store.pathOf(r.url);
      const out = await probe(file, never);
      expect(out.format).toContain(container);
      expect(out.audio).toMatchObject({ codec, sampleRate: rate, channels: 1 });
      expect(out.video).toBeUndefined();
      expect(out.durationSec).toBeGreaterThan(1.95);
      expect(out.durationSec).toBeLessThan(2.1);
      expect(await toneFrequency(file)).toBeGreaterThan(430);
      expect(await toneFrequency(file)).toBeLessThan(450);
      expect(r.bytes).toBeGreaterThan(1000);
    }),
  );

  it("converts video to WebM with VP9 and Opus at the asked height", async () =>
    withContext(async (ctx) => {
      const r = await mediaHandler.run(mediaPayloadSchema.parse({ operation: "convert", input: videoUrl, format: "webm", height: 120 }), ctx);
      if (r.operation !== "convert") throw new Error("wrong operation");
      const out = await probe(ctx.store.pathOf(r.url), never);
      expect(out.format).toContain("webm");
      expect(out.video).toMatchObject({ codec: "vp9", width: 160, height: 120 });
      expect(out.audio).toMatchObject({ codec: "opus" });
      expect(out.durationSec).toBeCloseTo(6, 0);
      expect(await toneFrequency(ctx.store.pathOf(r.url))).toBeCloseTo(440, -1);
    }));

  it("converts video to MP4 with H.264 and AAC", async () =>
    withContext(async (ctx) => {
      const r = await mediaHandler.run(mediaPayloadSchema.parse({ operation: "convert", input: videoUrl, format: "mp4", height: 144 }), ctx);
      if (r.operation !== "convert") throw new Error("wrong operation");
      const out = await probe(ctx.store.pathOf(r.url), never);
      expect(out.format).toContain("mp4");
      expect(out.video).toMatchObject({ codec: "h264", width: 192, height: 144 });
      expect(out.audio).toMatchObject({ codec: "aac" });
      expect(out.durationSec).toBeCloseTo(6, 0);
    }));

  it("packages HLS: a VOD playlist whose segments cover the input", async () =>
    withContext(async (ctx) => {
      const r = await mediaHandler.run(mediaPayloadSchema.parse({ operation: "hls", input: videoUrl, segmentSeconds: 2, height: 120 }), ctx);
      if (r.operation !== "hls") throw new Error("wrong operation");
      const playlist = await readFile(ctx.store.pathOf(r.playlistUrl), "utf8");
      expect(playlist).toMatch(/^#EXTM3U/);
      expect(playlist).toContain("#EXT-X-PLAYLIST-TYPE:VOD");
      expect(playlist).toContain("#EXT-X-ENDLIST");
      const entries = parsePlaylist(playlist);
      expect(entries).toHaveLength(3);
      for (const e of entries) expect(e.durationSec).toBeCloseTo(2, 0);
      expect(r.totalDurationSec).toBeCloseTo(6, 0);
      expect(r.segments.map((s) => s.url.split("/").pop())).toEqual(entries.map((e) => e.uri));
      for (const s of r.segments) {
        const seg = await probe(ctx.store.pathOf(s.url), never);
        expect(seg.format).toBe("mpegts");
        expect(seg.video).toMatchObject({ codec: "h264", height: 120 });
        expect(seg.audio?.codec).toBe("aac");
      }
    }));

  it("packages audio-only HLS", async () =>
    withContext(async (ctx) => {
      const r = await mediaHandler.run(mediaPayloadSchema.parse({ operation: "hls", input: toneUrl, segmentSeconds: 1 }), ctx);
      if (r.operation !== "hls") throw new Error("wrong operation");
      expect(r.segments.length).toBeGreaterThanOrEqual(2);
      expect(r.totalDurationSec).toBeCloseTo(2, 0);
      const seg = await probe(ctx.store.pathOf(r.segments[0].url), never);
      expect(seg.video).toBeUndefined();
      expect(seg.audio?.codec).toBe("aac");
    }));

  it("refuses a video format for audio-only input", async () =>
    withContext(async (ctx) => {
      await expect(mediaHandler.run(mediaPayloadSchema.parse({ operation: "convert", input: toneUrl, format: "mp4" }), ctx)).rejects.toThrow(
        /needs a video stream/,
      );
    }));

  it("kills ffmpeg when the job is aborted mid-run", async () =>
    withContext(async (ctx) => {
      const run = mediaHandler.run(mediaPayloadSchema.parse({ operation: "hls", input: videoUrl, segmentSeconds: 2 }), {
        ...ctx,
        progress: (f, m) => {
          ctx.progress(f, m);
          if (m === "packaging HLS") ctx.controller.abort(new Error("lease lost"));
        },
      });
      await expect(run).rejects.toThrow(/lease lost/);
      expect(ctx.progressLog.some((p) => p.message === "packaging HLS")).toBe(true);
      expect(ctx.progressLog.some((p) => p.fraction === 1)).toBe(false);
    }));

  it("stops when the job is aborted before it starts", async () =>
    withContext(async (ctx) => {
      ctx.controller.abort(new Error("worker shutting down"));
      await expect(mediaHandler.run(mediaPayloadSchema.parse({ operation: "hls", input: videoUrl }), ctx)).rejects.toThrow(/shutting down/);
    }));

  it("rejects unknown formats and operations at validation", () => {
    expect(mediaPayloadSchema.safeParse({ operation: "convert", input: toneUrl, format: "avi" }).success).toBe(false);
    expect(mediaPayloadSchema.safeParse({ operation: "burn", input: toneUrl }).success).toBe(false);
    expect(mediaPayloadSchema.safeParse({ operation: "hls", input: "ftp://x/y" }).success).toBe(false);
  });
});
