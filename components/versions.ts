/**
 * Every Helm chart and third-party image the program deploys, pinned in one place.
 * Bump here, plan, and read the chart's changelog for value renames.
 */
export interface ChartPin {
  readonly chart: string;
  readonly version: string;
  readonly repo: string;
}

export const CHARTS = {
  keda: { chart: "keda", version: "2.21.1", repo: "https://kedacore.github.io/charts" },
} as const satisfies Record<string, ChartPin>;
