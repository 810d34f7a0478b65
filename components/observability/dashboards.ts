import { DashboardBuilder, RowBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import { PanelBuilder as HeatmapPanel } from "@grafana/grafana-foundation-sdk/heatmap";
import { DataqueryBuilder as LokiQuery } from "@grafana/grafana-foundation-sdk/loki";
import { PanelBuilder as LogsPanel } from "@grafana/grafana-foundation-sdk/logs";
import { DataqueryBuilder as PromQuery, PromQueryFormat } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanel } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesPanel } from "@grafana/grafana-foundation-sdk/timeseries";

/** Data source uids the Grafana values provision; dashboards refer to them by uid, never by name. */
export const DATASOURCES = { prometheus: { type: "prometheus", uid: "prometheus" }, loki: { type: "loki", uid: "loki" } } as const;

export interface DashboardArgs {
  /** Processors (Prometheus jobs) shown on the overview's health panel. */
  readonly services: readonly string[];
  readonly processorNamespace: string;
}

const prom = (expr: string, legend = "{{service}}") => new PromQuery().expr(expr).legendFormat(legend).datasource(DATASOURCES.prometheus);
const series = (title: string, unit: string, ...queries: PromQuery[]) => {
  const p = new TimeseriesPanel().title(title).unit(unit).datasource(DATASOURCES.prometheus).height(8).span(12);
  for (const q of queries) p.withTarget(q);
  return p;
};

/**
 * A queue's backlog as the autoscaler and QueueBacklog see it (jobs a worker could claim now), beside everything
 * pending (retries in back-off and scheduled jobs too): a gap between the two is work waiting for its time, not for a worker.
 */
const queuePanel = (title: string) =>
  series(title, "short", prom("queue:job_queue_runnable:max", "{{queue}} runnable"), prom("queue:job_queue_depth:max", "{{queue}} pending (incl. scheduled)")).description(
    "Runnable: pending and due, what KEDA scales on and QueueBacklog alerts on. Pending also counts retries in back-off and jobs scheduled for later.",
  );

/** The playbook's "Container Services Overview": its eight panels, on the figures the rules record. */
export function overviewDashboard(a: DashboardArgs): Dashboard {
  const jobs = a.services.join("|");
  return new DashboardBuilder("Container Services Overview")
    .uid("pitchey-overview")
    .tags(["pitchey", "processors"])
    .refresh("30s")
    .time({ from: "now-6h", to: "now" })
    .withPanel(
      new StatPanel()
        .title("Service Health")
        .description("Share of each service's pods answering their metrics scrape.")
        .unit("percentunit")
        .min(0)
        .max(1)
        .datasource(DATASOURCES.prometheus)
        .withTarget(prom(`avg by (job) (up{job=~"${jobs}"})`, "{{job}}"))
        .height(6)
        .span(18),
    )
    .withPanel(new StatPanel().title("Active Jobs").datasource(DATASOURCES.prometheus).withTarget(prom("sum(jobs_active)", "active")).height(6).span(6))
    .withPanel(series("Request Rate", "reqps", prom('sum by (service) (rate(http_requests_total{route=~"/api/.*"}[5m]))')))
    .withPanel(series("Error Rate", "reqps", prom('sum by (service) (rate(http_requests_total{route=~"/api/.*", status=~"5.."}[5m]))')))
    .withPanel(series("Response Time (P95)", "s", prom("service:http_request_duration_seconds:p95_rate5m")))
    .withPanel(series("CPU Usage", "percent", prom("pitchey:container_cpu_usage:percent", "{{pod}}")))
    .withPanel(series("Memory Usage", "percent", prom("pitchey:container_memory_usage:percent", "{{pod}}")))
    .withPanel(queuePanel("Queue Depth"))
    .build();
}

/** Per service and SLO: the 30-day SLI, the error budget left and the burn rate over the alerting windows. */
export function sloDashboard(windows: readonly string[], periodDays: number): Dashboard {
  const period = `${periodDays}d`;
  const b = new DashboardBuilder("Service Level Objectives")
    .uid("pitchey-slo")
    .tags(["pitchey", "slo"])
    .refresh("1m")
    .time({ from: `now-${periodDays}d`, to: "now" })
    .withRow(new RowBuilder(`SLI and error budget (${period})`))
    .withPanel(
      new StatPanel()
        .title(`SLI over ${period}`)
        .description("Availability: jobs delivered / jobs completed or dead-lettered. Latency: attempts within the p95 target.")
        .unit("percentunit")
        .decimals(3)
        .datasource(DATASOURCES.prometheus)
        .withTarget(prom(`1 - slo:sli_error:ratio_rate${period}`, "{{service}} {{slo}}"))
        .height(8)
        .span(12),
    )
    .withPanel(
      new StatPanel()
        .title("Error budget remaining")
        .unit("percentunit")
        .datasource(DATASOURCES.prometheus)
        .withTarget(prom(`1 - slo:sli_error:ratio_rate${period} / on(service, slo) slo:error_budget:ratio`, "{{service}} {{slo}}"))
        .height(8)
        .span(12),
    )
    .withPanel(series("Objective", "percentunit", prom("slo:objective:ratio", "{{service}} {{slo}}")))
    .withRow(new RowBuilder("Burn rate (1 = spending the budget exactly over the period)"));
  for (const slo of ["availability", "latency"]) {
    const p = series(`Burn rate: ${slo}`, "x");
    for (const w of windows) p.withTarget(prom(`slo:sli_error:ratio_rate${w}{slo="${slo}"} / on(service, slo) slo:error_budget:ratio`, `{{service}} ${w}`));
    b.withPanel(p);
  }
  return b.build();
}

/** Throughput, durations, queues, claim latency, cost and dead letters, with the worker's error logs. */
export function jobsDashboard(a: DashboardArgs): Dashboard {
  return new DashboardBuilder("Jobs")
    .uid("pitchey-jobs")
    .tags(["pitchey", "jobs"])
    .refresh("30s")
    .time({ from: "now-6h", to: "now" })
    .withPanel(series("Throughput by type and status", "ops", prom("sum by (type, status) (rate(jobs_total[5m]))", "{{type}} {{status}}")))
    .withPanel(
      new HeatmapPanel()
        .title("Job duration")
        .datasource(DATASOURCES.prometheus)
        .withTarget(new PromQuery().expr("sum by (le) (rate(job_duration_seconds_bucket[5m]))").format(PromQueryFormat.Heatmap).legendFormat("{{le}}").datasource(DATASOURCES.prometheus))
        .height(8)
        .span(12),
    )
    .withPanel(queuePanel("Queue depth"))
    .withPanel(series("Claim latency (P95)", "s", prom("histogram_quantile(0.95, sum by (type, le) (rate(job_claim_latency_seconds_bucket[5m])))", "{{type}}")))
    .withPanel(series("Cost per completed job (1h)", "currencyUSD", prom("service:job_cost_usd:per_completed_job_1h")))
    .withPanel(series("Dead-lettered jobs (per hour)", "short", prom("sum by (type) (increase(jobs_dead_total[1h]))", "{{type}}")))
    .withPanel(
      new LogsPanel()
        .title("Worker warnings and errors")
        .datasource(DATASOURCES.loki)
        .withTarget(new LokiQuery().expr(`{namespace="${a.processorNamespace}"} | json | level >= 40`).datasource(DATASOURCES.loki))
        .height(10)
        .span(24),
    )
    .build();
}

/** Prometheus expressions a dashboard's panels run (for the metric-name check). */
export function promExpressions(d: Dashboard): string[] {
  const out: string[] = [];
  const visit = (panels: unknown[] | undefined) => {
    for (const p of (panels ?? []) as { targets?: { expr?: string; datasource?: { type?: string } }[]; panels?: unknown[] }[]) {
      for (const t of p.targets ?? []) if (t.expr && t.datasource?.type === "prometheus") out.push(t.expr);
      visit(p.panels);
    }
  };
  visit(d.panels as unknown[]);
  return out;
}
