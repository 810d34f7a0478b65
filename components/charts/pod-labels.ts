/**
 * Where each pinned chart takes labels for its pods: the value paths whose map the chart's templates write onto the
 * pod templates it renders, at the pinned version. Together a chart's paths reach every pod the program's values make
 * it run (hooks included, `helm test` pods excepted: nothing here runs them). Each path was read in the chart's
 * templates, not only its values.yaml, and none of them feeds a selector: a map that does (cluster-autoscaler's
 * `podLabels`, nvidia-device-plugin's `selectorLabelsOverride`) is not listed, since a label there changes a
 * Deployment's or DaemonSet's immutable selector. The components put the cost labels at these paths (`chartLabels()`);
 * the stacks' tests and the policy `helm-pod-cost-labels` check that every path of every release carries them.
 */
export interface ChartPodLabels {
  /** Dotted value paths (as in the chart's key list) whose map lands on pod templates. */
  readonly paths: readonly string[];
  /** Why the chart's pods get no cost labels, when `paths` is empty. */
  readonly unlabelled?: string;
}

export const POD_LABEL_PATHS: Readonly<Record<string, ChartPodLabels>> = {
  // The operator's pod template includes commonLabels; Prometheus and Alertmanager pods are the operator's
  // StatefulSets, labelled from each custom resource's podMetadata; the two subcharts have their own podLabels.
  "kube-prometheus-stack": {
    paths: [
      "commonLabels",
      "prometheus.prometheusSpec.podMetadata.labels",
      "alertmanager.alertmanagerSpec.podMetadata.labels",
      "kube-state-metrics.podLabels",
      "prometheus-node-exporter.podLabels",
    ],
  },
  // Merged into every Loki component's pod template (the single binary here) and the memcached caches'.
  loki: { paths: ["loki.podLabels"] },
  alloy: { paths: ["controller.podLabels"] },
  grafana: { paths: ["podLabels"] },
  falco: { paths: ["podLabels", "falcosidekick.podLabels"] },
  // keda.labels, with additionalLabels, is on the operator's, metrics server's and webhooks' pod templates.
  keda: { paths: ["additionalLabels"] },
  "cert-manager": { paths: ["podLabels", "webhook.podLabels", "cainjector.podLabels", "startupapicheck.podLabels"] },
  "nginx-ingress": { paths: ["controller.pod.extraLabels"] },
  // kubectl.labels: the CRD upgrade Job's pod (a pre-install and pre-upgrade hook).
  velero: { paths: ["podLabels", "kubectl.labels"] },
  // additionalLabels, not podLabels: the chart adds podLabels to the Deployment's selector.
  "cluster-autoscaler": { paths: ["additionalLabels"] },
  "aws-node-termination-handler": { paths: ["podLabels"] },
  "nvidia-device-plugin": {
    paths: [],
    unlabelled:
      "the chart's only way to add pod labels, selectorLabelsOverride, replaces the DaemonSets' selector with them: the environment would be in an immutable selector, and the plugin's and the MPS daemon's DaemonSets would select the same pods",
  },
  "cloudnative-pg": { paths: ["podLabels"] },
  "plugin-barman-cloud": { paths: ["podLabels"] },
};

/** The value at a dotted path of a release's values (no key on the paths above holds a dot itself). */
export function valueAt(values: unknown, path: string): unknown {
  let at: unknown = values;
  for (const key of path.split(".")) {
    if (!at || typeof at !== "object" || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}
