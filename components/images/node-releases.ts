/**
 * Node.js release lines and the day each stops receiving fixes, as the Node.js release working group publishes
 * them (https://github.com/nodejs/Release, schedule.json). Pinned here rather than fetched so a plan is the same
 * offline and a review sees the dates it was judged against; add a line before moving an image to it.
 */
export interface NodeReleaseLine {
  /** First release of the line. */
  readonly start: string;
  /** The day the line became (or becomes) LTS; odd lines never do. */
  readonly lts?: string;
  /** End of life: no fixes, security ones included, after this day. */
  readonly end: string;
}

export const NODE_RELEASES_SOURCE = {
  source: "https://github.com/nodejs/Release/blob/main/schedule.json",
  takenOn: "2026-12-02",
} as const;

export const NODE_RELEASES: Readonly<Record<number, NodeReleaseLine>> = {
  18: { start: "2022-04-19", lts: "2022-10-25", end: "2025-04-30" },
  19: { start: "2022-10-18", end: "2023-06-01" },
  20: { start: "2023-04-18", lts: "2023-10-24", end: "2026-04-30" },
  21: { start: "2023-10-17", end: "2024-06-01" },
  22: { start: "2024-04-24", lts: "2024-10-29", end: "2027-04-30" },
  23: { start: "2024-10-16", end: "2025-06-01" },
  24: { start: "2025-05-06", lts: "2025-10-28", end: "2028-04-30" },
  25: { start: "2025-10-15", end: "2026-06-01" },
  26: { start: "2026-05-05", lts: "2026-10-28", end: "2029-04-30" },
  27: { start: "2027-04-22", end: "2030-04-30" },
};

/**
 * The Node.js major of an official `node` image reference (`node:24.18.0-bookworm-slim@sha256:…`,
 * `docker.io/library/node:24-bookworm-slim`); undefined for any other image.
 */
export function nodeMajorOf(image: string): number | undefined {
  const m = /^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?(?:library\/)?node:(\d+)(?:[.\-@]|$)/.exec(image.trim());
  return m ? Number(m[1]) : undefined;
}

export type NodeSupport =
  | { readonly state: "supported"; readonly major: number; readonly end: string }
  | { readonly state: "end-of-life"; readonly major: number; readonly end: string }
  | { readonly state: "unknown"; readonly major: number };

/** Whether a Node.js major still gets fixes on `day`, by the pinned schedule. The end day itself counts as ended. */
export function nodeSupportOn(major: number, day: Date): NodeSupport {
  const line = NODE_RELEASES[major];
  if (!line) return { state: "unknown", major };
  const ended = Date.parse(`${line.end}T00:00:00Z`) <= day.getTime();
  return { state: ended ? "end-of-life" : "supported", major, end: line.end };
}
