import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findTool, goTools, requireTool } from "../images/src/dev/tools";

const dir = mkdtempSync(join(tmpdir(), "go-tools-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Go-built test tools", () => {
  it("lists fake-gcs-server at a pinned version, and refuses a line without one", () => {
    expect(goTools().get("fake-gcs-server")).toMatch(/^github\.com\/fsouza\/fake-gcs-server@v\d+\.\d+\.\d+$/);
    const bad = join(dir, "go-tools.txt");
    writeFileSync(bad, "fake-gcs-server github.com/fsouza/fake-gcs-server\n");
    expect(() => goTools(bad)).toThrow(/expected "<binary> <module>@<version>"/);
  });

  it("is in .tools/bin after the set-up step (npm test runs it first), where requireTool finds it", () => {
    expect(findTool("fake-gcs-server")).toBeDefined();
    expect(requireTool("fake-gcs-server")).toMatch(/fake-gcs-server$/);
  });
});
