import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { allPolicies } from "../policies";
import { policiesMarkdown } from "../docs";

describe("docs/policies.md", () => {
    const committed = readFileSync(resolve(__dirname, "../../../docs/policies.md"), "utf8");

    it("is what the generator produces from the pack (run `npm run -w @pitchey/policies docs`)", () => {
        expect(committed).toBe(policiesMarkdown(allPolicies));
    });

    it("lists every policy with its enforcement level and the counts", () => {
        for (const p of allPolicies) expect(committed).toContain(`| \`${p.name}\` | ${p.enforcementLevel} |`);
        const mandatory = allPolicies.filter((p) => p.enforcementLevel === "mandatory").length;
        expect(committed).toContain(`${allPolicies.length} policies: ${mandatory} mandatory, ${allPolicies.length - mandatory} advisory`);
    });
});
