/**
 * The project's set-up step, run before `npm test` and `npm run demo` (and by `npm run setup`): puts every binary
 * of scripts/debian-tools.txt in .tools/bin, without root and without installing anything on the machine.
 *
 * - A binary this machine already has (on PATH, in /usr/sbin, or in /usr/lib/postgresql/<newest>/bin) is linked.
 * - The others come from their Debian packages: apt, with its state and cache in .tools/apt but the machine's own
 *   sources (so Ubuntu gets Ubuntu's packages), works out what the package needs that the machine lacks, downloads
 *   those .debs into .tools/debs and `dpkg-deb -x` unpacks them into .tools/root; .tools/bin/<binary> is then a
 *   launcher that sets LD_LIBRARY_PATH to the unpacked libraries.
 *
 * A second run finds .tools/manifest.json up to date and does nothing. Concurrent runs take turns on a lock.
 * A tool that cannot be provided is reported in one line and the step still succeeds: the tests that need the
 * tool fail at once, naming it (images/src/dev/tools.ts, requireTool), and the others run.
 */
import { spawnSync } from "node:child_process";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { debianTools, GO_TOOLS_BIN, goTools, MANIFEST, type Manifest, readManifest, REPO_ROOT, TOOLS_BIN, TOOLS_DIR, UNPACKED_ROOT as UNPACKED } from "../images/src/dev/tools";

const DEBS = path.join(TOOLS_DIR, "debs");
const APT = path.join(TOOLS_DIR, "apt");
const LOCK = path.join(TOOLS_DIR, "lock");

const say = (msg: string) => process.stderr.write(`setup: ${msg}\n`);
const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** /usr/lib/postgresql/<newest major>/bin under `root`, where Debian keeps the server and the real client tools. */
function postgresBinDir(root: string): string | undefined {
  const base = path.join(root, "usr", "lib", "postgresql");
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base)
    .filter((d) => /^\d+$/.test(d) && existsSync(path.join(base, d, "bin")))
    .map(Number)
    .sort((a, b) => b - a);
  return majors.length ? path.join(base, String(majors[0]), "bin") : undefined;
}

/** This machine's own copy of `binary`, if any (never our own launchers, never Debian's pg_wrapper). */
function systemBinary(binary: string): string | undefined {
  const ours = [TOOLS_BIN, path.join(REPO_ROOT, "node_modules", ".bin")];
  const dirs = [
    postgresBinDir("/"),
    ...(process.env.PATH ?? "").split(path.delimiter),
    "/usr/local/sbin",
    "/usr/sbin",
    "/sbin",
  ].filter((d): d is string => !!d && path.isAbsolute(d) && !ours.some((o) => path.resolve(d) === o));
  for (const dir of dirs) {
    const candidate = path.join(dir, binary);
    if (!isExecutable(candidate)) continue;
    // Debian's version-dispatching wrapper (Perl) needs postgresql-common's configuration; use the real binaries.
    if (realpathSync(candidate).endsWith("/pg_wrapper")) continue;
    return candidate;
  }
  return undefined;
}

/** Nothing to do: same list, same clone, the machine's binaries unchanged, every launcher in place. */
function upToDate(m: Manifest | undefined, list: Map<string, string>): boolean {
  if (!m || m.version !== 1 || m.repoRoot !== REPO_ROOT) return false;
  if (JSON.stringify(m.list) !== JSON.stringify(Object.fromEntries(list))) return false;
  if (Object.keys(m.missing).length > 0) return false;
  for (const binary of list.keys()) {
    const t = m.tools[binary];
    if (!t) return false;
    if ((t.from === "system" ? t.path : undefined) !== systemBinary(binary)) return false;
    if (!isExecutable(path.join(TOOLS_BIN, binary))) return false;
  }
  return true;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A directory lock holding the owner's pid; a lock whose owner has died is taken over. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(TOOLS_DIR, { recursive: true });
  let waited = false;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(path.join(LOCK, "pid"), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path.join(LOCK, "pid"), "utf8"));
      } catch {
        // The owner is between mkdir and writing its pid, or died there.
      }
      const age = Date.now() - statSync(LOCK, { throwIfNoEntry: false })!.mtimeMs;
      if (Number.isNaN(owner) ? age > 10_000 : !alive(owner)) {
        rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      if (!waited) say(`waiting for another set-up (pid ${owner || "?"}) to finish`);
      waited = true;
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd, env: { ...process.env, LC_ALL: "C" }, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout).trim().split("\n").filter((l) => /^(E|W):|rror/.test(l)).slice(-3).join(" | ");
    throw new Error(`${cmd} ${args.find((a) => !a.startsWith("-")) ?? ""} failed (exit ${r.status}): ${why || r.stderr.trim().split("\n").at(-1)}`);
  }
  return r.stdout;
}

/** apt with private state and cache, reading the machine's sources and dpkg status. */
function apt(args: string[], cwd?: string): string {
  const opts = [
    `Dir::State=${APT}/state`,
    `Dir::Cache=${APT}/cache`,
    "Debug::NoLocking=1",
    "Acquire::Retries=2",
    "Acquire::http::Timeout=30",
    "Acquire::https::Timeout=30",
    "APT::Get::List-Cleanup=0",
    // As root apt would download as `_apt`, which cannot write into a private directory.
    ...(process.getuid?.() === 0 ? ["APT::Sandbox::User=root"] : []),
  ].flatMap((o) => ["-o", o]);
  return run("apt-get", ["-q", ...opts, ...args], { cwd });
}

interface Unpacked {
  packages: string[];
  libraryPath: string[];
}

/** Every directory under the unpacked tree's lib dirs holding a shared object. */
function libraryDirs(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => !e.isDirectory() && /\.so(\.\d+)*$/.test(e.name))) out.push(dir);
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  for (const d of ["lib", "lib64", "usr/lib", "usr/lib64"]) walk(path.join(root, d));
  return out;
}

/**
 * The packages a simulated `apt-get install` would add: its `Inst name (version …)` lines. Upgrades of installed
 * packages (`Inst name [old] (new …)`) are left out: the machine's own version serves.
 */
export function packagesToFetch(simulation: string): Array<{ name: string; version: string }> {
  return [...simulation.matchAll(/^Inst (\S+) \(([^ ]+) /gm)].map(([, name, version]) => ({ name, version }));
}

/**
 * Downloads what `packages` need beyond what this machine has installed and unpacks it into .tools/root.
 * Returns the packages unpacked and the library path their binaries need.
 */
function unpack(packages: string[]): Unpacked {
  if (!isExecutable("/usr/bin/apt-get") && !systemBinary("apt-get")) throw new Error("apt-get not found (not a Debian or Ubuntu machine)");
  for (const d of ["state/lists/partial", "cache/archives/partial"]) mkdirSync(path.join(APT, d), { recursive: true });
  mkdirSync(DEBS, { recursive: true });
  say(`fetching the package lists of this machine's apt sources for ${packages.join(", ")}`);
  apt(["update"]);
  // What installing them would add: a simulation reads the machine's dpkg status and needs no root.
  const wanted = packagesToFetch(apt(["-s", "--no-install-recommends", "install", ...packages]));
  const debName = (p: { name: string; version: string }) => `${p.name}_${p.version.replace(/:/g, "%3a")}_`;
  const have = new Set(readdirSync(DEBS));
  const fetch = wanted.filter((p) => ![...have].some((f) => f.startsWith(debName(p))));
  if (fetch.length) {
    say(`downloading ${plural(fetch.length, "Debian package")} into .tools/debs`);
    const tmp = path.join(DEBS, `.partial-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    try {
      apt(["download", ...fetch.map((p) => `${p.name}=${p.version}`)], tmp);
      for (const f of readdirSync(tmp)) renameSync(path.join(tmp, f), path.join(DEBS, f));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const files = readdirSync(DEBS);
  const next = `${UNPACKED}.new-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  say(`unpacking ${plural(wanted.length, "package")} into .tools/root`);
  for (const p of wanted) {
    const deb = files.find((f) => f.startsWith(debName(p)) && f.endsWith(".deb"));
    if (!deb) throw new Error(`${p.name} ${p.version} was not downloaded`);
    run("dpkg-deb", ["-x", path.join(DEBS, deb), next]);
  }
  const old = `${UNPACKED}.old-${process.pid}`;
  if (existsSync(UNPACKED)) renameSync(UNPACKED, old);
  renameSync(next, UNPACKED);
  rmSync(old, { recursive: true, force: true });
  return { packages: wanted.map((p) => `${p.name}=${p.version}`), libraryPath: libraryDirs(UNPACKED) };
}

/** `binary` inside the unpacked tree, preferring the real PostgreSQL binaries over Debian's pg_wrapper. */
function unpackedBinary(binary: string): string | undefined {
  const dirs = [postgresBinDir(UNPACKED), ...["usr/bin", "usr/sbin", "bin", "sbin"].map((d) => path.join(UNPACKED, d))];
  for (const d of dirs) {
    if (!d) continue;
    const candidate = path.join(d, binary);
    if (isExecutable(candidate) && !realpathSync(candidate).endsWith("/pg_wrapper")) return candidate;
  }
  return undefined;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function launcher(binary: string, pkg: string, target: string, libraryPath: string[]): string {
  return [
    "#!/bin/sh",
    `# ${binary} from the Debian package ${pkg}, unpacked into .tools/root by scripts/setup-tools.ts`,
    `LD_LIBRARY_PATH=${quote(libraryPath.join(":"))}\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH} exec ${quote(target)} "$@"`,
    "",
  ].join("\n");
}

async function setUp(list: Map<string, string>): Promise<Manifest> {
  const previous = readManifest();
  const tools: Manifest["tools"] = {};
  const missing: Manifest["missing"] = {};
  const needed = new Map<string, string>();
  for (const [binary, pkg] of list) {
    const sys = systemBinary(binary);
    if (sys) tools[binary] = { path: sys, package: pkg, from: "system" };
    else needed.set(binary, pkg);
  }

  let unpacked: Unpacked = previous?.unpacked ?? { packages: [], libraryPath: [] };
  const present = () => [...needed.keys()].every((b) => unpackedBinary(b));
  if (needed.size > 0 && !(previous?.repoRoot === REPO_ROOT && present())) {
    try {
      unpacked = unpack([...new Set(needed.values())].sort());
    } catch (err) {
      say(`could not unpack ${[...new Set(needed.values())].join(", ")}: ${(err as Error).message}`);
    }
  }
  for (const [binary, pkg] of needed) {
    const target = unpackedBinary(binary);
    if (target) tools[binary] = { path: target, package: pkg, from: "unpacked" };
    else missing[binary] = pkg;
  }

  // Launchers are rebuilt in a fresh directory and swapped in whole, so readers never see a half-written one.
  const bin = `${TOOLS_BIN}.new-${process.pid}`;
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(bin, { recursive: true });
  for (const [binary, t] of Object.entries(tools)) {
    const at = path.join(bin, binary);
    if (t.from === "system") symlinkSync(t.path, at);
    else writeFileSync(at, launcher(binary, t.package, t.path, unpacked.libraryPath), { mode: 0o755 });
  }
  const oldBin = `${TOOLS_BIN}.old-${process.pid}`;
  if (existsSync(TOOLS_BIN)) renameSync(TOOLS_BIN, oldBin);
  renameSync(bin, TOOLS_BIN);
  rmSync(oldBin, { recursive: true, force: true });

  const manifest: Manifest = { version: 1, repoRoot: REPO_ROOT, list: Object.fromEntries(list), tools, missing, unpacked };
  writeFileSync(`${MANIFEST}.${process.pid}`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${MANIFEST}.${process.pid}`, MANIFEST);
  return manifest;
}

/**
 * The Go-built test servers of scripts/go-tools.txt: each is built once (`go install module@version` with the machine's
 * toolchain, never a downloaded one) into .tools/go/bin, recorded with its version, and linked into .tools/bin, where
 * the Debian step's swap may have dropped the link (so the link is checked on every run; the build only when the
 * version changed). Without a Go toolchain the tool is reported missing and the step still succeeds.
 */
export function setUpGoTools(tools = goTools()): { built: string[]; missing: string[] } {
  const built: string[] = [];
  const missing: string[] = [];
  for (const [binary, mod] of tools) {
    const exe = path.join(GO_TOOLS_BIN, binary);
    const stamp = `${exe}.version`;
    const current = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : "";
    if (!isExecutable(exe) || current !== mod) {
      const go = systemBinary("go") ?? (isExecutable("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : undefined);
      if (!go) {
        missing.push(binary);
        continue;
      }
      say(`building ${binary} from ${mod} (once)`);
      mkdirSync(GO_TOOLS_BIN, { recursive: true });
      const r = spawnSync(go, ["install", mod], {
        encoding: "utf8",
        env: {
          ...process.env,
          // Without a home directory Go has nowhere for its module and build caches: keep them under .tools/go.
          ...(process.env.HOME ? {} : { GOPATH: path.join(TOOLS_DIR, "go", "path"), GOCACHE: path.join(TOOLS_DIR, "go", "cache") }),
          GOBIN: GO_TOOLS_BIN,
          GOTOOLCHAIN: "local",
          GOFLAGS: "-mod=mod",
          CGO_ENABLED: "0",
        },
        maxBuffer: 64 << 20,
      });
      if (r.status !== 0 || !isExecutable(exe)) {
        say(`could not build ${binary}: ${(r.stderr || r.error?.message || "").trim().split("\n").slice(-3).join(" ")}`);
        missing.push(binary);
        continue;
      }
      writeFileSync(stamp, `${mod}\n`);
      built.push(binary);
    }
    mkdirSync(TOOLS_BIN, { recursive: true });
    const link = path.join(TOOLS_BIN, binary);
    rmSync(link, { force: true });
    symlinkSync(exe, link);
  }
  return { built, missing };
}

async function main(): Promise<void> {
  const list = debianTools();
  if (!upToDate(readManifest(), list)) await setUpDebian(list);
  const go = await withLock(async () => setUpGoTools());
  for (const binary of go.missing) say(`missing tool: ${binary} (${goTools().get(binary)}); the tests that need it will fail (install Go, then npm run setup)`);
}

async function setUpDebian(list: Map<string, string>): Promise<void> {
  const m = await withLock(async () => {
    // Another run may have done the work while this one waited.
    const now = readManifest();
    return upToDate(now, list) ? now! : setUp(list);
  });
  const from = (kind: string) => Object.entries(m.tools).filter(([, t]) => t.from === kind).map(([b]) => b);
  const unpacked = from("unpacked");
  if (unpacked.length) say(`${unpacked.join(", ")} unpacked from Debian packages into .tools/ (not installed on this machine)`);
  for (const [binary, pkg] of Object.entries(m.missing)) {
    say(`missing tool: ${binary}, from the Debian package ${pkg}; the tests that need it will fail (apt-get install ${pkg})`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    say(`failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
