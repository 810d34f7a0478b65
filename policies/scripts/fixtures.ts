import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { compliantStack } from "../src/test/util";
import { defectiveStack } from "../src/test/cases";

/** Writes the test stacks as resources.json files, so `npm run policy` can be tried on them. */
for (const [file, stack] of [["compliant-resources.json", compliantStack()], ["defective-resources.json", defectiveStack()]] as const) {
    const target = resolve(__dirname, "../fixtures", file);
    writeFileSync(target, `${JSON.stringify(stack, null, 2)}\n`);
    console.log(`wrote ${target}`);
}
