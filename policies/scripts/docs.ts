import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { allPolicies } from "../src/policies";
import { policiesMarkdown } from "../src/docs";

const target = resolve(__dirname, "../../docs/policies.md");
writeFileSync(target, policiesMarkdown(allPolicies));
console.log(`wrote ${target}`);
