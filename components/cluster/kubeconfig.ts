/** Kubeconfigs that hold no credential: each run fetches a short-lived token through the cloud CLI. */

export interface KubeconfigArgs {
  readonly name: string;
  readonly server: string;
  readonly caData: string;
  readonly exec: { command: string; args: string[]; env?: { name: string; value: string }[]; installHint: string };
}

export function kubeconfig(a: KubeconfigArgs): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: a.name, cluster: { server: a.server, "certificate-authority-data": a.caData } }],
    contexts: [{ name: a.name, context: { cluster: a.name, user: a.name } }],
    "current-context": a.name,
    users: [
      {
        name: a.name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: a.exec.command,
            args: a.exec.args,
            ...(a.exec.env ? { env: a.exec.env } : {}),
            installHint: a.exec.installHint,
            provideClusterInfo: true,
            interactiveMode: "Never",
          },
        },
      },
    ],
  });
}

export function gkeKubeconfig(name: string, endpoint: string, caData: string): string {
  return kubeconfig({
    name,
    server: `https://${endpoint}`,
    caData,
    exec: {
      command: "gke-gcloud-auth-plugin",
      args: [],
      installHint: "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
    },
  });
}

export function eksKubeconfig(name: string, endpoint: string, caData: string, clusterName: string, region: string): string {
  return kubeconfig({
    name,
    server: endpoint,
    caData,
    exec: {
      command: "aws",
      args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"],
      installHint: "Install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
    },
  });
}
