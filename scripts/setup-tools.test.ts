import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { launcher, packagesToFetch } from "./setup-tools";

describe("the set-up step", () => {
  it("fetches what the machine lacks and leaves its installed packages alone", () => {
    const simulation = [
      "Reading package lists...",
      "Inst postgresql-common [248+deb12u1] (248+deb12u2 Debian-Security:12/oldstable-security [all]) []",
      "Inst libva2 (2.17.0-1 Debian:12.15/oldstable [amd64])",
      "Inst libpq5 (1:15.20-0+deb12u1 Debian-Security:12/oldstable-security [amd64])",
      "Conf libva2 (2.17.0-1 Debian:12.15/oldstable [amd64])",
    ].join("\n");
    expect(packagesToFetch(simulation)).toEqual([
      { name: "libva2", version: "2.17.0-1" },
      { name: "libpq5", version: "1:15.20-0+deb12u1" },
    ]);
  });

  it("writes launchers that run the unpacked binary with its libraries, whatever the arguments", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "pitchey-launcher-"));
    try {
      mkdirSync(path.join(dir, "it's here"));
      const target = path.join(dir, "it's here", "tool");
      writeFileSync(target, '#!/bin/sh\necho "$LD_LIBRARY_PATH"\nfor a in "$@"; do echo "[$a]"; done\n', { mode: 0o755 });
      const at = path.join(dir, "tool");
      writeFileSync(at, launcher("tool", "some-package", target, ["/x/lib", "/x/lib/sub"]), { mode: 0o755 });
      const r = spawnSync(at, ["a b", "'c'"], { encoding: "utf8", env: { PATH: "/usr/bin:/bin", LD_LIBRARY_PATH: "/outer" } });
      expect(r.status).toBe(0);
      expect(r.stdout.split("\n")).toEqual(["/x/lib:/x/lib/sub:/outer", "[a b]", "['c']", ""]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
