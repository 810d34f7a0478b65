import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { JobType } from "../runtime/types";
import { runTool } from "./ffmpeg";

/** A small program that uses the standard library and the console. */
export const SAMPLE_PROGRAM = `
const primes = [];
for (let n = 2; primes.length < 10; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
console.log("first primes", JSON.stringify(primes));
({ sum: primes.reduce((a, b) => a + b, 0), sqrt2: Math.round(Math.SQRT2 * 1000) / 1000 });
`;

const never = new AbortController().signal;

/** ffmpeg's test pattern with a 440 Hz tone, H.264/AAC in MP4. */
export async function makeTestVideo(
  path: string,
  opts: { seconds?: number; width?: number; height?: number; fps?: number } = {},
  signal: AbortSignal = never,
): Promise<string> {
  const { seconds = 2, width = 320, height = 240, fps = 25 } = opts;
  await runTool("ffmpeg", [
    "-hide_banner", "-loglevel", "error", "-nostdin",
    "-f", "lavfi", "-i", `testsrc2=size=${width}x${height}:rate=${fps}:duration=${seconds}`,
    "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=44100:duration=${seconds}`,
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-y", path,
  ], signal);
  return path;
}

/** One second of solid red then one of solid blue, so a frame's colour tells its time. */
export async function makeColourVideo(path: string, signal: AbortSignal = never): Promise<string> {
  await runTool("ffmpeg", [
    "-hide_banner", "-loglevel", "error", "-nostdin",
    "-f", "lavfi", "-i", "color=c=red:s=320x240:r=25:d=1",
    "-f", "lavfi", "-i", "color=c=blue:s=320x240:r=25:d=1",
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2",
    "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]",
    "-map", "[v]", "-map", "2:a",
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "5", "-c:a", "aac", "-y", path,
  ], signal);
  return path;
}

/** A pure sine tone as 16-bit PCM WAV. */
export async function makeTone(path: string, opts: { seconds?: number; frequency?: number; sampleRate?: number } = {}): Promise<string> {
  const { seconds = 2, frequency = 440, sampleRate = 44100 } = opts;
  await runTool("ffmpeg", [
    "-hide_banner", "-loglevel", "error", "-nostdin",
    "-f", "lavfi", "-i", `sine=frequency=${frequency}:sample_rate=${sampleRate}:duration=${seconds}`,
    "-c:a", "pcm_s16le", "-y", path,
  ], never);
  return path;
}

/** A PDF with one page per entry, each line drawn as text, and the given document info. */
export async function makePdf(
  path: string,
  pages: string[][],
  info: { title?: string; author?: string; subject?: string } = {},
): Promise<string> {
  // Loaded here so the worker images, which never write PDFs, can leave pdf-lib out.
  const { PDFDocument, StandardFonts } = await import("pdf-lib");
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  if (info.title) doc.setTitle(info.title);
  if (info.author) doc.setAuthor(info.author);
  if (info.subject) doc.setSubject(info.subject);
  doc.setCreator("pitchey samples");
  for (const lines of pages) {
    const page = doc.addPage([595, 842]);
    lines.forEach((line, i) => page.drawText(line, { x: 50, y: 780 - i * 20, size: 12, font }));
  }
  await writeFile(path, await doc.save());
  return path;
}

/** Writes real sample inputs into `dir` and returns one job per type. */
export async function demoJobs(dir: string): Promise<Array<{ type: JobType; payload: unknown }>> {
  await mkdir(dir, { recursive: true });
  const url = (p: string) => pathToFileURL(p).href;
  const video = await makeTestVideo(join(dir, "testsrc.mp4"), { seconds: 3 });
  const tone = await makeTone(join(dir, "tone.wav"), { seconds: 3 });
  await writeFile(join(dir, "program.js"), SAMPLE_PROGRAM);
  // Four rows, each raised in a different quarter: the shipped model labels them 0, 1, 2, 3.
  const inferenceRows = join(dir, "rows.json");
  await writeFile(inferenceRows, JSON.stringify([0, 1, 2, 3].map((q) => Array.from({ length: 512 }, (_, i) => (Math.floor(i / 128) === q ? 1 : 0)))));
  const pdf = await makePdf(
    join(dir, "report.pdf"),
    [["Quarterly report", "Revenue grew 12 percent."], ["Second page", "Costs were flat."]],
    { title: "Sample report", author: "Pitchey" },
  );
  return [
    { type: "video", payload: { input: url(video), thumbnails: { times: [0.5, 2], height: 120 }, transcode: { height: 144 } } },
    { type: "media", payload: { operation: "convert", input: url(tone), format: "opus", audioBitrateKbps: 64 } },
    { type: "document", payload: { input: url(pdf) } },
    { type: "inference", payload: { input: url(inferenceRows) } },
    { type: "code", payload: { source: SAMPLE_PROGRAM } },
  ];
}
