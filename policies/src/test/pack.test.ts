import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const POLICIES = resolve(__dirname, "../..");
const RUNNER = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");

describe("the pack entry point", () => {
    // Loaded the way `pulumi preview --policy-pack policies` loads it: Pulumi's policy-pack runner, ts-node with
    // type checking. The PolicyPack constructor validates the policies and then serves; a port on stdout means it did.
    it("compiles and starts under Pulumi's policy-pack runner", { timeout: 120_000 }, async () => {
        const child = spawn(process.execPath, [RUNNER, "127.0.0.1:1", "."], { cwd: POLICIES, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += String(d)));
        const port = await new Promise<string>((done, fail) => {
            child.stdout.on("data", (d) => {
                stdout += String(d);
                const m = /^(\d+)\s*$/m.exec(stdout);
                if (m) done(m[1]);
            });
            child.on("exit", (code) => fail(new Error(`runner exited ${code}: ${stderr}`)));
        }).finally(() => child.kill("SIGTERM"));
        expect(Number(port)).toBeGreaterThan(0);
    });
});
