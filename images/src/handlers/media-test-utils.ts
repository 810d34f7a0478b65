import { runTool } from "./ffmpeg";

const never = new AbortController().signal;

/** Average RGB of a decoded image or first video frame. */
export async function averageColour(path: string): Promise<[number, number, number]> {
  const { stdout } = await runRaw(["-i", path, "-frames:v", "1", "-vf", "scale=16:16", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);
  const px = Buffer.from(stdout, "latin1");
  const sum = [0, 0, 0];
  for (let i = 0; i < px.length; i++) sum[i % 3] += px[i];
  const n = px.length / 3;
  return [sum[0] / n, sum[1] / n, sum[2] / n];
}

/** Dominant frequency of the first audio stream, by counting zero crossings of mono PCM. */
export async function toneFrequency(path: string, sampleRate = 48000): Promise<number> {
  const { stdout } = await runRaw(["-i", path, "-map", "0:a:0", "-ac", "1", "-ar", String(sampleRate), "-f", "s16le", "pipe:1"]);
  const buf = Buffer.from(stdout, "latin1");
  const samples = new Int16Array(buf.buffer, buf.byteOffset, Math.floor(buf.length / 2));
  // Skip the encoder's priming and fade edges.
  const start = Math.floor(samples.length * 0.1);
  const end = Math.floor(samples.length * 0.9);
  let crossings = 0;
  for (let i = start + 1; i < end; i++) if ((samples[i - 1] < 0) !== (samples[i] < 0)) crossings++;
  return crossings / 2 / ((end - start) / sampleRate);
}

async function runRaw(args: string[]): Promise<{ stdout: string }> {
  const { spawn } = await import("node:child_process");
  return new Promise((resolve, reject) => {
    const child = spawn("ffmpeg", ["-hide_banner", "-loglevel", "error", "-nostdin", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve({ stdout: Buffer.concat(chunks).toString("latin1") }) : reject(new Error(`ffmpeg exit ${code}`))));
  });
}

export { runTool, never };
