import { beforeAll, describe, expect, it } from "vitest";
import { readChartKeyLists, valuePaths } from "../components/charts/keys";
import { POD_LABEL_PATHS, valueAt } from "../components/charts/pod-labels";
import { costLabels } from "../components/labels";
import { CHARTS } from "../components/versions";
import { planStack } from "./plan/wholeStack";

const STACKS = ["prod", "dr"] as const;

interface ReleaseValues {
  readonly stack: string;
  readonly release: string;
  readonly chart: string;
  readonly version: string | undefined;
  readonly values: unknown;
  /** The cost labels the stack's own objects carry. */
  readonly cost: Record<string, string>;
}

const releases: ReleaseValues[] = [];
beforeAll(async () => {
  for (const stack of STACKS) {
    const plan = await planStack(stack);
    const cost = costLabels({ environment: plan.config.environment, costCenter: plan.config.costCenter, team: plan.config.team });
    for (const r of plan.ofType("kubernetes:helm.sh/v3:Release")) {
      const p = r.props as { name?: string; chart: string; version?: string; values?: unknown };
      // An OCI chart is referenced by its full address; the key lists are named by the chart alone.
      releases.push({ stack, release: p.name ?? r.name, chart: p.chart.split("/").pop()!, version: p.version, values: p.values ?? {}, cost });
    }
  }
}, 240_000);

describe("Helm values against the pinned charts' key lists (components/charts/*.keys.txt)", () => {
  const lists = readChartKeyLists();
  const pins = Object.values(CHARTS);

  it("has one key list per pinned chart, checked at the pinned version", () => {
    expect([...lists.keys()].sort()).toEqual(pins.map((p) => p.chart).sort());
    for (const pin of pins) expect(lists.get(pin.chart)?.version, pin.chart).toBe(pin.version);
  });

  it("installs every chart at its pin, and every chart pinned is installed by prod or dr", () => {
    for (const r of releases) expect(r.version, `${r.stack} ${r.release}`).toBe(pins.find((p) => p.chart === r.chart)?.version);
    expect([...new Set(releases.map((r) => r.chart))].sort()).toEqual(pins.map((p) => p.chart).sort());
  });

  it("sets no value key a chart's list does not hold", () => {
    const unknown = releases.flatMap((r) => {
      const list = lists.get(r.chart);
      if (!list) return [`${r.stack} ${r.release}: no key list for chart ${r.chart}`];
      return valuePaths(r.values, list.freeForm)
        .filter((p) => !list.keys.includes(p))
        .map((p) => `${r.stack} ${r.release} (${r.chart}): ${p}`);
    });
    expect(unknown).toEqual([]);
  });

  it("lists no key that neither stack sets", () => {
    const unused = [...lists.values()].flatMap((list) => {
      const used = new Set(releases.filter((r) => r.chart === list.chart).flatMap((r) => valuePaths(r.values, list.freeForm)));
      return list.keys.filter((k) => !used.has(k)).map((k) => `${list.chart}: ${k}`);
    });
    expect(unused).toEqual([]);
  });
});

describe("Helm releases put the cost labels on every pod they run (components/charts/pod-labels.ts)", () => {
  const lists = readChartKeyLists();

  it("says for every pinned chart where its pods take labels, or why they take none", () => {
    expect(Object.keys(POD_LABEL_PATHS).sort()).toEqual(Object.values(CHARTS).map((p) => p.chart).sort());
    for (const [chart, { paths, unlabelled }] of Object.entries(POD_LABEL_PATHS)) {
      expect(paths.length > 0 || Boolean(unlabelled), chart).toBe(true);
      // Each path is a key the chart's list admits, so it was read in the chart at the pinned version.
      const list = lists.get(chart)!;
      for (const path of paths) {
        const admitted = list.keys.includes(`${path}/*`) || [...list.freeForm].some((f) => path.startsWith(`${f}.`));
        expect(admitted, `${chart}: ${path}`).toBe(true);
      }
    }
  });

  it("sets the stack's cost labels at every pod-label path of every release", () => {
    const missing = releases.flatMap((r) =>
      (POD_LABEL_PATHS[r.chart]?.paths ?? []).flatMap((path) => {
        const at = valueAt(r.values, path) as Record<string, unknown> | undefined;
        return Object.entries(r.cost)
          .filter(([k, v]) => at?.[k] !== v)
          .map(([k]) => `${r.stack} ${r.release} (${r.chart}): ${path} lacks ${k}`);
      }),
    );
    expect(releases.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });
});
