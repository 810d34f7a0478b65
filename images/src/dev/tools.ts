import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The Debian tools the tests and the demo run (ffmpeg, poppler-utils, qpdf, PostgreSQL's client and server,
 * promtool, amtool, nginx) are listed in `scripts/debian-tools.txt`. The project's set-up step
 * (`scripts/setup-tools.ts`, run before `npm test` and `npm run demo`) puts every one of them in `.tools/bin`:
 * a link to the machine's own binary when it has one, otherwise a launcher for the package it unpacked there.
 * Dev-only: the images install their packages with apt and never load this module.
 */

/** The repository root (this file is `images/src/dev/tools.ts`, or `images/dist/dev/tools.js` once compiled). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
export const TOOLS_LIST = path.join(REPO_ROOT, "scripts", "debian-tools.txt");
/** The set-up step's directory (gitignored): downloads, unpacked packages, launchers, manifest. */
export const TOOLS_DIR = path.join(REPO_ROOT, ".tools");
/** Where the set-up step puts every listed binary. */
export const TOOLS_BIN = path.join(TOOLS_DIR, "bin");
/** Where the set-up step unpacks the Debian packages the machine lacks. */
export const UNPACKED_ROOT = path.join(TOOLS_DIR, "root");
/** What the set-up step provided and from where. */
export const MANIFEST = path.join(TOOLS_DIR, "manifest.json");

export interface Manifest {
  readonly version: 1;
  /** The clone the launchers were written for (they hold absolute paths). */
  readonly repoRoot: string;
  /** scripts/debian-tools.txt when it was read: binary -> package. */
  readonly list: Record<string, string>;
  /** The real binary behind `.tools/bin/<binary>`: this machine's own, or one unpacked into `.tools/root`. */
  readonly tools: Record<string, { readonly path: string; readonly package: string; readonly from: "system" | "unpacked" }>;
  /** Listed binaries the step could not provide: binary -> package. */
  readonly missing: Record<string, string>;
  /** The packages unpacked into `.tools/root` (`name=version`) and the library path their binaries run with. */
  readonly unpacked: { readonly packages: string[]; readonly libraryPath: string[] };
}

export function readManifest(): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(MANIFEST, "utf8")) as Manifest;
  } catch {
    return undefined;
  }
}

/** `binary -> Debian package`, from `scripts/debian-tools.txt`. */
export function debianTools(file = TOOLS_LIST): Map<string, string> {
  const tools = new Map<string, string>();
  if (!existsSync(file)) return tools;
  for (const raw of readFileSync(file, "utf8").split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const [binary, pkg, extra] = line.split(/\s+/);
    if (!pkg || extra !== undefined) throw new Error(`${file}: expected "<binary> <debian-package>", got "${line}"`);
    tools.set(binary, pkg);
  }
  return tools;
}

export const GO_TOOLS_LIST = path.join(REPO_ROOT, "scripts", "go-tools.txt");
/** Where the set-up step builds the Go tools (linked into `.tools/bin`). */
export const GO_TOOLS_BIN = path.join(TOOLS_DIR, "go", "bin");

/** `binary -> module@version`, from `scripts/go-tools.txt`: test servers no Debian package carries. */
export function goTools(file = GO_TOOLS_LIST): Map<string, string> {
  const tools = new Map<string, string>();
  if (!existsSync(file)) return tools;
  for (const raw of readFileSync(file, "utf8").split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const [binary, mod, extra] = line.split(/\s+/);
    if (!mod || !/^[^@\s]+@v[0-9][^\s]*$/.test(mod) || extra !== undefined) throw new Error(`${file}: expected "<binary> <module>@<version>", got "${line}"`);
    tools.set(binary, mod);
  }
  return tools;
}

/** `PATH` with the project's tool directory first (once). */
export function pathWithTools(envPath = process.env.PATH ?? ""): string {
  const parts = envPath.split(path.delimiter).filter((p) => p && p !== TOOLS_BIN);
  return [TOOLS_BIN, ...parts].join(path.delimiter);
}

/** Puts the project's tool directory first on this process's `PATH`, so children find the tools by name. */
export function useProjectTools(): void {
  process.env.PATH = pathWithTools(process.env.PATH);
}

/** The absolute path of `name` as a child process would find it (project tools first), or undefined. */
export function findTool(name: string, envPath = pathWithTools()): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A tool that is not installed: its message is one line naming the tool and the Debian package providing it. */
export class MissingToolError extends Error {
  constructor(
    readonly tool: string,
    readonly debianPackage: string | undefined,
  ) {
    const pkg = debianPackage ?? "(not listed in scripts/debian-tools.txt)";
    super(
      `missing tool: ${tool}, from the Debian package ${pkg}; ` +
        `run \`npm run setup\` (npm test and npm run demo run it first) or \`apt-get install ${debianPackage ?? tool}\``,
    );
    this.name = "MissingToolError";
    // One line is the whole story; a stack adds nothing but noise.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/**
 * The absolute path of a tool the caller cannot work without; throws MissingToolError at once when it is absent
 * (call it in `beforeAll` so a test file fails in milliseconds, not at its first timeout).
 */
export function requireTool(name: string): string {
  const found = findTool(name);
  if (found) return found;
  const mod = goTools().get(name);
  if (mod) {
    const err = new Error(`missing tool: ${name}, built from the Go module ${mod}; run \`npm run setup\` (npm test runs it first; it needs the go toolchain)`);
    err.stack = `Error: ${err.message}`;
    throw err;
  }
  throw new MissingToolError(name, debianTools().get(name));
}

/** requireTool for several tools: reports every missing one in one line. */
export function requireTools(...names: string[]): string[] {
  const missing = names.filter((n) => !findTool(n));
  if (missing.length === 1) requireTool(missing[0]);
  if (missing.length > 1) {
    const listed = debianTools();
    const pkgs = [...new Set(missing.map((n) => listed.get(n) ?? n))];
    const err = new Error(
      `missing tools: ${missing.map((n) => `${n} (${listed.get(n) ?? "unlisted"})`).join(", ")}; ` +
        `run \`npm run setup\` (npm test and npm run demo run it first) or \`apt-get install ${pkgs.join(" ")}\``,
    );
    err.stack = `Error: ${err.message}`;
    throw err;
  }
  return names.map((n) => findTool(n)!);
}
