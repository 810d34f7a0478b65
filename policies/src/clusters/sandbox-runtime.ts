import { resourcePolicy } from "../core/policy";
import { EC2_LAUNCH_TEMPLATE } from "./eks";

const GVISOR_BUCKET = /storage\.googleapis\.com\/gvisor\/releases\/([^/\s"']+)\/([^/\s"']+)/g;

/** Launch-template user data as the node reads it: base64 in the plan, plain text in some programs. */
function decode(userData: unknown): string {
    if (typeof userData !== "string") return "";
    const text = Buffer.from(userData, "base64").toString("utf8");
    return /[\x20-\x7e]{16}/.test(text) && !/[\x00-\x08]/.test(text) ? text : userData;
}

export const gvisorPinnedRelease = resourcePolicy({
    name: "gvisor-pinned-release",
    summary: "Node user data that installs gVisor must fetch a dated release (release/yyyymmdd[.N]), never latest, nightly or master.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: "gVisor installation guide (release channels: specific and point releases); Kubernetes node reproducibility",
        why: "`latest` is re-resolved by every node at boot: two sandbox nodes can run different gVisor releases, an untested release reaches untrusted code unreviewed, and its checksum comes from the same place as the binary.",
    },
    fix: "Pin a point release (GVISOR in components/versions.ts) and download from …/gvisor/releases/release/<yyyymmdd.N>/.",
    types: [EC2_LAUNCH_TEMPLATE],
    validate: (args, report) => {
        const text = decode(args.props.userData);
        for (const m of text.matchAll(GVISOR_BUCKET)) {
            const [, channel, version] = m;
            const pinned = channel === "release" && (/^\d{8}(\.\d+)?$/.test(version) || /^\$\{?release\}?$/.test(version));
            const declared = /^release="?(\d{8}(\.\d+)?)"?$/m.test(text);
            if (!pinned || (version.startsWith("$") && !declared)) {
                report(`Launch template ${args.name} installs gVisor from ${channel}/${version}, not a pinned dated release.`);
            }
        }
    },
});
