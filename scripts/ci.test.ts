import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
const ci = readFileSync(path.join(ROOT, ".ci", "run"), "utf8");

/** Flags that change what npm prints, not what it does. */
const QUIET = new Set(["--silent", "--no-audit", "--no-fund"]);

/** One command as a user types it: `&&` chains split, comments and output-only flags dropped. */
function commands(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.replace(/\s#.*$/, "").trim())
    .filter((l) => l && !l.startsWith("#"))
    .flatMap((l) => l.split("&&"))
    .map((c) =>
      c
        .trim()
        .split(/\s+/)
        .filter((w) => !QUIET.has(w))
        .join(" "),
    )
    .filter(Boolean);
}

/** The shell blocks of one README section. */
function section(title: string): string[] {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `README has a "${title}" section`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 1);
  const body = readme.slice(start, end < 0 ? undefined : end);
  return [...body.matchAll(/```bash\n([\s\S]*?)```/g)].flatMap((m) => commands(m[1]));
}

/** What .ci/run runs: its command lines, without the shell's own set-up (set, cd, export, step headings). */
function ciCommands(): string[] {
  const body = ci.replace(/^step\(\)[^\n]*\n/m, "");
  return commands(body).filter((c) => !/^(set|cd|export|step)\b/.test(c));
}

describe(".ci/run", () => {
  it("runs every command of the README's Start here", () => {
    const start = section("Start here");
    expect(start).toEqual(["npm ci", "npm run plan", "npm test"]);
    for (const c of start) expect(ciCommands()).toContain(c);
  });

  it("runs nothing the README does not show a user (no hidden install step)", () => {
    const shown = new Set([...section("Start here"), ...section("Development")]);
    const extra = ciCommands().filter((c) => !shown.has(c));
    expect(extra).toEqual([]);
    expect(ci).not.toMatch(/\b(apt-get|apt|dpkg|sudo|curl|wget|pip)\b/);
  });

  it("sets no environment a user would not have", () => {
    expect(ci.split("\n").filter((l) => /^\s*(export\s|\w+=)/.test(l))).toEqual([]);
  });
});
