import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GVISOR, type GvisorPin } from "../versions";
import { RUNSC_CONFIG_PATH, containerdRuntimeToml, gvisorInstallScript, sandboxUserData } from "./gvisor";

const sha512 = (data: string) => createHash("sha512").update(data).digest("hex");

/**
 * A scratch node: gVisor's bucket as a directory served by a stand-in `curl` that logs every URL, `uname -m`
 * answering x86_64, and an install root. The real script runs under bash with the real sha512sum and install.
 */
function scratchNode(release = GVISOR.release, reportedRelease = release) {
  const dir = mkdtempSync(join(tmpdir(), "gvisor-"));
  const bin = join(dir, "bin");
  const bucket = join(dir, "bucket");
  const root = join(dir, "root");
  const files = join(bucket, release, "x86_64");
  for (const d of [bin, files, join(root, "usr/local/bin")]) mkdirSync(d, { recursive: true });
  const put = (name: string, body: string, checksum = sha512(body)) => {
    writeFileSync(join(files, name), body);
    writeFileSync(join(files, `${name}.sha512`), `${checksum}  ${name}\n`);
  };
  put("runsc", `#!/bin/sh\nprintf 'runsc version release-${reportedRelease}\\nspec: 1.1.0\\n'\n`);
  put("containerd-shim-runsc-v1", "#!/bin/sh\nexit 0\n");
  const script = (name: string, body: string) => {
    writeFileSync(join(bin, name), body);
    chmodSync(join(bin, name), 0o755);
  };
  script(
    "curl",
    [
      "#!/bin/bash",
      'out=""; url=""',
      'while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift 2 ;; -*) [ "$1" = --retry ] && shift; shift ;; *) url="$1"; shift ;; esac; done',
      `echo "$url" >> "${dir}/urls"`,
      `path="\${url#https://storage.googleapis.com/gvisor/releases/release/}"`,
      `[ -f "${bucket}/$path" ] || { echo "404 $url" >&2; exit 22; }`,
      `cp "${bucket}/$path" "$out"`,
    ].join("\n"),
  );
  script("uname", "#!/bin/sh\necho x86_64\n");
  const run = (pin: GvisorPin = GVISOR) =>
    spawnSync("bash", ["-c", gvisorInstallScript(pin)], {
      env: { PATH: `${bin}:${process.env.PATH}`, GVISOR_INSTALL_ROOT: root, HOME: dir },
      encoding: "utf8",
    });
  return { dir, root, files, put, run, urls: () => readFileSync(join(dir, "urls"), "utf8").trim().split("\n") };
}

describe("gVisor on EKS sandbox nodes", () => {
  it("pins a dated point release, never latest", () => {
    expect(GVISOR.release).toMatch(/^\d{8}\.\d+$/);
    expect(sandboxUserData()).not.toMatch(/\/latest\//);
  });

  it("installs the pinned release, checked against its published checksums, with the systemd cgroup setting", () => {
    const node = scratchNode();
    const r = node.run();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(node.urls()).toEqual(
      ["runsc", "runsc.sha512", "containerd-shim-runsc-v1", "containerd-shim-runsc-v1.sha512"].map(
        (f) => `https://storage.googleapis.com/gvisor/releases/release/${GVISOR.release}/x86_64/${f}`,
      ),
    );
    for (const f of ["runsc", "containerd-shim-runsc-v1"]) expect(existsSync(join(node.root, "usr/local/bin", f))).toBe(true);
    expect(readFileSync(join(node.root, RUNSC_CONFIG_PATH), "utf8")).toBe('[runsc_config]\n  systemd-cgroup = "true"\n');
  });

  it("stops the boot when a binary does not match its checksum file", () => {
    const node = scratchNode();
    writeFileSync(join(node.files, "containerd-shim-runsc-v1"), "#!/bin/sh\necho tampered\n");
    const r = node.run();
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/containerd-shim-runsc-v1: FAILED/);
    expect(existsSync(join(node.root, "usr/local/bin/runsc"))).toBe(false);
  });

  it("stops the boot when the installed runsc is another release", () => {
    const r = scratchNode(GVISOR.release, "20991231.0").run();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`reports "runsc version release-20991231.0", pinned release-${GVISOR.release}`);
  });

  it("with recorded digests, refuses a bucket whose binaries and checksum files were both replaced", () => {
    const node = scratchNode();
    const runsc = readFileSync(join(node.files, "runsc"), "utf8");
    const shim = readFileSync(join(node.files, "containerd-shim-runsc-v1"), "utf8");
    const pinned: GvisorPin = { release: GVISOR.release, sha512: { x86_64: { runsc: sha512(runsc), shim: sha512(shim) } } };
    expect(node.run(pinned).status).toBe(0);
    node.put("containerd-shim-runsc-v1", "#!/bin/sh\necho replaced\n");
    const r = node.run(pinned);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/containerd-shim-runsc-v1\.sha512 is [0-9a-f]{128}, pinned [0-9a-f]{128}/);
  });

  it("points containerd's runsc runtime at the shim configuration under both CRI plugin ids", () => {
    const toml = containerdRuntimeToml();
    for (const plugin of ['"io.containerd.grpc.v1.cri"', '"io.containerd.cri.v1.runtime"']) {
      expect(toml).toContain(`[plugins.${plugin}.containerd.runtimes.runsc]\n  runtime_type = "io.containerd.runsc.v1"`);
      expect(toml).toContain(
        `[plugins.${plugin}.containerd.runtimes.runsc.options]\n  TypeUrl = "io.containerd.runsc.v1.options"\n  ConfigPath = "${RUNSC_CONFIG_PATH}"`,
      );
    }
    const userData = sandboxUserData();
    expect(userData).toContain(`      ConfigPath = "${RUNSC_CONFIG_PATH}"`);
    const part = userData.split("--==PITCHEY==").find((p) => p.includes("text/x-shellscript"))!;
    const script = part.slice(part.indexOf("#!/bin/bash"));
    expect(spawnSync("bash", ["-n"], { input: script, encoding: "utf8" }).status).toBe(0);
  });
});
