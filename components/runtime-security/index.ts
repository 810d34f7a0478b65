import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, type LabelContext } from "../labels";
import { movedFrom, type MovedFrom } from "../moved";
import { CHARTS, type ChartPin } from "../versions";
import { FALCO_NAMESPACE, falcoNetworkPolicies, falcoValues, type TaintedPool } from "./builders";

export * from "./builders";

export interface RuntimeSecurityArgs {
  /** Environment, cost center and team on every object. Required. */
  readonly labels: LabelContext;
  /** The cluster's pools; Falco tolerates every taint among them so it runs on every node. Required. */
  readonly pools: Readonly<Record<string, TaintedPool>>;
  /** Where falcosidekick posts alerts. Default: the Prometheus Operator's Alertmanager in `monitoring`. */
  readonly alertmanagerUrl?: string;
  /** Lowest Falco priority forwarded. Default: `warning`. */
  readonly minimumPriority?: "emergency" | "alert" | "critical" | "error" | "warning" | "notice" | "informational" | "debug";
  /** The chart installed. Default: the pinned `falco` chart in `components/versions.ts`. */
  readonly chart?: ChartPin;
  /** Where these resources were declared before this component existed (aliases keep them). Default: none. */
  readonly movedFrom?: MovedFrom;
}

export const RUNTIME_SECURITY_DEFAULTS = {
  alertmanagerUrl: "http://alertmanager-operated.monitoring.svc:9093",
  minimumPriority: "warning" as NonNullable<RuntimeSecurityArgs["minimumPriority"]>,
  chart: CHARTS.falco as ChartPin,
};

/**
 * Falco on every node with the playbook's four runtime rules, forwarding to Alertmanager through falcosidekick,
 * in a namespace that denies all traffic but Falco's own flows. The same on GKE and EKS.
 */
export class RuntimeSecurity extends pulumi.ComponentResource {
  readonly namespace: k8s.core.v1.Namespace;
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: RuntimeSecurityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:runtime-security:Falco", name, {}, opts);
    const a = { ...RUNTIME_SECURITY_DEFAULTS, ...args };
    if (!/^https?:\/\/[^\s]+$/.test(a.alertmanagerUrl)) {
      throw new pulumi.InputPropertiesError({
        message: `invalid RuntimeSecurity arguments: alertmanagerUrl: expected an http(s) URL, got "${a.alertmanagerUrl}"`,
        errors: [{ propertyPath: "alertmanagerUrl", reason: `expected an http(s) URL, got "${a.alertmanagerUrl}"` }],
      });
    }
    const labels = k8sLabels(a.labels, "falco", "runtime-security");
    const child = (role: string, formerName?: string) => ({ parent: this, ...movedFrom(a.movedFrom, role, formerName) });

    this.namespace = new k8s.core.v1.Namespace(
      `${name}-ns`,
      // Falco reads every syscall through eBPF, which needs a privileged pod.
      { metadata: { name: FALCO_NAMESPACE, labels: { ...labels, "pod-security.kubernetes.io/enforce": "privileged" } } },
      child("ns"),
    );
    for (const np of falcoNetworkPolicies(a.alertmanagerUrl)) {
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${np.name}`,
        { metadata: { name: np.name, namespace: this.namespace.metadata.name, labels }, spec: np.spec },
        child(np.name),
      );
    }
    const source = a.chart.repo.startsWith("oci://")
      ? { chart: `${a.chart.repo}/${a.chart.chart}`, version: a.chart.version }
      : { chart: a.chart.chart, version: a.chart.version, repositoryOpts: { repo: a.chart.repo } };
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: "falco",
        ...source,
        namespace: this.namespace.metadata.name,
        values: falcoValues({
          alertmanagerUrl: a.alertmanagerUrl,
          minimumPriority: a.minimumPriority,
          pools: a.pools,
          environment: a.labels.environment,
          labels,
        }),
      },
      child("release", a.movedFrom?.prefix),
    );
    this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.name });
  }
}
