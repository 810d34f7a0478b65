import { spawn } from "node:child_process";
import { PermanentJobError } from "../runtime/errors";
import { toolEnv } from "../runtime/tool-env";

/** The input cannot be processed as asked (unreadable, missing a stream): retrying cannot help. */
export class MediaError extends PermanentJobError {
  override readonly name = "MediaError";
}

/**
 * A tool exited with an error or was killed. Not permanent by itself (a tool killed for memory, a full disk):
 * callers that know the cause is the input say so with a permanent error.
 */
export class ToolError extends Error {
  override readonly name = "ToolError";
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
  ) {
    super(message);
  }
}

/** `-threads` for ffmpeg from `FFMPEG_THREADS` ("auto", unset or 0 let ffmpeg choose). */
export function threadArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = (env.FFMPEG_THREADS ?? "").trim();
  if (raw === "" || raw === "auto" || raw === "0") return [];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new MediaError(`FFMPEG_THREADS must be "auto" or 1..64, got ${raw}`);
  return ["-threads", String(n)];
}

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion; the signal kills it, and stderr's tail explains a failure. */
export function runTool(cmd: string, args: string[], signal: AbortSignal, onStdoutLine?: (line: string) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    // Tools parse hostile files: they get a minimal environment, never the worker's secrets.
    const child = spawn(cmd, args, { signal, stdio: ["ignore", "pipe", "pipe"], killSignal: "SIGKILL", env: toolEnv() });
    let stdout = "";
    let stderr = "";
    let pending = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      if (onStdoutLine) {
        pending += chunk;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const l of lines) onStdoutLine(l);
      } else if (stdout.length < 16 * 1024 * 1024) {
        stdout += chunk;
      }
    });
    // Only the tail matters for diagnosis; keeping it bounded keeps memory flat on long runs.
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-8192);
    });
    child.on("error", (err) => reject(signal.aborted ? (signal.reason ?? err) : err));
    child.on("close", (code, sig) => {
      if (signal.aborted) return reject(signal.reason ?? new Error("aborted"));
      if (code === 0) return resolve({ stdout, stderr });
      const tail = stderr.trim().split("\n").slice(-4).join(" | ");
      reject(new ToolError(`${cmd} failed (${sig ?? `exit ${code}`}): ${tail}`, code, sig));
    });
  });
}

export interface StreamInfo {
  index: number;
  codecType: "video" | "audio" | string;
  codec: string;
  width?: number;
  height?: number;
  frameRate?: number;
  sampleRate?: number;
  channels?: number;
  durationSec?: number;
}

export interface ProbeInfo {
  format: string;
  durationSec: number;
  bitRate?: number;
  sizeBytes?: number;
  streams: StreamInfo[];
  video?: StreamInfo;
  audio?: StreamInfo;
}

function ratio(r: string | undefined): number | undefined {
  if (!r) return undefined;
  const [a, b] = r.split("/").map(Number);
  return b ? Math.round((a / b) * 1000) / 1000 : a || undefined;
}

function num(v: unknown): number | undefined {
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** ffprobe's view of a file, reduced to what jobs report. */
export async function probe(path: string, signal: AbortSignal): Promise<ProbeInfo> {
  let out: RunResult;
  try {
    out = await runTool("ffprobe", ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", path], signal);
  } catch (err) {
    if (signal.aborted) throw err;
    // ffprobe exiting with an error is about the file; killed by a signal or not started, it is not.
    if (err instanceof ToolError && err.signal === null) throw new MediaError(`not a readable media file: ${err.message}`);
    throw err;
  }
  const j = JSON.parse(out.stdout) as {
    format?: Record<string, string>;
    streams?: Array<Record<string, unknown>>;
  };
  const streams: StreamInfo[] = (j.streams ?? []).map((s) => ({
    index: Number(s.index),
    codecType: String(s.codec_type),
    codec: String(s.codec_name),
    width: num(s.width),
    height: num(s.height),
    frameRate: s.codec_type === "video" ? ratio(s.avg_frame_rate as string) : undefined,
    sampleRate: num(s.sample_rate),
    channels: num(s.channels),
    durationSec: num(s.duration),
  }));
  const durationSec = num(j.format?.duration) ?? Math.max(0, ...streams.map((s) => s.durationSec ?? 0));
  return {
    format: String(j.format?.format_name ?? "unknown"),
    durationSec,
    bitRate: num(j.format?.bit_rate),
    sizeBytes: num(j.format?.size),
    streams,
    video: streams.find((s) => s.codecType === "video"),
    audio: streams.find((s) => s.codecType === "audio"),
  };
}

/**
 * Runs ffmpeg with machine-readable progress on stdout, reporting the fraction of `durationSec` done.
 */
export async function ffmpeg(
  args: string[],
  opts: { signal: AbortSignal; durationSec?: number; onProgress?: (fraction: number) => void },
): Promise<void> {
  const full = ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-progress", "pipe:1", ...threadArgs(), ...args];
  let last = 0;
  await runTool("ffmpeg", full, opts.signal, (line) => {
    const m = /^out_time_(?:us|ms)=(\d+)/.exec(line);
    if (m && opts.durationSec && opts.onProgress) {
      const fraction = Math.min(1, Number(m[1]) / 1e6 / opts.durationSec);
      if (fraction - last >= 0.05) {
        last = fraction;
        opts.onProgress(fraction);
      }
    }
  });
}

/** Output height rounded to an even number, as H.264 4:2:0 requires. */
export function evenScale(height: number): string {
  return `scale=-2:${2 * Math.round(height / 2)}`;
}
