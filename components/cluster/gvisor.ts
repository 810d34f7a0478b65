import { GVISOR, type GvisorPin } from "../versions";

/** Where the node keeps the shim's configuration; containerd's runtime options point the shim at it. */
export const RUNSC_CONFIG_PATH = "/etc/containerd/runsc.toml";

const FILES = ["runsc", "containerd-shim-runsc-v1"] as const;

/**
 * The shim's configuration. AL2023's kubelet and containerd use the systemd cgroup driver, so containerd hands
 * runsc systemd cgroup paths (`slice:prefix:name`); without `systemd-cgroup` runsc reads them as cgroupfs paths
 * and the sandbox's limits land in a cgroup nothing enforces.
 */
export function runscToml(): string {
  return ["[runsc_config]", '  systemd-cgroup = "true"', ""].join("\n");
}

/**
 * containerd's `runsc` runtime, declared under the CRI plugin ids of containerd 1.7 (config version 2) and 2.x
 * (version 3): nodeadm writes the file for whichever the AMI ships, and containerd ignores the other.
 */
export function containerdRuntimeToml(): string {
  return ['"io.containerd.grpc.v1.cri".containerd', '"io.containerd.cri.v1.runtime".containerd']
    .flatMap((plugin) => [
      `[plugins.${plugin}.runtimes.runsc]`,
      '  runtime_type = "io.containerd.runsc.v1"',
      `[plugins.${plugin}.runtimes.runsc.options]`,
      '  TypeUrl = "io.containerd.runsc.v1.options"',
      `  ConfigPath = "${RUNSC_CONFIG_PATH}"`,
    ])
    .join("\n");
}

/**
 * The boot script of a sandbox node: downloads runsc and its containerd shim from the pinned dated release (never
 * `latest`), checks each against the release's published `.sha512` file and, where `components/versions.ts`
 * records them, that file against the pinned digest; checks the installed runsc reports the pinned release; and
 * writes the shim's configuration. Any failure stops the boot, so the node never joins without a working runtime.
 * `GVISOR_INSTALL_ROOT` (unset on nodes) lets a test install into a scratch directory.
 */
export function gvisorInstallScript(pin: GvisorPin = GVISOR): string {
  const pinned = Object.entries(pin.sha512 ?? {});
  const digestCheck =
    pinned.length === 0
      ? []
      : [
          'case "$arch" in',
          ...pinned.map(([arch, d]) => `  ${arch}) want_runsc=${d.runsc}; want_shim=${d.shim} ;;`),
          '  *) echo "gVisor ${release}: no pinned digests for $arch" >&2; exit 1 ;;',
          "esac",
          'for pair in "runsc:$want_runsc" "containerd-shim-runsc-v1:$want_shim"; do',
          '  f="${pair%%:*}"; want="${pair#*:}"',
          '  got="$(cut -d" " -f1 "$f.sha512")"',
          '  [ "$got" = "$want" ] || { echo "gVisor ${release}: $f.sha512 is $got, pinned $want" >&2; exit 1; }',
          "done",
        ];
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    `release="${pin.release}"`,
    'arch="$(uname -m)"',
    'url="https://storage.googleapis.com/gvisor/releases/release/${release}/${arch}"',
    'work="$(mktemp -d)"',
    'cd "$work"',
    `for f in ${FILES.join(" ")}; do`,
    '  curl -fsSL --retry 5 -o "$f" "$url/$f"',
    '  curl -fsSL --retry 5 -o "$f.sha512" "$url/$f.sha512"',
    "done",
    ...digestCheck,
    `sha512sum --strict -c ${FILES.map((f) => `${f}.sha512`).join(" ")}`,
    `install -m 0755 ${FILES.join(" ")} "\${GVISOR_INSTALL_ROOT:-}/usr/local/bin/"`,
    'reported="$("${GVISOR_INSTALL_ROOT:-}/usr/local/bin/runsc" --version | head -n 1)"',
    '[ "$reported" = "runsc version release-${release}" ] || { echo "gVisor: installed runsc reports \\"$reported\\", pinned release-${release}" >&2; exit 1; }',
    `install -d "\${GVISOR_INSTALL_ROOT:-}${RUNSC_CONFIG_PATH.replace(/\/[^/]+$/, "")}"`,
    `cat > "\${GVISOR_INSTALL_ROOT:-}${RUNSC_CONFIG_PATH}" <<'RUNSC_TOML'`,
    runscToml().trimEnd(),
    "RUNSC_TOML",
    'rm -rf "$work"',
  ].join("\n");
}

/**
 * User data for sandbox nodes (MIME multipart, merged by EKS with its own): nodeadm's NodeConfig registers the
 * `runsc` runtime with containerd, and the script installs the pinned gVisor release before containerd starts.
 */
export function sandboxUserData(pin: GvisorPin = GVISOR): string {
  const nodeConfig = [
    "apiVersion: node.eks.aws/v1alpha1",
    "kind: NodeConfig",
    "spec:",
    "  containerd:",
    "    config: |",
    ...containerdRuntimeToml()
      .split("\n")
      .map((line) => `      ${line}`),
  ].join("\n");
  return [
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="==PITCHEY=="',
    "",
    "--==PITCHEY==",
    "Content-Type: application/node.eks.aws",
    "",
    nodeConfig,
    "",
    "--==PITCHEY==",
    'Content-Type: text/x-shellscript; charset="us-ascii"',
    "",
    gvisorInstallScript(pin),
    "",
    "--==PITCHEY==--",
    "",
  ].join("\n");
}
