import type { PackPolicy } from "./core/policy";
import type { PolicyReport } from "./evaluate";

/** Human-readable report: violations grouped by policy, mandatory first, each with its resources and the fix. */
export function formatReport(report: PolicyReport, policies: readonly PackPolicy[]): string {
    const lines: string[] = [];
    const byPolicy = new Map<string, PolicyReport["violations"]>();
    for (const v of report.violations) byPolicy.set(v.policy, [...(byPolicy.get(v.policy) ?? []), v]);
    const order = [...byPolicy.keys()].sort((a, b) => {
        const ma = byPolicy.get(a)![0].enforcement === "mandatory" ? 0 : 1;
        const mb = byPolicy.get(b)![0].enforcement === "mandatory" ? 0 : 1;
        return ma - mb;
    });
    for (const name of order) {
        const vs = byPolicy.get(name)!;
        const p = policies.find((x) => x.name === name);
        lines.push(`${vs[0].enforcement === "mandatory" ? "✖ MANDATORY" : "⚠ advisory "} ${name} (${vs.length})`);
        if (p) lines.push(`    ${p.description.split(". ")[0].replace(/\.$/, "")}.`);
        for (const v of vs) {
            lines.push(`  - ${v.urn}`);
            lines.push(`      ${v.message}`);
        }
        if (p?.remediationSteps) lines.push(`    fix: ${p.remediationSteps}`);
        lines.push("");
    }
    const mandatory = report.violations.filter((v) => v.enforcement === "mandatory").length;
    const advisory = report.violations.length - mandatory;
    lines.push(`${report.policies} policies evaluated: ${mandatory} mandatory violation(s), ${advisory} advisory violation(s).`);
    return lines.join("\n");
}
