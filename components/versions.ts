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
  falco: { chart: "falco", version: "9.1.1", repo: "https://falcosecurity.github.io/charts" },
  nvidiaDevicePlugin: { chart: "nvidia-device-plugin", version: "0.18.2", repo: "https://nvidia.github.io/k8s-device-plugin" },
  clusterAutoscaler: { chart: "cluster-autoscaler", version: "9.46.3", repo: "https://kubernetes.github.io/autoscaler" },
  awsNodeTerminationHandler: { chart: "aws-node-termination-handler", version: "0.27.3", repo: "oci://public.ecr.aws/aws-ec2/helm" },
} as const satisfies Record<string, ChartPin>;
