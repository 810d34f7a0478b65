import { container, find, processorDeployment, remove, res, type Case } from "../util";

const np = (name: string) => `processors-${name}`;

export const networkCases: Record<string, Case[]> = {
    "k8s-workload-store-reachable": [
        {
            name: "the sandboxed code-executor is told to write results to R2",
            culprit: "code-executor",
            mutate: (s) => void container(find(s, "code-executor")).env.push({ name: "RESULTS_STORE_URL", value: "s3://pitchey-results/jobs" }),
        },
        {
            name: "code-executor gets an R2 token it cannot use",
            culprit: "code-executor",
            mutate: (s) => void container(find(s, "code-executor")).env.push({ name: "AWS_SECRET_ACCESS_KEY_FILE", value: "/var/run/secrets/pitchey/object-store/AWS_SECRET_ACCESS_KEY" }),
        },
        {
            name: "the HTTPS egress policy is gone while processors still write to the store",
            culprit: "video-processor",
            mutate: (s) => remove(s, np("allow-object-storage")),
        },
    ],
    "k8s-namespace-default-deny": [
        { name: "the default-deny policy is missing", culprit: "processors-ns", mutate: (s) => remove(s, np("default-deny")) },
        { name: "it denies ingress only", culprit: "processors-ns", mutate: (s) => void (find(s, np("default-deny")).props.spec.policyTypes = ["Ingress"]) },
        { name: "it selects only some pods", culprit: "processors-ns", mutate: (s) => void (find(s, np("default-deny")).props.spec.podSelector = { matchLabels: { "app.kubernetes.io/name": "video-processor" } }) },
        {
            name: "a workload runs in a namespace without policies",
            culprit: "batch-worker",
            mutate: (s) => {
                const w = processorDeployment("batch-worker");
                w.props.metadata.namespace = "batch";
                s.push(w);
            },
        },
        {
            name: "a CloudNativePG cluster's namespace denies ingress only",
            culprit: "jobs-db-ns",
            mutate: (s) => {
                s.push(res("kubernetes:core/v1:Namespace", "jobs-db-ns", { metadata: { name: "jobs-db" } }));
                s.push(res("kubernetes:postgresql.cnpg.io/v1:Cluster", "jobs-db-cluster", { metadata: { name: "jobs-db", namespace: "jobs-db" }, spec: { instances: 3 } }));
                s.push(res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "jobs-db-default-deny-ingress", { metadata: { name: "default-deny-ingress", namespace: "jobs-db" }, spec: { podSelector: {}, policyTypes: ["Ingress"] } }));
            },
        },
        {
            name: "a pooler runs in a namespace without policies",
            culprit: "reports-pooler",
            mutate: (s) => void s.push(res("kubernetes:postgresql.cnpg.io/v1:Pooler", "reports-pooler", { metadata: { name: "reports-pooler-rw", namespace: "reports" }, spec: { cluster: { name: "reports" }, type: "rw" } })),
        },
    ],
    "k8s-helm-namespace-default-deny": [
        { name: "the ingress controller's namespace has no default deny", culprit: "ingress-nginx", mutate: (s) => remove(s, "ingress-nginx-default-deny") },
        { name: "a chart is installed into a new namespace", culprit: "loki", mutate: (s) => void s.push(res("kubernetes:helm.sh/v3:Release", "loki", { chart: "loki", version: "6.16.0", namespace: "logging" })) },
    ],
    "k8s-sandboxed-service-egress": [
        {
            name: "an allow-all egress rule selects code-executor",
            culprit: "code-exec-open",
            mutate: (s) =>
                void s.push(res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "code-exec-open", {
                    metadata: { name: "code-exec-open", namespace: "processors" },
                    spec: { podSelector: { matchLabels: { "app.kubernetes.io/name": "code-executor" } }, policyTypes: ["Egress"], egress: [{}] },
                })),
        },
        {
            name: "the database rule allows any destination",
            culprit: "processors-allow-dns-db",
            mutate: (s) => void (find(s, "processors-allow-dns-db").props.spec.egress[1].to = [{ ipBlock: { cidr: "0.0.0.0/0" } }]),
        },
        {
            name: "the DNS rule names no destination",
            culprit: "processors-allow-dns-db",
            mutate: (s) => void delete find(s, "processors-allow-dns-db").props.spec.egress[0].to,
        },
        {
            name: "the object-storage policy no longer excludes code-executor",
            culprit: np("allow-object-storage"),
            mutate: (s) => void (find(s, np("allow-object-storage")).props.spec.podSelector = {}),
        },
        {
            name: "nothing restricts its egress",
            culprit: "code-executor",
            mutate: (s) => {
                remove(s, np("default-deny"));
                remove(s, np("allow-dns-db"));
            },
        },
    ],
    "k8s-no-nodeport-services": [{ name: "a Service is NodePort", culprit: "video-processor-svc", mutate: (s) => void (find(s, "video-processor-svc").props.spec.type = "NodePort") }],
    "k8s-loadbalancer-only-ingress-controller": [
        { name: "a processor Service is a LoadBalancer", culprit: "video-processor-svc", mutate: (s) => void (find(s, "video-processor-svc").props.spec.type = "LoadBalancer") },
        { name: "the controller Service has no source ranges", culprit: "ingress-nginx-controller", mutate: (s) => void delete find(s, "ingress-nginx-controller").props.spec.loadBalancerSourceRanges },
        { name: "the controller chart leaves source ranges unset", culprit: "ingress-nginx", mutate: (s) => void (find(s, "ingress-nginx").props.values = {}) },
    ],
    "aws-default-security-group-closed": [
        { name: "the default group allows all egress", culprit: "default-sg", mutate: (s) => void (find(s, "default-sg").props.egress = [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }]) },
    ],
    "cloud-no-public-ingress": [
        {
            name: "HTTPS is opened on the nodes, not the load balancer",
            culprit: "allow-https-nodes",
            mutate: (s) => void s.push(res("gcp:compute/firewall:Firewall", "allow-https-nodes", { name: "allow-https", network: "default", sourceRanges: ["0.0.0.0/0"], targetTags: ["gke-node"], allows: [{ protocol: "tcp", ports: ["443"] }] })),
        },
        { name: "an HTTPS rule on the nodes' security group", culprit: "lb-https", mutate: (s) => void (find(s, "lb-https").props.securityGroupId = "aws:ec2/securityGroup:SecurityGroup::eks-nodes-sg-id") },
        { name: "a firewall rule names no source at all", culprit: "allow-lb-https", mutate: (s) => { const p = find(s, "allow-lb-https").props; delete p.sourceRanges; p.allows = [{ protocol: "tcp", ports: ["22"] }]; } },
        { name: "the firewall opens SSH to the world", culprit: "allow-lb-https", mutate: (s) => void (find(s, "allow-lb-https").props.allows = [{ protocol: "tcp", ports: ["22", "443"] }]) },
        { name: "the firewall opens all tcp to the world", culprit: "allow-lb-https", mutate: (s) => void (find(s, "allow-lb-https").props.allows = [{ protocol: "tcp" }]) },
        { name: "the security group opens all ports", culprit: "lb-sg", mutate: (s) => void find(s, "lb-sg").props.ingress.push({ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }) },
        { name: "an ingress rule opens 6443 over IPv6", culprit: "lb-https", mutate: (s) => { const p = find(s, "lb-https").props; delete p.cidrIpv4; p.cidrIpv6 = "::/0"; p.fromPort = 6443; p.toPort = 6443; } },
    ],
};
