import { stringify } from "yaml";
import type { RecordedResource } from "../../components/testing/mocks";

export const SECRET_PLACEHOLDER = "[secret]";

/** Pulumi-only input keys that are not part of the Kubernetes object. */
const NON_MANIFEST_KEYS = new Set(["__inputs"]);

export const isKubernetesObject = (r: RecordedResource) =>
  r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh/") && r.custom;

/**
 * The Kubernetes object a resource's inputs describe. Secret values are already redacted in the records; a
 * Secret's data is blanked here too, in case a value reached it without being marked secret.
 */
export function manifestOf(r: RecordedResource): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.props)) if (!NON_MANIFEST_KEYS.has(k)) obj[k] = v;
  if (obj.kind === "Secret") {
    for (const key of ["data", "stringData"]) {
      const data = obj[key] as Record<string, unknown> | undefined;
      if (data) obj[key] = Object.fromEntries(Object.keys(data).map((k) => [k, SECRET_PLACEHOLDER]));
    }
  }
  return obj;
}

/** The nearest ancestor that is one of our components (`pitchey:*`), or `undefined` at top level. */
export function owningComponent(r: RecordedResource, byUrn: Map<string, RecordedResource>): RecordedResource | undefined {
  let parent = r.parent ? byUrn.get(r.parent) : undefined;
  let top: RecordedResource | undefined;
  while (parent) {
    if (parent.type.startsWith("pitchey:")) top = parent;
    parent = parent.parent ? byUrn.get(parent.parent) : undefined;
  }
  return top;
}

/** One multi-document YAML file per top-level component; top-level objects go to `platform.yaml`. */
export function renderKubernetes(resources: RecordedResource[]): Map<string, string> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const files = new Map<string, string[]>();
  for (const r of resources.filter(isKubernetesObject)) {
    const owner = owningComponent(r, byUrn);
    const file = `${owner ? owner.name : "platform"}.yaml`;
    const docs = files.get(file) ?? [];
    docs.push(stringify(manifestOf(r), { sortMapEntries: false }));
    files.set(file, docs);
  }
  return new Map([...files].map(([f, docs]) => [f, docs.map((d) => `---\n${d}`).join("")]));
}

/** `helm/<release>.values.yaml`: the chart, its pinned version and the values the program passes. */
export function renderHelmValues(resources: RecordedResource[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of resources.filter((x) => x.type === "kubernetes:helm.sh/v3:Release")) {
    const p = r.props as { name?: string; chart?: string; version?: string; repositoryOpts?: { repo?: string }; namespace?: string; values?: unknown };
    const release = p.name ?? r.name;
    const header = `# chart: ${p.chart}\n# version: ${p.version ?? "UNPINNED"}\n# repository: ${p.repositoryOpts?.repo ?? ""}\n# namespace: ${p.namespace ?? ""}\n`;
    out.set(`${release}.values.yaml`, header + stringify(p.values ?? {}));
  }
  return out;
}

/**
 * Components, their nesting, and the dependencies between top-level components. A dependency on a resource that
 * belongs to no component (a stack-level Secret or Job) is followed through to the components behind it.
 */
export function renderGraph(resources: RecordedResource[], dependencies: Map<string, string[]>): string {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const components = resources.filter((r) => r.type.startsWith("pitchey:"));
  const ids = new Map(components.map((c, i) => [c.urn, `c${i}`]));
  const lines = ["graph LR"];
  for (const c of components) lines.push(`  ${ids.get(c.urn)}["${c.name}<br/><small>${c.type.replace("pitchey:", "")}</small>"]`);
  for (const c of components) {
    const parent = c.parent ? byUrn.get(c.parent) : undefined;
    if (parent?.type.startsWith("pitchey:")) lines.push(`  ${ids.get(parent.urn)} --- ${ids.get(c.urn)}`);
  }
  const topOf = (r: RecordedResource) => (r.type.startsWith("pitchey:") && !owningComponent(r, byUrn) ? r : owningComponent(r, byUrn));
  const targets = (urn: string, seen = new Set<string>()): RecordedResource[] => {
    if (seen.has(urn)) return [];
    seen.add(urn);
    const r = byUrn.get(urn);
    if (!r) return [];
    const top = topOf(r);
    if (top) return [top];
    return (dependencies.get(urn) ?? []).flatMap((d) => targets(d, seen));
  };
  const edges = new Set<string>();
  for (const r of resources) {
    const from = topOf(r);
    if (!from) continue;
    for (const to of (dependencies.get(r.urn) ?? []).flatMap((d) => targets(d))) {
      if (from.urn !== to.urn) edges.add(`  ${ids.get(from.urn)} -.->|depends on| ${ids.get(to.urn)}`);
    }
  }
  return [...lines, ...[...edges].sort()].join("\n") + "\n";
}

export interface Summary {
  byComponent: Record<string, number>;
  byProvider: Record<string, number>;
  total: number;
}

export function summarize(resources: RecordedResource[]): Summary {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const byComponent: Record<string, number> = {};
  const byProvider: Record<string, number> = {};
  const custom = resources.filter((r) => r.custom && !r.type.startsWith("pulumi:"));
  for (const r of custom) {
    const owner = owningComponent(r, byUrn);
    const key = owner ? `${owner.type.replace("pitchey:", "")} ${owner.name}` : "(top level)";
    byComponent[key] = (byComponent[key] ?? 0) + 1;
    const provider = r.type.split(":")[0];
    byProvider[provider] = (byProvider[provider] ?? 0) + 1;
  }
  return { byComponent, byProvider, total: custom.length };
}

/**
 * What monitoring's consumers read, from the records: `prometheus/rules.yaml` (every PrometheusRule's groups, as
 * Prometheus loads them), `alertmanager/alertmanager.yaml` (the configuration the chart hands Alertmanager; its
 * receivers read credentials from files, so it holds none) and `grafana/<uid>.json` (each provisioned dashboard).
 */
export function renderMonitoring(resources: RecordedResource[]): Map<string, string> {
  const out = new Map<string, string>();
  const groups = resources
    .filter((r) => r.custom && r.props.kind === "PrometheusRule")
    .flatMap((r) => ((r.props.spec as { groups?: unknown[] } | undefined)?.groups ?? []) as unknown[]);
  if (groups.length > 0) out.set("prometheus/rules.yaml", stringify({ groups }, { lineWidth: 0 }));
  for (const r of resources.filter((x) => x.type === "kubernetes:helm.sh/v3:Release")) {
    const config = (r.props.values as { alertmanager?: { config?: unknown } } | undefined)?.alertmanager?.config;
    if (config) out.set("alertmanager/alertmanager.yaml", stringify(config, { lineWidth: 0 }));
  }
  for (const r of resources.filter((x) => x.custom && x.props.kind === "ConfigMap")) {
    const meta = r.props.metadata as { labels?: Record<string, string> } | undefined;
    if (meta?.labels?.grafana_dashboard !== "1") continue;
    for (const [file, text] of Object.entries((r.props.data ?? {}) as Record<string, string>)) out.set(`grafana/${file}`, text.endsWith("\n") ? text : `${text}\n`);
  }
  return out;
}
