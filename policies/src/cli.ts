import { readFileSync } from "node:fs";
import { allPolicies } from "./policies";
import { evaluatePlan, type PackConfig } from "./evaluate";
import { formatReport } from "./format";
import { InputError, parsePlanResources } from "./input";

const USAGE = "usage: npm run policy -- <resources.json> [--json] [--config <pack-config.json>]";

function readJson(path: string, what: string): unknown {
    let text: string;
    try {
        text = readFileSync(path, "utf8");
    } catch (e) {
        throw new InputError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
        return JSON.parse(text);
    } catch (e) {
        throw new InputError(`${path} is not valid JSON: ${(e as Error).message}`);
    }
}

/** Returns the exit code: 0 clean or advisory only, 1 mandatory violations, 2 bad input. */
export function main(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): number {
    let file: string | undefined;
    let json = false;
    let configPath: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--json") json = true;
        else if (a === "--config") {
            configPath = argv[++i];
            if (configPath === undefined) {
                err(`--config needs a file\n${USAGE}`);
                return 2;
            }
        } else if (a.startsWith("--config=")) configPath = a.slice("--config=".length);
        else if (a === "-h" || a === "--help") {
            out(USAGE);
            return 0;
        } else if (a.startsWith("-")) {
            err(`unknown option ${a}\n${USAGE}`);
            return 2;
        } else if (file === undefined) file = a;
        else {
            err(`unexpected argument ${a}\n${USAGE}`);
            return 2;
        }
    }
    if (!file) {
        err(USAGE);
        return 2;
    }
    try {
        const resources = parsePlanResources(readJson(file, "resources file"), file);
        let config: PackConfig = {};
        if (configPath !== undefined) {
            const c = readJson(configPath, "pack config");
            if (typeof c !== "object" || c === null || Array.isArray(c)) throw new InputError(`${configPath}: pack config must be a JSON object keyed by policy name.`);
            config = c as PackConfig;
        }
        const report = evaluatePlan(resources, { config });
        out(json ? JSON.stringify(report, null, 2) : formatReport(report, allPolicies));
        return report.violations.some((v) => v.enforcement === "mandatory") ? 1 : 0;
    } catch (e) {
        if (e instanceof InputError) {
            err(e.message);
            return 2;
        }
        throw e;
    }
}

if (require.main === module) {
    process.exitCode = main(process.argv.slice(2), (s) => console.log(s), (s) => console.error(s));
}
