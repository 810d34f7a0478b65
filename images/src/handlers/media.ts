import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { JobContext, JobHandler } from "../runtime/types";
import { fileBody, releaseFetched } from "../store";
import { evenScale, ffmpeg, MediaError, probe, type ProbeInfo } from "./ffmpeg";
import { inputUrl } from "./schema";

/** Output formats and the codecs each carries. */
export const MEDIA_FORMATS = {
  opus: { ext: "opus", mime: "audio/ogg", audio: ["-c:a", "libopus"], video: null },
  aac: { ext: "m4a", mime: "audio/mp4", audio: ["-c:a", "aac"], video: null },
  mp3: { ext: "mp3", mime: "audio/mpeg", audio: ["-c:a", "libmp3lame"], video: null },
  flac: { ext: "flac", mime: "audio/flac", audio: ["-c:a", "flac"], video: null },
  wav: { ext: "wav", mime: "audio/wav", audio: ["-c:a", "pcm_s16le"], video: null },
  // VP9 in realtime mode keeps WebM encodes within a job's time budget.
  webm: { ext: "webm", mime: "video/webm", audio: ["-c:a", "libopus"], video: ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1", "-b:v", "0", "-crf", "35"] },
  mp4: { ext: "mp4", mime: "video/mp4", audio: ["-c:a", "aac"], video: ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-movflags", "+faststart"] },
} as const;
export type MediaFormat = keyof typeof MEDIA_FORMATS;

const lossless = new Set<MediaFormat>(["flac", "wav"]);

export const mediaPayloadSchema = z.discriminatedUnion("operation", [
  z
    .object({
      operation: z.literal("convert"),
      input: inputUrl,
      format: z.enum(Object.keys(MEDIA_FORMATS) as [MediaFormat, ...MediaFormat[]]),
      /** Audio bitrate for lossy formats. */
      audioBitrateKbps: z.number().int().min(8).max(512).default(128),
      /** Video height for webm/mp4; the source height when absent. */
      height: z.number().int().min(16).max(4320).optional(),
      sampleRate: z.number().int().refine((r) => [8000, 16000, 22050, 24000, 44100, 48000].includes(r)).optional(),
    })
    .strict(),
  z
    .object({
      operation: z.literal("hls"),
      input: inputUrl,
      /** Target segment length; segments cut on keyframes, which are forced at this interval. */
      segmentSeconds: z.number().min(1).max(30).default(4),
      height: z.number().int().min(16).max(4320).optional(),
      audioBitrateKbps: z.number().int().min(32).max(512).default(128),
    })
    .strict(),
]);
export type MediaPayload = z.infer<typeof mediaPayloadSchema>;

export type MediaResult =
  | { operation: "convert"; url: string; bytes: number; format: MediaFormat; output: ProbeInfo }
  | {
      operation: "hls";
      playlistUrl: string;
      segments: Array<{ url: string; bytes: number; durationSec: number }>;
      totalDurationSec: number;
      output: ProbeInfo;
    };

/** Segment lengths from an HLS media playlist's EXTINF tags. */
export function parsePlaylist(text: string): Array<{ uri: string; durationSec: number }> {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const out: Array<{ uri: string; durationSec: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^#EXTINF:([\d.]+)/.exec(lines[i]);
    if (m) {
      const uri = lines.slice(i + 1).find((l) => l && !l.startsWith("#"));
      if (uri) out.push({ uri, durationSec: Number(m[1]) });
    }
  }
  return out;
}

async function convert(p: Extract<MediaPayload, { operation: "convert" }>, input: string, info: ProbeInfo, ctx: JobContext): Promise<MediaResult> {
  const fmt = MEDIA_FORMATS[p.format];
  const file = join(ctx.workDir, `converted.${fmt.ext}`);
  const args = ["-i", input];
  if (fmt.video) {
    if (!info.video) throw new MediaError(`${p.format} output needs a video stream; the input has none`);
    args.push("-map", "0:v:0", "-map", "0:a:0?", ...fmt.video);
    if (p.height) args.push("-vf", evenScale(p.height));
  } else {
    if (!info.audio) throw new MediaError(`${p.format} output needs an audio stream; the input has none`);
    args.push("-map", "0:a:0", "-vn");
  }
  args.push(...fmt.audio);
  if (!lossless.has(p.format)) args.push("-b:a", `${p.audioBitrateKbps}k`);
  // Opus runs at 48 kHz whatever it is fed; ffmpeg resamples.
  if (p.sampleRate && p.format !== "opus") args.push("-ar", String(p.sampleRate));
  args.push("-y", file);
  await ffmpeg(args, { signal: ctx.signal, durationSec: info.durationSec, onProgress: (f) => ctx.progress(0.05 + f * 0.9, `converting to ${p.format}`) });
  const output = await probe(file, ctx.signal);
  const stored = await ctx.store.put(`media/${ctx.jobId}/output.${fmt.ext}`, fileBody(file), fmt.mime);
  return { operation: "convert", ...stored, format: p.format, output };
}

async function hls(p: Extract<MediaPayload, { operation: "hls" }>, input: string, info: ProbeInfo, ctx: JobContext): Promise<MediaResult> {
  const dir = join(ctx.workDir, "hls");
  await mkdir(dir, { recursive: true });
  const args = ["-i", input];
  if (info.video) {
    args.push(
      "-map", "0:v:0", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
      // Keyframes on the segment grid make every segment start decodable and cut where asked.
      "-force_key_frames", `expr:gte(t,n_forced*${p.segmentSeconds})`, "-sc_threshold", "0",
    );
    if (p.height) args.push("-vf", evenScale(p.height));
  }
  if (info.audio) args.push("-map", "0:a:0", "-c:a", "aac", "-b:a", `${p.audioBitrateKbps}k`);
  if (!info.video && !info.audio) throw new MediaError("input has neither audio nor video");
  args.push(
    "-f", "hls", "-hls_time", String(p.segmentSeconds), "-hls_playlist_type", "vod", "-hls_list_size", "0",
    "-hls_segment_filename", join(dir, "segment-%04d.ts"), "-y", join(dir, "index.m3u8"),
  );
  await ffmpeg(args, { signal: ctx.signal, durationSec: info.durationSec, onProgress: (f) => ctx.progress(0.05 + f * 0.85, "packaging HLS") });

  const playlist = await readFile(join(dir, "index.m3u8"), "utf8");
  const entries = parsePlaylist(playlist);
  const onDisk = new Set(await readdir(dir));
  const segments: Array<{ url: string; bytes: number; durationSec: number }> = [];
  for (const e of entries) {
    if (!onDisk.has(e.uri)) throw new MediaError(`playlist names ${e.uri}, which ffmpeg did not write`);
    const stored = await ctx.store.put(`media/${ctx.jobId}/hls/${e.uri}`, fileBody(join(dir, e.uri)), "video/mp2t");
    segments.push({ ...stored, durationSec: e.durationSec });
  }
  // Segment URIs stay relative so the playlist works wherever the folder is served from.
  const stored = await ctx.store.put(`media/${ctx.jobId}/hls/index.m3u8`, Buffer.from(playlist), "application/vnd.apple.mpegurl");
  const output = await probe(join(dir, entries[0]?.uri ?? "index.m3u8"), ctx.signal);
  return {
    operation: "hls",
    playlistUrl: stored.url,
    segments,
    totalDurationSec: Math.round(entries.reduce((s, e) => s + e.durationSec, 0) * 1000) / 1000,
    output,
  };
}

export const mediaHandler: JobHandler<MediaPayload, MediaResult> = {
  type: "media",
  payloadSchema: mediaPayloadSchema as z.ZodType<MediaPayload>,
  async run(payload, ctx) {
    const p = mediaPayloadSchema.parse(payload);
    const input = await ctx.store.fetchToFile(p.input, ctx.signal);
    try {
      const info = await probe(input, ctx.signal);
      ctx.progress(0.05, "probed");
      const result = p.operation === "convert" ? await convert(p, input, info, ctx) : await hls(p, input, info, ctx);
      ctx.progress(1, "done");
      return result;
    } finally {
      await releaseFetched(input);
    }
  },
};
