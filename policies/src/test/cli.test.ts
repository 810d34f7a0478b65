import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compliantStack, container, find } from "./util";
import { defectiveStack } from "./cases";

const ROOT = resolve(__dirname, "../../..");
const dir = mkdtempSync(join(tmpdir(), "policy-cli-"));

function write(name: string, data: unknown): string {
    const path = join(dir, name);
    writeFileSync(path, typeof data === "string" ? data : JSON.stringify(data));
    return path;
}

/** Runs `npm run policy` exactly as a user would. */
function policy(...args: string[]) {
    const r = spawnSync("npm", ["run", "--silent", "policy", "--", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("npm run policy", { timeout: 120_000 }, () => {
    it("exits 0 on a compliant plan", () => {
        const r = policy(write("ok.json", compliantStack()));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/0 mandatory violation\(s\)/);
    });

    it("exits 1 and names the resource when a container is privileged", () => {
        const s = compliantStack();
        container(find(s, "ai-inference")).securityContext.privileged = true;
        const r = policy(write("privileged.json", s));
        expect(r.code).toBe(1);
        expect(r.stdout).toContain("k8s-not-privileged");
        expect(r.stdout).toContain(find(s, "ai-inference").urn);
        expect(r.stdout).toContain("fix:");
    });

    it("prints the report as JSON with --json", () => {
        const r = policy(write("defective.json", defectiveStack()), "--json");
        expect(r.code).toBe(1);
        const report = JSON.parse(r.stdout);
        expect(report.policies).toBeGreaterThanOrEqual(40);
        expect(report.violations[0]).toEqual({ policy: expect.any(String), urn: expect.any(String), enforcement: expect.stringMatching(/^(mandatory|advisory)$/), message: expect.any(String) });
    });

    it("applies a pack config file", () => {
        const s = compliantStack();
        container(find(s, "ai-inference")).securityContext.privileged = true;
        const r = policy(write("p.json", s), "--config", write("cfg.json", { "k8s-not-privileged": "advisory" }));
        expect(r.code).toBe(0);
        expect(r.stdout).toContain("advisory");
    });

    it("exits 2 with a clear message on bad input", () => {
        expect(policy(join(dir, "missing.json"))).toMatchObject({ code: 2, stderr: expect.stringContaining("missing.json") });
        expect(policy(write("obj.json", { a: 1 }))).toMatchObject({ code: 2, stderr: expect.stringContaining("expected a JSON array") });
        expect(policy(write("bad.json", "[{"))).toMatchObject({ code: 2, stderr: expect.stringContaining("not valid JSON") });
        const bad = compliantStack();
        (bad[3] as { type: unknown }).type = 42;
        expect(policy(write("rec.json", bad))).toMatchObject({ code: 2, stderr: expect.stringContaining('record 3: field "type"') });
        expect(policy()).toMatchObject({ code: 2, stderr: expect.stringContaining("usage") });
    });
});

describe("npm run policy on the offline plan", () => {
    // The acceptance check: any Deployment of the real plan made privileged must fail the run, named by URN.
    it("exits 1 naming a Deployment of the prod plan once its container is privileged", { timeout: 180_000 }, () => {
        const out = join(dir, "plan-prod");
        spawnSync("npm", ["run", "--silent", "plan", "--", "--stack", "prod", "--out", out], { cwd: ROOT, encoding: "utf8", timeout: 150_000 });
        const records = JSON.parse(readFileSync(join(out, "resources.json"), "utf8")) as { urn: string; type: string; props: any }[];
        const deployments = records.filter((r) => r.type === "kubernetes:apps/v1:Deployment");
        expect(deployments.length).toBeGreaterThan(0);
        const target = deployments[deployments.length - 1];
        target.props.spec.template.spec.containers[0].securityContext = { ...target.props.spec.template.spec.containers[0].securityContext, privileged: true };
        const r = policy(write("plan-privileged.json", records));
        expect(r.code).toBe(1);
        expect(r.stdout).toMatch(new RegExp(`k8s-not-privileged \\(1\\)\\n.*\\n  - ${target.urn.replace(/[$]/g, "\\$")}`));
    });
});
