import { nodeMajorOf, nodeSupportOn, NODE_RELEASES_SOURCE } from "../../../components/images/node-releases";
import { configOf, resourcePolicy } from "../core/policy";
import { DOCKER_BUILD_IMAGE } from "./registry";

/** The day a dated policy judges the plan on: the `asOf` setting (an ISO date) when given, otherwise today. */
export function asOfDay(asOf: string): Date {
    if (asOf === "") return new Date();
    const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(asOf) ? `${asOf}T00:00:00Z` : asOf);
    if (Number.isNaN(t)) throw new Error(`asOf "${asOf}" is not an ISO date (yyyy-mm-dd)`);
    return new Date(t);
}

export const AS_OF_SCHEMA = {
    properties: { asOf: { type: "string" as const, default: "", description: "The day to judge support on (yyyy-mm-dd); empty means the day the plan runs." } },
};

export const imageRuntimeSupported = resourcePolicy({
    name: "image-runtime-supported",
    summary: "Images built by the program must name their Node.js base in their build arguments, on a release line that has not reached end of life.",
    enforcement: "mandatory",
    meta: {
        area: "supply-chain",
        source: `Node.js release schedule (${NODE_RELEASES_SOURCE.source}, dates pinned in components/images/node-releases.ts); OWASP Top 10 A06 (vulnerable and outdated components)`,
        why: "Every processor runs untrusted media, documents and code in that runtime; past its end of life Node.js publishes no security fixes, so a new CVE in it would stay open for good. Moving the base is a rebuild, not a cluster change, so blocking costs a bump and a build.",
    },
    fix: "Move IMAGES.node in components/versions.ts (and images/Dockerfile's NODE_IMAGE default) to a supported LTS line, by digest; add the line's dates to components/images/node-releases.ts first if it is new.",
    configSchema: AS_OF_SCHEMA,
    types: [DOCKER_BUILD_IMAGE],
    validate: (args, report) => {
        const day = asOfDay(configOf(args, { asOf: "" }).asOf);
        const buildArgs = (args.props.buildArgs ?? {}) as Record<string, unknown>;
        const bases = Object.entries(buildArgs)
            .map(([k, v]) => ({ arg: k, image: String(v), major: nodeMajorOf(String(v)) }))
            .filter((b) => b.major !== undefined);
        if (bases.length === 0) {
            report(`Image ${args.name} names no Node.js base image in its build arguments (NODE_IMAGE), so the plan cannot tell which runtime it ships.`);
            return;
        }
        for (const b of bases) {
            const s = nodeSupportOn(b.major!, day);
            if (s.state === "end-of-life") report(`Image ${args.name} is built on ${b.image} (${b.arg}): Node.js ${s.major} reached end of life on ${s.end}.`);
            if (s.state === "unknown") report(`Image ${args.name} is built on ${b.image} (${b.arg}): Node.js ${s.major} is not in the pinned release table, so its support cannot be judged.`);
        }
    },
});
