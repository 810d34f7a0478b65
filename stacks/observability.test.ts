import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { createMetrics } from "../images/src/runtime/metrics";
import { requireTool } from "../images/src/dev/tools";
import { jobsDashboard, overviewDashboard, promExpressions, sloDashboard } from "../components/observability/dashboards";
import { EXPORTER_METRICS, metricNames, seriesNames } from "../components/observability/metrics";
import { alertmanagerConfig, RECEIVERS } from "../components/observability/alertmanager";
import { ALERTS, burnWindows, ruleFile, ruleGroups, type RuleGroup } from "../components/observability/rules";
import { ConfigError, parsePlatformConfig } from "./config";
import { stackRaw } from "./monitoring.shared";
import { observabilityRoutingArgs, observabilityRuleArgs } from "./observability";

const root = join(__dirname, "..");
const promtoolTests = join(root, "components/observability/promtool");
const work = mkdtempSync(join(tmpdir(), "obs-rules-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));


const groupsOf = (stack: string): RuleGroup[] => ruleGroups(observabilityRuleArgs(parsePlatformConfig(stackRaw(stack))));
const alertsIn = (groups: RuleGroup[]) => groups.flatMap((g) => g.rules.filter((r) => r.alert));

/** Writes a stack's rule file beside copies of the promtool test files, which name it `rules.yaml`. */
function stage(stack: string): string {
  const dir = join(work, stack);
  execFileSync("mkdir", ["-p", dir]);
  writeFileSync(join(dir, "rules.yaml"), stringify(ruleFile(groupsOf(stack)), { lineWidth: 0 }));
  for (const f of readdirSync(promtoolTests).filter((f) => f.endsWith(".test.yaml"))) copyFileSync(join(promtoolTests, f), join(dir, f));
  return dir;
}

describe("alert rules under promtool", () => {
  let promtool: string;
  beforeAll(() => {
    promtool = requireTool("promtool");
  });

  for (const stack of ["prod", "dr"]) {
    it(`${stack}: promtool check rules accepts every rendered group`, () => {
      const dir = stage(stack);
      const r = spawnSync(promtool, ["check", "rules", join(dir, "rules.yaml")], { encoding: "utf8" });
      expect(r.stderr + r.stdout).toContain("SUCCESS");
      expect(r.status).toBe(0);
    });
  }

  // One test per file: promtool evaluates the whole rule file at every step of every case, so a file of cases over
  // days of series takes tens of seconds on a busy machine, and the files together several minutes.
  const testFiles = readdirSync(promtoolTests).filter((f) => f.endsWith(".test.yaml"));
  let dir: string;
  beforeAll(() => {
    dir = stage("prod");
  });
  for (const file of testFiles) {
    it(`promtool test rules ${file}: its alerts fire at their thresholds after their \`for\` and not just below (prod figures)`, () => {
      const r = spawnSync(promtool, ["test", "rules", file], { cwd: dir, encoding: "utf8", timeout: 240_000 });
      expect(r.error).toBeUndefined();
      expect(r.stdout + r.stderr).not.toContain("FAILED");
      expect(r.stdout + r.stderr).toContain("SUCCESS");
      expect(r.status).toBe(0);
    }, 300_000);
  }

  it("there are promtool test files to run", () => {
    expect(testFiles.length).toBeGreaterThanOrEqual(9);
  });

  it("the promtool test files hold a firing case for every alert and every severity it has", () => {
    const expected = new Set(alertsIn(groupsOf("prod")).map((a) => `${a.alert}/${a.labels?.severity}`));
    const covered = new Set<string>();
    for (const f of readdirSync(promtoolTests).filter((x) => x.endsWith(".test.yaml"))) {
      const doc = parse(readFileSync(join(promtoolTests, f), "utf8")) as { tests: { alert_rule_test?: { exp_alerts: { exp_labels: Record<string, string> }[] }[] }[] };
      for (const t of doc.tests) for (const c of t.alert_rule_test ?? []) for (const a of c.exp_alerts) covered.add(`${a.exp_labels.alertname}/${a.exp_labels.severity}`);
    }
    expect([...expected].filter((x) => !covered.has(x))).toEqual([]);
    expect(new Set(alertsIn(groupsOf("prod")).map((a) => a.alert))).toEqual(new Set(Object.keys(ALERTS)));
  });
});

describe("alert rules", () => {
  const groups = groupsOf("prod");

  it("every alert has severity, team, service or job, summary, description and a runbook that exists", () => {
    for (const a of alertsIn(groups)) {
      expect(["critical", "warning"], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description, a.alert).toBeTruthy();
      const url = a.annotations?.runbook_url ?? "";
      expect(url, a.alert).toMatch(new RegExp(`/docs/runbooks/${a.alert}\\.md$`));
      expect(existsSync(join(root, "docs/runbooks", `${a.alert}.md`)), `docs/runbooks/${a.alert}.md`).toBe(true);
    }
  });

  it("keeps the playbook's five alerts with their thresholds, durations and severities", () => {
    const byName = (n: string) => alertsIn(groups).find((a) => a.alert === n)!;
    expect(byName("ContainerDown")).toMatchObject({ for: "2m", labels: { severity: "critical" } });
    expect(byName("ContainerDown").expr.split("\nor\n")).toEqual([
      'up{job=~"video-processor|document-processor|ai-inference|media-transcoder|code-executor"} == 0',
      ...["video-processor", "document-processor", "ai-inference", "media-transcoder", "code-executor"].map((j) => `absent(up{job="${j}"})`),
    ]);
    expect(byName("HighCPUUsage")).toMatchObject({ expr: "pitchey:container_cpu_usage:percent > 85", for: "5m", labels: { severity: "warning" } });
    expect(byName("HighMemoryUsage")).toMatchObject({ expr: "pitchey:container_memory_usage:percent > 90", for: "5m", labels: { severity: "warning" } });
    expect(byName("QueueBacklog")).toMatchObject({ expr: "queue:job_queue_runnable:max > 500", for: "10m", labels: { severity: "warning" } });
    expect(byName("HighErrorRate")).toMatchObject({ expr: "service:job_error:ratio_rate5m > 0.01", for: "5m", labels: { severity: "critical" } });
  });

  it("ContainerDown watches for a vanished target only where a floor says pods must run", () => {
    const raw = stackRaw("prod") as Record<string, any>;
    raw.processors = { "ai-inference": { scaling: { minReplicas: 0 } } };
    const expr = alertsIn(ruleGroups(observabilityRuleArgs(parsePlatformConfig(raw)))).find((a) => a.alert === "ContainerDown")!.expr;
    expect(expr).toContain('absent(up{job="video-processor"})');
    expect(expr).not.toContain('absent(up{job="ai-inference"})');
    // Scaled to zero, it is still down when a target it has stops answering.
    expect(expr).toMatch(/^up\{job=~"[^"]*ai-inference[^"]*"\} == 0/);
  });

  it("generates burn-rate alerts from each processor's SLO, and follows a changed SLO", () => {
    const raw = stackRaw("prod") as Record<string, any>;
    raw.processors = { "code-executor": { slo: { availability: 99.9, latencyP95Seconds: 60 } } };
    const changed = alertsIn(ruleGroups(observabilityRuleArgs(parsePlatformConfig(raw))));
    const page = changed.find((a) => a.alert === "AvailabilityErrorBudgetBurn" && a.labels?.service === "code-executor" && a.labels?.burn === "page")!;
    expect(page.expr).toContain('slo:sli_error:ratio_rate1h{service="code-executor", slo="availability"} > 0.0144');
    const recorded = ruleGroups(observabilityRuleArgs(parsePlatformConfig(raw))).flatMap((g) => g.rules).filter((r) => r.record === "slo:sli_error:ratio_rate5m" && r.labels?.service === "code-executor" && r.labels?.slo === "latency");
    expect(recorded[0].expr).toContain('le=~"60(\\\\.0)?"');
  });

  it("BackupStale names whose backup job it watches: dr's replica replays prod's runs until it is promoted", () => {
    const description = (raw: Record<string, unknown>) => alertsIn(ruleGroups(observabilityRuleArgs(parsePlatformConfig(raw)))).find((a) => a.alert === "BackupStale")!.annotations!.description!;
    expect(description(stackRaw("prod"))).toMatch(/the backup CronJob is failing or not running/);
    expect(description(stackRaw("prod"))).not.toMatch(/replica/);
    const dr = stackRaw("dr") as any;
    expect(description(dr)).toMatch(/this database is a replica, and the runs it reports are those of pitchey\/pitchey-containers\/prod's backup CronJob/);
    const promoted = { ...dr, failover: { ...dr.failover, phase: 100 } };
    expect(description(promoted)).toMatch(/the backup CronJob is failing or not running/);
    expect(description(promoted)).not.toMatch(/replica/);
  });

  it("refuses a latency target that is not a bucket edge of job_duration_seconds, naming the key", () => {
    const raw = stackRaw("prod") as Record<string, any>;
    raw.processors = { "video-processor": { slo: { latencyP95Seconds: 450 } } };
    try {
      parsePlatformConfig(raw);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems.join("\n")).toContain("processors.video-processor.slo.latencyP95Seconds: expected a bucket edge of job_duration_seconds");
    }
  });

  it("refuses unknown observability keys and bad durations, naming the key", () => {
    const raw = stackRaw("prod") as Record<string, any>;
    raw.observability = { alerts: { highCpu: { threshold: 85, for: "five minutes" } }, prometheus: { retension: "30d" } };
    try {
      parsePlatformConfig(raw);
      expect.unreachable();
    } catch (e) {
      const text = (e as ConfigError).problems.join("\n");
      expect(text).toContain("observability.alerts.highCpu.for: expected a Prometheus duration");
      expect(text).toContain("observability.prometheus.retension: unknown key");
    }
  });
});

describe("metric names", () => {
  /** Everything the worker's real registry exports, read by instantiating it. */
  async function workerSeries(): Promise<Set<string>> {
    const m = createMetrics();
    const json = await m.registry.getMetricsAsJSON();
    return new Set(json.flatMap((x) => seriesNames({ name: x.name, type: String(x.type) })));
  }

  it("finds the metric names in an expression, and only those", () => {
    expect(metricNames('sum by (service) (rate(jobs_total{status=~"failed|dead"}[5m])) / on(service) group_left x:y:z')).toEqual(["jobs_total", "x:y:z"]);
    expect(metricNames('histogram_quantile(0.95, sum by (le) (rate(a_bucket{le=~"1(\\\\.0)?"}[5m]))) > 1e3')).toEqual(["a_bucket"]);
    expect(metricNames('label_replace(100 * foo / bar, "service", "$1", "container", "(.+)")')).toEqual(["bar", "foo"]);
  });

  it("every metric the rules and dashboards read is exported by the worker, a known exporter or a recording rule", async () => {
    const worker = await workerSeries();
    const exporters = new Set<string>(Object.values(EXPORTER_METRICS).flat());
    const groups = groupsOf("prod");
    const recorded = new Set(groups.flatMap((g) => g.rules.map((r) => r.record)).filter(Boolean) as string[]);
    const unknown = groups
      .flatMap((g) => g.rules)
      .flatMap((r) => metricNames(r.expr).map((n) => ({ n, rule: r.record ?? r.alert })))
      .filter(({ n }) => !worker.has(n) && !exporters.has(n) && !recorded.has(n));
    expect(unknown).toEqual([]);
    const rules = observabilityRuleArgs(parsePlatformConfig(stackRaw("prod")));
    const dashboards = [overviewDashboard({ services: rules.services.map((x) => x.name), processorNamespace: "processors" }), sloDashboard(burnWindows(rules), 30), jobsDashboard({ services: [], processorNamespace: "processors" })];
    const unknownOnDashboards = dashboards
      .flatMap((d) => promExpressions(d).flatMap((e) => metricNames(e).map((n) => ({ n, dashboard: d.title }))))
      .filter(({ n }) => !worker.has(n) && !exporters.has(n) && !recorded.has(n));
    expect(unknownOnDashboards).toEqual([]);
    // The worker's metrics the rules depend on really exist under these names.
    for (const n of ["jobs_total", "jobs_dead_total", "job_queue_depth", "job_queue_runnable", "job_duration_seconds_bucket", "job_cost_usd", "job_lease_expiries_total", "http_request_duration_seconds_bucket"]) {
      expect(worker.has(n), n).toBe(true);
    }
  });

  it("the latency SLI's bucket edges are the worker's job_duration_seconds buckets", async () => {
    const { JOB_DURATION_BUCKETS } = await import("../components/observability/rules");
    const m = createMetrics({ defaultMetrics: false });
    m.jobDuration.observe({ type: "video" }, 0.1);
    const text = await m.registry.getSingleMetricAsString("job_duration_seconds");
    const edges = [...text.matchAll(/le="([^"]+)"/g)].map((x) => x[1]).filter((x) => x !== "+Inf").map(Number);
    expect(edges).toEqual([...JOB_DURATION_BUCKETS]);
  });
});

describe("Alertmanager configuration under amtool", () => {
  let amtool: string;
  let file: string;
  beforeAll(() => {
    amtool = requireTool("amtool");
    file = join(work, "alertmanager.yaml");
    writeFileSync(file, stringify(alertmanagerConfig(observabilityRoutingArgs(parsePlatformConfig(stackRaw("prod"))))));
  });
  const routes = (...labels: string[]) => {
    const r = spawnSync(amtool, ["config", "routes", "test", `--config.file=${file}`, ...labels], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim().split(",").sort();
  };

  it("amtool check-config accepts it", () => {
    const r = spawnSync(amtool, ["check-config", file], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });

  it("routes critical alerts to PagerDuty, warnings to Slack, and everything to the email digest", () => {
    expect(routes("alertname=HighErrorRate", "severity=critical", "service=video-processor", "environment=prod")).toEqual([RECEIVERS.digest, RECEIVERS.pagerduty].sort());
    expect(routes("alertname=QueueBacklog", "severity=warning", "service=document-processor", "environment=prod")).toEqual([RECEIVERS.digest, RECEIVERS.slack].sort());
    expect(routes("alertname=Watchdog", "severity=none")).toEqual([RECEIVERS.digest]);
  });

  it("routes Falco's alerts (falcosidekick's labels) like the rest", () => {
    const falco = ["source=falco", "rule=Terminal shell in container", "eventsource=syscall", "environment=prod"];
    expect(routes(...falco, "priority=Critical", "severity=critical")).toEqual([RECEIVERS.digest, RECEIVERS.pagerduty].sort());
    expect(routes(...falco, "priority=Warning", "severity=warning")).toEqual([RECEIVERS.digest, RECEIVERS.slack].sort());
    expect(routes(...falco, "priority=Notice", "severity=information")).toEqual([RECEIVERS.digest]);
  });

  it("groups by alertname and service, inhibits a service's warnings while it has a critical alert, and holds no secret", () => {
    const cfg = alertmanagerConfig(observabilityRoutingArgs(parsePlatformConfig(stackRaw("prod")))) as any;
    expect(cfg.route.group_by).toEqual(expect.arrayContaining(["alertname", "service"]));
    expect(cfg.inhibit_rules).toEqual([{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"', 'service=~".+"'], equal: ["service"] }]);
    const text = JSON.stringify(cfg);
    expect(text).toContain("routing_key_file");
    expect(text).toContain("api_url_file");
    expect(text).toContain("auth_password_file");
    expect(text).not.toMatch(/routing_key"|api_url"|auth_password"/);
  });
});
