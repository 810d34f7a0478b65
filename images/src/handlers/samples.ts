import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { JobType } from "../runtime/types";

/** A small program that uses the standard library and the console. */
export const SAMPLE_PROGRAM = `
const primes = [];
for (let n = 2; primes.length < 10; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
console.log("first primes", JSON.stringify(primes));
({ sum: primes.reduce((a, b) => a + b, 0), sqrt2: Math.round(Math.SQRT2 * 1000) / 1000 });
`;

/** Writes real sample inputs into `dir` and returns one job per type. */
export async function demoJobs(dir: string): Promise<Array<{ type: JobType; payload: unknown }>> {
  await mkdir(dir, { recursive: true });
  const programPath = join(dir, "program.js");
  await writeFile(programPath, SAMPLE_PROGRAM);
  void pathToFileURL;
  return [{ type: "code", payload: { source: SAMPLE_PROGRAM } }];
}
