import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Where the key lists live: one `<chart>.keys.txt` per chart the program installs. */
export const CHART_KEYS_DIR = __dirname;

/**
 * The value keys of one pinned chart that the program sets, each checked against the chart's values.yaml (or, where
 * the chart reads a key values.yaml does not show, against its templates) when the list was written. A key ending in
 * "/*" takes free-form content the chart passes through: nothing below it is compared.
 */
export interface ChartKeyList {
  /** The chart's name, as in CHARTS (`# chart:` in the header). */
  readonly chart: string;
  /** The chart version the keys were checked for (`# version:`); must equal the pin. */
  readonly version: string;
  readonly keys: readonly string[];
  /** The keys listed with "/*", without it. */
  readonly freeForm: ReadonlySet<string>;
}

export function parseChartKeys(text: string): ChartKeyList {
  const lines = text.split("\n").map((l) => l.trim());
  const header = (name: string) => lines.find((l) => l.startsWith(`# ${name}:`))?.slice(name.length + 3).trim() ?? "";
  const keys = lines.filter((l) => l && !l.startsWith("#"));
  return {
    chart: header("chart"),
    version: header("version"),
    keys,
    freeForm: new Set(keys.filter((k) => k.endsWith("/*")).map((k) => k.slice(0, -2))),
  };
}

/** Every committed key list, by chart name. */
export function readChartKeyLists(dir = CHART_KEYS_DIR): Map<string, ChartKeyList> {
  const lists = readdirSync(dir)
    .filter((f) => f.endsWith(".keys.txt"))
    .map((f) => parseChartKeys(readFileSync(join(dir, f), "utf8")));
  return new Map(lists.map((l) => [l.chart, l]));
}

/** Every key path the values set: down to leaves, but not below a key the chart takes as free-form content. */
export function valuePaths(v: unknown, freeForm: ReadonlySet<string>, path = ""): string[] {
  if (path && freeForm.has(path)) return [`${path}/*`];
  if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
    return Object.entries(v).flatMap(([k, x]) => valuePaths(x, freeForm, path ? `${path}.${k}` : k));
  }
  return [path];
}
