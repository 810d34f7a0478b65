/**
 * Every Helm chart and third-party image the program deploys, pinned in one place.
 * Bump here, plan, read the chart's changelog for value renames, and check every key in the chart's key list
 * (components/charts/<chart>.keys.txt) against the new version's values.yaml, then set the list's `# version:` to the
 * new pin: stacks/chart-keys.test.ts fails until it matches. Rendering the plan's values with `helm template` against
 * the new version (docs/decisions.md #80 says how) remains the fuller check.
 */
export interface ChartPin {
  readonly chart: string;
  readonly version: string;
  readonly repo: string;
  /** The application version the chart release ships (its Chart.yaml `appVersion`), where the program depends on it. */
  readonly appVersion?: string;
}

export const CHARTS = {
  keda: { chart: "keda", version: "2.21.1", repo: "https://kedacore.github.io/charts" },
  falco: { chart: "falco", version: "9.1.1", repo: "https://falcosecurity.github.io/charts" },
  nvidiaDevicePlugin: { chart: "nvidia-device-plugin", version: "0.18.2", repo: "https://nvidia.github.io/k8s-device-plugin" },
  /**
   * cluster-autoscaler 1.35.0 (chart released 2026-07-21). The chart's release follows the autoscaler's minor, which
   * follows the cluster's: its RBAC grants what that autoscaler reads (resource.k8s.io slices and claims since 1.34).
   */
  clusterAutoscaler: { chart: "cluster-autoscaler", version: "9.59.0", repo: "https://kubernetes.github.io/autoscaler", appVersion: "1.35.0" },
  awsNodeTerminationHandler: { chart: "aws-node-termination-handler", version: "0.27.3", repo: "oci://public.ecr.aws/aws-ec2/helm" },
  /** CloudNativePG operator 1.30.0. */
  cloudnativePg: { chart: "cloudnative-pg", version: "0.29.0", repo: "https://cloudnative-pg.github.io/charts" },
  /** Barman Cloud plugin v0.13.0 (WAL archive and base backups); needs CNPG ≥ 1.26 and cert-manager. */
  barmanCloud: { chart: "plugin-barman-cloud", version: "0.7.0", repo: "https://cloudnative-pg.github.io/charts" },
  // Monitoring. Versions as last seen in the charts' repositories (the program cannot reach them from here; bump
  // after reading each chart's changelog).
  kubePrometheusStack: { chart: "kube-prometheus-stack", version: "88.5.3", repo: "https://prometheus-community.github.io/helm-charts" },
  loki: { chart: "loki", version: "18.11.0", repo: "https://grafana-community.github.io/helm-charts" },
  alloy: { chart: "alloy", version: "1.11.1", repo: "https://grafana.github.io/helm-charts" },
  grafana: { chart: "grafana", version: "12.11.1", repo: "https://grafana-community.github.io/helm-charts" },
  // F5 NGINX Ingress Controller 5.5.4 (VirtualServer/Policy CRDs, k8s.nginx.org/v1).
  nginxIngress: { chart: "nginx-ingress", version: "2.6.4", repo: "oci://ghcr.io/nginx/charts" },
  certManager: { chart: "cert-manager", version: "v1.21.1", repo: "https://charts.jetstack.io" },
  /**
   * Velero 1.18.1 (the chart's appVersion and default image). 12.1.0 is the newest release whose values.yaml and
   * crds/ were read for this pin (tag velero-12.1.0 of vmware-tanzu/helm-charts, 2026-06-25); 12.2.x exists but was
   * not read. Velero 1.18 is tested on Kubernetes 1.33–1.35 (its README's compatibility matrix). Bumping: re-read
   * values.yaml against components/charts/velero.keys.txt and replace the CRDs in components/backup/velero-crds.
   */
  velero: { chart: "velero", version: "12.1.0", repo: "https://vmware-tanzu.github.io/helm-charts", appVersion: "1.18.1" },
} as const satisfies Record<string, ChartPin>;

/**
 * The Kubernetes minor both clusters run (EKS's version, GKE's minimum master version). 1.35 is in standard support
 * on EKS until 2027-03-27; `components/cost/price-book.json` (`kubernetesSupport`) holds the dates the policy
 * `kubernetes-version-supported` and the cost book judge it by. Raise it one minor at a time on a live cluster:
 * docs/clusters.md (Kubernetes upgrades).
 */
export const KUBERNETES_VERSION = "1.35";

/** One EKS-managed add-on: its EKS name and an EKS release of it (`vX.Y.Z-eksbuild.N`). */
export interface EksAddonPin {
  readonly name: string;
  readonly version: string;
}

export type EksAddonKey = "vpcCni" | "kubeProxy" | "coreDns" | "metricsServer" | "ebsCsiDriver";

/**
 * EKS add-ons the program pins, per Kubernetes minor the EKS cluster may run (a live cluster moves one minor per
 * `pulumi up`, and each step needs add-ons offered for that minor). Each version must be offered for its minor:
 * `aws eks describe-addon-versions --addon-name <name> --kubernetes-version <minor>` lists them. kube-proxy's minor
 * is the cluster's (it must never be newer than the API server). Unpinned, an add-on takes EKS's default at
 * creation and never moves, so it would fall behind the control plane on every upgrade.
 *
 * The versions were taken from AWS's add-on version tables (kube-proxy, CoreDNS) and from published pins for those
 * minors, not from the EKS API (the program has no AWS account here): run the command above before applying.
 */
export const EKS_ADDONS_BY_MINOR: Readonly<Record<string, Readonly<Record<EksAddonKey, EksAddonPin>>>> = {
  "1.34": {
    vpcCni: { name: "vpc-cni", version: "v1.22.4-eksbuild.3" },
    kubeProxy: { name: "kube-proxy", version: "v1.34.6-eksbuild.2" },
    coreDns: { name: "coredns", version: "v1.12.4-eksbuild.1" },
    /** The resource metrics API (metrics.k8s.io) the HPA reads for cpu and memory triggers; a community add-on. */
    metricsServer: { name: "metrics-server", version: "v0.8.1-eksbuild.1" },
    /** Provisions and attaches EBS volumes for PersistentVolumeClaims (the database's disks). */
    ebsCsiDriver: { name: "aws-ebs-csi-driver", version: "v1.66.0-eksbuild.1" },
  },
  "1.35": {
    vpcCni: { name: "vpc-cni", version: "v1.22.4-eksbuild.3" },
    kubeProxy: { name: "kube-proxy", version: "v1.35.3-eksbuild.29" },
    coreDns: { name: "coredns", version: "v1.13.2-eksbuild.31" },
    metricsServer: { name: "metrics-server", version: "v0.8.1-eksbuild.1" },
    ebsCsiDriver: { name: "aws-ebs-csi-driver", version: "v1.66.0-eksbuild.1" },
  },
};

/** The add-ons pinned for the default minor. */
export const EKS_ADDONS = EKS_ADDONS_BY_MINOR[KUBERNETES_VERSION];

/** The add-on pins for a cluster on `minor` (`1.35`); undefined when none are recorded for it. */
export function eksAddonsFor(minor: string): Readonly<Record<EksAddonKey, EksAddonPin>> | undefined {
  return EKS_ADDONS_BY_MINOR[minor];
}

/** A gVisor release: runsc and containerd-shim-runsc-v1 from gVisor's release bucket. */
export interface GvisorPin {
  /** A dated point release (`yyyymmdd.N`, tagged `release-yyyymmdd.N` in google/gvisor); never `latest`. */
  readonly release: string;
  /**
   * sha512 of each binary per `uname -m`, as the release's published `<file>.sha512` files state them. When
   * recorded, a node refuses a checksum file that differs from them, so the bucket alone cannot change what runs.
   */
  readonly sha512?: Readonly<Partial<Record<"x86_64" | "aarch64", { readonly runsc: string; readonly shim: string }>>>;
}

/**
 * gVisor on EKS sandbox nodes. 20260525.0 is a tagged release that still publishes the bare `runsc` and
 * `containerd-shim-runsc-v1` binaries with their `.sha512` files, which the node's boot script expects. Bumping:
 * fetch both `.sha512` files of the new release for x86_64, record them below, plan, and roll the sandbox pool.
 * The digests are not recorded yet: see docs/decisions.md (gVisor on EKS).
 */
export const GVISOR: GvisorPin = { release: "20260525.0" };

/**
 * Third-party images: those referenced by custom resources rather than charts, and the bases the worker images are
 * built from (`images/Dockerfile`'s `NODE_IMAGE` and `CUDA_IMAGE`, passed as build arguments so the plan shows them).
 * PostgreSQL's major version matches the `db-backup` image's client (Debian bookworm's PostgreSQL 15): pg_dump
 * refuses newer servers, so the Node base stays on bookworm.
 */
export const IMAGES = {
  postgresql: "ghcr.io/cloudnative-pg/postgresql:15.14-standard-bookworm",
  /**
   * Node.js 24 (LTS, fixes until 2028-04-30), its 24.21.0 release, on Debian bookworm. The digest is a multi-arch
   * index that published pins of this tag carry (the tag is rebuilt as Debian updates, so several are in circulation),
   * not resolved against Docker Hub from here: `docker buildx imagetools inspect` it before the first build.
   */
  node: "node:24.21.0-bookworm-slim@sha256:0e0ff40c39bc087845bfb27465a0df4ea419520094bc35842ff83dd8cbe6f9b6",
  /** The CUDA 12 + cuDNN 9 runtime onnxruntime-node's CUDA provider links against; the `ai-inference` base. */
  cuda: "nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04@sha256:59e0e4376a0f16d10b03d3a14344b80a866a1674cb4948cb318291387ac05010",
  /**
   * Velero's object-store plugins, copied into the server pod by an init container. Plugin 1.14.x is the line the
   * plugins' compatibility tables pair with Velero 1.18.x; 1.14.2 (2026-06) is the newest tag of each. Move with
   * CHARTS.velero's Velero minor.
   */
  veleroPluginGcp: "docker.io/velero/velero-plugin-for-gcp:v1.14.2",
  veleroPluginAws: "docker.io/velero/velero-plugin-for-aws:v1.14.2",
} as const;
