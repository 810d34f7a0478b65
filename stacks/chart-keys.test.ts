import { beforeAll, describe, expect, it } from "vitest";
import { readChartKeyLists, valuePaths } from "../components/charts/keys";
import { CHARTS } from "../components/versions";
import { planStack } from "./plan/wholeStack";

const STACKS = ["prod", "dr"] as const;

interface ReleaseValues {
  readonly stack: string;
  readonly release: string;
  readonly chart: string;
  readonly version: string | undefined;
  readonly values: unknown;
}

const releases: ReleaseValues[] = [];
beforeAll(async () => {
  for (const stack of STACKS) {
    const plan = await planStack(stack);
    for (const r of plan.ofType("kubernetes:helm.sh/v3:Release")) {
      const p = r.props as { name?: string; chart: string; version?: string; values?: unknown };
      // An OCI chart is referenced by its full address; the key lists are named by the chart alone.
      releases.push({ stack, release: p.name ?? r.name, chart: p.chart.split("/").pop()!, version: p.version, values: p.values ?? {} });
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
