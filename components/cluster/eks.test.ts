import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, RecordingMocks } from "../testing/mocks";
import { placement } from "../processor/builders";
import { FALCO_RULE_NAMES } from "../runtime-security";
import { EKS_ADDONS, EKS_ADDONS_BY_MINOR, GVISOR, KUBERNETES_VERSION } from "../versions";
import type { EksCluster as Eks } from "./eks";
import { admits, PROCESSOR_NAMES, PROCESSORS, nodeOf, ofType, one, resolve, settle, tolerates, eksTestArgs } from "./test-support";

const mocks = new RecordingMocks();
let eks: Eks;
const GROUP = "aws:eks/nodeGroup:NodeGroup";
const ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF";

beforeAll(async () => {
  await installMocks(mocks, "pitchey-containers", "dr");
  const { EksCluster } = await import("./eks");
  eks = new EksCluster("dr", eksTestArgs({ nodeAgentNamespaces: ["monitoring"] }));
  await resolve(eks.oidcIssuer);
  await settle();
}, 60_000);

const group = (name: string) => one(mocks.resources, GROUP, `dr-nodes-${name}`).props as Record<string, any>;
const release = (name: string) =>
  one(mocks.resources, "kubernetes:helm.sh/v3:Release", name === "falco" ? "dr-falco-release" : `dr-addons-${name}`).props as Record<string, any>;
const json = (v: unknown) => JSON.parse(String(v));

describe("EKS cluster (dr)", () => {
  it("creates only AWS and Kubernetes resources, tagged through its own provider", () => {
    expect(mocks.resources.some((r) => r.type.startsWith("gcp:") || r.type === "pulumi:providers:gcp")).toBe(false);
    const provider = one(mocks.resources, "pulumi:providers:aws", "dr-aws").props;
    expect(provider.region).toBe("eu-west-1");
    expect(json(provider.defaultTags).tags).toMatchObject({ Service: "pitchey-containers", Environment: "dr", CostCenter: "platform-processing" });
    expect(eks.cloud).toBe("aws");
  });

  it("spans three zones with private node subnets, public load-balancer subnets and a NAT per zone", () => {
    const subnets = ofType(mocks.resources, "aws:ec2/subnet:Subnet");
    const priv = subnets.filter((s) => s.name.includes("private")).map((s) => s.props as Record<string, any>);
    const pub = subnets.filter((s) => s.name.includes("public")).map((s) => s.props as Record<string, any>);
    expect(priv.map((s) => s.availabilityZone)).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    expect(priv.map((s) => s.cidrBlock)).toEqual(["10.60.0.0/18", "10.60.64.0/18", "10.60.128.0/18"]);
    expect(pub.map((s) => s.cidrBlock)).toEqual(["10.60.192.0/21", "10.60.200.0/21", "10.60.208.0/21"]);
    expect(priv.every((s) => s.tags["kubernetes.io/role/internal-elb"] === "1" && !s.mapPublicIpOnLaunch)).toBe(true);
    expect(pub.every((s) => s.tags["kubernetes.io/role/elb"] === "1" && s.mapPublicIpOnLaunch === false)).toBe(true);
    expect(ofType(mocks.resources, "aws:ec2/natGateway:NatGateway")).toHaveLength(3);
    const privateRoutes = ofType(mocks.resources, "aws:ec2/routeTable:RouteTable").filter((r) => r.name.includes("private"));
    expect(eks.network.privateSubnetIds).toHaveLength(3);
    expect(eks.network.publicSubnetIds).toHaveLength(3);
    expect(privateRoutes.every((r) => (r.props.routes as any[])[0].natGatewayId && !(r.props.routes as any[])[0].gatewayId)).toBe(true);
  });

  it("opens no ingress from anywhere: the default group is emptied and no other group is declared", () => {
    const sg = one(mocks.resources, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "dr-network-default-sg").props;
    expect(sg.ingress).toEqual([]);
    expect(sg.egress).toEqual([]);
    expect(ofType(mocks.resources, "aws:ec2/securityGroup:SecurityGroup")).toHaveLength(0);
    expect(ofType(mocks.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")).toHaveLength(0);
  });

  it("encrypts secrets with a rotating key, logs the control plane, and restricts the public endpoint", () => {
    const c = one(mocks.resources, "aws:eks/cluster:Cluster", "dr-eks").props as Record<string, any>;
    expect(c.name).toBe("pitchey-containers-dr");
    expect(c.encryptionConfig.resources).toEqual(["secrets"]);
    expect(c.encryptionConfig.provider.keyArn).toContain("dr-secrets-key");
    expect(c.enabledClusterLogTypes).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
    expect(c.vpcConfig).toMatchObject({
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: ["203.0.113.0/24", "198.51.100.0/26"],
    });
    expect(c.vpcConfig.subnetIds).toHaveLength(3);
    expect(c.version).toBe(KUBERNETES_VERSION);
    expect(KUBERNETES_VERSION).toBe("1.35");
    for (const k of ofType(mocks.resources, "aws:kms/key:Key")) expect(k.props.enableKeyRotation).toBe(true);
    expect(one(mocks.resources, "aws:cloudwatch/logGroup:LogGroup", "dr-control-plane-logs").props).toMatchObject({
      name: "/aws/eks/pitchey-containers-dr/cluster",
      retentionInDays: 90,
    });
  });

  it("runs the core add-ons, with NetworkPolicy enforcement in the VPC CNI", () => {
    const addons = ofType(mocks.resources, "aws:eks/addon:Addon").map((r) => r.props);
    expect(addons.map((a) => a.addonName).sort()).toEqual(["aws-ebs-csi-driver", "coredns", "kube-proxy", "metrics-server", "vpc-cni"]);
    const cni = addons.find((a) => a.addonName === "vpc-cni")!;
    expect(json(cni.configurationValues)).toEqual({ enableNetworkPolicy: "true" });
    expect(cni.serviceAccountRoleArn).toContain("vpc-cni-role");
  });

  it("pins every add-on for the cluster's minor, kube-proxy at that very minor", () => {
    const addons = ofType(mocks.resources, "aws:eks/addon:Addon").map((r) => r.props);
    const pinned = Object.fromEntries(Object.values(EKS_ADDONS).map((p) => [p.name, p.version]));
    for (const a of addons) expect(a.addonVersion, String(a.addonName)).toBe(pinned[String(a.addonName)]);
    const proxy = addons.find((a) => a.addonName === "kube-proxy")!;
    expect(proxy.addonVersion).toMatch(new RegExp(`^v${KUBERNETES_VERSION.replace(".", "\\.")}\\.\\d+-eksbuild\\.\\d+$`));
  });

  it("keeps kube-proxy at each pinned minor's own version, and refuses a minor without pins", async () => {
    const { resolveEksClusterArgs } = await import("./eks-args");
    for (const [minor, pins] of Object.entries(EKS_ADDONS_BY_MINOR)) expect(pins.kubeProxy.version.startsWith(`v${minor}.`), minor).toBe(true);
    expect(() => resolveEksClusterArgs(eksTestArgs({ kubernetesVersion: "1.33" }))).toThrow(/kubernetesVersion.*"1\.33" has no EKS add-on pins/s);
    expect(resolveEksClusterArgs(eksTestArgs({ kubernetesVersion: "1.34" })).kubernetesVersion).toBe("1.34");
  });

  it("moves every node group to the control plane's minor", () => {
    for (const pool of ["general", "spot", "gpu", "sandbox"]) expect(one(mocks.resources, GROUP, `dr-nodes-${pool}`).props.version).toBe(KUBERNETES_VERSION);
  });

  it("serves metrics.k8s.io with the pinned metrics-server add-on, once nodes exist", () => {
    const addon = one(mocks.resources, "aws:eks/addon:Addon", "dr-addons-metrics-server");
    expect(addon.props).toMatchObject({ addonName: "metrics-server", addonVersion: EKS_ADDONS.metricsServer.version, clusterName: "pitchey-containers-dr" });
    const deps = mocks.dependencies.get(addon.urn) ?? [];
    for (const pool of ["general", "spot", "gpu", "sandbox"]) expect(deps).toContain(one(mocks.resources, GROUP, `dr-nodes-${pool}`).urn);
    expect(eks.metricsApi.map((r) => r.urn)).toHaveLength(1);
  });

  it("provisions EBS volumes with the pinned CSI driver add-on under its own least-privilege role", () => {
    const addon = one(mocks.resources, "aws:eks/addon:Addon", "dr-addons-ebs-csi-driver");
    expect(addon.props).toMatchObject({ addonName: "aws-ebs-csi-driver", addonVersion: EKS_ADDONS.ebsCsiDriver.version });
    expect(addon.props.serviceAccountRoleArn).toContain("dr-addons-ebs-csi-role");
    const role = one(mocks.resources, "aws:iam/role:Role", "dr-addons-ebs-csi-role").props as Record<string, any>;
    const trust = json(role.assumeRolePolicy).Statement[0];
    expect(trust.Action).toBe("sts:AssumeRoleWithWebIdentity");
    expect(trust.Condition.StringEquals[`${ISSUER}:sub`]).toBe("system:serviceaccount:kube-system:ebs-csi-controller-sa");
    const attachment = one(mocks.resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "dr-addons-ebs-csi-role").props;
    expect(attachment.policyArn).toBe("arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy");
    const deps = mocks.dependencies.get(addon.urn) ?? [];
    expect(deps).toContain(one(mocks.resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "dr-addons-ebs-csi-role").urn);
    expect(deps).toContain(one(mocks.resources, GROUP, "dr-nodes-general").urn);
    expect(eks.volumeProvisioner).toHaveLength(1);
  });

  it("declares the four node groups with the playbook's sizes, capacity types and AMIs", () => {
    expect(group("general")).toMatchObject({
      capacityType: "ON_DEMAND",
      instanceTypes: ["m6i.xlarge"],
      amiType: "AL2023_x86_64_STANDARD",
      scalingConfig: { minSize: 3, maxSize: 20, desiredSize: 3 },
      taints: [],
    });
    expect(group("spot")).toMatchObject({
      capacityType: "SPOT",
      instanceTypes: ["m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m5a.xlarge"],
      scalingConfig: { minSize: 0, maxSize: 10 },
      taints: [{ key: "pitchey.io/spot", value: "true", effect: "NO_SCHEDULE" }],
    });
    expect(group("gpu")).toMatchObject({
      amiType: "AL2023_x86_64_NVIDIA",
      instanceTypes: ["g6.2xlarge"],
      scalingConfig: { minSize: 0, maxSize: 5 },
      taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }],
    });
    expect(group("sandbox")).toMatchObject({
      capacityType: "ON_DEMAND",
      taints: [{ key: "pitchey.io/sandbox", value: "gvisor", effect: "NO_SCHEDULE" }],
    });
    for (const r of ofType(mocks.resources, GROUP)) {
      expect(r.props.subnetIds).toHaveLength(3);
      expect(r.props.tags).toMatchObject({ Service: "pitchey-containers", Environment: "dr", CostCenter: "platform-processing" });
    }
  });

  it("keeps node credentials from pods and installs gVisor only on sandbox nodes", () => {
    for (const pool of ["general", "spot", "gpu", "sandbox"]) {
      const lt = one(mocks.resources, "aws:ec2/launchTemplate:LaunchTemplate", `dr-nodes-${pool}-lt`).props as Record<string, any>;
      expect(lt.metadataOptions).toEqual({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 });
      expect(lt.blockDeviceMappings[0].ebs.encrypted).toBe("true");
      expect(lt.userData !== undefined).toBe(pool === "sandbox");
    }
    const userData = Buffer.from(
      String(one(mocks.resources, "aws:ec2/launchTemplate:LaunchTemplate", "dr-nodes-sandbox-lt").props.userData),
      "base64",
    ).toString();
    expect(userData).toContain('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]');
    expect(userData).toContain('[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runsc]');
    expect(userData).toContain('runtime_type = "io.containerd.runsc.v1"');
    expect(userData).toContain(`release="${GVISOR.release}"`);
    expect(userData).toContain('systemd-cgroup = "true"');
    const rc = one(mocks.resources, "kubernetes:node.k8s.io/v1:RuntimeClass", "dr-addons-gvisor").props as Record<string, any>;
    expect(rc.handler).toBe("runsc");
    expect(rc.metadata.name).toBe(eks.sandboxRuntimeClassName);
    expect(rc.scheduling.nodeSelector).toEqual({ "pitchey.io/pool": "sandbox" });
    expect(rc.scheduling.tolerations).toEqual([{ key: "pitchey.io/sandbox", operator: "Equal", value: "gvisor", effect: "NoSchedule" }]);
  });

  it("refuses pods that tolerate the sandbox taint without the gVisor RuntimeClass", () => {
    const policy = one(mocks.resources, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy", "dr-addons-sandbox-policy").props as Record<string, any>;
    expect(policy.spec.failurePolicy).toBe("Fail");
    expect(policy.spec.validations[0].expression).toContain("'pitchey.io/sandbox'");
    expect(policy.spec.validations[0].expression).toContain("object.spec.runtimeClassName == 'gvisor'");
    expect(policy.spec.matchConstraints.namespaceSelector.matchExpressions[0].values).toEqual(["kube-system", "falco", "monitoring"]);
    const binding = one(mocks.resources, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding", "dr-addons-sandbox-policy").props as Record<string, any>;
    expect(binding.spec).toEqual({ policyName: "pitchey-sandbox-requires-gvisor", validationActions: ["Deny"] });
  });

  it("trusts each processor's role from exactly its ServiceAccount, with bucket rights only", async () => {
    const provider = one(mocks.resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "dr-oidc").props;
    expect(provider.clientIdLists).toEqual(["sts.amazonaws.com"]);
    for (const name of PROCESSOR_NAMES) {
      const role = one(mocks.resources, "aws:iam/role:Role", `dr-identities-irsa-${name}`).props;
      const trust = json(role.assumeRolePolicy).Statement[0];
      expect(trust.Action).toBe("sts:AssumeRoleWithWebIdentity");
      expect(trust.Principal.Federated).toBe(`arn:aws:iam::123456789012:oidc-provider/${ISSUER}`);
      expect(trust.Condition.StringEquals).toEqual({
        [`${ISSUER}:sub`]: `system:serviceaccount:processors:${name}`,
        [`${ISSUER}:aud`]: "sts.amazonaws.com",
      });
      expect(await resolve(eks.serviceAccountAnnotations(name))).toEqual({
        "eks.amazonaws.com/role-arn": expect.stringContaining(`dr-identities-irsa-${name}`),
      });
      const policy = json(one(mocks.resources, "aws:iam/rolePolicy:RolePolicy", `dr-identities-irsa-${name}`).props.policy);
      const resources = policy.Statement.flatMap((s: any) => s.Resource);
      expect(resources.every((r: string) => r.startsWith("arn:aws:s3:::pitchey-dr-"))).toBe(true);
      expect(policy.Statement.flatMap((s: any) => s.Action).some((a: string) => a.includes("*"))).toBe(false);
    }
    const doc = json(one(mocks.resources, "aws:iam/rolePolicy:RolePolicy", "dr-identities-irsa-document-processor").props.policy);
    const backupsObjects = doc.Statement.find((s: any) => s.Resource[0] === "arn:aws:s3:::pitchey-dr-backups/*");
    expect(backupsObjects.Action).toEqual(["s3:PutObject"]);
    // No access keys anywhere.
    expect(ofType(mocks.resources, "aws:iam/accessKey:AccessKey")).toHaveLength(0);
    expect(ofType(mocks.resources, "aws:iam/user:User")).toHaveLength(0);
  });

  it("gives nodes pull-only registry access and workloads none", () => {
    const attached = ofType(mocks.resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((r) => String(r.props.policyArn).split("/").pop());
    expect(attached.sort()).toEqual([
      "AmazonEBSCSIDriverPolicy",
      "AmazonEC2ContainerRegistryPullOnly",
      "AmazonEKSClusterPolicy",
      "AmazonEKSWorkerNodePolicy",
      "AmazonEKS_CNI_Policy",
    ]);
  });

  it("keeps one immutable, scanned, KMS-encrypted repository per processor, expiring untagged images after 7 days", async () => {
    for (const name of PROCESSOR_NAMES) {
      const repo = one(mocks.resources, "aws:ecr/repository:Repository", `dr-ecr-${name}`).props as Record<string, any>;
      expect(repo).toMatchObject({
        name: `pitchey-containers-dr/${name}`,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
      });
      expect(repo.encryptionConfigurations[0].encryptionType).toBe("KMS");
      const rule = json(one(mocks.resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy", `dr-ecr-${name}-lifecycle`).props.policy).rules[0];
      expect(rule.selection).toEqual({ tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 });
    }
    expect(await resolve(eks.imageRepository("ai-inference"))).toBe("123456789012.dkr.ecr.eu-west-1.amazonaws.com/pitchey-containers-dr/ai-inference");
    expect(await resolve(eks.registryAuth)).toEqual({
      address: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
      username: "AWS",
      password: "mock-ecr-token",
    });
  });

  it("builds the Kubernetes provider from a kubeconfig that asks the AWS CLI for a token", async () => {
    const kc = json(one(mocks.resources, "pulumi:providers:kubernetes", "dr-k8s").props.kubeconfig);
    expect(kc.users[0].user.exec).toMatchObject({
      command: "aws",
      args: ["eks", "get-token", "--cluster-name", "pitchey-containers-dr", "--region", "eu-west-1", "--output", "json"],
    });
    expect(kc.users[0].user.token).toBeUndefined();
    expect(await resolve(eks.oidcIssuer)).toBe(`https://${ISSUER}`);
  });

  it("runs the cluster autoscaler with the playbook's scale-down flags, scoped to this cluster", () => {
    const ca = release("cluster-autoscaler");
    expect(ca.chart).toBe("cluster-autoscaler");
    expect(ca.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(ca.values.autoDiscovery).toEqual({ clusterName: "pitchey-containers-dr" });
    expect(ca.values.extraArgs).toMatchObject({ "scale-down-unneeded-time": "10m", "scale-down-utilization-threshold": "0.5" });
    expect(ca.values.rbac.serviceAccount.annotations["eks.amazonaws.com/role-arn"]).toContain("cluster-autoscaler-role");
    const policy = json(one(mocks.resources, "aws:iam/rolePolicy:RolePolicy", "dr-addons-cluster-autoscaler-role").props.policy);
    const mutate = policy.Statement.find((s: any) => s.Action.includes("autoscaling:SetDesiredCapacity"));
    expect(mutate.Condition.StringEquals).toEqual({ "aws:ResourceTag/k8s.io/cluster-autoscaler/pitchey-containers-dr": "owned" });
    const trust = json(one(mocks.resources, "aws:iam/role:Role", "dr-addons-cluster-autoscaler-role").props.assumeRolePolicy);
    expect(trust.Statement[0].Condition.StringEquals[`${ISSUER}:sub`]).toBe("system:serviceaccount:kube-system:cluster-autoscaler");
  });

  it("drains spot nodes on interruption notices, only on the spot pool", () => {
    const nth = release("node-termination-handler");
    expect(nth.chart).toBe("oci://public.ecr.aws/aws-ec2/helm/aws-node-termination-handler");
    expect(nth.values).toMatchObject({
      enableSpotInterruptionDraining: true,
      enableScheduledEventDraining: true,
      enableRebalanceDraining: false,
      enableSqsTerminationDraining: false,
    });
    expect(nth.values.daemonsetNodeSelector).toEqual({ "pitchey.io/pool": "spot" });
    expect(nth.values.daemonsetTolerations).toEqual([{ key: "pitchey.io/spot", operator: "Equal", value: "true", effect: "NoSchedule" }]);
    expect(eks.pools.spot.drainSeconds).toBe(120);
  });

  it("runs the NVIDIA device plugin on the GPU pool with the configured sharing", () => {
    const dp = release("nvidia-device-plugin");
    expect(dp.chart).toBe("nvidia-device-plugin");
    expect(dp.values.nodeSelector).toEqual({ "pitchey.io/pool": "gpu" });
    expect(dp.values.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Equal", value: "present", effect: "NoSchedule" }]);
    expect(dp.values.config.map.default).not.toContain("timeSlicing");
  });

  it("installs Falco with the four rules, forwarding to Alertmanager, on every pool", () => {
    const falco = release("falco");
    expect(falco.values.falcosidekick.config.alertmanager.hostport).toBe("http://alertmanager-operated.monitoring.svc:9093");
    for (const rule of FALCO_RULE_NAMES) expect(falco.values.customRules["pitchey-rules.yaml"]).toContain(`- rule: ${rule}`);
    expect(falco.values.tolerations.map((t: any) => t.key).sort()).toEqual(["nvidia.com/gpu", "pitchey.io/sandbox", "pitchey.io/spot"]);
  });

  it("publishes scheduling facts that match what the node groups declare", () => {
    for (const pool of ["general", "spot", "gpu", "sandbox"] as const) {
      const node = nodeOf(one(mocks.resources, GROUP, `dr-nodes-${pool}`));
      expect(node.labels).toMatchObject(eks.pools[pool].labels);
      expect(node.taints).toEqual([...eks.pools[pool].taints]);
      expect(node.labels["pitchey.io/pool"]).toBe(pool);
    }
  });

  it("places every processor on its pool's nodes, tolerating exactly that pool's taints", () => {
    const nodes = Object.fromEntries((["general", "spot", "gpu", "sandbox"] as const).map((p) => [p, nodeOf(one(mocks.resources, GROUP, `dr-nodes-${p}`))]));
    for (const name of PROCESSOR_NAMES) {
      const pc = { placement: PROCESSORS[name] };
      const spec = placement({
        pool: eks.pools[pc.placement.pool],
        fallbackPool: pc.placement.fallbackToOnDemand ? eks.pools.general : undefined,
        config: pc,
        runtimeClassName: pc.placement.pool === "sandbox" ? eks.sandboxRuntimeClassName : undefined,
      }) as any;
      const target = nodes[pc.placement.pool];
      expect(admits(spec, target.labels), `${name} selects ${pc.placement.pool}`).toBe(true);
      for (const t of target.taints) expect(tolerates(spec.tolerations, t), `${name} tolerates ${t.key}`).toBe(true);
      for (const [other, node] of Object.entries(nodes)) {
        if (other === pc.placement.pool || (other === "general" && pc.placement.fallbackToOnDemand)) continue;
        expect(admits(spec, node.labels) && node.taints.every((t) => tolerates(spec.tolerations, t)), `${name} stays off ${other}`).toBe(false);
      }
    }
  });

  it("keeps, through aliases, the URNs its parts' resources had when the cluster declared them itself", () => {
    const parts = new Set(
      mocks.resources.filter((r) => /^pitchey:cluster:(AwsNetwork|EksNodeGroups|EksWorkloadIdentities|EksAddons)$/.test(r.type)).map((r) => r.urn),
    );
    // Declared only after the parts were split out: nothing to keep.
    const added = new Set(["dr-addons-metrics-server", "dr-addons-ebs-csi-role", "dr-addons-ebs-csi-driver"]);
    const moved = mocks.resources.filter((r) => r.parent && parts.has(r.parent) && !added.has(r.name));
    expect(moved.length).toBeGreaterThan(40);
    // Kubernetes types also carry the provider's own aliases for their other API versions.
    const former = /^urn:pulumi:dr::pitchey-containers::pitchey:cluster:EksCluster\$[^$]+::dr-/;
    for (const r of moved) expect((r.aliases ?? []).filter((u) => former.test(u)), r.name).toHaveLength(1);
  });

  it("protects its KMS keys as GKE protects its secrets key, and ties ECR's forceDelete to deletion protection", () => {
    for (const key of [eks.kmsKeys.secrets, eks.kmsKeys.registry]) expect((key as any).__protect).toBe(true);
    const repos = ofType(mocks.resources, "aws:ecr/repository:Repository").map((r) => r.props as Record<string, any>);
    expect(repos.length).toBeGreaterThan(0);
    for (const r of repos) expect(r.forceDelete, r.name).toBe(false);
  });
});
