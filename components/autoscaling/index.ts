import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartLabels, k8sLabels, type LabelContext } from "../labels";
import { podSecurityLabels } from "../namespace/builders";
import { CHARTS } from "../versions";
import { kedaDatabaseProblems, kedaNetworkPolicies, type KedaDatabaseTarget } from "./network";

export * from "./network";

export interface KedaArgs {
  /** Namespace KEDA runs in. Default: `keda`. */
  readonly namespace: string;
  readonly labels: LabelContext;
  /**
   * What serves metrics.k8s.io on this cluster (metrics-server). KEDA's cpu and memory triggers become HPA
   * resource metrics that read it, so the release waits for it. Default: none (the cluster serves it itself).
   */
  readonly metricsApi?: readonly pulumi.Resource[];
  /**
   * The jobs database the processors' queue-depth (postgresql) triggers query: the operator's only egress besides
   * DNS and the API server. Required.
   */
  readonly queueDatabase: KedaDatabaseTarget;
}

/** Chart values: restricted security contexts, HA operator, metrics for Prometheus, the program's cost labels. */
export function kedaValues(labels: Record<string, string>): Record<string, unknown> {
  const restricted = {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
  return {
    operator: { replicaCount: 2 },
    podDisruptionBudget: { operator: { minAvailable: 1 }, metricServer: { minAvailable: 1 }, webhooks: { minAvailable: 1 } },
    metricsServer: { replicaCount: 2 },
    webhooks: { replicaCount: 2 },
    podSecurityContext: {
      operator: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      metricServer: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      webhooks: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    },
    securityContext: { operator: restricted, metricServer: restricted, webhooks: restricted },
    prometheus: { operator: { enabled: true }, metricServer: { enabled: true }, webhooks: { enabled: true } },
    // Cost labels only: the chart writes the app.kubernetes.io/* keys on every object itself.
    additionalLabels: chartLabels(labels),
  };
}

/** KEDA from its upstream chart; it owns every processor's HPA. */
export class Keda extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: KedaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:autoscaling:Keda", name, {}, opts);
    const problems = kedaDatabaseProblems(args.queueDatabase, "queueDatabase");
    if (problems.length > 0) throw new pulumi.InputPropertiesError({ message: `invalid KEDA ${name}`, errors: problems });
    const labels = k8sLabels(args.labels, "keda", "autoscaler");
    const ns = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: args.namespace, labels: { ...labels, ...podSecurityLabels() } } },
      { parent: this },
    );
    const netpols = Object.entries(kedaNetworkPolicies(args.queueDatabase)).map(
      ([policy, spec]) =>
        new k8s.networking.v1.NetworkPolicy(`${name}-${policy}`, { metadata: { name: policy, namespace: ns.metadata.name, labels }, spec }, { parent: this }),
    );
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: "keda",
        chart: CHARTS.keda.chart,
        version: CHARTS.keda.version,
        repositoryOpts: { repo: CHARTS.keda.repo },
        namespace: ns.metadata.name,
        atomic: true,
        values: kedaValues(labels),
      },
      { parent: this, dependsOn: [...(args.metricsApi ?? []), ...netpols] },
    );
    this.registerOutputs({ release: this.release.status });
  }
}
